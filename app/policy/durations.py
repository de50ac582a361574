"""Policy durations: `15m`, `4h`, `1bd`, `1w`, `at_closure`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.policy.errors import PolicyError

#: Business days in a business week (`1w`).
BUSINESS_DAYS_PER_WEEK = 5

#: Longest duration a policy may state, in each form: a year of round-the-clock minutes or hours
#: (`527040m`, `8784h`) and a working year of business days (`260bd`, `52w`). Longer targets are
#: no service level, and deadlines that far out would run past what dates can hold.
MAX_MINUTES = 366 * 24 * 60
MAX_BUSINESS_DAYS = 52 * BUSINESS_DAYS_PER_WEEK
#: Most digits read as an amount (more is beyond every maximum anyway).
_MAX_DIGITS = 9

_PATTERN = re.compile(r"^\s*(\d+)\s*(m|min|mins|minutes?|h|hrs?|hours?|bd|business ?days?|w|weeks?)\s*$", re.I)


@dataclass(frozen=True)
class Duration:
    """An amount of required open time.

    Exactly one of the three forms: `minutes` of open time (from `m`/`h`), `business_days`
    (from `bd`/`w`; converted to open time by the calendar's day_length), or `at_closure`
    (no timed target: due when the ticket closes).
    """

    minutes: int = 0
    business_days: int = 0
    at_closure: bool = False

    def __str__(self) -> str:
        if self.at_closure:
            return "at_closure"
        if self.business_days:
            if self.business_days % BUSINESS_DAYS_PER_WEEK == 0:
                return f"{self.business_days // BUSINESS_DAYS_PER_WEEK}w"
            return f"{self.business_days}bd"
        if self.minutes and self.minutes % 60 == 0:
            return f"{self.minutes // 60}h"
        return f"{self.minutes}m"


def parse_duration(text: str, path: str = "") -> Duration:
    """Parse a policy duration; raise PolicyError naming `path` when it is not one."""
    if not isinstance(text, str):
        raise PolicyError(f"{text!r} is not a duration", path)
    if text.strip().lower() in {"at_closure", "at closure"}:
        return Duration(at_closure=True)
    match = _PATTERN.match(text)
    if not match:
        raise PolicyError(f'"{_shown(text)}" is not a duration', path)
    digits, unit = match.group(1).lstrip("0") or "0", match.group(2).lower()
    amount = int(digits) if len(digits) <= _MAX_DIGITS else MAX_MINUTES * 60 + 1
    if amount <= 0:
        raise PolicyError(f'"{_shown(text)}" must be longer than zero', path)
    if unit.startswith("m"):
        duration = Duration(minutes=amount)
    elif unit.startswith("h"):
        duration = Duration(minutes=amount * 60)
    elif unit.startswith("w"):
        duration = Duration(business_days=amount * BUSINESS_DAYS_PER_WEEK)
    else:
        duration = Duration(business_days=amount)
    if duration.minutes > MAX_MINUTES or duration.business_days > MAX_BUSINESS_DAYS:
        raise PolicyError(
            f'"{_shown(text)}" is longer than the longest duration allowed '
            f"({MAX_MINUTES // 60}h = {MAX_MINUTES}m, or {MAX_BUSINESS_DAYS}bd = {MAX_BUSINESS_DAYS // 5}w)",
            path,
        )
    return duration


def _shown(text: str) -> str:
    """`text` as an error message quotes it: stripped, and cut short when long."""
    text = text.strip()
    return text if len(text) <= 40 else text[:40] + "…"
