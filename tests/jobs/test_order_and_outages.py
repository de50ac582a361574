"""Nothing lost, nothing reordered: late and shuffled deliveries, a database outage, a Redis wipe.

Against the stand-in, the real Flask app and rq jobs in this process (tests/jobs/conftest.py):

- deliveries held back and released in another order end with the newest state (no roll-back);
- an older reply delivered after a newer one keeps the newer promise and posts no ETA;
- a job that meets an unreachable database is scheduled again, never failed, and applies afterwards;
- after a Redis wipe, a redelivery of an applied reply posts nothing twice (the mark is durable);
- after a Redis wipe, the timer sweep rebuilds the timers from the database and the breach fires once.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pipeline_kit import short_policy
from rq import Queue
from rq.registry import FailedJobRegistry, ScheduledJobRegistry

from app.keys import FIRE_TIMER_JOB, PROCESS_EVENT_JOB
from app.policy.events import parse_webhook
from app.policy.timefmt import timer_instant
from app.storage.tickets import TicketRow
from jobs.context import stores
from jobs.events import apply_event
from jobs.sla import on_timer
from jobs.timer_sweep import FULL_HORIZON, sweep_timers
from standin import AGENT

#: Milliseconds between two edits, so each has its own Jira `updated` time (Jira's clock is in ms).
EDIT_GAP_S = 0.01


def _eta_comments(pipeline, key: str) -> list[str]:
    return [str(c["body"]) for c in pipeline.jira.comments(key) if "Next update by" in str(c["body"])]


def _release_scheduled(pipeline) -> int:
    """Move the scheduled retries onto the queue now (rq's scheduler would, at their time)."""
    queue = Queue(pipeline.settings.queue_name, connection=pipeline.redis)
    registry = ScheduledJobRegistry(queue=queue)
    ids = registry.get_job_ids()
    for job_id in ids:
        job = queue.fetch_job(job_id)
        registry.remove(job_id)
        assert job is not None
        queue.enqueue_job(job)
    return len(ids)


def test_issue_events_delivered_newest_first_end_with_the_newest_state(pipeline) -> None:
    pipeline.save_policy(short_policy(first_response="30m"))
    pipeline.jira.hold_deliveries()
    issue = pipeline.jira.create_issue("Checkout down", fields={"priority": {"name": "Highest"}})
    for priority in ("High", "Low"):
        time.sleep(EDIT_GAP_S)
        pipeline.jira.update_issue(issue["key"], fields={"priority": {"name": priority}})
    held = pipeline.jira.release_deliveries([2, 1, 0])  # newest first: update, update, then the creation
    assert [d.event for d in held] == ["jira:issue_updated", "jira:issue_updated", "jira:issue_created"]
    pipeline.run_jobs()

    record = pipeline.record(issue)
    assert record.severity == "sev4"
    assert pipeline.jira.issue(issue["key"])["properties"]["tierwise.sla"]["severity"] == "sev4"
    assert "recomputed" not in pipeline.audit(issue)  # the older states never applied
    assert _eta_comments(pipeline, issue["key"]) == []  # sev4 asks for no ETA; the stale sev1 creation posted none


def test_an_older_reply_delivered_after_a_newer_one_keeps_the_newer_promise(pipeline) -> None:
    pipeline.save_policy(short_policy(first_response="30m"))
    issue = pipeline.jira.create_issue("Checkout down", fields={"priority": {"name": "Highest"}})
    pipeline.run_jobs()
    assert len(_eta_comments(pipeline, issue["key"])) == 1  # the acknowledgement
    pipeline.jira.hold_deliveries()
    pipeline.jira.add_comment(issue["key"], "We are looking into it.", public=True, author=AGENT)
    time.sleep(EDIT_GAP_S)
    pipeline.jira.add_comment(issue["key"], "Next update in 2 hours.", public=True, author=AGENT)
    pipeline.jira.release_deliveries([1, 0])
    pipeline.run_jobs()

    record = pipeline.record(issue)
    [promise_comment] = [c for c in pipeline.jira.comments(issue["key"]) if "in 2 hours" in str(c["body"])]
    promised_from = datetime.fromisoformat(promise_comment["created"])
    assert record.promised_update_at == promised_from + timedelta(hours=2)
    assert record.targets["next_update"].due == record.promised_update_at
    assert len(_eta_comments(pipeline, issue["key"])) == 1, "the late older reply posted no 'Next update by'"
    assert pipeline.audit(issue).count("reply_out_of_order") == 1


@contextmanager
def database_unreachable(pipeline) -> Iterator[None]:
    """The test's own SQLite database made unreachable (moved away, a directory in its place), then restored."""
    db = Path(pipeline.settings.instance_dir) / "tierwise.db"
    away = db.parent / "away"
    away.mkdir()
    pipeline.services.engine.dispose()
    try:
        for part in db.parent.glob("tierwise.db*"):
            shutil.move(str(part), away / part.name)
        db.mkdir()  # every connection attempt now fails with OperationalError
        yield
    finally:
        db.rmdir()
        for part in away.iterdir():
            shutil.move(str(part), db.parent / part.name)
        away.rmdir()
        pipeline.services.engine.dispose()


def _scheduled(pipeline) -> list[tuple[str, tuple, dict]]:
    queue = Queue(pipeline.settings.queue_name, connection=pipeline.redis)
    jobs = [queue.fetch_job(i) for i in ScheduledJobRegistry(queue=queue).get_job_ids()]
    return [(j.func_name, j.args, j.kwargs) for j in jobs if j is not None]


def _failed(pipeline) -> int:
    return FailedJobRegistry(queue=Queue(pipeline.settings.queue_name, connection=pipeline.redis)).count


def test_a_database_outage_schedules_the_job_again_and_it_applies_afterwards(pipeline) -> None:
    pipeline.save_policy(short_policy(first_response="30m"))
    issue = pipeline.jira.create_issue("Checkout down", fields={"priority": {"name": "Highest"}})
    assert pipeline.jira.wait_for_deliveries(10)
    with database_unreachable(pipeline):
        pipeline.run_jobs()
        assert _failed(pipeline) == 0
        [(func, _, kwargs)] = _scheduled(pipeline)
        assert (func, kwargs) == (PROCESS_EVENT_JOB, {"attempt": 1})
    assert pipeline.record(issue) is None  # nothing was applied during the outage

    assert _release_scheduled(pipeline) == 1
    pipeline.run_jobs()
    assert pipeline.record(issue).severity == "sev1"
    assert len(_eta_comments(pipeline, issue["key"])) == 1
    assert _failed(pipeline) == 0


def test_a_timer_that_meets_a_database_outage_is_retried_through_the_timer_job(pipeline) -> None:
    pipeline.save_policy(short_policy(first_response="30m"))
    issue = pipeline.jira.create_issue("Checkout down", fields={"priority": {"name": "Highest"}})
    pipeline.run_jobs()
    deadline = timer_instant(pipeline.record(issue).targets["first_response"].due)
    args = (pipeline.client_key, issue["id"], "first_response", "breach", deadline)
    with database_unreachable(pipeline):
        assert on_timer(*args) == "retry"
    assert _scheduled(pipeline) == [(FIRE_TIMER_JOB, args, {"attempt": 1})]


def test_a_redelivery_after_a_redis_wipe_posts_nothing_twice(pipeline) -> None:
    pipeline.save_policy(short_policy(first_response="30m"))
    issue = pipeline.jira.create_issue("Checkout down", fields={"priority": {"name": "Highest"}})
    pipeline.run_jobs()
    pipeline.jira.add_comment(issue["key"], "We are looking into it.", public=True, author=AGENT)
    pipeline.run_jobs()
    before = len(pipeline.jira.comments(issue["key"]))
    assert len(_eta_comments(pipeline, issue["key"])) == 2  # the acknowledgement and the follow-up
    [reply] = [d for d in pipeline.jira.deliveries if d.event == "comment_created"
               and d.body["comment"]["author"]["accountId"] == AGENT.account_id]
    created = next(d for d in pipeline.jira.deliveries if d.event == "jira:issue_created")

    pipeline.redis.flushdb()  # Redis lost everything: delivery ids, event bodies, caches
    pipeline.jira.redeliver(reply)
    pipeline.jira.redeliver(created)
    pipeline.run_jobs()

    assert len(pipeline.jira.comments(issue["key"])) == before
    assert len(_eta_comments(pipeline, issue["key"])) == 2


def test_timers_wiped_from_redis_are_rebuilt_by_the_sweep_and_the_breach_fires_once(pipeline) -> None:
    pipeline.save_policy(short_policy(first_response="30m"))
    issue = pipeline.jira.create_issue("Checkout down", fields={"priority": {"name": "Highest"}})
    pipeline.run_jobs()
    record = pipeline.record(issue)
    due = record.targets["first_response"].due
    assert record.next_deadline is not None and record.next_deadline <= due
    timers = stores(pipeline.services).timers
    assert timers.scheduled_at(pipeline.client_key, issue["id"], "first_response", "breach") is not None

    pipeline.redis.flushdb()
    assert timers.count() == 0
    now = datetime.now(UTC)
    assert sweep_timers(pipeline.services, now).tickets == 0  # due in 30 minutes: beyond a periodic sweep
    swept = sweep_timers(pipeline.services, now, horizon=FULL_HORIZON)
    assert (swept.tickets, swept.skipped) == (1, 0) and swept.timers >= 2
    assert timers.scheduled_at(pipeline.client_key, issue["id"], "first_response", "breach") == \
        datetime.fromtimestamp(timer_instant(due), UTC)
    again = sweep_timers(pipeline.services, now, horizon=FULL_HORIZON)
    assert again.timers == swept.timers and timers.count() == swept.timers  # idempotent: no second timer

    late = due + timedelta(minutes=5)  # the outage lasted past the deadline
    fired = 0
    for _ in range(3):  # sweep and fire repeatedly: the breach must still fire only once
        sweep_timers(pipeline.services, late, horizon=FULL_HORIZON)
        fired += sum(timers.fire(timers.claim_due(late), pipeline.settings.queue_name))
        pipeline.run_jobs()
    assert pipeline.audit(issue).count("breached") == 1
    assert pipeline.record(issue).targets["first_response"].breached_at == due
    transitions = [c for c in pipeline.jira.calls("POST") if c.app_key and c.path.endswith("/transitions")]
    assert len(transitions) == 1
    assert fired >= 1


def test_a_start_up_sweep_also_rebuilds_tickets_stored_before_the_next_deadline_column(pipeline) -> None:
    pipeline.save_policy(short_policy(first_response="1m"))
    issue = pipeline.jira.create_issue("Checkout down", fields={"priority": {"name": "Highest"}})
    pipeline.run_jobs()
    with pipeline.services.engine.begin() as conn:  # as a row written before migration 0005 looks
        conn.execute(sa.update(TicketRow).values(next_deadline=None))
    pipeline.redis.flushdb()
    timers = stores(pipeline.services).timers
    now = datetime.now(UTC)

    assert sweep_timers(pipeline.services, now).tickets == 0  # a periodic sweep reads only the index
    assert sweep_timers(pipeline.services, now, horizon=FULL_HORIZON).tickets == 1
    assert timers.scheduled_at(pipeline.client_key, issue["id"], "first_response", "breach") is not None


def _priority_update(created: dict[str, Any], priority: str, seconds: int, changelog: int) -> Any:
    """An issue_updated parsed from the issue_created body: `priority` set, `seconds` later, with a changelog id."""
    body = json.loads(json.dumps(created))
    base = datetime.fromisoformat(body["issue"]["fields"]["updated"])
    body.update(webhookEvent="jira:issue_updated", issue_event_type_name="issue_updated",
                changelog={"id": str(changelog), "items": [{"fieldId": "priority"}]})
    body["issue"]["fields"].update(priority={"name": priority}, updated=(base + timedelta(seconds=seconds)).isoformat())
    return parse_webhook(body)


def _apply_at_once(pipeline, events: list[tuple[Any, str]]) -> list[str]:
    """Apply the events from one thread each, released together; their outcomes."""
    st = stores(pipeline.services)
    barrier = threading.Barrier(len(events))
    outcomes: list[str] = []

    def work(event: Any, event_id: str) -> None:
        barrier.wait()
        outcomes.append(apply_event(st, pipeline.client_key, event, event_id).outcome)

    threads = [threading.Thread(target=work, args=pair) for pair in events]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return outcomes


def test_two_workers_applying_an_older_and_a_newer_update_at_once_end_with_the_newer(pipeline) -> None:
    pipeline.save_policy(short_policy(first_response="30m"))
    for round_ in range(4):
        issue = pipeline.jira.create_issue(f"Checkout down {round_}", fields={"priority": {"name": "Medium"}})
        pipeline.run_jobs()
        created = next(d for d in reversed(pipeline.jira.deliveries) if d.event == "jira:issue_created").body
        older = _priority_update(created, "Highest", 1, 500 + 2 * round_)
        newer = _priority_update(created, "Low", 2, 501 + 2 * round_)
        outcomes = _apply_at_once(pipeline, [(older, f"race-{round_}-old"), (newer, f"race-{round_}-new")])
        assert sorted(outcomes) in (["applied", "applied"], ["applied", "stale"]), outcomes
        assert pipeline.record(issue).severity == "sev4", f"round {round_}: {outcomes}"
