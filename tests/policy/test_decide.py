"""The pure decision: what an issue event, a comment, a timer or a re-apply does to a ticket.

Table-driven, like the calendar's tests: no Redis, no SQL, no HTTP — a policy, a record, a fact,
`now`, settings in; the update out.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

import pytest

from app.policy.decide import (
    InForce,
    Settings,
    Update,
    on_comment,
    on_issue,
    on_reapply,
    on_timer,
    ticket_timers,
)
from app.policy.events import CommentEvent, IssueEvent
from app.policy.record import TicketRecord
from app.policy.timefmt import timer_instant
from app.schemas.policy import load_policy

T0 = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)
AGENT = "agent-1"
CUSTOMER = "customer-1"
BINDINGS = {"first_response_due": "customfield_10100", "severity": "customfield_10200"}


def document(actions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    sev1 = {"first_response": "1h on 24x7", "update_cadence": {"active": "2h on 24x7"},
            "resolution": "8h on 24x7", "eta_required": True, "page_on_call": True}
    other = {"first_response": "4h on 24x7", "update_cadence": {"active": "8h on 24x7"}, "resolution": "120h on 24x7"}
    return {
        "id": "decide-test", "name": "Decide", "description": "", "calendars": {},
        "severities": [{"id": "sev1", "name": "Critical", "aliases": ["Highest"]},
                       {"id": "sev3", "name": "Medium", "aliases": ["Medium"]}],
        "tiers": {"standard": {"name": "Standard", "sev1": sev1, "sev3": other}},
        "mapping": {"rules": [{"field": "priority", "sets": "severity"}],
                    "default_tier": "standard", "default_severity": "sev3"},
        "phases": {"paused": {"statuses": ["Waiting for customer"]}, "closed": {"categories": ["done"]}},
        "pre_breach": {"lead": "15m"},
        "actions": actions or [],
    }


ACTIONS = [
    {"on": "created", "kind": "note", "severities": ["sev1"]},
    {"on": "created", "kind": "chat", "params": {"webhook": "war-room"}, "severities": ["sev1"]},
    {"on": "pre_breach", "kind": "set_field", "params": {"field": "labels", "value": "at-risk"}},
    {"on": "breach", "kind": "transition", "params": {"name": "Escalate"}, "targets": ["first_response"]},
]
FORCE = InForce(load_policy(document(ACTIONS)), 7, 3)
SETTINGS = Settings("tenant-a", BINDINGS, {"customfield_10200": "option"}, "https://pager.example/hook")


def issue(priority: str = "Highest", status: str = "Open", category: str = "new", *, kind: str = "issue_created",
          at: datetime = T0) -> IssueEvent:
    fields = {"priority": {"name": priority}, "status": {"name": status, "statusCategory": {"key": category}},
              "reporter": {"accountId": CUSTOMER}}
    return IssueEvent(kind=kind, issue_id="10001", issue_key="SUP-1", project_key="SUP", at=at,
                      actor_account_id=CUSTOMER, actor_account_type="customer", status_name=status,
                      status_category=category, fields=MappingProxyType(fields), reporter_account_id=CUSTOMER,
                      created_at=T0)


def comment(text: str, *, author: str = AGENT, public: bool = True, at: datetime = T0 + timedelta(minutes=20)
            ) -> CommentEvent:
    return CommentEvent(issue_id="10001", issue_key="SUP-1", project_key="SUP", comment_id="c1", at=at,
                        author_account_id=author, author_account_type="atlassian", body_text=text, public=public)


def tracked(priority: str = "Highest") -> TicketRecord:
    """The stored record after the ticket's creation (as the worker would have saved it)."""
    update = on_issue(FORCE, None, issue(priority), T0, SETTINGS)
    assert update.record is not None
    return replace(update.record, version=1)


def kinds(update: Update) -> list[str]:
    return [i.kind for i in update.intents]


def audit_actions(update: Update) -> list[str]:
    return [a for a, _ in update.audits]


# --- on_issue -------------------------------------------------------------------------------------

ISSUE_CASES = [
    # (case, priority, status, category, intents, audits, phase, timers)
    ("sev1 created: write-back, ETA reply, note and chat", "Highest", "Open", "new",
     ["fields", "public_reply", "internal_note", "chat"], ["tracked"], "active",
     [("first_response", "breach", T0 + timedelta(hours=1)), ("first_response", "warn", T0 + timedelta(minutes=45)),
      ("resolution", "breach", T0 + timedelta(hours=8)), ("resolution", "warn", T0 + timedelta(hours=7, minutes=45))]),
    ("sev3 created: write-back only", "Medium", "Open", "new", ["fields"], ["tracked"], "active",
     [("first_response", "breach", T0 + timedelta(hours=4)), ("first_response", "warn", T0 + timedelta(hours=3, minutes=45)),
      ("resolution", "breach", T0 + timedelta(hours=120)),
      ("resolution", "warn", T0 + timedelta(hours=119, minutes=45))]),
    ("created waiting for customer: paused, no timers", "Highest", "Waiting for customer", "indeterminate",
     ["fields", "internal_note", "chat"], ["tracked"], "paused", []),
    ("created done: closed, nothing due", "Medium", "Done", "done", ["fields"], ["tracked"], "closed", []),
]


