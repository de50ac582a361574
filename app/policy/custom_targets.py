"""Custom targets: clocks that start, stop and pause on conditions over a ticket's history.

Semantics (each is a test in `tests/policy/test_custom_targets.py`):

- The history is walked in time order (facts at or before `now` only): creation, phase and
  status entries, field values, customer comments, customer-facing agent replies, linked issues
  and labels. A fact that matches any `start` condition starts a cycle; while a cycle runs, a
  fact that matches any `stop` condition meets it at that instant.
- A cycle that starts while a stop condition already holds (the field already has a value, the
  ticket is already in the status or phase, the label or a linked issue of the type is already
  there) is met at its start. Agent replies and customer comments are events, never states.
- Without `recurring` a target runs once: starts after its first cycle are ignored. With it,
  the next start after a stop begins a new cycle; the state shown is the latest cycle's.
- The clock counts the target's duration on its calendar and stops while the ticket is in one
  of `pause_phases` (like the built-in pause). Closing the ticket does not stop it: a target
  that starts at resolution ("review opened within 2 business days") runs after closure.
- Not started yet: state `none`, no deadline. Met after its deadline: state `breached`,
  status `late`, with `met_at` and `late_by` — never "met".
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from app.policy.clocks import NONE, Clock, TargetState, calendar_for, timed_state
from app.policy.history import (
    CUSTOMER_COMMENT_EVENT,
    FIELD_EVENT,
    LABEL_EVENT,
    LINK_EVENT,
    STATUS_EVENT,
    PhaseSpan,
    TicketHistory,
)
from app.policy.model import (
    AGENT_REPLY,
    CREATED,
    CUSTOMER_COMMENT,
    ENTERED_PHASE,
    ENTERED_STATUS,
    FIELD_CHANGED,
    FIELD_SET,
    LABEL_ADDED,
    LINKED_ISSUE,
    Condition,
    CustomTarget,
    Policy,
)

#: The `TicketEvent.value` of a label event that took the label off.
LABEL_REMOVED = "removed"

Cycle = tuple[datetime, datetime | None]
"""One run of a custom target's clock: (start, the instant it was met, or None while running)."""


@dataclass(frozen=True)
class _Fact:
    """One thing that happened, as a condition kind and what it names (case-folded)."""

    at: datetime
    kind: str
    name: str = ""


@dataclass
class _Ticket:
    """What holds at the current point of the walk (for stop conditions that are states)."""

    phase: str = ""
    status: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    labels: set[str] = field(default_factory=set)
    linked_types: set[str] = field(default_factory=set)

    def holds(self, condition: Condition) -> bool:
        values = condition.values
        if condition.kind == ENTERED_PHASE:
            return self.phase in values
        if condition.kind == ENTERED_STATUS:
            return self.status in values
        if condition.kind == FIELD_SET:
            return any(self.fields.get(f) for f in values)
        if condition.kind == LABEL_ADDED:
            return bool(self.labels & values)
        if condition.kind == LINKED_ISSUE:
            return bool(self.linked_types & values)
        return False


def _facts(history: TicketHistory, spans: list[PhaseSpan], now: datetime) -> Iterator[tuple[_Fact, _Ticket]]:
    """Every fact up to `now` in time order, each with the ticket's state right after it."""
    raw: list[tuple[datetime, int, str, str, str | None]] = [(history.created, 0, CREATED, "", None)]
    raw += [(start, 1, ENTERED_PHASE, phase, None) for start, _, phase in spans[1:]]
    raw += [(reply, 2, AGENT_REPLY, "", None) for reply in history.replies if reply <= now]
    raw += [(e.at, 2, e.kind, e.name, e.value) for e in history.events if e.at <= now]
    raw.sort(key=lambda r: (max(r[0], history.created), r[1]))
    ticket = _Ticket(phase=spans[0][2])
    for at, _, kind, name, value in raw:
        at = max(at, history.created)
        if kind == ENTERED_PHASE:
            ticket.phase = name
            yield _Fact(at, ENTERED_PHASE, name), ticket
        elif kind == STATUS_EVENT:
            ticket.status = name.casefold()
            yield _Fact(at, ENTERED_STATUS, ticket.status), ticket
        elif kind == FIELD_EVENT:
            before, after = ticket.fields.get(name, ""), value or ""
            ticket.fields[name] = after
            if after and not before:
                yield _Fact(at, FIELD_SET, name), ticket
            if after != before:
                yield _Fact(at, FIELD_CHANGED, name), ticket
        elif kind == LABEL_EVENT:
            label = name.casefold()
            if value == LABEL_REMOVED:
                ticket.labels.discard(label)
            elif label not in ticket.labels:
                ticket.labels.add(label)
                yield _Fact(at, LABEL_ADDED, label), ticket
        elif kind == LINK_EVENT:
            ticket.linked_types.add(name.casefold())
            yield _Fact(at, LINKED_ISSUE, name.casefold()), ticket
        elif kind == CUSTOMER_COMMENT_EVENT:
            yield _Fact(at, CUSTOMER_COMMENT), ticket
        else:  # CREATED, AGENT_REPLY
            yield _Fact(at, kind), ticket


