"""A target's clock and its state at an instant: the machinery every target (built-in or custom) shares.

`timed_state` reads a target whose clock starts at `Clock.start` and is stopped by `Clock.stops`
(pauses); `untimed_state` says what a best-effort or at-closure target shows. Each `TargetState`
carries one `status` word (on_time / late / running / paused / none), the single source of truth
the property, the fields, the panel and `simulate` show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.policy.calendar import BusinessCalendar, compile_calendars
from app.policy.errors import PolicyError
from app.policy.history import Span
from app.policy.model import CALENDAR_24X7, Policy, Target

#: `TargetState.state` values.
ON_TRACK = "on_track"
DUE_SOON = "due_soon"
BREACHED = "breached"
MET = "met"
PAUSED_STATE = "paused"
NONE = "none"
AT_CLOSURE = "at_closure"

#: `TargetState.status` values: the one word every consumer (property, fields, panel, simulate) shows.
ON_TIME = "on_time"  # met at or before its deadline
LATE = "late"  # met after its deadline, or unmet and past it
RUNNING = "running"  # a deadline ahead
PAUSED_STATUS = "paused"  # the clock is stopped
NO_TARGET = "none"  # nothing timed is owed
STATUSES = (ON_TIME, LATE, RUNNING, PAUSED_STATUS, NO_TARGET)
_STATUS_OF = {MET: ON_TIME, BREACHED: LATE, ON_TRACK: RUNNING, DUE_SOON: RUNNING, PAUSED_STATE: PAUSED_STATUS}


@dataclass(frozen=True)
class TargetState:
    """One target of a ticket at an instant."""

    target: str  # "first_response" | "next_update" | "resolution"
    due: datetime | None
    met_at: datetime | None
    state: str  # on_track | due_soon | breached | met | paused | none | at_closure
    breached: bool
    calendar: str | None
    warn_at: datetime | None  # pre-breach warning instant; None if the policy has none
    remaining: timedelta | None  # open time left (frozen while paused)
    note: str | None  # best-effort text
    late_by: timedelta | None = None  # how late: met_at - due, or (unmet) now - due; None when not late

    @property
    def status(self) -> str:
        """on_time, late, running, paused or none: one word for every consumer (see `STATUSES`)."""
        return _STATUS_OF.get(self.state, NO_TARGET)


def calendar_for(policy: Policy, target: Target) -> BusinessCalendar:
    """The compiled calendar `target` runs on."""
    calendars = compile_calendars(policy)
    cal_id = target.calendar
    if cal_id is None:
        cal_id = next(iter(policy.calendars)) if len(policy.calendars) == 1 else CALENDAR_24X7
    try:
        return calendars[cal_id]
    except KeyError:
        raise PolicyError(f'unknown calendar "{cal_id}"') from None


# --- running clocks -------------------------------------------------------------------------------


def instant_after(
    cal: BusinessCalendar, start: datetime, stops: tuple[Span, ...], needed: timedelta
) -> datetime | None:
    """When `needed` open time has run since `start`, not counting stops; None if a stop still going on comes first."""
    cur = start
    for stop_start, stop_end in stops:
        if stop_end is not None and stop_end <= cur:
            continue
        if stop_start > cur:
            available = cal.open_between(cur, stop_start)
            if needed <= available:
                return cal.add(cur, needed)
            needed -= available
        if stop_end is None:
            return None
        cur = max(cur, stop_end)
    return cal.add(cur, needed)


def open_run(cal: BusinessCalendar, start: datetime, stops: tuple[Span, ...], end: datetime) -> timedelta:
    """The open time run in [start, end), not counting stops."""
    total, cur = timedelta(0), start
    for stop_start, stop_end in stops:
        if stop_start >= end:
            break
        total += cal.open_between(cur, min(stop_start, end))
        if stop_end is None:
            return total
        cur = max(cur, stop_end)
    return total + cal.open_between(cur, end)


@dataclass(frozen=True)
class Clock:
    """A target's clock: where it starts, what stops it, and the instant it is read at."""

    start: datetime
    stops: tuple[Span, ...]
    now: datetime
    stopped: bool  # a stop is going on at `now`


def _warn_at(policy: Policy, cal: BusinessCalendar, clock: Clock, required: timedelta) -> datetime | None:
    pre = policy.pre_breach
    thresholds = []
    if pre.lead is not None and not pre.lead.at_closure:
        thresholds.append(max(required - cal.open_time(pre.lead), timedelta(0)))
    if pre.share is not None:
        thresholds.append(required * pre.share)
    if not thresholds:
        return None
    return instant_after(cal, clock.start, clock.stops, min(thresholds))


def untimed_state(name: str, target: Target | None, met_at: datetime | None, closed: bool) -> TargetState:
    if target is not None and target.duration is not None and target.duration.at_closure:
        state = MET if met_at is not None else AT_CLOSURE
    else:
        state = NONE
    return TargetState(
        target=name,
        due=None,
        met_at=met_at,
        state=NONE if closed and state == AT_CLOSURE and met_at is None else state,
        breached=False,
        calendar=target.calendar if target is not None else None,
        warn_at=None,
        remaining=None,
        note=target.note if target is not None else None,
    )


def timed_state(
    name: str, policy: Policy, target: Target, clock: Clock, met_at: datetime | None, closed: bool
) -> TargetState:
    assert target.duration is not None
    cal = calendar_for(policy, target)
    required = cal.open_time(target.duration)
    due = instant_after(cal, clock.start, clock.stops, required)
    warn_at = _warn_at(policy, cal, clock, required)
    remaining: timedelta | None = None
    late_by: timedelta | None = None
    if met_at is not None:
        breached = due is not None and met_at > due
        state = BREACHED if breached else MET
        late_by = met_at - due if breached and due is not None else None
    else:
        breached = due is not None and due < clock.now
        late_by = clock.now - due if breached and due is not None else None
        remaining = max(required - open_run(cal, clock.start, clock.stops, clock.now), timedelta(0))
        if breached:
            state = BREACHED
        elif closed:
            state, remaining = NONE, None  # closed before it was due: nothing more is owed
        elif clock.stopped:
            state = PAUSED_STATE
        elif warn_at is not None and clock.now >= warn_at:
            state = DUE_SOON
        else:
            state = ON_TRACK
    return TargetState(
        target=name,
        due=due,
        met_at=met_at,
        state=state,
        breached=breached,
        calendar=cal.id,
        warn_at=warn_at,
        remaining=remaining,
        note=target.note,
        late_by=late_by,
    )


def target_state(
    name: str, policy: Policy, target: Target | None, clock: Clock, met_at: datetime | None, closed: bool
) -> TargetState:
    if target is None or not target.is_timed:
        return untimed_state(name, target, met_at, closed)
    return timed_state(name, policy, target, clock, met_at, closed)
