"""SLA state of a ticket: first response, next update and resolution against the policy's targets.

Semantics (each is a test in `tests/policy/test_sla.py`):

- The phase before the first phase change is `active`. Only facts at or before `now` count, so
  `evaluate` can replay a history at any instant.
- First response is met by the first customer-facing reply; resolution by entering `closed`.
  A target is met when met at or before its deadline, breached otherwise; an unmet target is
  breached once `now` is past its deadline and `due_soon` from its pre-breach warning on.
- Pauses (phase `paused`): entering freezes the remaining open time of every running target,
  leaving resumes from there, so each deadline moves by the open time the pause covered. While
  paused a deadline is unknown (`due` None, state `paused`, `remaining` frozen). A ticket that
  is reopened after `closed` treats the closed span like a pause.
- Next update: due at the last reply + the update cadence of the CURRENT phase (while paused: of
  the phase the pause interrupted), counted in open time with pauses frozen; an explicit
  `promised_update` overrides the cadence. No reply yet: state `none`, due None (first response
  governs). Cadence `at_closure`: state `at_closure`. Closed: nothing more is due (`none`).
- Best effort (no duration): state `none`, with the policy's informational text in `note`.
- The pre-breach warning falls where the remaining open time equals `pre_breach.lead`, or where
  `pre_breach.share` of the target's open time has run; with both, the earlier.
- A target without a calendar runs on the policy's only calendar, or on `24x7` when the policy
  has none or several.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.policy.calendar import BusinessCalendar, compile_calendars
from app.policy.errors import PolicyError
from app.policy.model import (
    ACTIVE,
    CALENDAR_24X7,
    CLOSED,
    FIRST_RESPONSE,
    NEXT_UPDATE,
    PAUSED,
    RESOLUTION,
    Policy,
    Target,
    TierTargets,
)

#: `TargetState.state` values.
ON_TRACK = "on_track"
DUE_SOON = "due_soon"
BREACHED = "breached"
MET = "met"
PAUSED_STATE = "paused"
NONE = "none"
AT_CLOSURE = "at_closure"

Span = tuple[datetime, datetime | None]
"""A span of time; an end of None means it is still going on."""


@dataclass(frozen=True)
class TicketHistory:
    """What happened to a ticket, as the SLA sees it (all datetimes aware)."""

    created: datetime
    tier: str
    severity: str
    phase_changes: tuple[
        tuple[datetime, str], ...
    ] = ()  # (at, phase id) ascending; "active" before the first
    replies: tuple[datetime, ...] = ()  # customer-facing agent updates, ascending
    promised_update: datetime | None = None  # explicit next-update promise of the last reply


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


@dataclass(frozen=True)
class SlaState:
    """Every target of a ticket at an instant."""

    phase: str
    first_response: TargetState
    next_update: TargetState
    resolution: TargetState
    pauses: tuple[Span, ...]


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


def _targets(policy: Policy, tier: str, severity: str) -> TierTargets:
    if tier not in policy.tiers:
        raise PolicyError(f'unknown tier "{tier}" (policy {policy.id} has {", ".join(policy.tiers)})')
    try:
        return policy.targets_for(tier, severity)
    except KeyError:
        raise PolicyError(f'tier "{tier}" has no targets for severity "{severity}"') from None


def _due(policy: Policy, target: Target | None, start: datetime) -> datetime | None:
    if target is None or not target.is_timed:
        return None
    assert target.duration is not None
    return calendar_for(policy, target).due(start, target.duration)


def deadlines(
    policy: Policy,
    tier: str,
    severity: str,
    created: datetime,
    responded: datetime | None = None,
    phase: str = ACTIVE,
) -> dict[str, datetime | None]:
    """The deadlines `tierwise due` prints (no pauses): None where a target is none or at closure."""
    targets = _targets(policy, tier, severity)
    next_update = None
    if responded is not None and phase != CLOSED:
        next_update = _due(policy, targets.cadence_for(phase), responded)
    return {
        "first_response_due": _due(policy, targets.first_response, created),
        "next_update_due": next_update,
        "resolution_due": _due(policy, targets.resolution, created),
    }


# --- running clocks ------------------------------------------------------------------------------


def _instant_after(
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


def _open_run(cal: BusinessCalendar, start: datetime, stops: tuple[Span, ...], end: datetime) -> timedelta:
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
class _Clock:
    """A target's clock: where it starts, what stops it, and the instant it is read at."""

    start: datetime
    stops: tuple[Span, ...]
    now: datetime
    stopped: bool  # a stop is going on at `now`


