"""Business calendars: open time, deadlines and open intervals in a time zone.

Semantics (each is a test in `tests/policy/`):

- Durations are `15m`, `4h`, `1bd`, `1w` (= 5 business days) and `at_closure`. Minutes and hours
  on a business calendar count **open time only**; on `24x7` they are elapsed absolute time
  (added in UTC, so a DST change never stretches or shrinks them).
- **N business days = N × the calendar's `day_length` of open time.** `day_length` defaults to
  the most common open length of a working day (ties: the longer one). "1bd" on Mon–Fri 09–17 is
  8 open hours: not 24 hours and not 3 working days.
- A deadline is the **earliest** instant at which the required open time has elapsed: work that
  completes exactly at closing time is due at closing time, not at the next opening. A start
  outside open hours starts counting at the next opening.
- Weekly hours may have several intervals per day; an interval ending at 24:00 continues
  seamlessly into a next-day interval starting at 00:00.
- Local wall-clock intervals are read in the calendar's time zone. An instant is open when the
  wall clock shown at that instant falls inside an open interval of the date it shows. So across
  DST an interval 09:00–17:00 is still 8 hours of real time, and where the jump falls inside an
  interval the open time is the real elapsed time: 01:00–03:00 on a spring-forward night (02:00 →
  03:00) is 1 hour, on a fall-back night (03:00 → 02:00) 3 hours. A boundary at a nonexistent
  local time opens at the first instant the clock shows a later time (the jump); an ambiguous
  local time is met at each of its occurrences (zoneinfo fold 0, then fold 1).
- Holidays (`holidays`, date → name) close the desk only when `holidays_close`; `extra_closed`
  dates always close; `extra_open` opens a date that would otherwise be closed (a holiday or a
  day without weekly hours) with the standard day hours (the most common non-empty weekday
  hours). A date both extra-closed and extra-open stays closed.

Implementation: all instants are integers (µs since the epoch, UTC). Time is cut into weeks
(Monday 00:00 local to the next Monday 00:00); a week without special dates and without a UTC
offset change is the nominal week shifted by one offset, and every week's open pieces and total
are cached. Adding open time walks the first week's pieces, jumps whole weeks by their totals,
then walks the last week's pieces: the cost grows with weeks spanned, not minutes. Offset
changes are found once per zone and year (daily samples, then bisection to the second).
"""

from __future__ import annotations

import bisect
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.policy.durations import Duration
from app.policy.errors import PolicyError
from app.policy.model import CALENDAR_24X7, MINUTES_PER_DAY, CalendarSpec, OpenInterval, Policy

#: One second, minute, day and week in the engine's unit (microseconds).
_SECOND = 1_000_000
_MINUTE = 60 * _SECOND
_DAY = 24 * 60 * _MINUTE
_WEEK = 7 * _DAY
#: Epoch day 4 (1970-01-05) is a Monday: week w starts on epoch day 4 + 7w.
_FIRST_MONDAY = 4
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
#: UTC offsets lie within ±14 h, so a local week lies within its wall-clock span widened by this.
_MARGIN = 15 * 60 * _MINUTE
#: Give up looking for open time after this many weeks (a calendar that never opens again).
_MAX_WEEKS = 52 * 200
#: Weeks kept per calendar before the cache is dropped (bounds memory in a long-lived worker).
_WEEK_CACHE_LIMIT = 50_000
#: The last day `date` can hold, as an ordinal.
_MAX_ORDINAL = date.max.toordinal()
#: A week number beyond any calendar (the covered range of a calendar without holidays).
_UNBOUNDED = 1 << 40
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _to_us(at: datetime) -> int:
    if at.tzinfo is None or at.utcoffset() is None:
        raise PolicyError(f"{at.isoformat()} has no time zone offset")
    d = at - _EPOCH
    return (d.days * 86_400 + d.seconds) * _SECOND + d.microseconds


def _from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def _span_us(span: timedelta) -> int:
    return (span.days * 86_400 + span.seconds) * _SECOND + span.microseconds


def _day_number(day: date) -> int:
    return day.toordinal() - _EPOCH_ORDINAL


# --- UTC offsets of a zone ----------------------------------------------------------------------


def _offset_us(tz: ZoneInfo, second: int) -> int:
    offset = (_EPOCH + timedelta(seconds=second)).astimezone(tz).utcoffset()
    assert offset is not None
    return _span_us(offset)


