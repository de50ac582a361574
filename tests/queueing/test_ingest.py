"""Webhook ingest: one round trip, duplicates dropped per tenant, jobs a real rq worker runs."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import redis
from queueing_jobfuncs import DONE_KEY
from rq import Queue
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry

from app.queueing.ingest import event_key, ingest_event, load_event
from app.queueing.ordering import ORDERING_META, ticket_key

RECORD = "queueing_jobfuncs.record_event"
EXPLODE = "queueing_jobfuncs.explode"
QUEUE = "tierwise"


def _event(key: str = "SUP-1") -> dict[str, Any]:
    return {"webhookEvent": "jira:issue_created", "issue": {"id": "10001", "key": key}}


def test_a_real_rq_worker_runs_ingested_events(r: redis.Redis, run_burst_worker) -> None:
    assert ingest_event(r, QUEUE, "tenant-a", "d-1", _event("SUP-1"), job_func=RECORD)
    assert ingest_event(r, QUEUE, "tenant-a", "d-2", b'{"issue": {"key": "SUP-2"}}', job_func=RECORD)
    job_ids = Queue(QUEUE, connection=r).job_ids

    run_burst_worker(QUEUE)

    done = [row.decode().split("|") for row in r.lrange(DONE_KEY, 0, -1)]
    assert [(tenant, issue) for tenant, _, issue in done] == [("tenant-a", "SUP-1"), ("tenant-a", "SUP-2")]
    assert [event_id for _, event_id, _ in done] == job_ids  # the job's id is the event's id
    for job_id, issue in zip(job_ids, ["SUP-1", "SUP-2"], strict=True):
        job = Job.fetch(job_id, connection=r)
        assert job.get_status() == JobStatus.FINISHED
        assert job.return_value() == issue


def test_duplicate_deliveries_are_dropped_per_tenant(r: redis.Redis) -> None:
    assert ingest_event(r, QUEUE, "tenant-a", "d-1", _event(), job_func=RECORD) is True
    assert ingest_event(r, QUEUE, "tenant-a", "d-1", _event(), job_func=RECORD) is False
    assert ingest_event(r, QUEUE, "tenant-a", "d-1", _event(), job_func=RECORD) is False
    # The same identifier from another tenant is another delivery.
    assert ingest_event(r, QUEUE, "tenant-b", "d-1", _event(), job_func=RECORD) is True
    # Tenant keys may contain ':' (Forge installation ARIs); no collision across the separator.
    assert ingest_event(r, QUEUE, "ari:x", "y:d-1", _event(), job_func=RECORD) is True
    assert ingest_event(r, QUEUE, "ari:x:y", "d-1", _event(), job_func=RECORD) is True
    # Without an identifier there is nothing to dedupe on: always enqueued.
    assert ingest_event(r, QUEUE, "tenant-a", None, _event(), job_func=RECORD) is True
    assert ingest_event(r, QUEUE, "tenant-a", None, _event(), job_func=RECORD) is True
    assert Queue(QUEUE, connection=r).count == 6


def test_concurrent_redeliveries_enqueue_once(r: redis.Redis) -> None:
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def deliver() -> None:
        client = redis.Redis(connection_pool=r.connection_pool)
        barrier.wait()
        results.append(ingest_event(client, QUEUE, "tenant-a", "d-race", _event(), job_func=RECORD))

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]
    assert Queue(QUEUE, connection=r).count == 1


def test_the_job_looks_to_rq_as_if_rq_had_enqueued_it(r: redis.Redis) -> None:
    queue = Queue(QUEUE, connection=r)
    # rq's own enqueue of the same job: it carries the ordering key of the event's issue in its meta.
    reference = queue.enqueue(RECORD, "tenant-a", "some-event", meta={ORDERING_META: ticket_key("tenant-a", "10001")})
    assert ingest_event(r, QUEUE, "tenant-a", "d-1", _event(), job_func=RECORD, result_ttl=60)

    assert queue.count == 2
    ours = Job.fetch(queue.job_ids[1], connection=r)
    assert ours.get_status() == JobStatus.QUEUED
    assert ours.origin == QUEUE
    assert ours.func_name == RECORD and ours.args == ("tenant-a", ours.id)
    assert ours.enqueued_at is not None and ours.created_at is not None
    assert ours.timeout == reference.timeout == Queue.DEFAULT_TIMEOUT
    assert ours.result_ttl == 60
    assert set(r.hkeys(ours.key)) == set(r.hkeys(reference.key)) | {b"result_ttl"}
    assert r.ttl(ours.key) == r.ttl(reference.key) == -1  # no expiry until a worker finishes it
    assert [q.name for q in Queue.all(connection=r)] == [QUEUE]
    assert load_event(r, ours.id) == _event()
    assert ours.meta == reference.meta == {ORDERING_META: ticket_key("tenant-a", "10001")}
    assert 0 < r.ttl(event_key(ours.id)) <= 7 * 24 * 3600


def test_a_failing_job_lands_in_rqs_failed_registry(r: redis.Redis, run_burst_worker) -> None:
    assert ingest_event(r, QUEUE, "tenant-a", "d-1", _event(), job_func=EXPLODE)
    job_id = Queue(QUEUE, connection=r).job_ids[0]

    run_burst_worker(QUEUE)

    registry = FailedJobRegistry(QUEUE, connection=r)
    assert registry.get_job_ids() == [job_id]
    job = Job.fetch(job_id, connection=r)
    assert job.get_status() == JobStatus.FAILED
    assert f"cannot process {job_id} for tenant-a" in (job.latest_result().exc_string or "")


@pytest.mark.parametrize("delivery_id", ["d-1", None])
def test_ingest_is_one_round_trip(r: redis.Redis, delivery_id: str | None) -> None:
    ingest_event(r, QUEUE, "tenant-a", "warm-up", _event(), job_func=RECORD)  # loads the script once
    with r.monitor() as monitor:
        r.echo("start-of-test")  # after the connection's handshake, which MONITOR shows too
        assert ingest_event(r, QUEUE, "tenant-a", delivery_id, _event(), job_func=RECORD)
        if delivery_id:
            assert not ingest_event(r, QUEUE, "tenant-a", delivery_id, _event(), job_func=RECORD)
        r.echo("end-of-test")
        while (command := monitor.next_command())["command"] != "ECHO start-of-test":
            pass
        # MONITOR shows every client of the server (other tests' workers, other databases): count
        # only this test's connection, identified by the client that sent the start marker.
        ours = (command["client_address"], command["client_port"])
        sent = []
        while (command := monitor.next_command())["command"] != "ECHO end-of-test":
            if command["client_type"] == "lua":  # commands run inside the script are not round trips
                continue
            if (command["client_address"], command["client_port"]) == ours:
                sent.append(command["command"].split()[0])
    assert sent == ["EVALSHA"] * (2 if delivery_id else 1)


def test_redis_down_raises_so_the_handler_answers_5xx() -> None:
    down = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    with pytest.raises(redis.ConnectionError):
        ingest_event(down, QUEUE, "tenant-a", "d-1", _event(), job_func=RECORD)
