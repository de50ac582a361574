"""Back-test a policy on ticket histories: how many targets would have been met or breached.

The ticket format (one JSON object per line, read by `app.policy.sim_tickets`) is described in
`docs/simulate-format.md`. Every ticket is replayed with `app.policy.sla.evaluate`:

- first response and resolution: one outcome per ticket, read at `as_of`;
- next update: one outcome per customer-facing reply after which an update was owed (the
  interval up to the next reply, or up to `as_of` for the last one), so a ticket with five
  replies counts up to five times.

- custom targets: one outcome per cycle of the target's clock (a recurring target can count
  several times per ticket; a target never started counts nothing).

Outcomes are the engine's `TargetState.status` words under their report names: `met` (on
time), `breached` (late: met after the deadline, or still unmet past it), `pending` (running or
paused at `as_of`: nothing decided yet) and `none` (no timed target, or nothing was owed: best
effort, at closure, closed before due).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from app.policy.custom_targets import cycle_state, cycles_of
from app.policy.errors import PolicyError
from app.policy.history import (
    STATUS_EVENT,
    TicketEvent,
    phase_spans,
)
from app.policy.instants import utc_iso
from app.policy.mapping import derive
from app.policy.model import CLOSED, FIRST_RESPONSE, NEXT_UPDATE, RESOLUTION, TARGETS, Policy
from app.policy.phases import phase_of
from app.policy.sim_tickets import EVENT_KEYS, SimTicket, StatusChange, parse_ticket, read_tickets
from app.policy.sla import (
    LATE,
    NO_TARGET,
    ON_TIME,
    PAUSED_STATUS,
    RUNNING,
    TargetState,
    TicketHistory,
    evaluate,
)

__all__ = [
    "EVENT_KEYS", "OUTCOMES", "Comparison", "Report", "SimTicket", "StatusChange", "TicketOutcome", "compare",
    "comparison_json", "default_as_of", "history_for", "parse_ticket", "read_tickets", "replay", "report_json",
    "simulate",
]  # fmt: skip

OUTCOMES = ("met", "breached", "pending", "none")
#: Report outcome of each `TargetState.status`.
OUTCOME_OF_STATUS = {
    ON_TIME: "met",
    LATE: "breached",
    RUNNING: "pending",
    PAUSED_STATUS: "pending",
    NO_TARGET: "none",
}
#: How many skipped tickets a report names (the count is always complete).
SKIPPED_EXAMPLES = 20


# --- replaying ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketOutcome:
    """What happened to one ticket's targets under one policy."""

    tier: str
    severity: str
    first_response: str
    resolution: str
    next_update: Counter[str]
    custom: Mapping[str, Counter[str]] = field(default_factory=dict)  # custom target id -> outcomes


def history_for(policy: Policy, ticket: SimTicket) -> TicketHistory:
    """The ticket as the SLA engine sees it under `policy` (statuses mapped to its phases)."""
    tier, severity = ticket.tier, ticket.severity
    if tier is None or severity is None:
        if ticket.facts is None:
            raise PolicyError("has no tier/severity and no fields to derive them from")
        derived = derive(policy, ticket.facts)
        tier, severity = tier or derived.tier, severity or derived.severity
    phases = [
        (c.at, c.phase if c.phase else phase_of(policy, c.status or "", c.category)) for c in ticket.changes
    ]
    if ticket.closed is not None:
        phases.append((ticket.closed, CLOSED))
        phases.sort(key=lambda p: p[0])
    events = ticket.events
    if policy.custom_targets:  # status names matter only to custom targets' conditions
        statuses = tuple(TicketEvent(c.at, STATUS_EVENT, c.status) for c in ticket.changes if c.status)
        events = tuple(sorted(events + statuses, key=lambda e: e.at))
    return TicketHistory(ticket.created, tier, severity, tuple(phases), ticket.replies, events=events)