@lru_cache(maxsize=1024)
def _year_offsets(tz: ZoneInfo, year: int) -> tuple[int, tuple[int, ...], tuple[int, ...]]:
    """The offset just before `year` (UTC) and the offset changes within it: (before, times, offsets)."""
    first = int((datetime(year, 1, 1, tzinfo=UTC) - _EPOCH).total_seconds())
    last = int((datetime(year + 1, 1, 1, tzinfo=UTC) - _EPOCH).total_seconds())
    before = _offset_us(tz, first - 1)
    times: list[int] = []
    offsets: list[int] = []
    prev_s, prev_off = first - 1, before
    s = first
    while prev_s < last - 1:
        s = min(prev_s + 86_400, last - 1)
        off = _offset_us(tz, s)
        if off != prev_off:
            lo, hi = prev_s, s  # offset(lo) == prev_off, offset(hi) != prev_off
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _offset_us(tz, mid) == prev_off:
                    lo = mid
                else:
                    hi = mid
            times.append(hi * _SECOND)
            offsets.append(_offset_us(tz, hi))
            # A second change within the same day would be found from `hi` on.
            prev_s, prev_off = hi, offsets[-1]
            continue
        prev_s, prev_off = s, off
    return before, tuple(times), tuple(offsets)


def _year_start(year: int) -> int:
    return int((datetime(year, 1, 1, tzinfo=UTC) - _EPOCH).total_seconds()) * _SECOND


class _Table(NamedTuple):
    """Offset changes of a zone over whole years; replaced, never mutated (safe to share between threads)."""

    years: tuple[int, int]  # first and last year covered
    covered: tuple[int, int]  # the same as [from, to) in UTC µs
    before: int  # offset before the first covered year
    times: tuple[int, ...]  # offset changes, ascending
    offsets: tuple[int, ...]  # the offset from each change on
    change_weeks: frozenset[int]  # local weeks (epoch, Monday-based) that may see a change


