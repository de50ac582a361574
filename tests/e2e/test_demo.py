"""`tierwise demo` runs end to end in a subprocess and reports what happened to each sample ticket."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parent.parent.parent


def test_demo_replays_presets_and_shows_a_breach(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "APP_BASE_URL"}}
    tierwise = Path(sys.executable).with_name("tierwise")
    done = subprocess.run([str(tierwise), "demo"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=150)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    for preset in ("confluence-health-check", "connectsoft", "mulesight", "communardo", "opencenter"):
        assert f"Preset {preset}:" in out
    assert "tier premium (rule 1: field customfield_10050 = 'Premium'" in out
    assert "tier partner (rule 1: organization 'Solution Partners'" in out
    assert "tier mission-critical" in out and "impact 'Extensive / Widespread'" in out
    assert "Tierwise commented: Next update by" in out
    assert "first response  due" in out and "BREACHED" in out
    assert '"transition": "Start progress"' in out
    assert 'on-call received: {"ticket": "SUP-10"' in out