@pytest.mark.parametrize(("case", "priority", "status", "category", "intents", "audits", "phase", "timers"),
                         ISSUE_CASES, ids=[c[0] for c in ISSUE_CASES])
def test_a_new_issue(case: str, priority: str, status: str, category: str, intents: list[str], audits: list[str],
                     phase: str, timers: list[tuple[str, str, datetime]]) -> None:
    update = on_issue(FORCE, None, issue(priority, status, category), T0, SETTINGS)

    assert update.record is not None and update.record.phase == phase
    assert (kinds(update), audit_actions(update)) == (intents, audits)
    assert list(update.timers or ()) == sorted(timers)
    assert update.record.policy_version_id == 7 and update.record.tenant_key == "tenant-a"


def test_the_write_back_carries_bound_fields_and_the_property_and_is_skipped_when_unchanged() -> None:
    update = on_issue(FORCE, None, issue(), T0, SETTINGS)
    write = update.intents[0]
    assert write.payload["fields"] == {"customfield_10100": "2026-11-19T10:00:00.000+0000",
                                       "customfield_10200": {"value": "Critical"}}
    prop = write.payload["properties"][0]
    assert prop["key"] == "tierwise.sla" and prop["value"]["firstResponseDue"] == "2026-11-19T10:00:00Z"
    assert prop["value"]["policyVersion"] == 3
    assert update.record is not None and update.record.last_written_hash == write.payload["hash"]

    again = on_issue(FORCE, replace(update.record, version=1), issue(kind="issue_updated"), T0, SETTINGS)
    assert kinds(again) == []  # same deadlines, same property: no PUT


def test_the_severity_changes_and_the_deadlines_follow() -> None:
    update = on_issue(FORCE, tracked("Highest"), issue("Medium", kind="issue_updated"), T0, SETTINGS)
    assert audit_actions(update) == ["recomputed"]
    assert update.record is not None and update.record.severity == "sev3"
    assert update.record.targets["first_response"].due == T0 + timedelta(hours=4)
    assert kinds(update) == ["fields"]  # no created actions for an update


def test_a_text_binding_for_a_select_field_waits_for_the_prefetched_field_types() -> None:
    plain = on_issue(FORCE, None, issue(), T0, replace(SETTINGS, field_types={}))
    assert plain.intents[0].payload["fields"]["customfield_10200"] == "Critical"


# --- on_comment -----------------------------------------------------------------------------------

COMMENT_CASES = [
    # (case, text, author, public, intents, audits, promised, outcome)
    ("agent reply without an ETA: follow-up with the next update time", "Looking into it.", AGENT, True,
     ["fields", "public_reply"], [], None, "applied"),
    ("agent reply with an ETA in time: honoured", "We will update you in 1 hour.", AGENT, True,
     ["fields"], ["promise_honoured"], T0 + timedelta(hours=1, minutes=20), "applied"),
    ("agent reply with a late ETA: honoured, and a note says it is late", "Next update in 5 hours.", AGENT, True,
     ["fields", "internal_note"], ["promise_honoured"], T0 + timedelta(hours=5, minutes=20), "applied"),
    ("internal note: not a reply", "Checking logs", AGENT, False, [], [], None, "not_a_reply"),
    ("the customer's own comment: not a reply", "Any news?", CUSTOMER, True, [], [], None, "not_a_reply"),
]


@pytest.mark.parametrize(("case", "text", "author", "public", "intents", "audits", "promised", "outcome"),
                         COMMENT_CASES, ids=[c[0] for c in COMMENT_CASES])
def test_a_comment(case: str, text: str, author: str, public: bool, intents: list[str], audits: list[str],
                   promised: datetime | None, outcome: str) -> None:
    now = T0 + timedelta(minutes=20)
    update = on_comment(FORCE, tracked(), comment(text, author=author, public=public), now, SETTINGS)

    assert (kinds(update), audit_actions(update), update.outcome) == (intents, audits, outcome)
    if update.record is not None:
        assert update.record.promised_update_at == promised
        assert update.record.first_reply_at == now
        assert update.record.targets["first_response"].met_at == now
    else:
        assert update.timers is not None  # unchanged record, timers still brought in line


def test_an_eta_follow_up_names_the_next_update_deadline() -> None:
    update = on_comment(FORCE, tracked(), comment("Looking into it."), T0 + timedelta(minutes=20), SETTINGS)
    reply = update.intents[1]
    assert reply.why["action"] == "eta_comment" and reply.why["target"] == "next_update"
    assert reply.why["deadline"] == "2026-11-19T11:20:00Z"  # 2 h cadence from the reply at 09:20


