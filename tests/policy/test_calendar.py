"""Business-calendar semantics, case by case (the bullets of `app.policy.calendar`'s docstring)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from app.policy.calendar import BusinessCalendar, builtin_24x7, compile_calendars
from app.policy.durations import Duration, parse_duration
from app.policy.errors import PolicyError
from app.policy.model import CalendarSpec, Policy

from .reference import CALENDARS

COMPILED = {cal_id: BusinessCalendar.from_spec(spec) for cal_id, spec in CALENDARS.items()}
COMPILED["24x7"] = BusinessCalendar.from_spec(builtin_24x7())


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


# (what it shows, calendar, start with its offset, duration, expected deadline in UTC)
DEADLINES = [
    # The worked examples of issue 3.
    (
        "Dresden: 2 h Tue, Wed is Buß- und Bettag, 2 h Thu",
        "dresden",
        "2026-11-17T15:00+01:00",
        "4h",
        "2026-11-19T10:00Z",
    ),
    ("Melbourne: Cup Day counts as open", "melbourne", "2026-11-02T16:00+11:00", "8h", "2026-11-03T05:00Z"),
    ("Melbourne: 5bd = 40 open hours", "melbourne", "2026-11-02T16:00+11:00", "5bd", "2026-11-09T05:00Z"),
    (
        "Melbourne: 1bd = 8 open hours, not the next day",
        "melbourne",
        "2026-11-04T10:00+11:00",
        "1bd",
        "2026-11-04T23:00Z",
    ),
    # The earliest instant: work completing at closing time is due at closing time.
    ("due exactly at closing time", "dresden", "2026-11-16T09:00+01:00", "8h", "2026-11-16T16:00Z"),
    (
        "1bd from the opening closes the same day",
        "dresden",
        "2026-11-16T09:00+01:00",
        "1bd",
        "2026-11-16T16:00Z",
    ),
    (
        "one minute past closing time runs into the next day",
        "dresden",
        "2026-11-16T09:00+01:00",
        "481m",
        "2026-11-17T08:01Z",
    ),
    ("1w = 5 business days", "dresden", "2026-11-09T09:00+01:00", "1w", "2026-11-13T16:00Z"),
    # A start outside open hours counts from the next opening.
    ("start before opening", "dresden", "2026-11-16T06:30+01:00", "1h", "2026-11-16T09:00Z"),
    ("start after closing", "dresden", "2026-11-16T20:00+01:00", "1h", "2026-11-17T09:00Z"),
    ("start on Saturday", "dresden", "2026-11-14T11:00+01:00", "30m", "2026-11-16T08:30Z"),
    ("start on the closing holiday", "dresden", "2026-11-18T10:00+01:00", "15m", "2026-11-19T08:15Z"),
    ("start at closing time", "dresden", "2026-11-16T17:00+01:00", "15m", "2026-11-17T08:15Z"),
    # DST: 09-17 stays 8 real hours; the UTC deadline moves with the offset.
    ("across Berlin's spring forward", "dresden", "2026-03-27T16:00+01:00", "2h", "2026-03-30T08:00Z"),
    ("across Berlin's fall back", "dresden", "2026-10-23T16:00+02:00", "2h", "2026-10-26T09:00Z"),
    # Several intervals a day: lunch is closed; extra open Sunday; extra closed Monday.
    ("over lunch", "chicago", "2026-06-01T11:30-05:00", "1h", "2026-06-01T18:30Z"),
    ("Saturday's short hours", "chicago", "2026-06-05T17:30-05:00", "1h", "2026-06-06T15:30Z"),
    (
        "extra open Sunday gets the standard hours",
        "chicago",
        "2026-10-31T14:00-05:00",
        "1h",
        "2026-11-01T15:00Z",
    ),
    ("extra closed Monday after it", "chicago", "2026-11-01T17:30-06:00", "1h", "2026-11-03T14:30Z"),
    # 24:00 runs seamlessly into 00:00; DST inside an open interval counts real time.
    ("night desk runs through midnight", "night", "2026-06-10T23:00+02:00", "2h", "2026-06-10T23:00Z"),
    (
        "spring-forward night: 01:00-03:00 is 1 real hour",
        "night",
        "2026-03-29T01:00+01:00",
        "90m",
        "2026-03-29T20:30Z",
    ),
    (
        "fall-back night: 01:00-03:00 is 3 real hours",
        "night",
        "2026-10-25T01:00+02:00",
        "3h",
        "2026-10-25T02:00Z",
    ),
    (
        "weekdays calendar: Friday 24:00 is due, not Monday",
        "weekdays",
        "2026-11-13T00:00Z",
        "1bd",
        "2026-11-14T00:00Z",
    ),
    # 24x7 is elapsed time, DST-safe; its business day is 24 h.
    (
        "24x7 across Berlin's fall back: 3 h elapsed",
        "berlin24",
        "2026-10-25T01:00+02:00",
        "3h",
        "2026-10-25T02:00Z",
    ),
    ("built-in 24x7: 1bd is 24 hours", "24x7", "2026-11-14T10:00Z", "1bd", "2026-11-15T10:00Z"),
    # Midnight transitions (Chile): Sun 00:00 does not exist; Sat 23:00-24:00 happens twice.
    (
        "Santiago: Sat 23:00-24:00 twice when clocks go back",
        "santiago",
        "2026-04-04T23:00-03:00",
        "3h",
        "2026-04-05T05:00Z",
    ),
    (
        "Santiago: no Sunday 00:00-01:00 when clocks go forward",
        "santiago",
        "2026-09-05T23:00-04:00",
        "90m",
        "2026-09-07T02:30Z",
    ),
]


@pytest.mark.parametrize(
    ("calendar", "start", "duration", "expected"),
    [case[1:] for case in DEADLINES],
    ids=[case[0] for case in DEADLINES],
)
def test_deadline(calendar: str, start: str, duration: str, expected: str) -> None:
    assert COMPILED[calendar].due(at(start), parse_duration(duration)) == at(expected)


# (calendar, from, to, open hours between)
OPEN_BETWEEN = [
    ("dresden", "2026-11-16T00:00+01:00", "2026-11-23T00:00+01:00", 32),  # a week with a holiday
    ("dresden", "2026-03-23T00:00+01:00", "2026-03-30T00:00+02:00", 40),  # a week ending in DST
    ("melbourne", "2026-11-02T00:00+11:00", "2026-11-09T00:00+11:00", 40),  # Cup Day counts
    (
        "night",
        "2026-10-24T12:00+02:00",
        "2026-10-25T12:00+01:00",
        6,
    ),  # Sat 22-24 (2 h) + Sun 00-03, which lasts 4 h when 02:00-03:00 repeats
    ("dresden", "2026-11-17T12:00+01:00", "2026-11-17T11:00+01:00", 0),  # end before start
]


@pytest.mark.parametrize(("calendar", "start", "end", "hours"), OPEN_BETWEEN)
def test_open_between(calendar: str, start: str, end: str, hours: int) -> None:
    assert COMPILED[calendar].open_between(at(start), at(end)) == timedelta(hours=hours)


# (calendar, local date, reason)
CLOSED_REASONS = [
    ("dresden", date(2026, 11, 18), "holiday: Buß- und Bettag"),
    ("dresden", date(2026, 11, 21), "weekend"),
    ("dresden", date(2026, 11, 19), None),
    ("melbourne", date(2026, 11, 3), None),  # holidays do not close this desk
    ("chicago", date(2026, 11, 2), "closed date"),
    ("chicago", date(2026, 11, 1), None),  # extra open Sunday
    ("chicago", date(2026, 11, 26), "holiday: Thanksgiving"),
    ("24x7", date(2026, 12, 25), None),
]


@pytest.mark.parametrize(("calendar", "day", "reason"), CLOSED_REASONS)
def test_closed_reason(calendar: str, day: date, reason: str | None) -> None:
    assert COMPILED[calendar].closed_reason(day) == reason


def test_open_time_converts_business_days_by_day_length() -> None:
    dresden, weekdays = COMPILED["dresden"], COMPILED["weekdays"]
    assert dresden.day_length == timedelta(hours=8)
    assert dresden.open_time(parse_duration("2bd")) == timedelta(hours=16)
    assert dresden.open_time(parse_duration("1w")) == timedelta(hours=40)
    assert dresden.open_time(parse_duration("90m")) == timedelta(minutes=90)
    assert weekdays.open_time(parse_duration("1bd")) == timedelta(hours=24)
    with pytest.raises(PolicyError):
        dresden.open_time(Duration(at_closure=True))
    assert dresden.due(at("2026-11-16T09:00+01:00"), Duration(at_closure=True)) is None


def test_default_day_length_is_the_most_common_working_day() -> None:
    # Mon-Thu 8 h, Fri 6 h, Sat 4 h: 8 h is the most common length.
    weekly = (((540, 1020),),) * 4 + (((540, 900),), ((600, 840),), ())
    calendar = BusinessCalendar.from_spec(CalendarSpec(id="c", timezone="UTC", weekly=weekly))
    assert calendar.day_length == timedelta(hours=8)
    explicit = CalendarSpec(id="c", timezone="UTC", weekly=weekly, day_length_minutes=7 * 60)
    assert BusinessCalendar.from_spec(explicit).day_length == timedelta(hours=7)


def test_is_open_and_next_open_at_the_edges() -> None:
    dresden = COMPILED["dresden"]
    assert dresden.is_open(at("2026-11-16T09:00+01:00"))
    assert not dresden.is_open(at("2026-11-16T17:00+01:00"))  # intervals are [open, close)
    assert dresden.next_open(at("2026-11-16T17:00+01:00")) == at("2026-11-17T08:00Z")
    assert dresden.next_open(at("2026-11-17T15:00+01:00")) == at("2026-11-17T14:00Z")
    assert dresden.next_open(at("2026-11-17T17:30+01:00")) == at("2026-11-19T08:00Z")  # skips the holiday


def test_open_intervals_is_a_calendar_strip_in_utc() -> None:
    strip = list(
        COMPILED["dresden"].open_intervals(at("2026-11-17T12:00+01:00"), at("2026-11-20T00:00+01:00"))
    )
    assert strip == [
        (at("2026-11-17T11:00Z"), at("2026-11-17T16:00Z")),
        (at("2026-11-19T08:00Z"), at("2026-11-19T16:00Z")),
    ]
    assert all(a.utcoffset() == timedelta(0) for a, _ in strip)
    # The night desk's 22:00-24:00 and 00:00-03:00 are one interval.
    night = list(COMPILED["night"].open_intervals(at("2026-06-10T12:00+02:00"), at("2026-06-11T12:00+02:00")))
    assert night == [(at("2026-06-10T20:00Z"), at("2026-06-11T01:00Z"))]


def test_results_are_utc_and_naive_input_is_refused() -> None:
    due = COMPILED["dresden"].add(at("2026-11-17T15:00+01:00"), timedelta(hours=1))
    assert due.utcoffset() == timedelta(0) and due == at("2026-11-17T15:00Z")
    with pytest.raises(PolicyError, match="no time zone"):
        COMPILED["dresden"].add(datetime(2026, 11, 17, 15), timedelta(hours=1))


def test_a_year_out_counts_every_business_day_once() -> None:
    # 52 weeks from Monday 2026-01-05 09:00 on Dresden (holidays 18 Nov and 25 Dec) is 260 business days.
    start = at("2026-01-05T09:00+01:00")
    due = COMPILED["dresden"].due(start, parse_duration("52w"))
    assert due == at("2027-01-05T16:00Z")
    assert COMPILED["dresden"].open_between(start, due) == timedelta(hours=8 * 260)


@pytest.mark.parametrize(
    ("spec", "path"),
    [
        (CalendarSpec(id="x", timezone="Mars/Olympus", weekly=(((540, 1020),),) * 7), "calendars.x.timezone"),
        (CalendarSpec(id="x", timezone="UTC", weekly=(((540, 1020),),) * 5), "calendars.x.weekly"),
        (CalendarSpec(id="x", timezone="UTC", weekly=(((540, 1500),),) * 7), "calendars.x.weekly"),
        (CalendarSpec(id="x", timezone="UTC", weekly=(((540, 700), (600, 800)),) * 7), "calendars.x.weekly"),
        (CalendarSpec(id="x", timezone="UTC", weekly=((),) * 7), "calendars.x.weekly"),
    ],
    ids=["unknown zone", "five days", "past 24:00", "overlapping", "never open"],
)
def test_unusable_calendars_are_policy_errors_with_a_path(spec: CalendarSpec, path: str) -> None:
    with pytest.raises(PolicyError) as excinfo:
        BusinessCalendar.from_spec(spec)
    assert excinfo.value.path == path


def test_compile_calendars_adds_24x7_and_caches_per_policy() -> None:
    policy = Policy(
        id="p", name="P", description="", calendars={"dresden": CALENDARS["dresden"]}, severities=(), tiers={}
    )
    calendars = compile_calendars(policy)
    assert set(calendars) == {"24x7", "dresden"}
    assert calendars["24x7"].tz.key == "UTC"
    assert compile_calendars(policy) is calendars
    other = Policy(id="p", name="P", description="", calendars={}, severities=(), tiers={})
    assert set(compile_calendars(other)) == {"24x7"}
