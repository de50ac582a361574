"""Instants as text and timer seconds: the one UTC ISO 8601 helper, Jira's date-time format, timer instants."""

from __future__ import annotations

import math
from datetime import UTC, datetime


def utc_iso(moment: datetime | None) -> str | None:
    """`moment` in UTC as ISO 8601 with `Z` (`2026-11-19T10:00:00Z`); None stays None."""
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def jira_time(moment: datetime | None) -> str | None:
    """`moment` as Jira's date-time field format (`2026-11-19T10:00:00.000+0000`); None stays None."""
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def timer_instant(at: datetime) -> int:
    """The integer epoch second a timer for ``at`` fires at (rounded up: never before ``at``)."""
    if at.tzinfo is None:
        raise ValueError(f"timer instant {at!r} has no time zone")
    return math.ceil(at.timestamp())
