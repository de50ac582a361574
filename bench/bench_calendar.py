"""Benchmark the business-time engine against businesstimedelta and pandas CustomBusinessHour.

Run: .venv/bin/python bench/bench_calendar.py [--calls 10000] [--seed 7]

10,000 random deadlines (start anywhere in 2026-2027, whole-minute; 1 to 80 open hours, i.e. up to
10 business days, whole hours so that pandas' CustomBusinessHour can take them) on the Dresden
desk (Mon-Fri 09-17 Europe/Berlin, closed on DE/SN holidays from the `holidays` package, loaded here
at the edge). Prints µs per call for each engine, the speed-up, every kind of disagreement and the
cost of a deadline one year out. Prints figures; never asserts them.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

import businesstimedelta
import holidays
import pandas as pd
import pytz

from app.policy.calendar import BusinessCalendar
from app.policy.durations import parse_duration
from app.policy.model import CalendarSpec

BERLIN = ZoneInfo("Europe/Berlin")
YEARS = range(2025, 2033)  # holidays well past the last deadline, so no peer runs out of them


def dresden_spec() -> CalendarSpec:
    saxony = holidays.country_holidays("DE", subdiv="SN", years=YEARS)
    return CalendarSpec(
        id="dresden",
        timezone="Europe/Berlin",
        weekly=(((540, 1020),),) * 5 + ((), ()),
        holidays=dict(saxony.items()),
        holiday_country="DE",
        holiday_subdivision="SN",
        holiday_years=(YEARS.start, YEARS.stop - 1),
    )


def cases(n: int, seed: int) -> list[tuple[datetime, int]]:
    rng = random.Random(seed)
    first = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        (first + timedelta(minutes=rng.randrange(2 * 365 * 24 * 60)), rng.randint(1, 80)) for _ in range(n)
    ]


def timed(
    label: str, fn: Callable[[datetime, int], datetime], work: list[tuple[datetime, int]]
) -> tuple[list[datetime], float]:
    t0 = time.perf_counter()
    out = [fn(start, hours) for start, hours in work]
    per_call = (time.perf_counter() - t0) / len(work) * 1e6
    print(f"  {label:<34} {per_call:10.2f} µs/call")
    return out, per_call


def explain(calendar: BusinessCalendar, start: datetime, ours: datetime, theirs: datetime) -> str:
    """Name the kind of a disagreement."""
    theirs = theirs.astimezone(UTC)
    if not calendar.is_open(ours - timedelta(microseconds=1)):
        return "ours lands outside open hours (bug)"
    if calendar.next_open(ours) != ours and calendar.next_open(ours) == theirs:
        return "ours due at closing time (the earliest instant), peer rolls it to the next opening"
    if abs(theirs - ours) == timedelta(hours=1):
        return "one hour apart: peer does wall-clock arithmetic across a DST change"
    if not calendar.is_open(theirs - timedelta(microseconds=1)) and calendar.open_between(
        start, theirs
    ) != calendar.open_between(start, ours):
        return "peer counts a closed holiday or weekend hour as open"
    return "other"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    spec = dresden_spec()
    ours_cal = BusinessCalendar.from_spec(spec)
    tz = pytz.timezone("Europe/Berlin")
    btd_rules = businesstimedelta.Rules(
        [
            businesstimedelta.WorkDayRule(
                start_time=clock(9), end_time=clock(17), working_days=[0, 1, 2, 3, 4], tz=tz
            ),
            businesstimedelta.HolidayRule(set(spec.holidays), tz=tz),
        ]
    )
    pandas_hours = pd.offsets.CustomBusinessHour(
        start="09:00", end="17:00", weekmask="Mon Tue Wed Thu Fri", holidays=sorted(spec.holidays)
    )
    work = cases(args.calls, args.seed)
    print(
        f"{len(work)} deadlines on dresden (Mon-Fri 09-17 Europe/Berlin, {len(spec.holidays)} DE/SN holidays {YEARS.start}-{YEARS.stop - 1})"
    )

    def ours(start: datetime, hours: int) -> datetime:
        return ours_cal.add(start, timedelta(hours=hours))

    def btd(start: datetime, hours: int) -> datetime:
        return start + businesstimedelta.BusinessTimeDelta(btd_rules, hours=hours)

    def pandas(start: datetime, hours: int) -> datetime:
        return (pd.Timestamp(start).tz_convert("Europe/Berlin") + pandas_hours * hours).to_pydatetime()

    # Cold: a fresh calendar, every week and zone-year computed on first use.
    cold, cold_us = timed("tierwise (fresh calendar)", ours, work)
    mine, our_us = timed("tierwise (warm week cache)", ours, work)
    assert mine == cold
    theirs_btd, btd_us = timed("businesstimedelta", btd, work)
    theirs_pd, pd_us = timed("pandas CustomBusinessHour", pandas, work)
    print(
        f"  speed-up vs businesstimedelta: {btd_us / our_us:.0f}x warm, {btd_us / cold_us:.0f}x cold (goal >= 20x)"
    )
    print(f"  speed-up vs pandas:            {pd_us / our_us:.0f}x warm, {pd_us / cold_us:.0f}x cold")

    for name, theirs in (("businesstimedelta", theirs_btd), ("pandas CustomBusinessHour", theirs_pd)):
        kinds: Counter[str] = Counter()
        example: dict[str, tuple[datetime, int, datetime, datetime]] = {}
        for (start, hours), a, b in zip(work, mine, theirs, strict=True):
            if a != b:
                kind = explain(ours_cal, start, a, b)
                kinds[kind] += 1
                example.setdefault(kind, (start, hours, a, b))
        print(f"disagreements with {name}: {sum(kinds.values())} of {len(work)}")
        for kind, count in kinds.most_common():
            start, hours, a, b = example[kind]
            print(f"  {count:6d}  {kind}")
            print(
                f"          e.g. {start.astimezone(BERLIN):%a %Y-%m-%d %H:%M %Z} + {hours} h: "
                f"tierwise {a.astimezone(BERLIN):%a %m-%d %H:%M %Z}, peer {b.astimezone(BERLIN):%a %m-%d %H:%M %Z}"
            )

    # A deadline one year out (52 weeks = 260 business days = 2080 open hours).
    year = parse_duration("52w")
    starts = [start for start, _ in work[:1000]]
    first_times = []
    for start in starts[:50]:  # each on a calendar compiled just before: every week computed afresh
        fresh = BusinessCalendar.from_spec(spec)
        t0 = time.perf_counter()
        fresh.due(start, year)
        first_times.append((time.perf_counter() - t0) * 1e6)
    first_us = sorted(first_times)[len(first_times) // 2]
    t0 = time.perf_counter()
    for start in starts:
        ours_cal.due(start, year)
    year_us = (time.perf_counter() - t0) / len(starts) * 1e6
    t0 = time.perf_counter()
    btd_year = starts[0] + businesstimedelta.BusinessTimeDelta(btd_rules, hours=2080)
    btd_year_us = (time.perf_counter() - t0) * 1e6
    ours_year = ours_cal.due(starts[0], year)
    print("a deadline one year out (52w = 2080 open hours):")
    print(
        f"  tierwise: {year_us:.1f} µs/call warm, {first_us:.0f} µs (median) the first time on a fresh calendar (goal < 100 µs)"
    )
    print(f"  businesstimedelta: {btd_year_us:.0f} µs; same answer: {btd_year == ours_year}")


if __name__ == "__main__":
    main()
