"""Holidays are resolved a year at a time, as deadlines need them (issue #14, point 5).

A policy naming many regions used to cost 10–270 ms per region up front (2000–2075 resolved at
load); now loading resolves nothing, and a deadline reads only the years it touches, with the same
dates the whole-window computation gives.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import holidays

from app.policy.sla import deadlines
from app.schemas import holidays_source
from app.schemas.holidays_source import RegionHolidays, holidays_between
from app.schemas.policy import load_policy
from app.schemas.presets import preset_document


def test_year_by_year_gives_the_dates_of_the_whole_window() -> None:
    for country, sub, years in (("DE", "SN", (2000, 2075)), ("US", None, (2019, 2023)), ("AU", "VIC", (2024, 2028))):
        region = RegionHolidays(country, sub, years)
        whole = dict(holidays.country_holidays(country, subdiv=sub, years=range(years[0], years[1] + 1)))
        assert dict(region.items()) == whole
    # New Year's Day 2022 fell on a Saturday: observed on Friday 31 December 2021, a date of 2021.
    assert RegionHolidays("US").in_year(2021)[date(2021, 12, 31)] == "New Year's Day (observed)"


def test_loading_a_policy_resolves_no_year_and_a_deadline_only_its_own() -> None:
    holidays_source._computed.cache_clear()
    document = preset_document("communardo")  # Mon–Fri 09–17 Dresden, DE/SN holidays
    policy = load_policy(document)
    assert holidays_source._computed.cache_info().currsize == 0
    due = deadlines(policy, "standard", "sev2", datetime(2026, 11, 17, 14, 0, tzinfo=UTC))
    assert due["first_response_due"] == datetime(2026, 11, 19, 10, 0, tzinfo=UTC)  # Buß- und Bettag skipped
    assert holidays_source._computed.cache_info().currsize <= 3  # 2025–2027: the year and its neighbours


def test_the_upcoming_holidays_read_only_their_years() -> None:
    holidays_source._computed.cache_clear()
    region = RegionHolidays("DE", "SN")
    upcoming = holidays_between(region, date(2026, 11, 1), date(2027, 1, 10))
    assert [d for d, _ in upcoming] == [date(2026, 11, 18), date(2026, 12, 25), date(2026, 12, 26), date(2027, 1, 1)]
    assert holidays_source._computed.cache_info().currsize <= 4  # 2025–2028


def test_regions_compare_by_region_without_resolving() -> None:
    holidays_source._computed.cache_clear()
    assert RegionHolidays("de", "Sachsen") == RegionHolidays("DE", "SN")
    assert RegionHolidays("DE", "SN") != RegionHolidays("DE", "BE")
    assert holidays_source._computed.cache_info().currsize == 0
