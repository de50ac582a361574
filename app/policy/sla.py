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
- Each target's `status` is the one word everyone shows: `on_time` (met by its deadline),
  `late` (met after it, or unmet and past it; `late_by` says by how much), `running`, `paused`
  or `none`. A late first response is never "met, not breached".
- `custom`: the policy's custom targets for the ticket's tier × severity
  (`app.policy.custom_targets`), over the same history.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app.policy.clocks import (
    AT_CLOSURE,
    BREACHED,
    DUE_SOON,
    LATE,
    MET,
    NO_TARGET,
    NONE,
    ON_TIME,
    ON_TRACK,
    PAUSED_STATE,
    PAUSED_STATUS,
    RUNNING,
    STATUSES,
    Clock,
    TargetState,
    calendar_for,
    target_state,
    untimed_state,
)
from app.policy.custom_targets import evaluate_custom
from app.policy.errors import PolicyError
from app.policy.history import (
    CUSTOMER_COMMENT_EVENT,
    EVENT_KINDS,
    FIELD_EVENT,
    LABEL_EVENT,
    LINK_EVENT,
    STATUS_EVENT,
    PhaseSpan,
    Span,
    TicketEvent,
    TicketHistory,
    phase_spans,
)
from app.policy.model import (
    ACTIVE,
    CLOSED,
    FIRST_RESPONSE,
    NEXT_UPDATE,
    PAUSED,
    RESOLUTION,
    Policy,
    Target,
    TierTargets,
)

__all__ = [
    "AT_CLOSURE", "BREACHED", "CUSTOMER_COMMENT_EVENT", "DUE_SOON", "EVENT_KINDS", "FIELD_EVENT", "LABEL_EVENT",
    "LATE", "LINK_EVENT", "MET", "NONE", "NO_TARGET", "ON_TIME", "ON_TRACK", "PAUSED_STATE", "PAUSED_STATUS",
    "RUNNING", "STATUSES", "STATUS_EVENT", "SlaState", "Span", "TargetState", "TicketEvent", "TicketHistory",
    "calendar_for", "deadlines", "evaluate",
]  # fmt: skip


@dataclass(frozen=True)
class SlaState:
    """Every target of a ticket at an instant (`custom`: the policy's custom targets, by id)."""

    phase: str
    first_response: TargetState
    next_update: TargetState
    resolution: TargetState
    pauses: tuple[Span, ...]
    custom: Mapping[str, TargetState] = field(default_factory=dict)

    def targets(self) -> dict[str, TargetState]:
        """Every target by name: the three built-ins, then the custom ones."""
        return {
            FIRST_RESPONSE: self.first_response,
            NEXT_UPDATE: self.next_update,
            RESOLUTION: self.resolution,
            **self.custom,
        }


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


# --- evaluation ----------------------------------------------------------------------------------


def _next_update(
    policy: Policy,
    targets: TierTargets,
    history: TicketHistory,
    spans: list[PhaseSpan],
    clock: Clock,
    replies: tuple[datetime, ...],
) -> TargetState:
    phase = spans[-1][2]
    if phase == CLOSED or not replies:
        return untimed_state(NEXT_UPDATE, None, None, closed=phase == CLOSED)
    # While paused the cadence is the one of the phase the pause interrupted.
    running = [p for _, _, p in spans if p not in (PAUSED, CLOSED)]
    cadence = targets.cadence_for(running[-1] if phase == PAUSED and running else phase)
    last = replies[-1]
    clock = Clock(
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
        late_by = clock.now - promised if breached else None
        return TargetState(
            NEXT_UPDATE, promised, None, state, breached, cal.id if cal else None, None, left, None, late_by
        )
    return target_state(NEXT_UPDATE, policy, cadence, clock, None, closed=False)


def evaluate(policy: Policy, history: TicketHistory, now: datetime, *, custom: bool = True) -> SlaState:
    """The SLA state of the ticket with `history` at `now` (`custom=False`: skip the custom targets)."""
    if now.utcoffset() is None or history.created.utcoffset() is None:
        raise PolicyError("ticket times need a time zone offset")
    targets = _targets(policy, history.tier, history.severity)
    spans = phase_spans(history, now)
    phase = spans[-1][2]
    closed_at = spans[-1][0] if phase == CLOSED else None
    # Closing stops every clock; an earlier closed span (the ticket was reopened) acts like a pause.
    stops = tuple((a, b) for a, b, p in spans if p == PAUSED or (p == CLOSED and b is not None))
    clock = Clock(history.created, stops, closed_at or now, stopped=phase == PAUSED)
    replies = tuple(r for r in history.replies if r <= now)
    first_reply = replies[0] if replies else None
    return SlaState(
        phase=phase,
        first_response=target_state(
            FIRST_RESPONSE, policy, targets.first_response, clock, first_reply, closed_at is not None
        ),
        next_update=_next_update(policy, targets, history, spans, clock, replies),
        resolution=target_state(RESOLUTION, policy, targets.resolution, clock, closed_at, closed=False),
        pauses=tuple((a, b) for a, b, p in spans if p == PAUSED),
        custom=evaluate_custom(policy, history, spans, now) if custom and policy.custom_targets else {},
    )
