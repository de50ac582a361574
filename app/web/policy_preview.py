"""What the admin page previews for a draft policy: deadlines of a ticket opened now, and open hours ahead."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from app.policy.calendar import compile_calendars
from app.policy.model import ACTIVE, CALENDAR_24X7, Policy
from app.policy.sla import deadlines
from app.policy.timefmt import utc_iso as _iso

#: Days the calendar strip shows.
STRIP_DAYS = 21



def preview_rows(policy: Policy, at: datetime) -> list[dict[str, Any]]:
    """One row per tier × severity: first response, next update (after a reply now) and resolution due."""
    rows = []
    for tier in policy.tiers.values():
        for sev in policy.severities:
            targets = tier.targets.get(sev.id)
            if targets is None:
                continue
            due = deadlines(policy, tier.id, sev.id, at, responded=at, phase=ACTIVE)
            rows.append({
                "tier": tier.id, "tier_name": tier.name, "severity": sev.id, "severity_name": sev.name,
                "first_response_due": _iso(due["first_response_due"]),
                "next_update_due": _iso(due["next_update_due"]),
                "resolution_due": _iso(due["resolution_due"]),
                "notes": {
                    "first_response": targets.first_response.note,
                    "resolution": targets.resolution.note,
                },
            })
    return rows


def calendar_strips(policy: Policy, start: date, days: int) -> list[dict[str, Any]]:
    """Per calendar of the policy: each local day's open hours, or why it is closed."""
    compiled = compile_calendars(policy)
    strips = []
    for cal_id, spec in policy.calendars.items():
        if cal_id == CALENDAR_24X7:
            continue
        cal, tz = compiled[cal_id], ZoneInfo(spec.timezone)
        begin = datetime.combine(start, datetime.min.time(), tz)
        end = datetime.combine(start + timedelta(days=days), datetime.min.time(), tz)
        hours: dict[date, list[str]] = {}
        for a, b in cal.open_intervals(begin, end):
            a_local, b_local = a.astimezone(tz), b.astimezone(tz)
            day = a_local.date()
            while day <= b_local.date() and day < start + timedelta(days=days):
                lo = max(a_local, datetime.combine(day, datetime.min.time(), tz))
                hi = min(b_local, datetime.combine(day + timedelta(days=1), datetime.min.time(), tz))
                if hi > lo:
                    hours.setdefault(day, []).append(f"{lo:%H:%M}–{'24:00' if hi.date() > day else f'{hi:%H:%M}'}")
                day += timedelta(days=1)
        strip = []
        for n in range(days):
            day = start + timedelta(days=n)
            strip.append({
                "date": day.isoformat(), "weekday": f"{day:%a}", "open": hours.get(day, []),
                "closed_reason": None if hours.get(day) else cal.closed_reason(day),
                "holiday": spec.holidays.get(day),
            })
        strips.append({"id": cal_id, "timezone": spec.timezone, "days": strip})
    return strips