def _matches(conditions: tuple[Condition, ...], fact: _Fact) -> bool:
    return any(c.kind == fact.kind and (not c.values or fact.name in c.values) for c in conditions)


def cycles_of(
    targets: tuple[CustomTarget, ...], history: TicketHistory, spans: list[PhaseSpan], now: datetime
) -> dict[str, list[Cycle]]:
    """Each target's runs of its clock up to `now`, oldest first (the last may still be running).

    One walk over the history serves every target.
    """
    found: dict[str, list[Cycle]] = {t.id: [] for t in targets}
    running: dict[str, datetime | None] = {t.id: None for t in targets}
    for fact, ticket in _facts(history, spans, now):
        for target in targets:
            runs, started = found[target.id], running[target.id]
            if started is not None:
                if _matches(target.stop, fact):
                    runs.append((started, fact.at))
                    running[target.id] = None
            elif (target.recurring or not runs) and _matches(target.start, fact):
                if any(ticket.holds(c) for c in target.stop):
                    runs.append((fact.at, fact.at))
                else:
                    running[target.id] = fact.at
    for target_id, started in running.items():
        if started is not None:
            found[target_id].append((started, None))
    return found


def cycles(
    target: CustomTarget, history: TicketHistory, spans: list[PhaseSpan], now: datetime
) -> list[Cycle]:
    """The runs of one target's clock up to `now` (see `cycles_of`)."""
    return cycles_of((target,), history, spans, now)[target.id]


def not_started(target: CustomTarget) -> TargetState:
    """What a custom target shows before any start condition has happened."""
    return TargetState(target.id, None, None, NONE, False, target.target.calendar, None, None, None)


def cycle_state(
    policy: Policy, target: CustomTarget, cycle: Cycle, spans: list[PhaseSpan], now: datetime
) -> TargetState:
    """The state of one cycle of `target` at `now` (pauses: the spans in its pause phases)."""
    start, met_at = cycle
    stops = tuple(
        (a, b) for a, b, phase in spans if phase in target.pause_phases and (b is None or b > start)
    )
    stopped = met_at is None and spans[-1][2] in target.pause_phases
    return timed_state(
        target.id, policy, target.target, Clock(start, stops, now, stopped), met_at, closed=False
    )


def evaluate_custom(
    policy: Policy, history: TicketHistory, spans: list[PhaseSpan], now: datetime
) -> dict[str, TargetState]:
    """Each custom target of the ticket's tier × severity at `now`: its latest cycle's state."""
    targets = policy.custom_targets_for(history.tier, history.severity)
    if not targets:
        return {}
    runs = cycles_of(targets, history, spans, now)
    return {
        t.id: cycle_state(policy, t, runs[t.id][-1], spans, now) if runs[t.id] else not_started(t)
        for t in targets
    }


def custom_deadlines(
    policy: Policy, tier: str, severity: str, created: datetime, starts: Mapping[str, datetime]
) -> dict[str, datetime | None]:
    """Each custom target's deadline from its start (no pauses), for `tierwise due`.

    A target starts at `starts[id]`, else at `created` when it starts on creation; otherwise its
    deadline is unknown (None).
    """
    found: dict[str, datetime | None] = {}
    for target in policy.custom_targets_for(tier, severity):
        start = starts.get(target.id)
        if start is None and any(c.kind == CREATED for c in target.start):
            start = created
        duration = target.target.duration
        if start is None or duration is None:
            found[target.id] = None
        else:
            found[target.id] = calendar_for(policy, target.target).due(start, duration)
    return found
