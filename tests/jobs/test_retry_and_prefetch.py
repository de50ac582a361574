"""A timer's retry goes through the timer job; a reduced issue is read once before deciding."""

from __future__ import annotations

from dataclasses import replace

from pipeline_kit import short_policy
from rq import Queue
from rq.registry import ScheduledJobRegistry

from app.keys import FIRE_TIMER_JOB
from app.policy.events import parse_webhook
from app.policy.timefmt import timer_instant
from jobs.context import stores
from jobs.events import apply_event
from jobs.sla import on_timer


def test_a_timer_that_meets_a_transient_failure_is_retried_through_the_timer_job(pipeline) -> None:
    pipeline.save_policy(short_policy(first_response="30m", actions=[
        {"on": "breach", "kind": "note", "targets": ["first_response"]}]))
    issue = pipeline.jira.create_issue("Checkout down", fields={"priority": {"name": "Highest"}})
    pipeline.run_jobs()
    due = pipeline.record(issue).targets["first_response"].due
    pipeline.jira.inject("/rest/api/3/issue/*", status=503, times=100, method="POST")

    assert on_timer(pipeline.client_key, issue["id"], "first_response", "breach", timer_instant(due)) == "retry"

    queue = Queue(pipeline.settings.queue_name, connection=pipeline.redis)
    scheduled = [queue.fetch_job(i) for i in ScheduledJobRegistry(queue=queue).get_job_ids()]
    assert [(j.func_name, j.args, j.kwargs) for j in scheduled if j] == [
        (FIRE_TIMER_JOB, (pipeline.client_key, issue["id"], "first_response", "breach", timer_instant(due)),
         {"attempt": 1})]


def test_a_partial_issue_event_is_decided_on_the_issue_read_once(pipeline) -> None:
    pipeline.save_policy(short_policy(first_response="30m"))
    issue = pipeline.jira.create_issue("Checkout down", fields={"priority": {"name": "Highest"}})
    pipeline.jira.wait_for_deliveries(10)
    Queue(pipeline.settings.queue_name, connection=pipeline.redis).empty()
    full = parse_webhook({"webhookEvent": "jira:issue_created", "issue": pipeline.jira.issue(issue["key"]),
                          "timestamp": 1795429266000})
    assert full is not None
    # What a Forge product event carries: no priority, so on its own it would be the default severity.
    reduced = replace(full, fields={k: v for k, v in full.fields.items() if k != "priority"}, partial_issue=True)
    before = len(pipeline.jira.calls("GET"))

    applied = apply_event(stores(pipeline.services), pipeline.client_key, reduced, "partial-1")

    reads = [c for c in pipeline.jira.calls("GET")[before:] if c.path.endswith(f"/issue/{issue['key']}")]
    assert len(reads) == 1
    assert applied.outcome == "applied" and applied.record is not None and applied.record.severity == "sev1"
