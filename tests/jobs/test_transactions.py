"""How many database transactions and statements one event costs the worker (counted, not timed).

The hot path of a creation event is one transaction that reads the tenant, the policy version,
the settings, the record and the applied mark and writes the mark, the record, the intents and
the audit entries; delivery adds one more for the `sent` marks. The figures are printed for the
bench and the lead (`pytest tests/jobs/test_transactions.py -s`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pipeline_kit import short_policy
from rq import Queue
from sqlalchemy import event
from sqlalchemy.engine import Engine

from jobs.events import process_event
from standin import AGENT


@dataclass
class Counts:
    transactions: int = 0
    commits: int = 0
    rollbacks: int = 0
    statements: int = 0


@contextmanager
def counting(engine: Engine) -> Iterator[Counts]:
    counts = Counts()

    def begin(_conn: object) -> None:
        counts.transactions += 1

    def commit(_conn: object) -> None:
        counts.commits += 1

    def rollback(_conn: object) -> None:
        counts.rollbacks += 1

    def statement(*_: object) -> None:
        counts.statements += 1

    hooks = [("begin", begin), ("commit", commit), ("rollback", rollback), ("before_cursor_execute", statement)]
    for name, fn in hooks:
        event.listen(engine, name, fn)
    try:
        yield counts
    finally:
        for name, fn in hooks:
            event.remove(engine, name, fn)


def _run_first_job(pipeline) -> tuple[str, Counts]:
    """Run the oldest queued event job directly, counting what it does to the database."""
    pipeline.jira.wait_for_deliveries(10)
    queue = Queue(pipeline.settings.queue_name, connection=pipeline.redis)
    job = queue.fetch_job(queue.job_ids[0])
    assert job is not None and job.func_name == "jobs.events.process_event"
    queue.remove(job.id)
    with counting(pipeline.services.engine) as counts:
        outcome = process_event(*job.args)
    return outcome, counts


def test_a_creation_event_is_one_transaction_plus_the_sent_mark(pipeline) -> None:
    pipeline.save_policy(short_policy(first_response="30m"))
    _ = pipeline.services.engine  # built and migrated before counting
    pipeline.jira.create_issue("Printer jam", fields={"priority": {"name": "Medium"}})
    outcome, counts = _run_first_job(pipeline)
    print(f"\ncreation event: {counts}")
    assert outcome == "applied"
    assert counts.transactions == 2 and counts.commits == 2 and counts.rollbacks == 0
    assert counts.statements <= 14


def test_a_reply_needing_an_eta_adds_only_the_comments_in_flight_and_sent_marks(pipeline) -> None:
    pipeline.save_policy(short_policy(first_response="30m"))
    issue = pipeline.jira.create_issue("Checkout down", fields={"priority": {"name": "Highest"}})
    pipeline.run_jobs()
    pipeline.jira.add_comment(issue["key"], "We are looking into it.", public=True, author=AGENT)
    outcome, counts = _run_first_job(pipeline)
    print(f"\nreply event: {counts}")
    assert outcome == "applied"
    # apply; fields sent + reply in flight; reply sent
    assert counts.transactions == 3 and counts.commits == 3 and counts.rollbacks == 0
