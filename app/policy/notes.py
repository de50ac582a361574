"""What the published policy says beyond its targets, for the agent looking at a ticket now.

`notes_for(policy, tier, severity, at)` picks the policy's notes that apply to a ticket of
`tier` × `severity` at the instant `at`: `always` notes, and `holidays` notes only while `at`
falls on a holiday of the note's calendar (the local date in that calendar's time zone).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from app.policy.model import ON_HOLIDAYS, Policy, PolicyNote


def is_holiday(policy: Policy, calendar_id: str, at: datetime) -> bool:
    """True when `at` is on a holiday of calendar `calendar_id` (False for unknown calendars)."""
    spec = policy.calendars.get(calendar_id)
    if spec is None:
        return False
    return at.astimezone(ZoneInfo(spec.timezone)).date() in spec.holidays


def notes_for(policy: Policy, tier: str, severity: str, at: datetime) -> tuple[PolicyNote, ...]:
    """The notes an agent should see on a ticket of `tier` × `severity` at `at`, in policy order."""
    return tuple(
        note
        for note in policy.notes
        if (not note.tiers or tier in note.tiers)
        and (not note.severities or severity in note.severities)
        and (
            note.when != ON_HOLIDAYS or (note.calendar is not None and is_holiday(policy, note.calendar, at))
        )
    )