def _outcome(state: TargetState) -> str:
    return OUTCOME_OF_STATUS[state.status]


def _custom_outcomes(policy: Policy, history: TicketHistory, as_of: datetime) -> dict[str, Counter[str]]:
    """Per custom target of the ticket: the outcome of each cycle of its clock at `as_of`."""
    targets = policy.custom_targets_for(history.tier, history.severity)
    if not targets:
        return {}
    spans = phase_spans(history, as_of)
    runs = cycles_of(targets, history, spans, as_of)
    return {
        t.id: Counter(_outcome(cycle_state(policy, t, run, spans, as_of)) for run in runs[t.id])
        for t in targets
    }


def replay(policy: Policy, ticket: SimTicket, as_of: datetime) -> TicketOutcome:
    """The outcome of every target of `ticket` under `policy`, read at `as_of`."""
    history = history_for(policy, ticket)
    final = evaluate(policy, history, as_of, custom=False)  # custom targets: every cycle, below
    updates: Counter[str] = Counter()
    replies = history.replies
    for n in range(len(replies) - 1):
        # The update owed after reply n, judged when reply n+1 came.
        partial = TicketHistory(
            history.created, history.tier, history.severity, history.phase_changes, replies[: n + 1]
        )
        state = evaluate(policy, partial, replies[n + 1], custom=False).next_update
        if state.status == LATE:
            updates["breached"] += 1
        elif state.status in (RUNNING, PAUSED_STATUS):
            updates["met"] += 1
    if replies:
        last = _outcome(final.next_update)
        if last != "none":
            updates[last] += 1
    return TicketOutcome(
        history.tier,
        history.severity,
        _outcome(final.first_response),
        _outcome(final.resolution),
        updates,
        _custom_outcomes(policy, history, as_of),
    )


# --- aggregating --------------------------------------------------------------------------------


def _empty() -> dict[str, Counter[str]]:
    return {target: Counter() for target in TARGETS}


@dataclass
class Report:
    """Outcome counts per (tier, severity) and target for one policy."""

    policy: str
    as_of: datetime
    tickets: int = 0
    cells: dict[tuple[str, str], dict[str, Counter[str]]] = field(default_factory=dict)
    ticket_counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    skipped: int = 0
    skipped_examples: list[tuple[str, str]] = field(default_factory=list)
    custom_ids: tuple[str, ...] = ()  # the policy's custom targets (reported as `custom_targets`)

    def add(self, outcome: TicketOutcome) -> None:
        cell = self.cells.setdefault((outcome.tier, outcome.severity), _empty())
        cell[FIRST_RESPONSE][outcome.first_response] += 1
        cell[RESOLUTION][outcome.resolution] += 1
        cell[NEXT_UPDATE].update(outcome.next_update)
        for target_id, counts in outcome.custom.items():
            cell.setdefault(target_id, Counter()).update(counts)
        self.ticket_counts[(outcome.tier, outcome.severity)] += 1
        self.tickets += 1

    def skip(self, ticket: SimTicket, reason: str) -> None:
        self.skipped += 1
        if len(self.skipped_examples) < SKIPPED_EXAMPLES:
            self.skipped_examples.append((ticket.key, reason))

    def totals(self) -> dict[str, Counter[str]]:
        total = _empty()
        for cell in self.cells.values():
            for target, counts in cell.items():
                total.setdefault(target, Counter()).update(counts)
        return total


def _try_replay(report: Report, policy: Policy, ticket: SimTicket, as_of: datetime) -> TicketOutcome | None:
    try:
        outcome = replay(policy, ticket, as_of)
    except PolicyError as exc:
        report.skip(ticket, str(exc))
        return None
    report.add(outcome)
    return outcome


def default_as_of(tickets: Iterable[SimTicket]) -> datetime:
    """The latest instant any ticket mentions: the end of the data."""
    return max(t.last_instant for t in tickets)


