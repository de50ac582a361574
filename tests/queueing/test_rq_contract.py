"""The ingest and timer scripts write exactly what rq's own ``Queue.enqueue`` writes (rq pinned to 3.0.x).

Every key, its type, its TTL and every field and value are compared on a flushed database: the job
hash (timestamps only checked to parse as rq's), the queue list, rq's set of queues, and any
registry rq would touch. A new rq that changes its job format fails here, loudly, instead of
leaving workers to choke on jobs the scripts wrote in the old one.
"""

from __future__ import annotations

import types
from datetime import UTC, datetime
from typing import Any

import pytest
import redis
import rq
from rq import Queue
from rq.utils import utcparse

from app.queueing import ingest as ingest_module
from app.queueing import rqjob
from app.queueing.ingest import DEFAULT_EVENT_JOB, event_key, ingest_event
from app.queueing.ordering import ORDERING_META, ticket_key
from app.queueing.timers import DEFAULT_FIRE_JOB, TimerStore

QUEUE = "tierwise"
JOB_ID = "5f0c7c1e-9d7e-4a8e-b2a1-0c6f9d3e7a11"
#: Hash fields holding instants: equal only to the microsecond they were written at.
TIME_FIELDS = {b"created_at", b"enqueued_at"}


def snapshot(r: redis.Redis, *, skip_prefix: bytes = b"tw:") -> dict[bytes, tuple[Any, ...]]:
    """Every key outside `skip_prefix`: (type, ttl sign, content)."""
    found: dict[bytes, tuple[Any, ...]] = {}
    for key in sorted(r.keys("*")):
        if key.startswith(skip_prefix):
            continue
        kind = r.type(key)
        ttl = r.ttl(key)
        content: Any
        if kind == b"hash":
            fields = r.hgetall(key)
            for name in TIME_FIELDS & set(fields):
                assert utcparse(fields[name].decode()) <= datetime.now(UTC)
                fields[name] = b"<instant>"
            content = fields
        elif kind == b"list":
            content = r.lrange(key, 0, -1)
        elif kind == b"set":
            content = r.smembers(key)
        elif kind == b"zset":
            content = r.zrange(key, 0, -1, withscores=True)
        else:
            content = r.get(key)
        found[key] = (kind, "none" if ttl == -1 else "expires", content)
    return found


def _fixed_job_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    fixed = types.SimpleNamespace(uuid4=lambda: JOB_ID)
    monkeypatch.setattr(ingest_module, "uuid", fixed)
    monkeypatch.setattr(rqjob, "uuid", fixed)


def test_rq_is_the_pinned_minor_version() -> None:
    assert rq.__version__.startswith("3.0."), "bump the pin in pyproject.toml only with this contract passing"


@pytest.mark.parametrize("options", [{}, {"job_timeout": 30, "result_ttl": 60, "failure_ttl": 300}])
def test_ingest_writes_what_rqs_enqueue_writes(r: redis.Redis, monkeypatch: pytest.MonkeyPatch,
                                               options: dict[str, int]) -> None:
    event = {"webhookEvent": "jira:issue_created", "issue": {"id": "10001", "key": "SUP-1"}}
    meta = {ORDERING_META: ticket_key("tenant-a", "10001")}
    Queue(QUEUE, connection=r).enqueue(DEFAULT_EVENT_JOB, "tenant-a", JOB_ID, job_id=JOB_ID, meta=meta, **options)
    by_rq = snapshot(r)
    r.flushdb()
    _fixed_job_ids(monkeypatch)

    assert ingest_event(r, QUEUE, "tenant-a", "delivery-1", event, **options)

    assert snapshot(r) == by_rq
    assert set(by_rq) == {f"rq:job:{JOB_ID}".encode(), f"rq:queue:{QUEUE}".encode(), b"rq:queues"}
    assert r.exists(event_key(JOB_ID))  # and, beside rq's keys, only Tierwise's own


def test_a_fired_timer_writes_what_rqs_enqueue_writes(r: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    args = ("tenant-a", "10001", "first_response", "breach")
    store = TimerStore(r)
    store.schedule(*args, datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    (timer,) = store.claim_due(datetime(2026, 1, 5, 9, 1, tzinfo=UTC))
    _fixed_job_ids(monkeypatch)
    assert store.fire([timer], QUEUE) == [True]
    by_script = snapshot(r)
    r.flushdb()

    Queue(QUEUE, connection=r).enqueue(DEFAULT_FIRE_JOB, *args, timer.deadline_ts, job_id=JOB_ID,
                                       meta={ORDERING_META: ticket_key("tenant-a", "10001")})

    assert snapshot(r) == by_script
