"""The `tierwise` policy commands: JSON on stdout, one-line errors on stderr."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import main
from app.schemas.presets import preset_document

TIERWISE = Path(sys.executable).parent / "tierwise"


def _due(runner: CliRunner, *args: str):
    return runner.invoke(main, ["due", *args])


def test_due_prints_null_for_targets_without_a_deadline(runner: CliRunner) -> None:
    result = _due(
        runner,
        "--preset",
        "communardo",
        "--tier",
        "partner",
        "--severity",
        "sev1",
        "--created",
        "2026-11-17T16:30:00Z",
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "first_response_due": "2026-11-19T09:00:00Z",  # 17:30 CET is after hours, Wed a holiday: Thu 09-10 CET
        "next_update_due": None,
        "resolution_due": None,
    }


def test_due_next_update_needs_a_response_and_a_cadence(runner: CliRunner) -> None:
    base = [
        "--preset",
        "confluence-health-check",
        "--tier",
        "standard",
        "--severity",
        "sev1",
        "--created",
        "2026-11-21T10:00:00Z",
    ]
    assert json.loads(_due(runner, *base).stdout)["next_update_due"] is None
    # (the reply 20 minutes after creation, given in another zone; it once was an hour before it)
    answered = json.loads(_due(runner, *base, "--responded", "2026-11-21T11:20:00+01:00").stdout)
    assert answered == {
        "first_response_due": "2026-11-22T10:00:00Z",
        "next_update_due": "2026-11-21T11:20:00Z",
        "resolution_due": None,
    }
    mitigated = json.loads(
        _due(runner, *base, "--responded", "2026-11-21T10:20:00Z", "--phase", "mitigated").stdout
    )
    assert mitigated["next_update_due"] is None  # at closure


def test_due_reads_a_policy_file(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "mulesight.json"
    path.write_text(json.dumps(preset_document("mulesight")))
    result = _due(
        runner,
        "--policy",
        str(path),
        "--tier",
        "standard",
        "--severity",
        "sev1",
        "--created",
        "2026-11-02T16:00:00+11:00",
    )
    assert json.loads(result.stdout)["first_response_due"] == "2026-11-03T05:00:00Z"


@pytest.mark.parametrize(
    ("args", "words", "code"),
    [
        (
            [
                "--preset",
                "mulesight",
                "--tier",
                "standard",
                "--severity",
                "sev1",
                "--created",
                "2026-11-02T16:00:00",
            ],
            "needs a time zone offset",
            2,
        ),
        (
            [
                "--preset",
                "mulesight",
                "--tier",
                "standard",
                "--severity",
                "sev1",
                "--created",
                "next tuesday",
            ],
            "is not an ISO 8601 time",
            2,
        ),
        (
            ["--preset", "mulesight", "--severity", "sev1", "--created", "2026-11-02T16:00:00Z"],
            "Missing option '--tier'",
            2,
        ),
        (
            ["--tier", "standard", "--severity", "sev1", "--created", "2026-11-02T16:00:00Z"],
            "give exactly one of --preset or --policy",
            2,
        ),
        (
            [
                "--preset",
                "mulesight",
                "--tier",
                "gold",
                "--severity",
                "sev1",
                "--created",
                "2026-11-02T16:00:00Z",
            ],
            '--tier: unknown tier "gold" (known: standard)',
            2,
        ),
        (
            [
                "--preset",
                "mulesight",
                "--tier",
                "standard",
                "--severity",
                "sev9",
                "--created",
                "2026-11-02T16:00:00Z",
            ],
            '--severity: unknown severity "sev9" (known: sev1, sev2, sev3, sev4)',
            2,
        ),
        (
            [
                "--preset",
                "mulesight",
                "--tier",
                "standard",
                "--severity",
                "sev1",
                "--created",
                "2026-11-02T16:00:00Z",
                "--responded",
                "2026-11-02T17:00:00Z",
                "--phase",
                "calm",
            ],
            'unknown phase "calm"',
            2,
        ),
        (
            [
                "--preset",
                "nope",
                "--tier",
                "standard",
                "--severity",
                "sev1",
                "--created",
                "2026-11-02T16:00:00Z",
            ],
            'unknown preset "nope"',
            2,
        ),
        (
            [
                "--policy",
                "/nonexistent/p.json",
                "--tier",
                "standard",
                "--severity",
                "sev1",
                "--created",
                "2026-11-02T16:00:00Z",
            ],
            "cannot read /nonexistent/p.json",
            2,
        ),
    ],
)
def test_due_refuses_bad_input_in_one_line(runner: CliRunner, args: list[str], words: str, code: int) -> None:
    result = _due(runner, *args)
    assert result.exit_code == code
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], result.stderr


def test_an_invalid_policy_file_is_one_line_for_due(runner: CliRunner, tmp_path: Path) -> None:
    doc = preset_document("mulesight")
    doc["tiers"]["standard"]["sev1"]["first_response"] = "4x"
    doc["tiers"]["standard"]["sev2"]["first_response"] = "4y"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    result = _due(
        runner,
        "--policy",
        str(path),
        "--tier",
        "standard",
        "--severity",
        "sev1",
        "--created",
        "2026-11-02T16:00:00Z",
    )
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        'Error: tiers.standard.sev1.first_response.duration: "4x" is not a duration (and 1 more)'
    ]


def test_presets_lists_all_five(runner: CliRunner) -> None:
    listed = json.loads(runner.invoke(main, ["presets"]).stdout)
    assert [p["id"] for p in listed] == [
        "communardo",
        "confluence-health-check",
        "connectsoft",
        "mulesight",
        "opencenter",
    ]


def test_policy_show_prints_a_loadable_document(runner: CliRunner, tmp_path: Path) -> None:
    shown = runner.invoke(main, ["policy", "show", "opencenter"])
    assert shown.exit_code == 0
    path = tmp_path / "opencenter.json"
    path.write_text(shown.stdout)
    valid = runner.invoke(main, ["policy", "validate", str(path)])
    assert valid.exit_code == 0
    assert json.loads(valid.stdout)["tiers"] == ["community", "standard", "premium", "mission-critical"]


def test_policy_validate_prints_every_error_with_its_path(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "id: bad\nname: Bad\nseverities: [{id: sev1, name: One}]\n"
        "tiers:\n  premium:\n    name: Premium\n    sev1: {first_response: 4x, resolution: 1h on mars}\n"
        "colour: red\n"
    )
    result = runner.invoke(main, ["policy", "validate", str(path)])
    assert result.exit_code == 1
    assert result.stderr == ""  # the result is the JSON on stdout, on one stream
    assert json.loads(result.stdout) == {"valid": False, "errors": [
        {"path": "colour", "message": "unknown key"},
        {"path": "tiers.premium.sev1.first_response.duration", "message": '"4x" is not a duration'},
        {"path": "tiers.premium.sev1.resolution.calendar", "message": 'unknown calendar "mars" (known: 24x7)'},
    ]}


def test_simulate_reports_and_compares(runner: CliRunner, tmp_path: Path) -> None:
    tickets = tmp_path / "tickets.jsonl"
    tickets.write_text(
        json.dumps({"key": "A", "created": "2026-11-02T09:00:00+11:00", "tier": "standard", "severity": "sev2",
                    "replies": ["2026-11-02T16:00:00+11:00"], "closed": "2026-11-03T10:00:00+11:00"}) + "\n"
    )  # fmt: skip
    alone = runner.invoke(main, ["simulate", "--preset", "mulesight", "--tickets", str(tickets)])
    assert alone.exit_code == 0, alone.output
    report = json.loads(alone.stdout)
    assert (
        report["results"][0]["first_response"]["met"] == 1 and report["results"][0]["resolution"]["met"] == 1
    )
    strict = preset_document("mulesight")
    strict["tiers"]["standard"]["sev2"]["first_response"] = "2h on melbourne"
    strict_path = tmp_path / "strict.json"
    strict_path.write_text(json.dumps(strict))
    compared = runner.invoke(
        main,
        [
            "simulate",
            "--policy",
            str(strict_path),
            "--tickets",
            str(tickets),
            "--against-preset",
            "mulesight",
        ],
    )
    assert compared.exit_code == 0, compared.output
    assert json.loads(compared.stdout)["changed_tickets"]["first_response"] == {"met→breached": 1}


def test_simulate_names_a_bad_line(runner: CliRunner, tmp_path: Path) -> None:
    tickets = tmp_path / "tickets.jsonl"
    tickets.write_text('{"created": "2026-11-02T09:00:00Z", "tier": "standard", "severity": "sev1"}\n{oops\n')
    result = runner.invoke(main, ["simulate", "--preset", "mulesight", "--tickets", str(tickets)])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "Error: line 2: not JSON: Expecting property name enclosed in double quotes"
    ]


def test_the_installed_console_script(tmp_path: Path) -> None:
    assert TIERWISE.exists(), f"{TIERWISE} is not installed"
    ok = subprocess.run(
        [str(TIERWISE), "due", "--preset", "communardo", "--tier", "standard", "--severity", "sev2", "--created", "2026-11-17T15:00:00+01:00"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["first_response_due"] == "2026-11-19T10:00:00Z"
    bad = subprocess.run(
        [str(TIERWISE), "due", "--preset", "communardo", "--tier", "standard", "--severity", "sev2", "--created", "2026-11-17 15:00"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert bad.returncode == 2 and bad.stdout == ""
    assert len(bad.stderr.strip().splitlines()) == 1 and "Traceback" not in bad.stderr