def test_a_comment_on_an_unseen_ticket_tracks_it_from_the_issue_read_once() -> None:
    first = comment("Looking into it.")
    without = on_comment(FORCE, None, first, T0 + timedelta(minutes=20), SETTINGS)
    assert (without.record, without.outcome) == (None, "unknown_ticket")

    seeded = on_comment(FORCE, None, first, T0 + timedelta(minutes=20), SETTINGS, seed=issue())
    assert audit_actions(seeded)[0] == "tracked"
    assert seeded.record is not None and seeded.record.first_reply_at == first.at
    assert "public_reply" in kinds(seeded)


# --- on_timer -------------------------------------------------------------------------------------

DUE = T0 + timedelta(hours=1)
TIMER_CASES = [
    # (case, target, kind, deadline, intents, audits, outcome)
    ("breach: transition and the on-call page", "first_response", "breach", DUE,
     ["fields", "transition", "page"], ["breached"], "fired"),
    ("warning: the pre-breach action", "first_response", "warn", DUE - timedelta(minutes=15),
     ["set_field"], ["warned"], "fired"),
    ("a moved deadline: stale", "first_response", "breach", DUE - timedelta(minutes=30), [], [], "stale"),
    ("a target that has no timer: stale", "next_update", "breach", DUE, [], [], "stale"),
]


@pytest.mark.parametrize(("case", "target", "kind", "deadline", "intents", "audits", "outcome"),
                         TIMER_CASES, ids=[c[0] for c in TIMER_CASES])
def test_a_timer(case: str, target: str, kind: str, deadline: datetime, intents: list[str], audits: list[str],
                 outcome: str) -> None:
    now = deadline + timedelta(seconds=1)
    update = on_timer(FORCE, tracked(), target, kind, timer_instant(deadline), now, SETTINGS)
    assert (kinds(update), audit_actions(update), update.outcome) == (intents, audits, outcome)


def test_a_fired_breach_is_marked_and_leaves_no_timer_of_its_target() -> None:
    update = on_timer(FORCE, tracked(), "first_response", "breach", timer_instant(DUE), DUE, SETTINGS)
    assert update.record is not None and update.record.targets["first_response"].breached_at == DUE
    assert [t for t in update.timers or () if t[0] == "first_response"] == []
    page = next(i for i in update.intents if i.kind == "page")
    assert page.payload == {"url": "https://pager.example/hook", "body": {
        "ticket": "SUP-1", "tier": "standard", "severity": "sev1", "target": "first_response",
        "due": "2026-11-19T10:00:00Z", "kind": "breach"}}


def test_a_fired_warning_is_not_scheduled_again() -> None:
    warn_at = DUE - timedelta(minutes=15)
    update = on_timer(FORCE, tracked(), "first_response", "warn", timer_instant(warn_at), warn_at, SETTINGS)
    assert update.record is not None
    assert ("first_response", "warn", warn_at) not in (update.timers or ())
    assert ("first_response", "breach", DUE) in (update.timers or ())


def test_a_paused_ticket_fires_nothing() -> None:
    paused = on_issue(FORCE, tracked(), issue(status="Waiting for customer", category="indeterminate",
                                               kind="issue_updated", at=T0 + timedelta(minutes=5)),
                      T0 + timedelta(minutes=5), SETTINGS)
    assert paused.record is not None and paused.timers == ()
    later = on_timer(FORCE, paused.record, "first_response", "breach", timer_instant(DUE), DUE, SETTINGS)
    assert later.outcome == "stale"


# --- on_reapply -----------------------------------------------------------------------------------


def test_a_reapply_moves_the_ticket_to_the_new_version_and_its_deadlines() -> None:
    doc = document()
    doc["tiers"]["standard"]["sev1"]["first_response"] = "30m on 24x7"
    newer = InForce(load_policy(doc), 8, 4)
    update = on_reapply(newer, tracked(), T0 + timedelta(minutes=1), SETTINGS)
    assert update.record is not None and update.record.policy_version_id == 8
    assert update.record.targets["first_response"].due == T0 + timedelta(minutes=30)
    assert (kinds(update), audit_actions(update)) == (["fields"], ["policy_reapplied"])
    assert dict(update.audits)["policy_reapplied"]["deadlines"]["first_response"] == "2026-11-19T09:30:00Z"


def test_a_reapply_falls_back_to_the_defaults_for_an_unknown_severity() -> None:
    record = replace(tracked(), severity="sev9")
    update = on_reapply(FORCE, record, T0, SETTINGS)
    assert update.record is not None and update.record.severity == "sev3"


def test_the_timers_of_a_stored_record_are_those_the_decision_gave() -> None:
    update = on_issue(FORCE, None, issue(), T0, SETTINGS)
    assert update.record is not None
    assert ticket_timers(FORCE.policy, update.record, T0 + timedelta(minutes=1)) == update.timers
