"""Property tests: the fast engine agrees with the minute-stepping reference on every calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.policy.calendar import BusinessCalendar

from . import reference
from .reference import CALENDARS, DST_ANCHORS

COMPILED = {cal_id: BusinessCalendar.from_spec(spec) for cal_id, spec in CALENDARS.items()}
CALENDAR_IDS = sorted(CALENDARS)
PROPERTY_SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Whole-minute instants: around the DST changes and holidays of 2026, anywhere in 2026, or in 1995-2044.
near_anchor = st.builds(
    lambda anchor, minutes: anchor + timedelta(minutes=minutes),
    st.sampled_from(DST_ANCHORS),
    st.integers(-4 * 24 * 60, 2 * 24 * 60),
)
anywhere = st.builds(
    lambda minutes: datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes),
    st.integers(0, 365 * 24 * 60),
)
#: Other years (other DST rules, e.g. Chile's before 2019) reach the zone tables from both ends.
any_year = st.builds(
    lambda minutes: datetime(1995, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes),
    st.integers(0, 50 * 365 * 24 * 60),
)
instants = st.one_of(near_anchor, anywhere, any_year)
#: Up to two 8-hour business days of open time, biased towards boundaries.
open_minutes = st.one_of(st.integers(0, 16 * 60), st.sampled_from([1, 60, 179, 180, 480, 481, 960]))


@pytest.mark.parametrize("cal_id", CALENDAR_IDS)
@PROPERTY_SETTINGS
@given(start=instants, minutes=open_minutes)
def test_add_agrees_with_reference(cal_id: str, start: datetime, minutes: int) -> None:
    expected = reference.add(CALENDARS[cal_id], start, minutes)
    assert COMPILED[cal_id].add(start, timedelta(minutes=minutes)) == expected


@pytest.mark.parametrize("cal_id", CALENDAR_IDS)
@PROPERTY_SETTINGS
@given(start=instants, minutes=st.integers(0, 60 * 24 * 60))
def test_open_between_inverts_add(cal_id: str, start: datetime, minutes: int) -> None:
    calendar = COMPILED[cal_id]
    open_time = timedelta(minutes=minutes)
    assert calendar.open_between(start, calendar.add(start, open_time)) == open_time


@pytest.mark.parametrize("cal_id", CALENDAR_IDS)
@PROPERTY_SETTINGS
@given(start=instants, length=st.integers(0, 3 * 24 * 60))
def test_open_between_agrees_with_reference(cal_id: str, start: datetime, length: int) -> None:
    end = start + timedelta(minutes=length)
    expected = reference.open_minutes_between(CALENDARS[cal_id], start, end)
    assert COMPILED[cal_id].open_between(start, end) == timedelta(minutes=expected)


@pytest.mark.parametrize("cal_id", CALENDAR_IDS)
@PROPERTY_SETTINGS
@given(
    start=instants, a=st.integers(0, 30 * 24 * 60), b=st.integers(0, 30 * 24 * 60), shift=st.integers(0, 5000)
)
def test_add_is_monotonic(cal_id: str, start: datetime, a: int, b: int, shift: int) -> None:
    calendar = COMPILED[cal_id]
    short, long = sorted((timedelta(minutes=a), timedelta(minutes=b)))
    assert calendar.add(start, short) <= calendar.add(start, long)
    later = start + timedelta(seconds=shift * 7)
    assert calendar.add(start, long) <= calendar.add(later, long)


@pytest.mark.parametrize("cal_id", CALENDAR_IDS)
@PROPERTY_SETTINGS
@given(at=instants)
def test_is_open_and_next_open_agree_with_reference(cal_id: str, at: datetime) -> None:
    spec, calendar = CALENDARS[cal_id], COMPILED[cal_id]
    assert calendar.is_open(at) == reference.is_open(spec, at)
    opening = calendar.next_open(at)
    assert opening >= at and reference.is_open(spec, opening)
    assert opening == at or not reference.is_open(spec, opening - reference.MINUTE)


@pytest.mark.parametrize("cal_id", CALENDAR_IDS)
@PROPERTY_SETTINGS
@given(start=instants, length=st.integers(1, 10 * 24 * 60))
def test_open_intervals_cover_exactly_the_open_time(cal_id: str, start: datetime, length: int) -> None:
    calendar = COMPILED[cal_id]
    end = start + timedelta(minutes=length)
    strip = list(calendar.open_intervals(start, end))
    assert sum((b - a for a, b in strip), timedelta(0)) == calendar.open_between(start, end)
    for (a, b), (c, _) in zip(strip, strip[1:], strict=False):
        assert start <= a < b < c <= end  # ascending, disjoint and merged: no touching neighbours
