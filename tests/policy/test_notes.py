"""What the seeds say beyond targets: notes in the presets, and which an agent sees when."""

from __future__ import annotations

from datetime import datetime

import pytest

from app.policy.notes import is_holiday, notes_for
from app.schemas.presets import load_preset


def _ids(preset: str, tier: str, severity: str, at: str) -> list[str]:
    return [n.id for n in notes_for(load_preset(preset), tier, severity, datetime.fromisoformat(at))]


# (what it shows, preset, tier, severity, instant, notes shown)
CASES = [
    ("MuleSight on Melbourne Cup Day", "mulesight", "standard", "sev1", "2026-11-03T10:00:00+11:00",
     ["holiday-coverage", "resolution-window"]),
    ("MuleSight the day after", "mulesight", "standard", "sev1", "2026-11-04T10:00:00+11:00", ["resolution-window"]),
    ("MuleSight: the holiday is the Melbourne date, not UTC's", "mulesight", "standard", "sev2",
     "2026-11-02T14:00:00Z", ["holiday-coverage", "resolution-window"]),
    ("ConnectSoft Premium", "connectsoft", "premium", "sev2", "2026-11-03T10:00:00Z", ["premium-coverage", "contract"]),
    ("ConnectSoft Standard", "connectsoft", "standard", "sev1", "2026-11-03T10:00:00Z", ["contract"]),
    ("openCenter Mission Critical", "opencenter", "mission-critical", "sev1", "2026-11-03T10:00:00Z",
     ["covered-incidents", "highest-severity"]),
    ("openCenter Community has no covered incidents", "opencenter", "community", "sev1", "2026-11-03T10:00:00Z", []),
    ("Health Check Sev-1", "confluence-health-check", "standard", "sev1", "2026-11-03T10:00:00Z",
     ["triage-runbook", "communication"]),
    ("Health Check Sev-3", "confluence-health-check", "standard", "sev3", "2026-11-03T10:00:00Z", ["triage-runbook"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("preset", "tier", "severity", "at", "shown"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_notes_shown(preset: str, tier: str, severity: str, at: str, shown: list[str]) -> None:
    assert _ids(preset, tier, severity, at) == shown


def test_the_seed_sentences_are_in_the_notes() -> None:
    mulesight = {n.id: n for n in load_preset("mulesight").notes}
    assert "moderately delayed" in mulesight["holiday-coverage"].text
    assert not mulesight["holiday-coverage"].enforced
    premium = {n.id: n for n in load_preset("connectsoft").notes}["premium-coverage"]
    assert "24/7 for critical issues" in premium.text and premium.enforced
    covered = {n.id: n for n in load_preset("opencenter").notes}["covered-incidents"]
    assert "covered" in covered.text and not covered.enforced


def test_what_is_not_enforced_is_said_in_the_description() -> None:
    for preset in ("mulesight", "connectsoft", "opencenter", "confluence-health-check"):
        policy = load_preset(preset)
        assert any(not n.enforced for n in policy.notes), preset
        assert "not enforced" in policy.description.lower(), preset


def test_connectsoft_premium_is_24x7_for_severity_1_only() -> None:
    premium = load_preset("connectsoft").tiers["premium"].targets
    assert premium["sev1"].first_response.calendar == "24x7"
    assert {premium[s].first_response.calendar for s in ("sev2", "sev3", "sev4")} == {"extended"}


def test_is_holiday_reads_the_calendar_zone() -> None:
    policy = load_preset("mulesight")
    assert is_holiday(policy, "melbourne", datetime.fromisoformat("2026-11-02T13:00:00Z"))  # 00:00 on 3 Nov
    assert not is_holiday(policy, "melbourne", datetime.fromisoformat("2026-11-02T12:59:00Z"))
    assert not is_holiday(policy, "nowhere", datetime.fromisoformat("2026-11-03T10:00:00+11:00"))
