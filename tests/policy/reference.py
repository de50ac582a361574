"""A slow, obviously-correct business-time reference: step one UTC minute at a time.

An instant is open when the local wall clock it shows falls inside an open interval of the date
it shows (the rule `app.policy.calendar` documents). Only for whole-minute instants and durations.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from app.policy.model import CalendarSpec

MINUTE = timedelta(minutes=1)


def standard_hours(spec: CalendarSpec) -> tuple[tuple[int, int], ...]:
    """The most common non-empty weekday hours; ties go to the earliest weekday."""
    days = [tuple(sorted(day)) for day in spec.weekly if day]
    counts = Counter(days)
    return max(days, key=lambda day: (counts[day], -days.index(day)))


def hours_on(spec: CalendarSpec, day: date) -> tuple[tuple[int, int], ...]:
    """The open intervals (minutes of the day) of a local date."""
    if day in spec.extra_closed:
        return ()
    weekly = tuple(spec.weekly[day.weekday()])
    holiday_closes = spec.holidays_close and day in spec.holidays
    if holiday_closes or not weekly:
        return standard_hours(spec) if day in spec.extra_open else ()
    return weekly


def is_open(spec: CalendarSpec, at: datetime) -> bool:
    local = at.astimezone(ZoneInfo(spec.timezone))
    minute = local.hour * 60 + local.minute
    return any(a <= minute < b for a, b in hours_on(spec, local.date()))


def add(spec: CalendarSpec, start: datetime, minutes: int, limit_days: int = 120) -> datetime:
    """Step minute by minute until `minutes` open minutes have passed; return the end of the last one."""
    at = start.astimezone(UTC)
    if minutes == 0:
        return at
    counted = 0
    for _ in range(limit_days * 24 * 60):
        if is_open(spec, at):
            counted += 1
            if counted == minutes:
                return at + MINUTE
        at += MINUTE
    raise AssertionError("reference gave up")


def open_minutes_between(spec: CalendarSpec, start: datetime, end: datetime) -> int:
    at, end = start.astimezone(UTC), end.astimezone(UTC)
    counted = 0
    while at < end:
        counted += is_open(spec, at)
        at += MINUTE
    return counted


# --- literal calendars the engine is checked on ---------------------------------------------------

WEEKDAYS_9_TO_5 = (((540, 1020),),) * 5 + ((), ())

#: Communardo's desk: Mon–Fri 09–17 in Dresden, closed on Saxon holidays (one literal here).
DRESDEN = CalendarSpec(
    id="dresden",
    timezone="Europe/Berlin",
    weekly=WEEKDAYS_9_TO_5,
    holidays={date(2026, 11, 18): "Buß- und Bettag", date(2026, 12, 25): "Erster Weihnachtstag"},
)
#: MuleSight's desk: Mon–Fri 09–17 in Melbourne; holidays do not close it.
MELBOURNE = CalendarSpec(
    id="melbourne",
    timezone="Australia/Melbourne",
    weekly=WEEKDAYS_9_TO_5,
    holidays={date(2026, 11, 3): "Melbourne Cup"},
    holidays_close=False,
)
#: A split day with lunch, a short Saturday, a closing holiday, an extra open Sunday and an extra closed day.
CHICAGO_SPLIT = CalendarSpec(
    id="chicago",
    timezone="America/Chicago",
    weekly=(((480, 720), (780, 1080)),) * 5 + (((600, 840),), ()),
    holidays={date(2026, 11, 26): "Thanksgiving", date(2026, 3, 9): "Made-up Monday"},
    extra_open=frozenset({date(2026, 3, 8), date(2026, 11, 1)}),  # the DST Sundays
    extra_closed=frozenset({date(2026, 11, 2)}),
)
#: A night desk whose intervals run through midnight and contain the 02:00 DST jump (Sundays).
BERLIN_NIGHT = CalendarSpec(
    id="night",
    timezone="Europe/Berlin",
    weekly=(((0, 180), (1320, 1440)),) * 7,
)
#: Chile changes clocks at midnight: Sun 00:00 does not exist in September; Sat 23:00–24:00 repeats in April.
SANTIAGO = CalendarSpec(
    id="santiago",
    timezone="America/Santiago",
    weekly=(((0, 60), (540, 1020), (1380, 1440)),) * 5 + (((0, 60), (1380, 1440)),) * 2,
    holidays={date(2026, 9, 18): "Fiestas Patrias"},
    extra_open=frozenset({date(2026, 9, 19)}),
)
#: Round the clock in a DST zone: minutes are elapsed time.
BERLIN_24X7 = CalendarSpec(id="berlin24", timezone="Europe/Berlin", weekly=(((0, 1440),),) * 7)
#: Mon–Fri all day in UTC (confluence-health-check's "weekdays"): 24:00 runs on into 00:00.
UTC_WEEKDAYS = CalendarSpec(
    id="weekdays", timezone="UTC", weekly=(((0, 1440),),) * 5 + ((), ()), day_length_minutes=1440
)

CALENDARS = {
    spec.id: spec
    for spec in (DRESDEN, MELBOURNE, CHICAGO_SPLIT, BERLIN_NIGHT, SANTIAGO, BERLIN_24X7, UTC_WEEKDAYS)
}

#: Instants near every DST change of 2026 in the zones above (UTC), for property tests to start around.
DST_ANCHORS = tuple(
    datetime.fromisoformat(text)
    for text in (
        "2026-03-29T01:00:00+00:00",  # Berlin spring forward
        "2026-10-25T01:00:00+00:00",  # Berlin fall back
        "2026-04-04T16:00:00+00:00",  # Melbourne fall back
        "2026-10-03T16:00:00+00:00",  # Melbourne spring forward
        "2026-03-08T08:00:00+00:00",  # Chicago spring forward
        "2026-11-01T07:00:00+00:00",  # Chicago fall back
        "2026-04-05T03:00:00+00:00",  # Santiago fall back across midnight
        "2026-09-06T04:00:00+00:00",  # Santiago spring forward at midnight
        "2026-11-17T14:00:00+00:00",  # the Dresden holiday week
    )
)
