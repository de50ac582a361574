"""Public holidays from the `holidays` package, resolved at the edge into plain `{date: name}` maps.

The policy core never imports `holidays`: a calendar's holidays are resolved here, once, for the
whole window `HOLIDAY_YEARS` and handed to the core as data. Resolving one country and subdivision
for the 76-year window costs 10–80 ms (Germany/Saxony ≈ 80 ms, Australia/Victoria ≈ 10 ms, measured
on the CI machine kind), so results are cached per (country, subdivision) for the process.
"""

from __future__ import annotations

from collections.abc import Mapping
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


@lru_cache(maxsize=256)
def holiday_dates(
    country: str, subdivision: str | None = None, years: tuple[int, int] = HOLIDAY_YEARS
) -> Mapping[date, str]:
    """Every public holiday of `country` / `subdivision` in `years` (inclusive) as date → name.

    Raise HolidayRegionError on an unknown country or subdivision. The result is read-only and shared.
    """
    code, sub = normalize_region(country, subdivision)
    found = holidays.country_holidays(code, subdiv=sub, years=range(years[0], years[1] + 1))
    return MappingProxyType(dict(sorted(found.items())))


def available_holiday_regions() -> dict[str, dict]:
    """Countries and their subdivisions, for pickers: `{"DE": {"name": "Germany", "subdivisions": {"SN": "Sachsen", …}}}`."""
    return {
        code: {"name": _country_names().get(code, code), "subdivisions": dict(_subdivision_names(code))}
        for code in sorted(_countries())
    }