def _warn_at(policy: Policy, cal: BusinessCalendar, clock: _Clock, required: timedelta) -> datetime | None:
    pre = policy.pre_breach
    thresholds = []
    if pre.lead is not None and not pre.lead.at_closure:
        thresholds.append(max(required - cal.open_time(pre.lead), timedelta(0)))
    if pre.share is not None:
        thresholds.append(required * pre.share)
    if not thresholds:
        return None
    return _instant_after(cal, clock.start, clock.stops, min(thresholds))


def _untimed(name: str, target: Target | None, met_at: datetime | None, closed: bool) -> TargetState:
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


def _timed(
    name: str, policy: Policy, target: Target, clock: _Clock, met_at: datetime | None, closed: bool
) -> TargetState:
    assert target.duration is not None
    cal = calendar_for(policy, target)
    required = cal.open_time(target.duration)
    due = _instant_after(cal, clock.start, clock.stops, required)
    warn_at = _warn_at(policy, cal, clock, required)
    remaining: timedelta | None = None
    if met_at is not None:
        breached = due is not None and met_at > due
        state = BREACHED if breached else MET
    else:
        breached = due is not None and due < clock.now
        remaining = max(required - _open_run(cal, clock.start, clock.stops, clock.now), timedelta(0))
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
    )


def _target_state(
    name: str, policy: Policy, target: Target | None, clock: _Clock, met_at: datetime | None, closed: bool
) -> TargetState:
    if target is None or not target.is_timed:
        return _untimed(name, target, met_at, closed)
    return _timed(name, policy, target, clock, met_at, closed)


# --- evaluation ----------------------------------------------------------------------------------


def _phase_spans(history: TicketHistory, now: datetime) -> list[tuple[datetime, datetime | None, str]]:
    """(from, to, phase) from creation on, the last one still going on at `now`."""
    spans: list[tuple[datetime, datetime | None, str]] = []
    cur_at, cur_phase = history.created, ACTIVE
    for at, phase in history.phase_changes:
        if at > now:
            break
        at = max(at, history.created)
        if phase == cur_phase:
            continue
        spans.append((cur_at, at, cur_phase))
        cur_at, cur_phase = at, phase
    spans.append((cur_at, None, cur_phase))
    return [span for span in spans if span[1] is None or span[1] > span[0]]


def _next_update(
    policy: Policy,
    targets: TierTargets,
    history: TicketHistory,
    spans: list[tuple[datetime, datetime | None, str]],
    clock: _Clock,
    replies: tuple[datetime, ...],
) -> TargetState:
    phase = spans[-1][2]
    if phase == CLOSED or not replies:
        return _untimed(NEXT_UPDATE, None, None, closed=phase == CLOSED)
    # While paused the cadence is the one of the phase the pause interrupted.
    running = [p for _, _, p in spans if p not in (PAUSED, CLOSED)]
    cadence = targets.cadence_for(running[-1] if phase == PAUSED and running else phase)
    last = replies[-1]
    clock = _Clock(
        last, tuple(s for s in clock.stops if s[1] is None or s[1] > last), clock.now, clock.stopped
    )
    promised = history.promised_update
    if promised is not None and promised >= last:
        cal = calendar_for(policy, cadence) if cadence is not None and cadence.is_timed else None
        breached = promised < clock.now
        if breached:
            state = BREACHED
        elif clock.stopped:
            state = PAUSED_STATE
        else:
            state = ON_TRACK
        left = cal.open_between(clock.now, promised) if cal else max(promised - clock.now, timedelta(0))
        return TargetState(
            NEXT_UPDATE, promised, None, state, breached, cal.id if cal else None, None, left, None
        )
    return _target_state(NEXT_UPDATE, policy, cadence, clock, None, closed=False)


def evaluate(policy: Policy, history: TicketHistory, now: datetime) -> SlaState:
    """The SLA state of the ticket with `history` at `now`."""
    if now.utcoffset() is None or history.created.utcoffset() is None:
        raise PolicyError("ticket times need a time zone offset")
    targets = _targets(policy, history.tier, history.severity)
    spans = _phase_spans(history, now)
    phase = spans[-1][2]
    closed_at = spans[-1][0] if phase == CLOSED else None
    # Closing stops every clock; an earlier closed span (the ticket was reopened) acts like a pause.
    stops = tuple((a, b) for a, b, p in spans if p == PAUSED or (p == CLOSED and b is not None))
    clock = _Clock(history.created, stops, closed_at or now, stopped=phase == PAUSED)
    replies = tuple(r for r in history.replies if r <= now)
    first_reply = replies[0] if replies else None
    return SlaState(
        phase=phase,
        first_response=_target_state(
            FIRST_RESPONSE, policy, targets.first_response, clock, first_reply, closed_at is not None
        ),
        next_update=_next_update(policy, targets, history, spans, clock, replies),
        resolution=_target_state(RESOLUTION, policy, targets.resolution, clock, closed_at, closed=False),
        pauses=tuple((a, b) for a, b, p in spans if p == PAUSED),
    )
