"""Timers, actions, failures and policy re-application, run in-process against the stand-in."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from datetime import timedelta

from pipeline_kit import short_policy
from rq import Queue

from app.jira.errors import JiraAuthError, JiraRateLimited, JiraUnavailable
from app.queueing.timers import timer_instant
from jobs.context import load_context, stores
from jobs.recovery import requeue_abandoned, worker_alive
from jobs.retry import BACKOFF_CAP_SECONDS, MAX_ATTEMPTS, retry_delay
from jobs.sla import on_timer, reapply_key, reapply_policy


def test_retry_delays_follow_jira_and_back_off_with_jitter() -> None:
    rng = random.Random(7)
    assert 2.0 <= retry_delay(JiraRateLimited("429", retry_after=2.0), 0, rng=rng) <= 2.5
    no_header = [retry_delay(JiraRateLimited("429", retry_after=None), n, rng=rng) for n in range(4)]
    assert all(d is not None for d in no_header)
    for n, delay in enumerate(no_header):
        assert 2**n / 2 <= (delay or 0) <= 2**n
    assert retry_delay(JiraUnavailable("503"), 20, rng=rng) is None  # attempts are bounded
    assert retry_delay(JiraUnavailable("503"), MAX_ATTEMPTS - 2, rng=rng) <= BACKOFF_CAP_SECONDS
    assert retry_delay(JiraAuthError("401", status=401), 0) is None


def _breached_ticket(pipeline, first_response: str = "30m"):
    pipeline.save_policy(short_policy(first_response=first_response, actions=[
        {"on": "breach", "kind": "transition", "params": {"name": "Escalate to L3"}, "targets": ["first_response"]},
    ]))
    issue = pipeline.jira.create_issue("Checkout down", fields={"priority": {"name": "Highest"}})
    pipeline.run_jobs()
    return issue


def test_stale_timer_does_nothing_and_missing_transition_is_audited(pipeline) -> None:
    issue = _breached_ticket(pipeline)
    record = pipeline.record(issue)
    due = record.targets["first_response"].due
    before = len(pipeline.jira.requests)
    assert on_timer(pipeline.client_key, issue["id"], "first_response", "breach", timer_instant(due) - 60) == "stale"
    assert len(pipeline.jira.requests) == before
    # The real deadline: the policy names a transition this workflow does not have.
    assert on_timer(pipeline.client_key, issue["id"], "first_response", "breach", timer_instant(due)) == "fired"
    actions = pipeline.audit(issue)
    assert "breached" in actions and "transition_missing" in actions
    assert pipeline.jira.issue(issue["key"])["fields"]["status"]["name"] == "Open"
    # Run twice (a retried job): recorded once.
    assert on_timer(pipeline.client_key, issue["id"], "first_response", "breach", timer_instant(due)) in (
        "done_before", "stale")
    assert pipeline.audit(issue).count("breached") == 1


def test_met_target_timer_is_stale(pipeline) -> None:
    issue = _breached_ticket(pipeline)
    due = pipeline.record(issue).targets["first_response"].due
    pipeline.jira.add_comment(issue["key"], "Looking at it now.", public=True)
    pipeline.run_jobs()
    assert on_timer(pipeline.client_key, issue["id"], "first_response", "breach", timer_instant(due)) == "stale"
    assert "breached" not in pipeline.audit(issue)


def test_timers_follow_deadlines(pipeline) -> None:
    issue = _breached_ticket(pipeline)
    st = stores(pipeline.services)
    record = pipeline.record(issue)
    at = st.timers.scheduled_at(pipeline.client_key, issue["id"], "first_response", "breach")
    assert at is not None and abs(at - record.targets["first_response"].due) < timedelta(seconds=1)
    pipeline.jira.add_comment(issue["key"], "On it.", public=True)
    pipeline.run_jobs()
    assert st.timers.scheduled_at(pipeline.client_key, issue["id"], "first_response", "breach") is None
    assert st.timers.scheduled_at(pipeline.client_key, issue["id"], "next_update", "breach") is not None
    pipeline.jira.transition_issue(issue["key"], "Resolve")
    pipeline.run_jobs()
    for target in ("first_response", "next_update", "resolution"):
        assert st.timers.scheduled_at(pipeline.client_key, issue["id"], target, "breach") is None


def test_page_goes_to_the_configured_on_call_url(pipeline) -> None:
    receiver = pipeline.oncall
    pipeline.save_policy(short_policy(first_response="30m", actions=[]), oncall=receiver.url + "/hook")
    issue = pipeline.jira.create_issue("Checkout down", fields={"priority": {"name": "Highest"}})
    pipeline.run_jobs()
    due = pipeline.record(issue).targets["first_response"].due
    assert on_timer(pipeline.client_key, issue["id"], "first_response", "breach", timer_instant(due)) == "fired"
    assert receiver.pages == [{"ticket": issue["key"], "tier": "standard", "severity": "sev1",
                               "target": "first_response", "due": due.isoformat().replace("+00:00", "Z"),
                               "kind": "breach"}]


def test_unauthorised_jira_gives_up_with_an_audit_entry(pipeline) -> None:
    pipeline.save_policy(short_policy(first_response="30m"))
    pipeline.jira.inject("/rest/api/3/issue/*", status=403, times=1, method="PUT")
    issue = pipeline.jira.create_issue("Checkout down", fields={"priority": {"name": "Highest"}})
    pipeline.run_jobs()
    assert "gave_up" in pipeline.audit(issue)
    assert ("fields", "abandoned") in stores(pipeline.services).outbox.states(pipeline.client_key, issue["id"])
    assert len(pipeline.jira.comments(issue["key"])) == 1  # the rest of the work still happened


def test_reapply_policy_recomputes_open_tickets_with_progress(pipeline) -> None:
    pipeline.save_policy(short_policy(first_response="30m"))
    issues = [pipeline.jira.create_issue(f"Q{i}", fields={"priority": {"name": "Highest"}}) for i in range(3)]
    pipeline.run_jobs()
    st = stores(pipeline.services)
    st.policies.save(pipeline.client_key, short_policy(first_response="90m"), "admin")
    version = st.policies.active(pipeline.client_key)
    result = reapply_policy(pipeline.client_key, version.id)
    assert result == {"done": 3, "total": 3}
    assert json.loads(pipeline.redis.get(reapply_key(pipeline.client_key, version.id))) == {"done": 3, "total": 3}
    for issue in issues:
        record = pipeline.record(issue)
        assert record.policy_version_id == version.id
        assert record.targets["first_response"].due - record.created_at == timedelta(minutes=90)
        prop = pipeline.jira.issue(issue["key"])["properties"]["tierwise.sla"]
        assert prop["policyVersion"] == version.number


def test_promise_later_than_policy_gets_internal_note(pipeline) -> None:
    pipeline.save_policy(short_policy(first_response="30m", cadence="60m"))
    issue = pipeline.jira.create_issue("Checkout down", fields={"priority": {"name": "Highest"}})
    pipeline.run_jobs()
    pipeline.jira.add_comment(issue["key"], "Next update in 5 hours.", public=True)
    pipeline.run_jobs()
    comments = pipeline.jira.comments(issue["key"])
    notes = [c for c in comments if "later than the policy" in json.dumps(c["body"])]
    assert len(notes) == 1
    ctx = load_context(pipeline.client_key, pipeline.services)
    assert ctx is not None and pipeline.record(issue).history().promised_update is not None


def test_dead_workers_started_job_is_requeued(pipeline) -> None:
    queue = Queue("recovery-test", connection=pipeline.redis)
    job = queue.enqueue("time.sleep", 30)
    code = (
        "import sys, redis; from rq import Queue, SimpleWorker;"
        f"r = redis.Redis.from_url({pipeline.settings.redis_url!r});"
        "SimpleWorker([Queue('recovery-test', connection=r)], connection=r).work(burst=True)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 20
        while job.id not in queue.started_job_registry.get_job_ids(cleanup=False):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        names = [w.decode().split(":", 2)[2] for w in pipeline.redis.smembers("rq:workers")]
        assert any(worker_alive(pipeline.redis, n) for n in names)
        assert requeue_abandoned(pipeline.redis, [queue]) == []  # alive: left alone
        proc.kill()
        proc.wait(10)
        assert requeue_abandoned(pipeline.redis, [queue]) == [job.id]
        assert queue.job_ids == [job.id]
        assert requeue_abandoned(pipeline.redis, [queue]) == []
    finally:
        proc.kill()
        proc.wait(10)


def _queued_event(pipeline) -> tuple[str, str]:
    pipeline.jira.wait_for_deliveries(10)
    queue = Queue(pipeline.settings.queue_name, connection=pipeline.redis)
    job = queue.jobs[0]
    queue.empty()
    return job.args[0], job.args[1]


def test_transient_failure_is_retried_later_then_given_up(pipeline) -> None:
    from rq.registry import ScheduledJobRegistry

    from jobs.events import process_event

    pipeline.save_policy(short_policy(first_response="30m"))
    pipeline.jira.inject("/rest/api/3/issue/*", status=503, times=100, method="PUT")
    issue = pipeline.jira.create_issue("Checkout down", fields={"priority": {"name": "Highest"}})
    tenant, event_id = _queued_event(pipeline)
    assert process_event(tenant, event_id) == "retry"
    scheduled = ScheduledJobRegistry(pipeline.settings.queue_name, connection=pipeline.redis)
    retry = [j for j in (Queue(pipeline.settings.queue_name, connection=pipeline.redis).fetch_job(i)
                         for i in scheduled.get_job_ids()) if j]
    assert [(j.func_name, j.kwargs.get("attempt")) for j in retry] == [("jobs.events.process_event", 1)]
    assert ("fields", "pending") in stores(pipeline.services).outbox.states(pipeline.client_key, issue["id"])
    assert process_event(tenant, event_id, attempt=MAX_ATTEMPTS - 1) == "gave_up"
    states = stores(pipeline.services).outbox.states(pipeline.client_key, issue["id"])
    assert states and all(state == "abandoned" for _, state in states)
    assert "gave_up" in pipeline.audit(issue)
    assert pipeline.jira.comments(issue["key"]) == []
