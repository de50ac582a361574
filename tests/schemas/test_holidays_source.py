"""The holidays edge: country/subdivision → {date: name}, and the region list for pickers."""

from __future__ import annotations

from datetime import date

import pytest

from app.schemas.holidays_source import (
    HOLIDAY_YEARS,
    HolidayRegionError,
    available_holiday_regions,
    holiday_dates,
    normalize_region,
)


def test_subdivision_holidays_are_included_only_there() -> None:
    saxony = holiday_dates("DE", "SN")
    berlin = holiday_dates("DE", "BE")
    assert date(2026, 11, 18) in saxony  # Buß- und Bettag
    assert date(2026, 11, 18) not in berlin
    assert date(2026, 12, 25) in saxony and date(2026, 12, 25) in berlin


def test_melbourne_cup_day_is_a_victorian_holiday() -> None:
    assert "Melbourne Cup" in holiday_dates("AU", "VIC")[date(2026, 11, 3)]


def test_the_window_is_covered_and_cached() -> None:
    dates = holiday_dates("DE", "SN")
    assert min(dates).year == HOLIDAY_YEARS[0] and max(dates).year == HOLIDAY_YEARS[1]
    assert holiday_dates("DE", "SN") is dates


@pytest.mark.parametrize(
    ("country", "subdivision", "field", "words"),
    [
        ("XX", None, "country", '"XX" is not a country'),
        ("DE", "ZZ", "subdivision", '"ZZ" is not a subdivision of DE (known: BB, BE'),
    ],
)
def test_unknown_regions_are_refused(country: str, subdivision: str | None, field: str, words: str) -> None:
    with pytest.raises(HolidayRegionError) as caught:
        normalize_region(country, subdivision)
    assert caught.value.field == field and words in str(caught.value)


def test_regions_are_listed_with_names() -> None:
    regions = available_holiday_regions()
    assert regions["DE"]["name"] == "Germany"
    assert "SN" in regions["DE"]["subdivisions"]
    assert regions["AU"]["subdivisions"]["VIC"] == "Victoria"
    assert len(regions) > 100
