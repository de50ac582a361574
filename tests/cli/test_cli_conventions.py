"""One convention for the policy commands: exit 2 for usage or input errors, 1 for validation failures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import main

CREATED = "2026-11-02T16:00:00+11:00"
BROKEN_YAML = "id: broken\nname: Broken\nseverities: [{id: sev1, name: One}\ntiers: {}\n"


def _due(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["due", "--preset", "mulesight", "--tier", "standard", *args])
    return result.exit_code, result.stdout, result.stderr


def test_a_reply_before_the_ticket_was_created_is_refused() -> None:
    code, out, err = _due("--severity", "sev1", "--created", CREATED, "--responded", "2026-11-02T15:59:00+11:00")
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        "Error: --responded: 2026-11-02T15:59:00+11:00 is earlier than --created 2026-11-02T16:00:00+11:00"
    ]


def test_a_reply_at_creation_is_accepted() -> None:
    code, out, _ = _due("--severity", "sev1", "--created", CREATED, "--responded", CREATED)
    assert code == 0 and json.loads(out)["next_update_due"] is not None


def test_an_unknown_severity_lists_the_known_ones() -> None:
    code, out, err = _due("--severity", "critical", "--created", CREATED)
    assert (code, out) == (2, "")
    assert err.splitlines() == ['Error: --severity: unknown severity "critical" (known: sev1, sev2, sev3, sev4)']


def test_tier_and_severity_have_help() -> None:
    shown = CliRunner().invoke(main, ["due", "--help"]).stdout
    tier_help = shown[shown.index("--tier"):shown.index("--severity")]
    severity_help = shown[shown.index("--severity"):shown.index("--created")]
    assert "A tier id of the policy" in tier_help
    assert "A severity id of the policy" in severity_help


@pytest.mark.parametrize("name", ["broken.yaml", "broken.txt"])
def test_a_yaml_error_names_the_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text(BROKEN_YAML)
    validated = CliRunner().invoke(main, ["policy", "validate", str(path)])
    assert validated.exit_code == 1 and validated.stderr == ""
    (error,) = json.loads(validated.stdout)["errors"]
    assert f'in "{path}", line 3' in error["message"] and "<unicode string>" not in error["message"]
    code, out, err = _due("--severity", "sev1", "--created", CREATED)  # the preset is fine
    assert code == 0
    used = CliRunner().invoke(main, ["due", "--policy", str(path), "--tier", "standard", "--severity", "sev1",
                                     "--created", CREATED])
    assert used.exit_code == 1 and f'in "{path}"' in used.stderr and len(used.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    "args",
    [
        ["policy", "show", "nope"],
        ["policy", "validate", "/nonexistent/policy.json"],
        ["simulate", "--preset", "nope", "--tickets", "/dev/null"],
        ["simulate", "--preset", "mulesight", "--tickets", "/nonexistent/tickets.jsonl"],
    ],
)
def test_input_errors_exit_2_in_one_line(args: list[str]) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("Error: ")


def test_validation_failures_exit_1(tmp_path: Path) -> None:
    empty = tmp_path / "tickets.jsonl"
    empty.write_text("\n")
    result = CliRunner().invoke(main, ["simulate", "--preset", "mulesight", "--tickets", str(empty)])
    assert result.exit_code == 1 and result.stderr.splitlines() == [f"Error: {empty} holds no tickets"]
