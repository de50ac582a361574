"""`tierwise demo` runs end to end in a subprocess and reports what happened to each sample ticket."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parent.parent.parent


def test_demo_replays_presets_and_shows_a_breach(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "APP_BASE_URL"}}
    tierwise = Path(sys.executable).with_name("tierwise")
    started = time.monotonic()
    done = subprocess.run([str(tierwise), "demo"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=150)
    elapsed = time.monotonic() - started
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    for preset in ("confluence-health-check", "connectsoft", "mulesight", "communardo", "opencenter"):
        assert f"Preset {preset}:" in out
    assert "tier premium (rule 1: field customfield_10050 = 'Premium'" in out
    assert "tier partner (rule 1: organization 'Solution Partners'" in out
    assert "tier mission-critical" in out and "impact 'Extensive / Widespread'" in out
    assert out.splitlines()[1].startswith("How to read it:")  # the legend, before the first ticket
    legend = out[:out.index("\nPreset ")]
    for word in ("on track", "met late", "BREACHED", "paused", "best effort", "not started"):
        assert word in legend  # each state the report uses is explained
    # The creation acknowledgement and the follow-up after an agent reply are told apart.
    sup1 = out[out.index("SUP-1 "):out.index("SUP-2 ")]
    assert "Tierwise acknowledgement: Next update by" in sup1 and "Tierwise follow-up: Next update by" in sup1
    # The paused ticket says so in words for the targets it stopped.
    sup5 = out[out.index("SUP-5 "):out.index("Preset communardo")]
    assert "phase paused" in sup5 and re.search(r"resolution +no deadline +paused", sup5)
    assert "Tierwise internal note:" in sup5
    assert "first response  due" in out and "BREACHED" in out
    assert '"transition": "Start progress"' in out
    assert 'on-call received: {"ticket": "SUP-10"' in out
    # A clean exit: nothing on stderr, and no wait for the embedded Redis after "Done".
    assert done.stderr == ""
    reported = int(re.search(r"^Done in (\d+) s\.$", out, re.MULTILINE).group(1))  # type: ignore[union-attr]
    assert elapsed - reported < 6, (elapsed, reported)
