"""`tierwise due` on absurd input: one clear line on stderr, never a traceback (issue #14, points 5 and 9)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.schemas.presets import preset_document

TIERWISE = Path(sys.executable).parent / "tierwise"


def _due(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(TIERWISE), "due", "--tier", "standard", "--severity", "sev2", *args],
                          capture_output=True, text=True, timeout=60, check=False)


def _one_clean_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode in (1, 2)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    return lines[0]


def test_an_absurd_duration_is_refused_at_validation(tmp_path: Path) -> None:
    document = preset_document("communardo")
    document["tiers"]["standard"]["sev2"]["first_response"] = "99999999999999w on dresden"
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps(document))
    line = _one_clean_line(_due("--policy", str(policy), "--created", "2026-11-17T15:00:00+01:00"))
    assert "tiers.standard.sev2.first_response.duration" in line and "longest duration allowed" in line


@pytest.mark.parametrize("created", ["9999-12-31T23:00:00+00:00", "0001-01-01T00:00:00+00:00"])
def test_a_time_outside_the_supported_years_is_a_usage_error(created: str) -> None:
    line = _one_clean_line(_due("--preset", "communardo", "--created", created))
    assert "between the years" in line


def test_a_yaml_alias_bomb_is_one_line(tmp_path: Path) -> None:
    policy = tmp_path / "bomb.yaml"
    policy.write_text("a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n")
    line = _one_clean_line(_due("--policy", str(policy), "--created", "2026-11-17T15:00:00+01:00"))
    assert "aliases" in line
