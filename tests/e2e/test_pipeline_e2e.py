"""The event pipeline end to end: stand-in Jira → gunicorn → Redis → real rq workers → Jira.

Jira calls per event are counted from the stand-in's request log: at most one for a creation or
an update (two when a Sev-1 needs its ETA comment), two for an agent reply that needs one.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import pytest
from pipeline_kit import short_policy, wait_until

from standin import AGENT

pytestmark = pytest.mark.e2e


def _due(prop: dict[str, Any], key: str) -> datetime | None:
    raw = prop.get(key)
    return datetime.fromisoformat(raw.replace("Z", "+00:00")) if raw else None


def _comment_texts(stack: Any, key: str) -> list[str]:
    return [str(c["body"]) for c in stack.jira.comments(key)]


def test_ticket_lifecycle_fields_eta_pauses_and_duplicates(stack: Any) -> None:
    stack.install(short_policy(first_response="30m", cadence="60m"))
    stack.start_worker()

    # A Sev-1 arrives: one PUT (fields + property, notifyUsers=false) and the ETA acknowledgement.
    n = len(stack.jira.requests)
    issue = stack.jira.create_issue("Checkout down", fields={"priority": {"name": "Highest"}})
    key = issue["key"]
    stack.wait_settled(issue)
    calls = stack.app_calls(n)
    # The tenant's first event reads its field list once (JSM participant/organization field ids, cached).
    assert [(c.method, c.path) for c in calls[:1]] == [("GET", "/rest/api/3/field")], calls
    calls = calls[1:]
    assert [c.method for c in calls] == ["PUT", "POST"], calls
    assert calls[0].query.get("notifyUsers") == ["false"]
    assert {p["key"] for p in calls[0].body["properties"]} == {"tierwise.sla"}
    seen = stack.jira.issue(key)
    prop = seen["properties"]["tierwise.sla"]
    assert prop["severity"] == "sev1" and prop["phase"] == "active"
    assert seen["fields"]["customfield_10100"] and seen["fields"]["customfield_10102"]
    assert len(_comment_texts(stack, key)) == 1 and "Next update by" in _comment_texts(stack, key)[0]

    # The same delivery three times (Jira retries): one effect.
    created = next(d for d in stack.jira.deliveries if d.event == "jira:issue_created")
    n = len(stack.jira.requests)
    stack.jira.redeliver(created)
    stack.jira.redeliver(created)
    stack.wait_settled(issue)
    time.sleep(0.5)
    assert stack.app_calls(n) == [] and len(_comment_texts(stack, key)) == 1
    assert stack.audit(issue).count("tracked") == 1

    # An agent replies without an ETA: the follow-up states the next update (≤ 2 calls).
    n = len(stack.jira.requests)
    stack.jira.add_comment(key, "We are looking into it.", public=True, author=AGENT)
    stack.wait_settled(issue)
    assert [c.method for c in stack.app_calls(n)] == ["PUT", "POST"]
    texts = _comment_texts(stack, key)
    assert len(texts) == 3 and "Next update by" in texts[-1]
    record = stack.record(issue)
    assert record.targets["first_response"].met_at is not None
    reply_at = record.replies[-1]
    assert record.targets["next_update"].due == reply_at + timedelta(minutes=60)

    # A reply with an ETA is honoured: the promise is the deadline, no follow-up (1 call).
    n = len(stack.jira.requests)
    stack.jira.add_comment(key, "Found it. Next update in 20 minutes.", public=True, author=AGENT)
    stack.wait_settled(issue)
    assert [c.method for c in stack.app_calls(n)] == ["PUT"]
    record = stack.record(issue)
    assert record.promised_update_at is not None
    assert record.targets["next_update"].due == record.promised_update_at
    assert abs((record.promised_update_at - record.replies[-1]) - timedelta(minutes=20)) < timedelta(seconds=2)
    assert len(_comment_texts(stack, key)) == 4

    # Severity change: deadlines recomputed from the ticket's start (Sev-1 8 h → Sev-3 120 h resolution).
    before = _due(stack.jira.issue(key)["properties"]["tierwise.sla"], "resolutionDue")
    n = len(stack.jira.requests)
    stack.jira.update_issue(key, fields={"priority": {"name": "Medium"}}, by=AGENT)
    wait_until(lambda: stack.record(issue).severity == "sev3", 20)
    stack.wait_settled(issue)
    assert len(stack.app_calls(n)) <= 1
    prop = stack.jira.issue(key)["properties"]["tierwise.sla"]
    assert prop["severity"] == "sev3"
    assert before is not None and _due(prop, "resolutionDue") == before + timedelta(hours=112)
    assert "recomputed" in stack.audit(issue)

    # Waiting for customer pauses the clock; leaving it resumes, deadlines later by the pause.
    stack.jira.transition_issue(key, "Wait for customer", by=AGENT)
    wait_until(lambda: stack.record(issue).phase == "paused", 20)
    stack.wait_settled(issue)
    paused = stack.jira.issue(key)["properties"]["tierwise.sla"]
    assert paused["phase"] == "paused" and paused["resolutionDue"] is None
    time.sleep(1.5)
    stack.jira.transition_issue(key, "Respond to support", by=AGENT)
    wait_until(lambda: stack.record(issue).phase == "active", 20)
    stack.wait_settled(issue)
    resumed = _due(stack.jira.issue(key)["properties"]["tierwise.sla"], "resolutionDue")
    assert resumed is not None and resumed - _due(prop, "resolutionDue") >= timedelta(seconds=1)
    assert stack.record(issue).pauses[-1][1] is not None


def test_breach_transitions_pages_and_warns(stack: Any) -> None:
    stack.install(short_policy(first_response="1m", pre_breach="1m", actions=[
        {"on": "pre_breach", "kind": "note", "targets": ["first_response"]},
        {"on": "breach", "kind": "transition", "params": {"name": "Start progress"}, "targets": ["first_response"]},
    ]))
    stack.start_worker()
    stack.clock.lag = timedelta(seconds=50)  # the request came in 50 s ago: due in about 10 s
    issue = stack.jira.create_issue("Payments failing", fields={"priority": {"name": "Highest"}})
    stack.clock.lag = timedelta(0)
    wait_until(lambda: stack.jira.issue(issue["key"])["fields"]["status"]["name"] == "In Progress", 40)
    wait_until(lambda: stack.oncall.pages, 10)
    stack.wait_settled(issue)
    page = stack.oncall.pages[0]
    assert page["ticket"] == issue["key"] and page["target"] == "first_response" and page["kind"] == "breach"
    assert page["tier"] == "standard" and page["severity"] == "sev1" and page["due"]
    assert len(stack.oncall.pages) == 1
    actions = stack.audit(issue)
    assert "breached" in actions and "transition" in actions and "page" in actions
    assert "warned" in actions and "note" in actions
    record = stack.record(issue)
    assert record.targets["first_response"].breached_at == record.targets["first_response"].due
    assert stack.jira.issue(issue["key"])["properties"]["tierwise.sla"]["firstResponseState"] == "late"
    assert stack.jira.issue(issue["key"])["properties"]["tierwise.sla"]["breached"] is True
    notes = [c for c in stack.jira.comments(issue["key"]) if "about to breach" in str(c["body"])]
    assert len(notes) == 1


def test_worker_killed_mid_job_applies_once_without_duplicate_comment(stack: Any) -> None:
    stack.install(short_policy(first_response="30m"))
    worker = stack.start_worker()
    stack.jira.inject("*/comment", status=None, times=1, latency=3.0, method="POST")
    issue = stack.jira.create_issue("Login broken", fields={"priority": {"name": "Highest"}})
    wait_until(lambda: ("public_reply", "in_flight") in stack.outbox(issue), 20)
    time.sleep(0.5)  # the worker now waits on the ETA comment's POST (3 s in the stand-in)
    stack.kill(worker)
    time.sleep(3.0)  # the stand-in finishes the POST nobody waits for any more
    assert len(stack.jira.comments(issue["key"])) == 1
    assert ("public_reply", "in_flight") in stack.outbox(issue)
    stack.start_worker()
    stack.wait_settled(issue, 30)
    assert len(stack.jira.comments(issue["key"])) == 1, "the comment that got through is not posted again"
    assert stack.audit(issue).count("tracked") == 1
    assert all(state == "sent" for _, state in stack.outbox(issue))
    assert stack.jira.issue(issue["key"])["properties"]["tierwise.sla"]["severity"] == "sev1"


def test_burst_of_429s_every_event_eventually_applied(stack: Any) -> None:
    stack.install(short_policy())
    stack.start_worker()
    stack.jira.inject("/rest/api/3/issue/*", status=429, times=6, retry_after=1)
    issues = [stack.jira.create_issue(f"Question {i}", fields={"priority": {"name": "Low"}}) for i in range(4)]
    for issue in issues:
        stack.wait_settled(issue, 40)
    for issue in issues:
        prop = stack.jira.issue(issue["key"])["properties"].get("tierwise.sla")
        assert prop and prop["severity"] == "sev4", issue["key"]
    assert len([c for c in stack.jira.requests if c.injected and c.status == 429]) == 6
    puts = [c for c in stack.jira.calls("PUT") if c.app_key and not c.injected]
    assert len(puts) == 4