def simulate(policy: Policy, tickets: Iterable[SimTicket], as_of: datetime) -> Report:
    """Replay every ticket under `policy`; tickets the policy cannot place are counted as skipped."""
    report = Report(policy.id, as_of, custom_ids=tuple(t.id for t in policy.custom_targets))
    for ticket in tickets:
        _try_replay(report, policy, ticket, as_of)
    return report


@dataclass
class Comparison:
    """Two reports on the same tickets, and how many tickets changed outcome between them."""

    policy: Report
    against: Report
    flips: dict[str, Counter[str]] = field(
        default_factory=lambda: {FIRST_RESPONSE: Counter(), RESOLUTION: Counter()}
    )


def compare(policy: Policy, against: Policy, tickets: Iterable[SimTicket], as_of: datetime) -> Comparison:
    """Replay every ticket under both policies; `flips` counts e.g. `breached→met` per target."""
    result = Comparison(
        Report(policy.id, as_of, custom_ids=tuple(t.id for t in policy.custom_targets)),
        Report(against.id, as_of, custom_ids=tuple(t.id for t in against.custom_targets)),
    )
    for ticket in tickets:
        mine = _try_replay(result.policy, policy, ticket, as_of)
        theirs = _try_replay(result.against, against, ticket, as_of)
        if mine is None or theirs is None:
            continue
        for target in (FIRST_RESPONSE, RESOLUTION):
            a, b = getattr(theirs, target), getattr(mine, target)
            if a != b:
                result.flips[target][f"{a}→{b}"] += 1
    return result


# --- JSON ---------------------------------------------------------------------------------------


def _counts(counter: Counter[str]) -> dict[str, int]:
    return {outcome: counter.get(outcome, 0) for outcome in OUTCOMES}


def _custom_json(report: Report, cell: Mapping[str, Counter[str]]) -> dict[str, object]:
    """`{"custom_targets": {id: counts}}` for a policy with custom targets, else nothing."""
    if not report.custom_ids:
        return {}
    return {"custom_targets": {tid: _counts(cell.get(tid, Counter())) for tid in report.custom_ids}}


def report_json(report: Report) -> dict[str, object]:
    """The report as JSON-ready data (cells sorted by tier, then severity)."""
    totals = report.totals()
    return {
        "policy": report.policy,
        "as_of": utc_iso(report.as_of),
        "tickets": report.tickets,
        "skipped": report.skipped,
        "skipped_examples": [{"ticket": key, "reason": reason} for key, reason in report.skipped_examples],
        "results": [
            {
                "tier": tier,
                "severity": severity,
                "tickets": report.ticket_counts[(tier, severity)],
                **{target: _counts(cell[target]) for target in TARGETS},
                **_custom_json(report, cell),
            }
            for (tier, severity), cell in sorted(report.cells.items())
        ],
        "totals": {**{target: _counts(totals[target]) for target in TARGETS}, **_custom_json(report, totals)},
    }


def comparison_json(comparison: Comparison) -> dict[str, object]:
    """Both reports, the per-cell difference (policy minus against) and the outcome flips."""
    mine, theirs = comparison.policy, comparison.against
    diff = []
    for key in sorted(set(mine.cells) | set(theirs.cells)):
        a, b = mine.cells.get(key, _empty()), theirs.cells.get(key, _empty())
        for target in TARGETS:
            delta = {outcome: a[target][outcome] - b[target][outcome] for outcome in OUTCOMES}
            if any(delta.values()):
                diff.append({"tier": key[0], "severity": key[1], "target": target, **delta})
    totals_a, totals_b = mine.totals(), theirs.totals()
    return {
        "policy": report_json(mine),
        "against": report_json(theirs),
        "diff": diff,
        "diff_totals": {
            target: {o: totals_a[target][o] - totals_b[target][o] for o in OUTCOMES} for target in TARGETS
        },
        "changed_tickets": {target: dict(sorted(c.items())) for target, c in comparison.flips.items()},
    }
