"""Job functions a real ``rq worker`` runs in the queueing tests; they report back through Redis."""

from __future__ import annotations

from rq import get_current_job

from app.queueing.ingest import load_event

#: The list each test job appends its arguments to, for the test to read.
DONE_KEY = "test:done"


def record_event(tenant_key: str, event_id: str) -> str:
    """Append ``tenant|event id|issue key`` to DONE_KEY, reading the event the way real jobs do."""
    job = get_current_job()
    assert job is not None
    event = load_event(job.connection, event_id)
    issue_key = event["issue"]["key"] if event else "-"
    job.connection.rpush(DONE_KEY, f"{tenant_key}|{event_id}|{issue_key}")
    return issue_key


def explode(tenant_key: str, event_id: str) -> None:
    """Fail, so the job lands in rq's FailedJobRegistry."""
    raise RuntimeError(f"cannot process {event_id} for {tenant_key}")
