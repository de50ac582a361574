"""Policy durations: `15m`, `4h`, `1bd`, `1w`, `at_closure`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.policy.errors import PolicyError

#: Business days in a business week (`1w`).
BUSINESS_DAYS_PER_WEEK = 5

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
        raise PolicyError(f'"{text}" is not a duration', path)
    amount, unit = int(match.group(1)), match.group(2).lower()
    if amount <= 0:
        raise PolicyError(f'"{text}" must be longer than zero', path)
    if unit.startswith("m"):
        return Duration(minutes=amount)
    if unit.startswith("h"):
        return Duration(minutes=amount * 60)
    if unit.startswith("w"):
        return Duration(business_days=amount * BUSINESS_DAYS_PER_WEEK)
    return Duration(business_days=amount)
