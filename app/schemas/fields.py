"""Marshmallow fields for the policy document: durations, targets, weekly hours, keyed maps.

Each field raises `ValidationError` with nested messages (`{"duration": [...]}`) so that the loader
can name the exact path of a problem.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from marshmallow import Schema, ValidationError, fields

from app.policy.durations import Duration, parse_duration
from app.policy.errors import PolicyError
from app.policy.model import BEST_EFFORT, MINUTES_PER_DAY, OpenInterval, Target

#: Ids of calendars, severities, tiers and phases: letters, digits, `_` and `-` (`sev1`, `24x7`).
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")

#: Target shorthand: `"4h"` or `"4h on dresden"`.
_TARGET_RE = re.compile(r"^\s*(?P<duration>.+?)(?:\s+on\s+(?P<calendar>\S+))?\s*$")

#: The word for a target with nothing promised.
BEST_EFFORT_WORD = "best_effort"

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: Day-range words accepted as `hours` keys besides `mon`…`sun` and ranges such as `mon-fri`.
DAY_GROUPS = {"weekdays": (0, 1, 2, 3, 4), "weekend": (5, 6), "daily": tuple(range(7))}
_INTERVAL_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
#: `hours` value for a calendar that never closes.
ALWAYS_OPEN = "24x7"


def duration_or_error(
    text: object, *, allow_at_closure: bool = False, minutes_only: bool = False
) -> Duration:
    """Parse a document duration; raise ValidationError with a message naming the value."""
    if not isinstance(text, str):
        raise ValidationError(f'{text!r} is not a duration (write e.g. "15m", "4h", "1bd", "1w")')
    try:
        duration = parse_duration(text)
    except PolicyError as exc:
        raise ValidationError(exc.message) from None
    if duration.at_closure and not allow_at_closure:
        raise ValidationError("at_closure is only allowed in an update_cadence")
    if minutes_only and (duration.business_days or duration.at_closure):
        raise ValidationError(f'"{text}" must be in minutes or hours')
    return duration


def parse_target(value: object, *, allow_at_closure: bool = False) -> Target:
    """A target from its document form: null / "best_effort", "4h", "4h on cal", or an object."""
    if value is None or value == BEST_EFFORT_WORD:
        return BEST_EFFORT
    if isinstance(value, str):
        match = _TARGET_RE.match(value)
        assert match is not None
        errors: dict[str, list[str]] = {}
        duration = calendar = None
        try:
            duration = duration_or_error(match["duration"], allow_at_closure=allow_at_closure)
        except ValidationError as exc:
            errors["duration"] = exc.messages  # type: ignore[assignment]
        if match["calendar"] is not None:
            calendar = match["calendar"]
            if not ID_RE.match(calendar):
                errors["calendar"] = [f'"{calendar}" is not a calendar id']
        if errors:
            raise ValidationError(errors)
        return Target(duration=duration, calendar=None if duration and duration.at_closure else calendar)
    if isinstance(value, Mapping):
        return _target_object(value, allow_at_closure)
    raise ValidationError(
        f'{value!r} is not a target (write "4h", "4h on <calendar>", {{"duration": …, "calendar": …}}, '
        'or {"best_effort": true, "note": …})'
    )


def _target_object(value: Mapping[str, Any], allow_at_closure: bool) -> Target:
    errors: dict[str, list[str]] = {}
    for key in value:
        if key not in ("duration", "calendar", "best_effort", "note"):
            errors[str(key)] = ["unknown key"]
    note = value.get("note")
    if note is not None and not isinstance(note, str):
        errors["note"] = ["must be a string"]
    if value.get("best_effort") is not None and not isinstance(value.get("best_effort"), bool):
        errors["best_effort"] = ["must be true or false"]
    if value.get("best_effort") is True:
        for key in ("duration", "calendar"):
            if key in value:
                errors[key] = ["not allowed on a best-effort target"]
        if errors:
            raise ValidationError(errors)
        return Target(duration=None, note=note)
    duration: Duration | None = None
    if "duration" not in value:
        errors["duration"] = ['required (or "best_effort": true)']
    else:
        try:
            duration = duration_or_error(value["duration"], allow_at_closure=allow_at_closure)
        except ValidationError as exc:
            errors["duration"] = exc.messages  # type: ignore[assignment]
    calendar = value.get("calendar")
    if calendar is not None and not (isinstance(calendar, str) and ID_RE.match(calendar)):
        errors["calendar"] = [f"{calendar!r} is not a calendar id"]
    if errors:
        raise ValidationError(errors)
    assert duration is not None
    return Target(duration=duration, calendar=None if duration.at_closure else calendar, note=note)


def dump_target(target: Target) -> object:
    """The shortest document form of `target`."""
    if target.duration is None:
        return {"best_effort": True, "note": target.note} if target.note else BEST_EFFORT_WORD
    if target.duration.at_closure:
        return "at_closure"
    if target.note:
        long_form: dict[str, str] = {"duration": str(target.duration)}
        if target.calendar:
            long_form["calendar"] = target.calendar
        return {**long_form, "note": target.note}
    return f"{target.duration} on {target.calendar}" if target.calendar else str(target.duration)


class DurationField(fields.Field):
    """A duration string (`15m`, `4h`, `1bd`, `1w`)."""

    def __init__(self, *, minutes_only: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.minutes_only = minutes_only

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Duration:
        return duration_or_error(value, minutes_only=self.minutes_only)


class TargetField(fields.Field):
    """A target (see `parse_target`)."""

    def __init__(self, *, allow_at_closure: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("allow_none", True)
        super().__init__(**kwargs)
        self.allow_at_closure = allow_at_closure

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Target:
        return parse_target(value, allow_at_closure=self.allow_at_closure)

    def deserialize(self, value: Any, attr: str | None = None, data: Any = None, **kwargs: Any) -> Any:
        if value is None:  # null means best effort, not "missing"
            return BEST_EFFORT
        return super().deserialize(value, attr, data, **kwargs)


class DateField(fields.Field):
    """An ISO date (`2026-12-24`); YAML's native dates are accepted as they are."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise ValidationError(f"{value!r} is not a date (YYYY-MM-DD)")


