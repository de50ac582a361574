"""`tierwise due --custom` / `--start TARGET=ISO`: custom targets' deadlines, and their usage errors."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from app.cli import main

SEV = [
    "due",
    "--preset",
    "confluence-health-check",
    "--tier",
    "standard",
    "--created",
    "2026-11-27T15:00:00Z",
]


def test_without_the_options_the_output_is_unchanged(runner: CliRunner) -> None:
    result = runner.invoke(main, [*SEV, "--severity", "sev1"])
    assert result.exit_code == 0 and "custom_targets" not in json.loads(result.stdout)


def test_custom_lists_every_custom_target_of_the_cell(runner: CliRunner) -> None:
    sev1 = json.loads(runner.invoke(main, [*SEV, "--severity", "sev1", "--custom"]).stdout)
    assert sev1["custom_targets"] == {"incident_commander": None, "post_incident_review": None}  # not started
    sev3 = json.loads(runner.invoke(main, [*SEV, "--severity", "sev3", "--custom"]).stdout)
    assert sev3["custom_targets"] == {}


def test_a_start_gives_the_deadline_on_the_targets_calendar(runner: CliRunner) -> None:
    # Resolved on a Friday afternoon: 9 h on Friday, the weekend is closed, 24 h Monday, 15 h Tuesday.
    result = runner.invoke(
        main, [*SEV, "--severity", "sev2", "--start", "post_incident_review=2026-11-27T16:00:00+01:00"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["custom_targets"]["post_incident_review"] == "2026-12-01T15:00:00Z"


@pytest.mark.parametrize(
    ("start", "words"),
    [
        ("incident_commander", "is not TARGET=ISO8601"),
        ("incident_commander=tomorrow", '"tomorrow" is not an ISO 8601 time'),
        ("incident_commander=2026-11-27T15:00:00", "needs a time zone offset"),
        (
            "ic=2026-11-27T15:00:00Z",
            '"ic" is not a custom target of standard × sev1 (known: incident_commander',
        ),
    ],
)
def test_a_bad_start_is_a_one_line_usage_error(runner: CliRunner, start: str, words: str) -> None:
    result = runner.invoke(main, [*SEV, "--severity", "sev1", "--start", start])
    assert result.exit_code == 2
    assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1
