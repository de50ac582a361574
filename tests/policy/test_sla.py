"""SLA state of tickets: met, breached, due soon, pauses, cadences by phase, closure."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from app.policy.durations import parse_duration
from app.policy.errors import PolicyError
from app.policy.model import BEST_EFFORT, Policy, PreBreach, Severity, Target, Tier, TierTargets
from app.policy.sla import TicketHistory, deadlines, evaluate

from .reference import DRESDEN, MELBOURNE


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def berlin(text: str) -> datetime:
    """A Dresden wall-clock time in November (CET, +01:00)."""
    return datetime.fromisoformat(f"2026-11-{text}+01:00")


def on(duration: str, calendar: str | None = "dresden", note: str | None = None) -> Target:
    return Target(duration=parse_duration(duration), calendar=calendar, note=note)


STANDARD_SEV1 = TierTargets(
    first_response=on("4h"),
    update_cadence={"active": on("4h"), "stabilized": on("1bd"), "mitigated": on("at_closure")},
    resolution=on("5bd"),
)
POLICY = Policy(
    id="acme",
    name="Acme support",
    description="",
    calendars={"dresden": DRESDEN},
    severities=(Severity("sev1", "Critical"), Severity("sev2", "Major")),
    tiers={
        "standard": Tier(
            "standard",
            "Standard",
            {
                "sev1": STANDARD_SEV1,
                "sev2": TierTargets(
                    first_response=BEST_EFFORT, resolution=Target(None, note="typically 2-3 business days")
                ),
            },
        ),
        "premium": Tier("premium", "Premium", {"sev1": TierTargets(first_response=on("1h", "24x7"))}),
    },
    pre_breach=PreBreach(lead=parse_duration("1h")),
)
MONDAY_9 = berlin("16T09:00")  # Mon 2026-11-16 09:00 in Dresden; Wed 18 Nov is a closing holiday


def ticket(**facts: object) -> TicketHistory:
    base = TicketHistory(created=MONDAY_9, tier="standard", severity="sev1")
    return replace(base, **facts)  # type: ignore[arg-type]


# --- first response -------------------------------------------------------------------------------

# (what it shows, replies, now, state, breached)
FIRST_RESPONSE = [
    ("on track with 3 open hours left", (), "16T10:00", "on_track", False),
    ("due soon from 1 h before the deadline", (), "16T12:00", "due_soon", False),
    ("due at the deadline itself is not yet breached", (), "16T13:00", "due_soon", False),
    ("breached after the deadline", (), "16T13:01", "breached", True),
    ("met by the first reply", ("16T12:59",), "16T15:00", "met", False),
    ("met exactly at the deadline", ("16T13:00",), "16T15:00", "met", False),
    ("a late reply is a breach", ("16T13:30",), "16T15:00", "breached", True),
]


@pytest.mark.parametrize(
    ("replies", "now", "state", "breached"),
    [c[1:] for c in FIRST_RESPONSE],
    ids=[c[0] for c in FIRST_RESPONSE],
)
def test_first_response(replies: tuple[str, ...], now: str, state: str, breached: bool) -> None:
    sla = evaluate(POLICY, ticket(replies=tuple(berlin(r) for r in replies)), berlin(now))
    fr = sla.first_response
    assert (fr.state, fr.breached) == (state, breached)
    assert fr.due == at("2026-11-16T12:00Z") and fr.warn_at == at("2026-11-16T11:00Z")
    assert fr.calendar == "dresden"
    assert fr.met_at == (berlin(replies[0]) if replies else None)


def test_remaining_counts_open_time_only() -> None:
    sla = evaluate(POLICY, ticket(created=berlin("16T15:00")), berlin("16T20:00"))
    assert sla.first_response.remaining == timedelta(hours=2)  # 15:00-17:00 ran, evening is closed
    assert sla.first_response.due == at("2026-11-17T10:00Z")


def test_replies_after_now_are_not_seen_yet() -> None:
    history = ticket(replies=(berlin("16T12:00"),))
    assert evaluate(POLICY, history, berlin("16T11:00")).first_response.state == "on_track"
    assert evaluate(POLICY, history, berlin("16T12:00")).first_response.state == "met"


# --- pauses --------------------------------------------------------------------------------------


def test_a_pause_freezes_the_remaining_open_time_and_resumes_from_it() -> None:
    history = ticket(phase_changes=((berlin("16T10:00"), "paused"), (berlin("17T10:00"), "active")))
    during = evaluate(POLICY, history, berlin("16T16:00"))
    assert during.phase == "paused"
    assert (during.first_response.state, during.first_response.due) == ("paused", None)
    assert during.first_response.remaining == timedelta(hours=3)
    assert evaluate(POLICY, history, berlin("17T09:30")).first_response.remaining == timedelta(hours=3)
    assert during.pauses == ((berlin("16T10:00"), None),)
    after = evaluate(POLICY, history, berlin("17T11:00"))
    # 1 h ran before the pause; the other 3 h run from Tuesday 10:00.
    assert after.first_response.due == at("2026-11-17T12:00Z")
    assert after.first_response.state == "on_track"
    assert after.pauses == ((berlin("16T10:00"), berlin("17T10:00")),)
    # Resolution (40 open hours) moves by the 7 open hours the pause covered.
    assert after.resolution.due - evaluate(POLICY, ticket(), berlin("17T11:00")).resolution.due == timedelta(
        days=1
    )


def test_a_breach_before_the_pause_stays_a_breach() -> None:
    history = ticket(phase_changes=((berlin("16T14:00"), "paused"),))
    sla = evaluate(POLICY, history, berlin("16T16:00"))
    assert (sla.first_response.state, sla.first_response.breached) == ("breached", True)
    assert sla.first_response.due == at("2026-11-16T12:00Z")


def test_a_pause_over_the_holiday_costs_no_open_time() -> None:
    history = ticket(
        created=berlin("17T15:00"),
        phase_changes=((berlin("17T16:00"), "paused"), (berlin("19T09:00"), "active")),
    )
    # 1 h on Tuesday, paused through the holiday, 3 h from Thursday's opening.
    assert evaluate(POLICY, history, berlin("19T09:30")).first_response.due == at("2026-11-19T11:00Z")


# --- next update ---------------------------------------------------------------------------------


def test_no_reply_yet_means_no_update_due() -> None:
    sla = evaluate(POLICY, ticket(), berlin("16T10:00"))
    assert (sla.next_update.state, sla.next_update.due) == ("none", None)


@pytest.mark.parametrize(
    ("phase", "state", "due"),
    [
        ("active", "on_track", at("2026-11-16T13:00Z")),  # reply Mon 10:00 + 4 business hours
        ("stabilized", "on_track", at("2026-11-17T09:00Z")),  # + 1 business day = 8 open hours
        ("mitigated", "at_closure", None),
        ("waiting", "none", None),  # a phase without cadence
    ],
)
def test_next_update_follows_the_cadence_of_the_current_phase(
    phase: str, state: str, due: datetime | None
) -> None:
    history = ticket(replies=(berlin("16T10:00"),), phase_changes=((berlin("16T11:00"), phase),))
    update = evaluate(POLICY, history, berlin("16T11:30")).next_update
    assert (update.state, update.due) == (state, due)


def test_next_update_counts_from_the_last_reply_and_breaches() -> None:
    history = ticket(replies=(berlin("16T10:00"), berlin("17T09:00")))
    assert evaluate(POLICY, history, berlin("17T09:30")).next_update.due == at("2026-11-17T12:00Z")
    late = evaluate(POLICY, history, berlin("17T14:00")).next_update
    assert (late.state, late.breached, late.remaining) == ("breached", True, timedelta(0))


def test_an_explicit_promise_overrides_the_cadence() -> None:
    history = ticket(replies=(berlin("16T10:00"),), promised_update=berlin("19T10:00"))
    sla = evaluate(POLICY, history, berlin("16T16:00"))
    assert (sla.next_update.state, sla.next_update.due) == ("on_track", berlin("19T10:00"))
    assert sla.next_update.remaining == timedelta(hours=1 + 1 + 8)  # Mon 16-17, Tue 09-17, Thu 09-10
    assert evaluate(POLICY, history, berlin("19T10:01")).next_update.state == "breached"


def test_while_paused_the_update_clock_is_frozen_at_the_interrupted_cadence() -> None:
    history = ticket(
        replies=(berlin("16T10:00"),),
        phase_changes=((berlin("16T12:00"), "paused"), (berlin("17T09:00"), "active")),
    )
    paused = evaluate(POLICY, history, berlin("16T15:00")).next_update
    assert (paused.state, paused.due, paused.remaining) == ("paused", None, timedelta(hours=2))
    assert evaluate(POLICY, history, berlin("17T09:00")).next_update.due == at("2026-11-17T10:00Z")


# --- closure -------------------------------------------------------------------------------------


def test_closing_meets_resolution_and_ends_updates() -> None:
    history = ticket(replies=(berlin("16T10:00"),), phase_changes=((berlin("17T15:00"), "closed"),))
    sla = evaluate(POLICY, history, berlin("20T09:00"))
    assert sla.phase == "closed"
    assert (sla.resolution.state, sla.resolution.met_at) == ("met", berlin("17T15:00"))
    assert sla.resolution.due == at("2026-11-23T16:00Z")  # 40 open hours, skipping the holiday
    assert (sla.next_update.state, sla.next_update.due) == ("none", None)
    assert sla.first_response.state == "met"


def test_closed_without_a_reply_owes_nothing_unless_already_breached() -> None:
    early = ticket(phase_changes=((berlin("16T10:00"), "closed"),))
    assert evaluate(POLICY, early, berlin("20T09:00")).first_response.state == "none"
    late = ticket(phase_changes=((berlin("16T14:00"), "closed"),))
    assert evaluate(POLICY, late, berlin("20T09:00")).first_response.state == "breached"


def test_a_reopened_ticket_treats_the_closed_span_as_a_pause() -> None:
    history = ticket(phase_changes=((berlin("16T10:00"), "closed"), (berlin("17T10:00"), "active")))
    sla = evaluate(POLICY, history, berlin("17T10:30"))
    assert sla.resolution.state == "on_track" and sla.resolution.met_at is None
    assert sla.first_response.due == at("2026-11-17T12:00Z")


# --- best effort, 24x7, share warnings ----------------------------------------------------------


def test_best_effort_targets_carry_their_note() -> None:
    sla = evaluate(POLICY, ticket(severity="sev2"), berlin("30T10:00"))
    assert (sla.first_response.state, sla.first_response.due, sla.first_response.breached) == (
        "none",
        None,
        False,
    )
    assert sla.resolution.note == "typically 2-3 business days"


def test_24x7_targets_run_through_the_night() -> None:
    sla = evaluate(POLICY, ticket(tier="premium", created=berlin("16T23:30")), berlin("17T00:10"))
    assert sla.first_response.due == at("2026-11-16T23:30Z")
    assert sla.first_response.calendar == "24x7" and sla.first_response.state == "due_soon"


def test_a_share_warning_falls_after_that_share_of_open_time() -> None:
    policy = replace(POLICY, pre_breach=PreBreach(share=0.75))
    sla = evaluate(policy, ticket(created=berlin("16T15:00")), berlin("16T16:00"))
    assert sla.first_response.warn_at == at("2026-11-17T09:00Z")  # 2 h Mon + 1 h Tue of 4 h


# --- deadlines (what `tierwise due` prints) ------------------------------------------------------

MULESIGHT = Policy(
    id="mulesight",
    name="MuleSight",
    description="",
    calendars={"melbourne": MELBOURNE},
    severities=(Severity("sev1", "Sev-1"),),
    tiers={
        "standard": Tier(
            "standard",
            "Standard",
            {
                "sev1": TierTargets(
                    first_response=on("8h", "melbourne"),
                    update_cadence={"active": on("4h", "melbourne"), "stabilized": on("1bd", "melbourne")},
                    resolution=on("5bd", None),  # the policy's only calendar
                )
            },
        )
    },
)


def test_deadlines_of_the_mulesight_worked_example() -> None:
    created = at("2026-11-02T16:00+11:00")
    assert deadlines(MULESIGHT, "standard", "sev1", created) == {
        "first_response_due": at("2026-11-03T05:00Z"),
        "next_update_due": None,
        "resolution_due": at("2026-11-09T05:00Z"),
    }
    after_reply = deadlines(
        MULESIGHT, "standard", "sev1", created, at("2026-11-04T10:00+11:00"), "stabilized"
    )
    assert after_reply["next_update_due"] == at("2026-11-04T23:00Z")
    closed = deadlines(MULESIGHT, "standard", "sev1", created, at("2026-11-04T10:00+11:00"), "closed")
    assert closed["next_update_due"] is None


def test_deadlines_of_the_communardo_worked_example() -> None:
    due = deadlines(POLICY, "standard", "sev1", at("2026-11-17T15:00+01:00"))
    assert due["first_response_due"] == at("2026-11-19T10:00Z")


@pytest.mark.parametrize(
    ("tier", "severity", "message"), [("gold", "sev1", "unknown tier"), ("premium", "sev2", "no targets")]
)
def test_unknown_tier_or_severity_is_a_policy_error(tier: str, severity: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        deadlines(POLICY, tier, severity, MONDAY_9)


def test_a_target_without_calendar_runs_on_24x7_when_the_policy_has_several() -> None:
    two = replace(MULESIGHT, calendars={"melbourne": MELBOURNE, "dresden": DRESDEN})
    due = deadlines(two, "standard", "sev1", at("2026-11-02T16:00+11:00"))
    assert due["resolution_due"] == at("2026-11-07T05:00Z")  # 5bd of the 24x7 calendar = 5 × 24 h
    assert deadlines(MULESIGHT, "standard", "sev1", at("2026-11-02T16:00+11:00"))["resolution_due"] == at(
        "2026-11-09T05:00Z"
    )
