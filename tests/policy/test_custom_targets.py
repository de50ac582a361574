"""Custom targets: start / stop / pause conditions over a ticket history, recurring cycles, deadlines."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.policy.custom_targets import custom_deadlines
from app.policy.durations import parse_duration
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
    Severity,
    Target,
    Tier,
    TierTargets,
)
from app.policy.sla import TicketEvent, TicketHistory, evaluate

from . import reference
from .reference import DRESDEN


def berlin(text: str) -> datetime:
    """A Dresden wall-clock time in November 2026 (CET, +01:00)."""
    return datetime.fromisoformat(f"2026-11-{text}+01:00")


def cond(kind: str, *values: str) -> Condition:
    return Condition(kind, frozenset(values))


def custom(
    start: tuple[Condition, ...],
    stop: tuple[Condition, ...],
    duration: str = "2h",
    calendar: str = "dresden",
    **options: object,
) -> CustomTarget:
    target = CustomTarget("goal", "Goal", Target(parse_duration(duration), calendar), start, stop)
    return replace(target, **options)  # type: ignore[arg-type]


def policy_with(*targets: CustomTarget) -> Policy:
    return Policy(
        id="acme",
        name="Acme",
        description="",
        calendars={"dresden": DRESDEN},
        severities=(Severity("sev1", "Critical"), Severity("sev2", "High")),
        tiers={"standard": Tier("standard", "Standard", {"sev1": TierTargets(), "sev2": TierTargets()})},
        custom_targets=targets,
    )


MONDAY_9 = berlin("16T09:00")  # Wed 18 Nov is a closing holiday in Dresden


def ticket(*events: TicketEvent, **facts: object) -> TicketHistory:
    base = TicketHistory(created=MONDAY_9, tier="standard", severity="sev1", events=events)
    return replace(base, **facts)  # type: ignore[arg-type]


def status(at: str, name: str) -> TicketEvent:
    return TicketEvent(berlin(at), "status", name)


def field(at: str, name: str, value: str | None) -> TicketEvent:
    return TicketEvent(berlin(at), "field", name, value)


def goal(policy: Policy, history: TicketHistory, now: str):  # noqa: ANN201 - a TargetState
    return evaluate(policy, history, berlin(now)).custom["goal"]


# --- each start condition ---------------------------------------------------------------------------

ACK = status("16T10:00", "Acknowledged")
# (what it shows, start condition, history facts, expected start, as Dresden wall time)
STARTS = [
    ("created", cond(CREATED), {}, "16T09:00"),
    ("entered a status (any case)", cond(ENTERED_STATUS, "acknowledged"), {"events": (ACK,)}, "16T10:00"),
    ("entered a phase", cond(ENTERED_PHASE, "mitigated"), {"phase_changes": ((berlin("16T11:00"), "mitigated"),)}, "16T11:00"),
    ("a field set", cond(FIELD_SET, "customfield_1"), {"events": (field("16T12:00", "customfield_1", "x"),)}, "16T12:00"),
    ("a field changed", cond(FIELD_CHANGED, "customfield_1"),
     {"events": (field("16T09:00", "customfield_1", "a"), field("16T13:00", "customfield_1", "b"))}, "16T09:00"),
    ("a customer comment", cond(CUSTOMER_COMMENT), {"events": (TicketEvent(berlin("16T14:00"), "customer_comment"),)}, "16T14:00"),
    ("an agent reply", cond(AGENT_REPLY), {"replies": (berlin("16T10:30"),)}, "16T10:30"),
    ("a label added", cond(LABEL_ADDED, "major"), {"events": (TicketEvent(berlin("16T10:15"), "label", "Major"),)}, "16T10:15"),
]  # fmt: skip


@pytest.mark.parametrize(("start", "facts", "started"), [c[1:] for c in STARTS], ids=[c[0] for c in STARTS])
def test_each_start_condition_starts_the_clock(start: Condition, facts: dict, started: str) -> None:
    policy = policy_with(custom((start,), (cond(LABEL_ADDED, "never"),)))
    state = goal(policy, ticket(**facts), "16T15:00")
    due = berlin(started) + timedelta(hours=2)  # every start is early enough on Monday for 2 open hours
    assert state.due == due
    assert state.status == ("late" if due < berlin("16T15:00") else "running")


def test_nothing_started_means_no_deadline() -> None:
    policy = policy_with(custom((cond(ENTERED_STATUS, "acknowledged"),), (cond(FIELD_SET, "customfield_9"),)))
    state = goal(policy, ticket(status("16T10:00", "In Progress")), "16T15:00")
    assert (state.status, state.due, state.met_at, state.breached) == ("none", None, None, False)


# --- each stop condition ----------------------------------------------------------------------------

# (what it shows, stop condition, the fact that meets it)
STOPS = [
    ("a field set", cond(FIELD_SET, "customfield_ic"), field("16T11:00", "customfield_ic", "557058:abc")),
    ("entered a status", cond(ENTERED_STATUS, "resolved"), status("16T11:00", "Resolved")),
    ("a linked issue of the type", cond(LINKED_ISSUE, "post-incident review"),
     TicketEvent(berlin("16T11:00"), "link", "Post-incident review")),
    ("a label added", cond(LABEL_ADDED, "pir-opened"), TicketEvent(berlin("16T11:00"), "label", "pir-opened")),
]  # fmt: skip


@pytest.mark.parametrize(("stop", "fact"), [c[1:] for c in STOPS], ids=[c[0] for c in STOPS])
def test_each_stop_condition_meets_the_target(stop: Condition, fact: TicketEvent) -> None:
    policy = policy_with(custom((cond(ENTERED_STATUS, "acknowledged"),), (stop,)))
    state = goal(policy, ticket(ACK, fact), "16T15:00")
    assert (state.status, state.met_at, state.breached) == ("on_time", berlin("16T11:00"), False)


def test_an_agent_reply_and_a_phase_stop_it_too() -> None:
    by_reply = policy_with(custom((cond(CREATED),), (cond(AGENT_REPLY),)))
    assert goal(by_reply, ticket(replies=(berlin("16T10:00"),)), "16T15:00").met_at == berlin("16T10:00")
    by_phase = policy_with(custom((cond(CREATED),), (cond(ENTERED_PHASE, "mitigated"),)))
    history = ticket(phase_changes=((berlin("16T10:30"), "mitigated"),))
    assert goal(by_phase, history, "16T15:00").met_at == berlin("16T10:30")


def test_the_wrong_names_do_not_match() -> None:
    policy = policy_with(
        custom((cond(ENTERED_STATUS, "acknowledged"),), (cond(FIELD_SET, "customfield_ic"),))
    )
    history = ticket(
        ACK, field("16T10:10", "customfield_other", "x"), TicketEvent(berlin("16T10:20"), "label", "ic")
    )
    assert goal(policy, history, "16T11:00").status == "running"


def test_a_stop_before_the_start_counts_once_started_when_it_is_a_state() -> None:
    # The incident commander was named before engineering acknowledged: met at the acknowledgement.
    policy = policy_with(
        custom((cond(ENTERED_STATUS, "acknowledged"),), (cond(FIELD_SET, "customfield_ic"),))
    )
    history = ticket(field("16T09:30", "customfield_ic", "u1"), ACK)
    state = goal(policy, history, "16T15:00")
    assert (state.status, state.met_at) == ("on_time", berlin("16T10:00"))


def test_a_cleared_field_is_no_longer_set() -> None:
    policy = policy_with(
        custom((cond(ENTERED_STATUS, "acknowledged"),), (cond(FIELD_SET, "customfield_ic"),))
    )
    history = ticket(
        field("16T09:30", "customfield_ic", "u1"), field("16T09:40", "customfield_ic", None), ACK
    )
    assert goal(policy, history, "16T11:00").status == "running"
    again = ticket(*history.events, field("16T10:30", "customfield_ic", "u2"))
    assert goal(policy, again, "16T11:00").met_at == berlin("16T10:30")


def test_a_late_stop_is_late_with_met_at_and_late_by() -> None:
    policy = policy_with(
        custom((cond(ENTERED_STATUS, "acknowledged"),), (cond(FIELD_SET, "customfield_ic"),))
    )
    state = goal(policy, ticket(ACK, field("16T12:30", "customfield_ic", "u1")), "16T15:00")
    assert (state.state, state.status, state.breached) == ("breached", "late", True)
    assert state.met_at == berlin("16T12:30") and state.late_by == timedelta(minutes=30)


def test_unmet_past_due_is_late_and_late_by_grows() -> None:
    policy = policy_with(
        custom((cond(ENTERED_STATUS, "acknowledged"),), (cond(FIELD_SET, "customfield_ic"),))
    )
    state = goal(policy, ticket(ACK), "16T13:15")
    assert (state.status, state.met_at, state.late_by) == ("late", None, timedelta(minutes=75))


# --- pauses, closure, recurring ---------------------------------------------------------------------


def test_pause_phases_freeze_the_clock() -> None:
    target = custom((cond(CREATED),), (cond(AGENT_REPLY),), pause_phases=frozenset({"paused"}))
    history = ticket(phase_changes=((berlin("16T10:00"), "paused"), (berlin("17T10:00"), "active")))
    during = goal(policy_with(target), history, "16T12:00")
    assert (during.status, during.due, during.remaining) == ("paused", None, timedelta(hours=1))
    assert goal(policy_with(target), history, "17T10:30").due == berlin("17T11:00")


def test_without_pause_phases_a_pause_does_not_stop_it() -> None:
    target = custom((cond(CREATED),), (cond(AGENT_REPLY),))
    history = ticket(phase_changes=((berlin("16T10:00"), "paused"),))
    assert goal(policy_with(target), history, "16T10:30").due == berlin("16T11:00")


def test_closing_does_not_stop_a_target_that_starts_at_resolution() -> None:
    target = custom((cond(ENTERED_PHASE, "closed"),), (cond(LABEL_ADDED, "pir-opened"),), duration="2bd")
    closed = ticket(phase_changes=((berlin("16T15:00"), "closed"),))
    state = goal(policy_with(target), closed, "17T10:00")
    # 2 h on Monday, Tuesday 8 h, Wednesday is a holiday, 6 h on Thursday.
    assert (state.status, state.due) == ("running", berlin("19T15:00"))
    opened = replace(closed, events=(TicketEvent(berlin("19T16:00"), "label", "pir-opened"),))
    assert goal(policy_with(target), opened, "20T10:00").status == "late"


def test_a_one_off_target_ignores_later_starts() -> None:
    target = custom((cond(CUSTOMER_COMMENT),), (cond(AGENT_REPLY),))
    comments = tuple(TicketEvent(berlin(at), "customer_comment") for at in ("16T10:00", "16T13:00"))
    state = goal(policy_with(target), ticket(*comments, replies=(berlin("16T11:00"),)), "16T16:00")
    assert (state.status, state.met_at) == ("on_time", berlin("16T11:00"))


def test_a_recurring_target_restarts_on_the_next_start() -> None:
    target = custom((cond(CUSTOMER_COMMENT),), (cond(AGENT_REPLY),), recurring=True)
    comments = tuple(
        TicketEvent(berlin(at), "customer_comment") for at in ("16T10:00", "16T13:00", "16T13:30")
    )
    history = ticket(*comments, replies=(berlin("16T11:00"),))
    state = goal(policy_with(target), history, "16T14:00")
    # The second cycle started at the 13:00 comment (13:30 came while it ran).
    assert (state.status, state.due) == ("running", berlin("16T15:00"))
    later = goal(
        policy_with(target), replace(history, replies=(berlin("16T11:00"), berlin("16T16:00"))), "16T17:00"
    )
    assert (later.status, later.met_at, later.late_by) == ("late", berlin("16T16:00"), timedelta(hours=1))


def test_targets_apply_to_their_tiers_and_severities_only() -> None:
    target = custom((cond(CREATED),), (cond(AGENT_REPLY),), severities=("sev1",))
    policy = policy_with(target)
    assert "goal" in evaluate(policy, ticket(), berlin("16T10:00")).custom
    assert evaluate(policy, ticket(severity="sev2"), berlin("16T10:00")).custom == {}


def test_facts_after_now_are_not_seen_yet() -> None:
    policy = policy_with(
        custom((cond(ENTERED_STATUS, "acknowledged"),), (cond(FIELD_SET, "customfield_ic"),))
    )
    history = ticket(ACK, field("16T10:10", "customfield_ic", "u1"))
    assert goal(policy, history, "16T09:59").status == "none"
    assert goal(policy, history, "16T10:05").status == "running"
    assert goal(policy, history, "16T10:10").status == "on_time"


# --- deadlines for `tierwise due` -------------------------------------------------------------------


def test_custom_deadlines_from_given_starts_or_creation() -> None:
    on_create = replace(custom((cond(CREATED),), (cond(AGENT_REPLY),)), id="reply")
    on_ack = custom((cond(ENTERED_STATUS, "acknowledged"),), (cond(FIELD_SET, "customfield_ic"),))
    policy = policy_with(on_create, on_ack)
    assert custom_deadlines(policy, "standard", "sev1", berlin("16T16:00"), {}) == {
        "reply": berlin("17T10:00"),  # 1 h on Monday, 1 h on Tuesday
        "goal": None,
    }
    started = custom_deadlines(policy, "standard", "sev1", berlin("16T16:00"), {"goal": berlin("17T16:30")})
    assert started["goal"] == berlin("19T10:30")  # Wednesday is a holiday


# --- property: the deadline agrees with a minute-stepping reference --------------------------------

MINUTE = timedelta(minutes=1)
CREATED_AT = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)  # Monday 09:00 in Dresden


def _reference_due(start: datetime, minutes: int, paused: list[tuple[datetime, datetime]]) -> datetime:
    """Step one minute at a time from `start`, counting open minutes outside the paused spans."""
    at, counted = start, 0
    while True:
        if reference.is_open(DRESDEN, at) and not any(a <= at < b for a, b in paused):
            counted += 1
            if counted == minutes:
                return at + MINUTE
        at += MINUTE


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    start_after=st.integers(0, 3 * 24 * 60),
    minutes=st.integers(1, 12 * 60),
    pauses=st.lists(st.tuples(st.integers(0, 5 * 24 * 60), st.integers(1, 24 * 60)), max_size=3),
    stop_after=st.one_of(st.none(), st.integers(0, 8 * 24 * 60)),
)
def test_deadline_and_status_agree_with_reference(
    start_after: int, minutes: int, pauses: list[tuple[int, int]], stop_after: int | None
) -> None:
    spans: list[tuple[datetime, datetime]] = []
    for offset, length in sorted(pauses):
        a = CREATED_AT + timedelta(minutes=offset)
        if spans and a <= spans[-1][1]:
            continue  # keep pauses apart: one phase at a time
        spans.append((a, a + timedelta(minutes=length)))
    changes = tuple(change for a, b in spans for change in ((a, "paused"), (b, "active")))
    start = CREATED_AT + timedelta(minutes=start_after)
    events = [TicketEvent(start, "status", "Acknowledged")]
    stop = None if stop_after is None else start + timedelta(minutes=stop_after)
    if stop is not None:
        events.append(TicketEvent(stop, "field", "customfield_ic", "u1"))
    target = custom(
        (cond(ENTERED_STATUS, "acknowledged"),),
        (cond(FIELD_SET, "customfield_ic"),),
        duration=f"{minutes}m",
        pause_phases=frozenset({"paused"}),
    )
    history = TicketHistory(CREATED_AT, "standard", "sev1", changes, events=tuple(events))
    now = CREATED_AT + timedelta(days=30)
    state = evaluate(policy_with(target), history, now).custom["goal"]
    expected_due = _reference_due(start, minutes, [s for s in spans if s[1] > start])
    assert state.due == expected_due
    if stop is None:
        assert (state.status, state.late_by) == ("late", now - expected_due)
    else:
        assert state.status == ("on_time" if stop <= expected_due else "late")
        assert state.met_at == stop
