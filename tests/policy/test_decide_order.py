"""Events by their own time: a fact older than what the record holds changes nothing it is older than.

Table-driven on the pure core (`app.policy.decide`), plus a property: whatever order a ticket's
issue snapshots arrive in, the record ends with the newest one's tier, severity and phase.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import datetime, timedelta
from types import MappingProxyType

import pytest

from app.policy.decide import Update, on_comment, on_issue
from app.policy.events import IssueEvent
from app.policy.record import TicketRecord

from .test_decide import FORCE, SETTINGS, T0, comment, issue


def snapshot(priority: str, minutes: int, *, status: str = "Open", category: str = "new",
             changelog: int | None = None, kind: str = "issue_updated", delivered: int | None = None) -> IssueEvent:
    """An issue event whose `fields.updated` is T0 + `minutes` (delivered at `delivered` minutes, default the same)."""
    event = issue(priority, status, category, kind=kind, at=T0 + timedelta(minutes=delivered or minutes))
    fields = {**event.fields, "updated": (T0 + timedelta(minutes=minutes)).isoformat()}
    return replace(event, fields=MappingProxyType(fields), changelog_id=changelog)


def stored(update: Update, before: TicketRecord | None = None) -> TicketRecord:
    """The record after saving `update` (unchanged when it saved nothing)."""
    if update.record is None:
        assert before is not None
        return before
    return replace(update.record, version=(before.version if before else 0) + 1)


def apply_all(events: list[IssueEvent]) -> TicketRecord:
    record: TicketRecord | None = None
    for event in events:
        record = stored(on_issue(FORCE, record, event, event.at, SETTINGS), record)
    assert record is not None
    return record


@pytest.mark.parametrize(("case", "first", "second", "outcome", "severity"), [
    ("a newer update applies", snapshot("Highest", 0, kind="issue_created"), snapshot("Medium", 10),
     "applied", "sev3"),
    ("an older update is stale", snapshot("Medium", 10), snapshot("Highest", 0), "stale", "sev3"),
    ("an issue_created after its update is stale", snapshot("Medium", 10), snapshot("Highest", 0,
                                                                                    kind="issue_created"),
     "stale", "sev3"),
    ("a late delivery of an older state is stale", snapshot("Medium", 10, delivered=11),
     snapshot("Highest", 5, delivered=40), "stale", "sev3"),
    ("same time, lower changelog id is stale", snapshot("Medium", 10, changelog=101),
     snapshot("Highest", 10, changelog=100), "stale", "sev3"),
    ("same time, higher changelog id applies", snapshot("Medium", 10, changelog=100),
     snapshot("Highest", 10, changelog=101), "applied", "sev1"),
    ("same time, no changelog ids, applies (same state)", snapshot("Medium", 10), snapshot("Medium", 10),
     "applied", "sev3"),
    ("issue_created in the millisecond of a change is stale", snapshot("Medium", 0, changelog=100),
     snapshot("Highest", 0, kind="issue_created"), "stale", "sev3"),
])
def test_an_issue_snapshot_by_its_own_time(case: str, first: IssueEvent, second: IssueEvent, outcome: str,
                                           severity: str) -> None:
    record = stored(on_issue(FORCE, None, first, first.at, SETTINGS))
    update = on_issue(FORCE, record, second, second.at + timedelta(minutes=30), SETTINGS)
    assert update.outcome == outcome, case
    if outcome == "stale":
        assert update.record is None and update.intents == () and update.audits == ()
    assert stored(update, record).severity == severity


def test_a_stale_status_change_does_not_reopen_or_pause_the_ticket() -> None:
    record = apply_all([snapshot("Highest", 0, kind="issue_created"), snapshot("Highest", 20, status="In progress")])
    late = snapshot("Highest", 10, status="Waiting for customer")
    assert on_issue(FORCE, record, late, T0 + timedelta(minutes=40), SETTINGS).outcome == "stale"
    assert record.phase == "active"


def test_the_newest_snapshot_wins_in_every_delivery_order() -> None:
    events = [snapshot("Highest", 0, kind="issue_created"), snapshot("Medium", 5, changelog=10),
              snapshot("Highest", 9, changelog=11), snapshot("Medium", 12, status="Waiting for customer",
                                                             changelog=12)]
    for order in itertools.permutations(events):
        record = apply_all(list(order))
        assert (record.severity, record.phase, record.issue_seen_changelog) == ("sev3", "paused", 12), order


REPLY_WITH_PROMISE = "Looking now. Next update in 1 hour."
PLAIN_REPLY = "Still looking into it."


@pytest.mark.parametrize(("case", "newer", "older", "promised", "eta_posted"), [
    ("an older plain reply keeps the newer promise", REPLY_WITH_PROMISE, PLAIN_REPLY,
     T0 + timedelta(minutes=100), False),
    ("an older promise does not replace a newer plain reply", PLAIN_REPLY, REPLY_WITH_PROMISE, None, False),
])
def test_an_older_reply_after_a_newer_one(case: str, newer: str, older: str, promised: datetime | None,
                                          eta_posted: bool) -> None:
    record = stored(on_issue(FORCE, None, issue(), T0, SETTINGS))
    after_newer = stored(on_comment(FORCE, record, replace(comment(newer, at=T0 + timedelta(minutes=40)),
                                                           comment_id="c2"), T0 + timedelta(minutes=40), SETTINGS),
                         record)
    late = on_comment(FORCE, after_newer, replace(comment(older, at=T0 + timedelta(minutes=20)), comment_id="c1"),
                      T0 + timedelta(minutes=50), SETTINGS)
    final = stored(late, after_newer)
    assert final.promised_update_at == promised, case
    assert final.promised_update_at == after_newer.promised_update_at
    assert ("public_reply" in [i.kind for i in late.intents]) is eta_posted
    assert [a for a, _ in late.audits] == ["reply_out_of_order"]
    # The older reply still counts: it is the first response, made at its own time.
    assert final.first_reply_at == T0 + timedelta(minutes=20)
    assert final.targets["first_response"].met_at == T0 + timedelta(minutes=20)


def test_replies_in_either_order_end_with_the_same_promise_and_replies() -> None:
    record = stored(on_issue(FORCE, None, issue(), T0, SETTINGS))
    replies = [replace(comment(PLAIN_REPLY, at=T0 + timedelta(minutes=20)), comment_id="c1"),
               replace(comment(REPLY_WITH_PROMISE, at=T0 + timedelta(minutes=40)), comment_id="c2")]
    finals = []
    for order in (replies, replies[::-1]):
        current = record
        for reply in order:
            current = stored(on_comment(FORCE, current, reply, T0 + timedelta(hours=1), SETTINGS), current)
        finals.append((current.promised_update_at, current.replies, current.first_reply_at, current.last_update_at))
    assert finals[0] == finals[1]
    assert finals[0][0] is not None


def test_every_decision_records_the_next_deadline_of_its_timers() -> None:
    update = on_issue(FORCE, None, issue(), T0, SETTINGS)
    assert update.record is not None and update.timers
    assert update.record.next_deadline == min(at for _, _, at in update.timers)
    closed = on_issue(FORCE, stored(update), snapshot("Highest", 30, status="Done", category="done"),
                      T0 + timedelta(minutes=30), SETTINGS)
    assert closed.record is not None and closed.timers == () and closed.record.next_deadline is None
