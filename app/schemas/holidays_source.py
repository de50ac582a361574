"""Public holidays from the `holidays` package, resolved at the edge into `{date: name}` maps.

The policy core never imports `holidays`: a calendar's holidays are handed to it as a mapping
(`RegionHolidays`) that resolves one year at a time, when a date of that year is first asked
about, and only within `HOLIDAY_YEARS`. A year costs well under a millisecond for most regions
(Germany/Saxony: 0.4 ms, against 270 ms for the whole 76-year window on this machine kind), and
years are cached per (country, subdivision, year) for the process, so a policy naming many regions
costs what the years its deadlines touch cost.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from functools import cache, lru_cache
from types import MappingProxyType

import holidays
from holidays.registry import COUNTRIES

#: Inclusive range of years whose holidays a calendar knows. Deadlines outside it see no holidays;
#: wide enough for tickets from 2000 and SLA deadlines decades ahead.
HOLIDAY_YEARS: tuple[int, int] = (2000, 2075)


class HolidayRegionError(ValueError):
    """A country or subdivision the `holidays` package does not know.

    `field` is `country` or `subdivision`: the document key the problem belongs to.
    """

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@lru_cache(maxsize=1)
def _countries() -> Mapping[str, tuple[str, ...]]:
    return MappingProxyType(
        {
            code: tuple(subdivs)
            for code, subdivs in holidays.list_supported_countries(include_aliases=False).items()
        }
    )


@lru_cache(maxsize=1)
def _country_names() -> Mapping[str, str]:
    """ISO code → readable English name, from the package's registry (`united_states` → `United States`)."""
    names: dict[str, str] = {}
    for module, entry in COUNTRIES.items():
        for code in entry[1:]:
            names.setdefault(code, module.replace("_", " ").title())
    return names


def normalize_region(country: str, subdivision: str | None) -> tuple[str, str | None]:
    """The canonical (country code, subdivision code); a subdivision may also be given by its name.

    Raise HolidayRegionError when either is unknown.
    """
    code = country.strip().upper()
    if code not in _countries():
        raise HolidayRegionError(f'"{country}" is not a country the holidays package knows', "country")
    if subdivision is None:
        return code, None
    subdivs = _countries()[code]
    if subdivision in subdivs:
        return code, subdivision
    aliases = _subdivision_names(code)
    for sub_code, name in aliases.items():
        if subdivision.casefold() in (sub_code.casefold(), name.casefold()):
            return code, sub_code
    known = ", ".join(subdivs) if subdivs else "none"
    raise HolidayRegionError(
        f'"{subdivision}" is not a subdivision of {code} (known: {known})', "subdivision"
    )


@cache
def _subdivision_names(country: str) -> Mapping[str, str]:
    """Subdivision code → name (the code itself where the package has no name)."""
    entity = holidays.country_holidays(country)
    names = {code: code for code in entity.subdivisions}
    for name, code in getattr(entity, "subdivisions_aliases", {}).items():
        if code in names and names[code] == code:
            names[code] = name
    return MappingProxyType(names)


#: Region-years kept resolved (a year of one region is a few dozen dates).
YEAR_CACHE_SIZE = 8192


@lru_cache(maxsize=YEAR_CACHE_SIZE)
def _computed(country: str, subdivision: str | None, year: int) -> Mapping[date, str]:
    """What the package computes for one year (observed days may fall in the year next to it)."""
    return MappingProxyType(dict(holidays.country_holidays(country, subdiv=subdivision, years=[year])))


@lru_cache(maxsize=YEAR_CACHE_SIZE)
def _year(country: str, subdivision: str | None, year: int) -> Mapping[date, str]:
    """The holidays dated in `year`: from that year's computation and its neighbours' (a holiday of
    one year can be observed on a day of the next, as New Year's Day on a Saturday can be on 31 December)."""
    found: dict[date, str] = {}
    for source in (year - 1, year, year + 1):
        found.update((d, name) for d, name in _computed(country, subdivision, source).items() if d.year == year)
    return MappingProxyType(dict(sorted(found.items())))


class RegionHolidays(Mapping[date, str]):
    """The public holidays of one region within `years`, resolved a year at a time on first use.

    A read-only mapping date → name; `in_year(y)` gives one year's. Iterating (or `len`) resolves
    every year of the window: the engine asks by year instead.
    """

    def __init__(self, country: str, subdivision: str | None = None, years: tuple[int, int] = HOLIDAY_YEARS) -> None:
        self.country, self.subdivision = normalize_region(country, subdivision)
        self.years = years

    def in_year(self, year: int) -> Mapping[date, str]:
        """The holidays dated in `year` (empty outside the window)."""
        if not self.years[0] <= year <= self.years[1]:
            return MappingProxyType({})
        return _year(self.country, self.subdivision, year)

    def __getitem__(self, day: object) -> str:
        if not isinstance(day, date):
            raise KeyError(day)
        return self.in_year(day.year)[day]

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and day in self.in_year(day.year)

    def __iter__(self) -> Iterator[date]:
        for year in range(self.years[0], self.years[1] + 1):
            yield from self.in_year(year)

    def __len__(self) -> int:
        return sum(len(self.in_year(year)) for year in range(self.years[0], self.years[1] + 1))

    def __bool__(self) -> bool:
        return True  # every region has public holidays; no need to resolve a year to say so

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RegionHolidays):
            return (self.country, self.subdivision, self.years) == (other.country, other.subdivision, other.years)
        return Mapping.__eq__(self, other)

    __hash__ = None  # type: ignore[assignment]  # a mapping, like dict

    def __repr__(self) -> str:
        return f"RegionHolidays({self.country!r}, {self.subdivision!r}, years={self.years})"


@lru_cache(maxsize=256)
def holiday_dates(
    country: str, subdivision: str | None = None, years: tuple[int, int] = HOLIDAY_YEARS
) -> Mapping[date, str]:
    """Every public holiday of `country` / `subdivision` in `years` (inclusive) as date → name.

    Raise HolidayRegionError on an unknown country or subdivision. The result is read-only and shared.
    """
    region = RegionHolidays(country, subdivision, years)
    return MappingProxyType(dict(region.items()))


def holidays_between(dates: Mapping[date, str], start: date, end: date) -> list[tuple[date, str]]:
    """The holidays from `start` to `end` (inclusive), in date order, reading only those years."""
    in_year = getattr(dates, "in_year", None)
    if not callable(in_year):
        return sorted((d, name) for d, name in dates.items() if start <= d <= end)
    found = [(d, name) for year in range(start.year, end.year + 1) for d, name in in_year(year).items()]
    return sorted((d, name) for d, name in found if start <= d <= end)


def available_holiday_regions() -> dict[str, dict]:
    """Countries and their subdivisions, for pickers: `{"DE": {"name": "Germany", "subdivisions": {"SN": "Sachsen", …}}}`."""
    return {
        code: {"name": _country_names().get(code, code), "subdivisions": dict(_subdivision_names(code))}
        for code in sorted(_countries())
    }