class KeyedMap(fields.Field):
    """An object of id → value; errors are reported under each id (no marshmallow `value` level)."""

    def __init__(self, values: fields.Field | type[Schema], *, key_kind: str = "id", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.values = values
        self.key_kind = key_kind

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise ValidationError("must be an object")
        result: dict[str, Any] = {}
        errors: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str) or not ID_RE.match(key):
                errors[str(key)] = [f'"{key}" is not a valid {self.key_kind} (letters, digits, _ and -)']
                continue
            try:
                if isinstance(self.values, fields.Field):
                    result[key] = self.values.deserialize(item)
                else:
                    result[key] = self.values().load(item if item is not None else {})
            except ValidationError as exc:
                errors[key] = exc.messages
        if errors:
            raise ValidationError(errors)
        return result


def _minute(hh: str, mm: str) -> int:
    hours, minutes = int(hh), int(mm)
    if minutes >= 60 or hours > 24 or (hours == 24 and minutes):
        raise ValueError
    return hours * 60 + minutes


def _day_keys(key: str) -> tuple[int, ...]:
    word = key.strip().lower()
    if word in DAY_GROUPS:
        return DAY_GROUPS[word]
    if word in DAY_NAMES:
        return (DAY_NAMES.index(word),)
    first, sep, last = word.partition("-")
    if sep and first in DAY_NAMES and last in DAY_NAMES:
        a, b = DAY_NAMES.index(first), DAY_NAMES.index(last)
        if a <= b:
            return tuple(range(a, b + 1))
    raise ValueError


def _intervals(value: Any) -> tuple[OpenInterval, ...]:
    items = [value] if isinstance(value, str) else value
    if items == ["closed"] or items == []:
        return ()
    if not isinstance(items, list):
        raise ValidationError(f'{value!r} is not a list of "HH:MM-HH:MM" intervals')
    result: list[OpenInterval] = []
    for item in items:
        match = _INTERVAL_RE.match(item) if isinstance(item, str) else None
        try:
            if match is None:
                raise ValueError
            start, end = _minute(match[1], match[2]), _minute(match[3], match[4])
        except ValueError:
            raise ValidationError(f'{item!r} is not an interval "HH:MM-HH:MM" (00:00 to 24:00)') from None
        if start >= end:
            raise ValidationError(f'"{item}" ends before it starts')
        result.append((start, end))
    result.sort()
    for (_, end), (start, _) in zip(result, result[1:], strict=False):
        if start < end:
            raise ValidationError(f"{value!r}: intervals overlap")
    return tuple(result)


class WeeklyHoursField(fields.Field):
    """Weekly open hours: `"24x7"` or `{"mon-fri": "09:00-17:00", "sat": ["10:00-12:00"]}`."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> tuple:
        if value == ALWAYS_OPEN:
            return (((0, MINUTES_PER_DAY),),) * 7
        if not isinstance(value, Mapping):
            raise ValidationError('must be "24x7" or an object of days → "HH:MM-HH:MM" intervals')
        week: list[tuple[OpenInterval, ...] | None] = [None] * 7
        errors: dict[str, list[str]] = {}
        for key, hours in value.items():
            try:
                days = _day_keys(str(key))
            except ValueError:
                errors[str(key)] = [
                    f'"{key}" is not a day (mon…sun, a range such as mon-fri, weekdays, weekend, daily)'
                ]
                continue
            try:
                intervals = _intervals(hours)
            except ValidationError as exc:
                errors[str(key)] = exc.messages  # type: ignore[assignment]
                continue
            for day in days:
                if week[day] is not None:
                    errors.setdefault(str(key), []).append(f"{DAY_NAMES[day]} is given twice")
                week[day] = intervals
        if errors:
            raise ValidationError(errors)
        if not any(week):
            raise ValidationError("the calendar is never open")
        return tuple(day or () for day in week)


def _format_minute(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def dump_hours(weekly: tuple[tuple[OpenInterval, ...], ...]) -> object:
    """The document form of weekly hours, consecutive equal days grouped (`mon-fri`)."""
    if all(day == ((0, MINUTES_PER_DAY),) for day in weekly):
        return ALWAYS_OPEN
    result: dict[str, object] = {}
    day = 0
    while day < 7:
        end = day
        while end + 1 < 7 and weekly[end + 1] == weekly[day]:
            end += 1
        if weekly[day]:
            key = DAY_NAMES[day] if end == day else f"{DAY_NAMES[day]}-{DAY_NAMES[end]}"
            texts = [f"{_format_minute(a)}-{_format_minute(b)}" for a, b in weekly[day]]
            result[key] = texts[0] if len(texts) == 1 else texts
        day = end + 1
    return result