def _change_weeks(times: tuple[int, ...]) -> frozenset[int]:
    weeks = set()
    for at in times:
        centre = (at // _DAY - _FIRST_MONDAY) // 7
        for w in range(centre - 2, centre + 3):
            if (_FIRST_MONDAY + 7 * w) * _DAY - _MARGIN <= at < (_FIRST_MONDAY + 7 * w + 7) * _DAY + _MARGIN:
                weeks.add(w)
    return frozenset(weeks)


class _Zone:
    """UTC offsets of one time zone: a table of offset changes, grown a year at a time."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        year = 2026
        before, times, offsets = _year_offsets(tz, year)
        self._table = _Table(
            (year, year),
            (_year_start(year), _year_start(year + 1)),
            before,
            times,
            offsets,
            _change_weeks(times),
        )

    def _cover(self, lo: int, hi: int) -> _Table:
        """A table covering [lo, hi]."""
        table = self._table
        if table.covered[0] <= lo and hi < table.covered[1]:
            return table
        first, last = table.years
        before, times, offsets = table.before, table.times, table.offsets
        while lo < _year_start(first):
            first -= 1
            before, year_times, year_offsets = _year_offsets(self.tz, first)
            times, offsets = year_times + times, year_offsets + offsets
        while hi >= _year_start(last + 1):
            last += 1
            _, year_times, year_offsets = _year_offsets(self.tz, last)
            times, offsets = times + year_times, offsets + year_offsets
        table = _Table(
            (first, last),
            (_year_start(first), _year_start(last + 1)),
            before,
            times,
            offsets,
            _change_weeks(times),
        )
        self._table = table
        return table

    def offset_at(self, us: int) -> int:
        table = self._cover(us, us)
        i = bisect.bisect_right(table.times, us)
        return table.offsets[i - 1] if i else table.before

    def segments(self, start: int, end: int) -> list[tuple[int, int, int]]:
        """Cut [start, end) into (from, to, offset) pieces of constant UTC offset."""
        table = self._cover(start, end)
        times = table.times
        i, j = bisect.bisect_right(times, start), bisect.bisect_left(times, end)
        offset = table.offsets[i - 1] if i else table.before
        out: list[tuple[int, int, int]] = []
        cur = start
        for k in range(i, j):
            new = table.offsets[k]
            if new != offset:
                out.append((cur, times[k], offset))
                cur, offset = times[k], new
        out.append((cur, end, offset))
        return out

    def changes_in_week(self, w: int) -> bool:
        """Whether the offset may change during local week `w` (Monday-based, epoch weeks)."""
        lo, hi = (_FIRST_MONDAY + 7 * w) * _DAY - _MARGIN, (_FIRST_MONDAY + 7 * w + 7) * _DAY + _MARGIN
        return w in self._cover(lo, hi).change_weeks

    def first_instant(self, wall: int) -> int:
        """The first instant at which the local wall clock shows `wall` or later."""
        for a, b, offset in self.segments(wall - _DAY, wall + _DAY):
            if b + offset > wall:
                return max(a, wall - offset)
        raise AssertionError("no instant shows this wall-clock time")  # pragma: no cover


# --- the calendar -------------------------------------------------------------------------------


class _Week(NamedTuple):
    start: int  # first instant of local Monday 00:00
    end: int  # first instant of the next Monday 00:00
    pieces: tuple[tuple[int, int], ...]  # open [from, to) in UTC µs, ascending, merged
    total: int  # open µs in the week


def _merge(pieces: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(pieces):
        if out and out[-1][1] >= a:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return tuple(out)


def _standard_hours(weekly: tuple[tuple[OpenInterval, ...], ...]) -> tuple[OpenInterval, ...]:
    """The most common non-empty day hours (ties: the earliest weekday's)."""
    days = [day for day in weekly if day]
    if not days:
        return ()
    counts = Counter(days)
    best = max(counts.values())
    return next(day for day in days if counts[day] == best)


def _default_day_length(weekly: tuple[tuple[OpenInterval, ...], ...]) -> int:
    """The most common open length of a working day in minutes (ties: the longer)."""
    lengths = Counter(sum(b - a for a, b in day) for day in weekly if day)
    return max(lengths, key=lambda n: (lengths[n], n))


def _check_weekly(spec: CalendarSpec) -> tuple[tuple[OpenInterval, ...], ...]:
    path = f"calendars.{spec.id}.weekly"
    if len(spec.weekly) != 7:
        raise PolicyError(f"needs 7 days (Monday to Sunday), got {len(spec.weekly)}", path)
    weekly: list[tuple[OpenInterval, ...]] = []
    for name, day in zip(_WEEKDAYS, spec.weekly, strict=True):
        ordered = tuple(sorted((int(a), int(b)) for a, b in day))
        for i, (a, b) in enumerate(ordered):
            if not 0 <= a < b <= MINUTES_PER_DAY:
                raise PolicyError(f"{name} interval {a}-{b} is not within 00:00-24:00", path)
            if i and ordered[i - 1][1] > a:
                raise PolicyError(f"{name} intervals overlap", path)
        weekly.append(ordered)
    if not any(weekly):
        raise PolicyError("the calendar is never open", path)
    return tuple(weekly)


@dataclass(frozen=True, eq=False)
class _Days:
    """Which dates (epoch day numbers) deviate from the weekly hours."""

    closed: frozenset[int]  # extra_closed, always closed
    holidays: _HolidayDays  # holidays that close the desk
    opened: frozenset[int]  # extra_open, not extra_closed


class _HolidayDays:
    """The epoch day numbers of a calendar's closing holidays, read a year at a time.

    The schemas hand the core a mapping that resolves its dates by year on demand (`in_year`);
    a plain mapping (tests, literals) is grouped by year once. Only the years a calculation
    touches are ever read.
    """

    def __init__(self, holidays: Mapping[date, str]) -> None:
        in_year = getattr(holidays, "in_year", None)
        if callable(in_year):
            self._in_year: Callable[[int], Iterable[date]] = in_year
        else:
            by_year: dict[int, list[date]] = {}
            for day in holidays:
                by_year.setdefault(day.year, []).append(day)
            self._in_year = lambda year: by_year.get(year, ())
        self.none = not holidays
        self._years: dict[int, frozenset[int]] = {}

    def of_year(self, year: int) -> frozenset[int]:
        days = self._years.get(year)
        if days is None:
            days = self._years[year] = frozenset(_day_number(d) for d in self._in_year(year))
        return days

    def __contains__(self, day: object) -> bool:
        if self.none or not isinstance(day, int):
            return False
        year = _year_of(day)
        return year is not None and day in self.of_year(year)


def _year_of(day: int) -> int | None:
    """The year of epoch day `day`, or None beyond the dates Python can hold."""
    ordinal = day + _EPOCH_ORDINAL
    return date.fromordinal(ordinal).year if 1 <= ordinal <= _MAX_ORDINAL else None


class BusinessCalendar:
    """A business-hours calendar compiled for fast, exact deadline arithmetic."""

    def __init__(self, spec: CalendarSpec) -> None:
        try:
            self.tz = ZoneInfo(spec.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise PolicyError(
                f'"{spec.timezone}" is not an IANA time zone', f"calendars.{spec.id}.timezone"
            ) from exc
        self.id = spec.id
        self.spec = spec
        self._weekly = _check_weekly(spec)
        self._standard = _standard_hours(self._weekly)
        minutes = spec.day_length_minutes or _default_day_length(self._weekly)
        if minutes <= 0:
            raise PolicyError("must be longer than zero", f"calendars.{spec.id}.day_length")
        self.day_length = timedelta(minutes=minutes)
        self._always_open = spec.is_24x7
        closed = frozenset(_day_number(d) for d in spec.extra_closed)
        self._days = _Days(
            closed=closed,
            holidays=_HolidayDays(spec.holidays if spec.holidays_close else {}),
            opened=frozenset(_day_number(d) for d in spec.extra_open) - closed,
        )
        self._dated_weeks = frozenset((day - _FIRST_MONDAY) // 7 for day in self._days.closed | self._days.opened)
        self._nominal = _merge(
            [
                ((weekday * MINUTES_PER_DAY + a) * _MINUTE, (weekday * MINUTES_PER_DAY + b) * _MINUTE)
                for weekday, day in enumerate(self._weekly)
                for a, b in day
            ]
        )
        self._nominal_total = sum(b - a for a, b in self._nominal)
        # Open time of each week with a special date (closed, opened or a holiday), as long as its UTC
        # offset stays put: filled for the weeks of the years read so far (`_cover`), all of them
        # when the calendar has no holidays.
        self._special_totals: dict[int, int] = {}
        self._years: tuple[int, int] | None = None  # the holiday years read: a contiguous range
        self._covered = (-_UNBOUNDED, _UNBOUNDED) if self._days.holidays.none else (0, -1)
        if self._days.holidays.none:
            self._add_special_totals(self._dated_weeks)
        self._zone = _Zone(self.tz)
        self._weeks: dict[int, _Week] = {}

    @classmethod
    def from_spec(cls, spec: CalendarSpec) -> BusinessCalendar:
        """Compile `spec`; raise PolicyError naming the calendar when it cannot be used."""
        return cls(spec)

    def __repr__(self) -> str:
        return f"BusinessCalendar({self.id!r}, {self.tz.key!r})"

    # --- durations and deadlines ----------------------------------------------------------------

    def open_time(self, duration: Duration) -> timedelta:
        """The open time `duration` requires on this calendar."""
        if duration.at_closure:
            raise PolicyError("at_closure is not an amount of open time")
        if duration.business_days:
            return self.day_length * duration.business_days
        return timedelta(minutes=duration.minutes)

    def due(self, start: datetime, duration: Duration) -> datetime | None:
        """The deadline of `duration` counted from `start`; None for at_closure."""
        if duration.at_closure:
            return None
        return self.add(start, self.open_time(duration))

    def add(self, start: datetime, open_time: timedelta) -> datetime:
        """The earliest instant (UTC) at which `open_time` of open time has elapsed since `start`."""
        t = _to_us(start)
        need = _span_us(open_time)
        if need < 0:
            raise PolicyError(f"cannot add negative open time {open_time}")
        if need == 0 or self._always_open:
            return _from_us(t + need)
        w, week = self._locate(t)
        for a, b in week.pieces:
            if b <= t:
                continue
            a = max(a, t)
            if need <= b - a:
                return _from_us(a + need)
            need -= b - a
        weeks, special, nominal, zone = self._weeks, self._special_totals, self._nominal_total, self._zone
        covered_lo, covered_hi = self._covered
        for w in range(w + 1, w + _MAX_WEEKS):  # noqa: B020 - walking on from the start week
            # _week_total inlined: this loop is where a far deadline spends its time.
            cached = weeks.get(w)
            if cached is not None:
                total = cached.total
            elif zone.changes_in_week(w):
                total = self._week(w).total
            else:
                if not covered_lo <= w <= covered_hi:
                    covered_lo, covered_hi = self._cover(w)
                total = special.get(w, nominal)
            if need <= total:
                break
            need -= total
        else:
            raise PolicyError(f"calendar {self.id} does not open again")
        for a, b in self._week(w).pieces:
            if need <= b - a:
                return _from_us(a + need)
            need -= b - a
        raise AssertionError("week total disagrees with its pieces")  # pragma: no cover

    def open_between(self, start: datetime, end: datetime) -> timedelta:
        """The open time in [start, end); zero when end is not after start."""
        t0, t1 = _to_us(start), _to_us(end)
        if t1 <= t0:
            return timedelta(0)
        if self._always_open:
            return timedelta(microseconds=t1 - t0)
        w0, first = self._locate(t0)
        w1, last = self._locate(t1)
        total = sum(min(b, t1) - max(a, t0) for a, b in first.pieces if max(a, t0) < min(b, t1))
        if w1 > w0:
            total += sum(self._week_total(w) for w in range(w0 + 1, w1))
            total += sum(min(b, t1) - a for a, b in last.pieces if a < t1)
        return timedelta(microseconds=total)

    def is_open(self, at: datetime) -> bool:
        """Whether the desk is open at `at`."""
        if self._always_open:
            return True
        t = _to_us(at)
        _, week = self._locate(t)
        i = bisect.bisect_right(week.pieces, (t, t)) - 1
        candidates = week.pieces[max(i, 0) : i + 2]
        return any(a <= t < b for a, b in candidates)

    def next_open(self, at: datetime) -> datetime:
        """`at` when open, else the next opening (UTC)."""
        for a, _ in self.open_intervals(at, None):
            return a
        raise AssertionError("open_intervals ended")  # pragma: no cover

    def open_intervals(self, start: datetime, end: datetime | None) -> Iterator[tuple[datetime, datetime]]:
        """Yield the open intervals within [start, end) in UTC, clipped and merged (end None: endless)."""
        t0 = _to_us(start)
        t1 = None if end is None else _to_us(end)
        if t1 is not None and t1 <= t0:
            return
        if self._always_open:
            yield _from_us(t0), _from_us(t1) if t1 is not None else datetime.max.replace(tzinfo=UTC)
            return
        w, week = self._locate(t0)
        pending: tuple[int, int] | None = None
        empty_weeks = 0
        while t1 is None or week.start < t1:
            for a, b in week.pieces:
                lo, hi = max(a, t0), b if t1 is None else min(b, t1)
                if lo >= hi:
                    continue
                if pending and pending[1] == lo:
                    pending = (pending[0], hi)
                    continue
                if pending:
                    yield _from_us(pending[0]), _from_us(pending[1])
                pending = (lo, hi)
            empty_weeks = 0 if week.total else empty_weeks + 1
            if empty_weeks > _MAX_WEEKS:
                raise PolicyError(f"calendar {self.id} does not open again")
            w += 1
            week = self._week(w)
        if pending:
            yield _from_us(pending[0]), _from_us(pending[1])

    def closed_reason(self, day: date) -> str | None:
        """Why the desk is closed all of `day` (local date), or None when it opens that day."""
        if self._always_open:
            return None
        n = _day_number(day)
        if n in self._days.closed:
            return "closed date"
        if n in self._days.opened:
            return None
        if n in self._days.holidays:
            return f"holiday: {self.spec.holidays[day]}"
        if not self._weekly[day.weekday()]:
            return "weekend" if day.weekday() >= 5 else f"no business hours on {_WEEKDAYS[day.weekday()]}"
        return None

    # --- weeks ----------------------------------------------------------------------------------

    def _hours(self, day: int) -> tuple[OpenInterval, ...]:
        """The open intervals of epoch day `day` (local date)."""
        days = self._days
        if day in days.closed:
            return ()
        hours = self._weekly[(day + 3) % 7]  # epoch day 0 was a Thursday
        if day in days.holidays or not hours:
            return self._standard if day in days.opened else ()
        return hours

    def _locate(self, t: int) -> tuple[int, _Week]:
        """The week holding instant `t` (weeks partition time)."""
        w = (t // _DAY - _FIRST_MONDAY) // 7
        week = self._week(w)
        while t < week.start:
            w -= 1
            week = self._week(w)
        while t >= week.end:
            w += 1
            week = self._week(w)
        return w, week

    def _week_total(self, w: int) -> int:
        """The open time of week `w`, without building its pieces when it is a nominal week."""
        week = self._weeks.get(w)
        if week is not None:
            return week.total
        if self._zone.changes_in_week(w):
            return self._week(w).total
        self._cover(w)
        return self._special_totals.get(w, self._nominal_total)

    def _cover(self, w: int) -> tuple[int, int]:
        """Read the holiday years week `w` falls in (and any between them and those read before), so
        `_special_totals` knows every special week of the covered range; return that range of weeks."""
        lo, hi = self._covered
        if lo <= w <= hi:
            return self._covered
        first, last = _year_of(_FIRST_MONDAY + 7 * w), _year_of(_FIRST_MONDAY + 7 * w + 6)
        if first is None or last is None:
            return self._covered  # beyond what dates can hold: nothing to read, nominal weeks
        y_lo, y_hi = (min(first, self._years[0]), max(last, self._years[1])) if self._years else (first, last)
        added = [year for year in range(y_lo, y_hi + 1) if not (self._years and self._years[0] <= year <= self._years[1])]
        self._years = (y_lo, y_hi)
        holiday_weeks = {(day - _FIRST_MONDAY) // 7 for year in added for day in self._days.holidays.of_year(year)}
        # Weeks wholly inside the years read (a week across New Year needs both of its years).
        lo = -((_FIRST_MONDAY - _day_number(date(y_lo, 1, 1))) // 7)
        hi = (_day_number(date(y_hi, 12, 31)) - _FIRST_MONDAY - 6) // 7
        self._covered = (lo, hi)
        candidates = {x for x in holiday_weeks | self._dated_weeks if lo <= x <= hi}
        candidates |= {x for year in range(self._years[0], self._years[1] + 1)
                       for x in self._year_weeks(year) if lo <= x <= hi}  # across New Year, now both read
        self._add_special_totals(x for x in candidates if x not in self._special_totals)
        return self._covered

    def _year_weeks(self, year: int) -> set[int]:
        """The weeks holding a closing holiday of `year` (already read)."""
        return {(day - _FIRST_MONDAY) // 7 for day in self._days.holidays.of_year(year)}

    def _add_special_totals(self, weeks: Iterable[int]) -> None:
        for w in weeks:
            self._special_totals[w] = _MINUTE * sum(
                b - a for day in range(_FIRST_MONDAY + 7 * w, _FIRST_MONDAY + 7 * w + 7) for a, b in self._hours(day)
            )

    def _week(self, w: int) -> _Week:
        week = self._weeks.get(w)
        if week is None:
            if len(self._weeks) >= _WEEK_CACHE_LIMIT:
                self._weeks.clear()
            week = self._weeks[w] = self._build_week(w)
        return week

    def _build_week(self, w: int) -> _Week:
        monday = (_FIRST_MONDAY + 7 * w) * _DAY  # local wall clock, µs
        if self._zone.changes_in_week(w):
            start = self._zone.first_instant(monday)
            end = self._zone.first_instant(monday + _WEEK)
            segments = self._zone.segments(start, end)
        else:  # one offset all week long
            offset = self._zone.offset_at(monday)
            start, end = monday - offset, monday - offset + _WEEK
            segments = [(start, end, offset)]
        self._cover(w)
        if len(segments) == 1 and w not in self._special_totals:
            shift = monday - segments[0][2]
            pieces = tuple((shift + a, shift + b) for a, b in self._nominal)
        else:
            raw: list[tuple[int, int]] = []
            for a, b, offset in segments:
                lo, hi = a + offset, b + offset  # the wall-clock range this segment shows
                for day in range(lo // _DAY, (hi - 1) // _DAY + 1):
                    base = day * _DAY
                    for x, y in self._hours(day):
                        x_wall, y_wall = max(base + x * _MINUTE, lo), min(base + y * _MINUTE, hi)
                        if x_wall < y_wall:
                            raw.append((x_wall - offset, y_wall - offset))
            pieces = _merge(raw)
        return _Week(start, end, pieces, sum(b - a for a, b in pieces))


def builtin_24x7() -> CalendarSpec:
    """The built-in round-the-clock calendar (UTC; minutes are elapsed time)."""
    return CalendarSpec(id=CALENDAR_24X7, timezone="UTC", weekly=(((0, MINUTES_PER_DAY),),) * 7)


_compiled: dict[int, tuple[weakref.ref[Policy], Mapping[str, BusinessCalendar]]] = {}


def compile_calendars(policy: Policy) -> Mapping[str, BusinessCalendar]:
    """Compile every calendar of `policy`, plus the built-in 24x7 unless the policy defines one.

    Cached per policy object, so the week caches survive between calls.
    """
    hit = _compiled.get(id(policy))
    if hit is not None and hit[0]() is policy:
        return hit[1]
    calendars = {CALENDAR_24X7: BusinessCalendar.from_spec(builtin_24x7())}
    calendars.update({cal_id: BusinessCalendar.from_spec(spec) for cal_id, spec in policy.calendars.items()})
    key = id(policy)
    _compiled[key] = (weakref.ref(policy, lambda _ref: _compiled.pop(key, None)), calendars)
    return calendars
