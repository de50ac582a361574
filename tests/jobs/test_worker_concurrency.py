"""A real ``rq worker -w jobs.worker.TierwiseWorker``: several jobs in flight, one ticket's in order.

Also: a warm SIGTERM lets the jobs in flight finish, and rq's heartbeat is sent at most once a second.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from rq import Queue
from rq.job import Job, JobStatus
from rq.worker import Worker
from worker_jobfuncs import STEPS_KEY

from app.queueing.ordering import ORDERING_META, ordering_key, ticket_key

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
RQ = str(Path(sys.executable).with_name("rq"))
QUEUE = "tierwise-threads"
STEP = "worker_jobfuncs.step"
pytestmark = pytest.mark.e2e


@pytest.fixture
def r(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def _worker(redis_url: str, tmp_path: Path, *extra: str, threads: int = 4) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), str(REPO_ROOT)]),
           "TIERWISE_INSTANCE_DIR": str(tmp_path / "instance"), "TIERWISE_WORKER_THREADS": str(threads)}
    return subprocess.Popen([RQ, "worker", "-w", "jobs.worker.TierwiseWorker", "--url", redis_url, *extra, QUEUE],
                            cwd=tmp_path, env=env, stdout=(tmp_path / "worker.log").open("wb"),
                            stderr=subprocess.STDOUT)


def _steps(r: redis.Redis) -> list[tuple[str, int, float, float]]:
    rows = [raw.decode().split("|") for raw in r.lrange(STEPS_KEY, 0, -1)]
    return [(t, int(n), float(a), float(b)) for t, n, a, b in rows]


def _enqueue(queue: Queue, ticket: str, n: int, seconds: float) -> Job:
    return queue.enqueue(STEP, ticket, n, seconds, meta={ORDERING_META: ticket})


def test_jobs_of_different_tickets_overlap_and_one_tickets_jobs_run_in_order(
    r: redis.Redis, redis_url: str, tmp_path: Path
) -> None:
    queue = Queue(QUEUE, connection=r)
    jobs = [_enqueue(queue, ticket, n, 0.2) for n in range(3) for ticket in "ABCD"]
    proc = _worker(redis_url, tmp_path, "--burst")
    assert proc.wait(60) == 0, (tmp_path / "worker.log").read_text()
    steps = _steps(r)
    assert len(steps) == 12
    assert all(Job.fetch(j.id, connection=r).get_status() == JobStatus.FINISHED for j in jobs)
    for ticket in "ABCD":
        mine = sorted((s for s in steps if s[0] == ticket), key=lambda s: s[2])
        assert [n for _, n, _, _ in mine] == [0, 1, 2]  # in the order they were queued
        for (_, _, _, end), (_, _, start, _) in zip(mine, mine[1:], strict=False):
            assert start >= end  # never side by side
    # Some two steps of different tickets ran at the same time: jobs were in flight together.
    assert any(a[0] != b[0] and a[2] < b[3] and b[2] < a[3] for a in steps for b in steps)
    assert queue.count == 0 and r.llen(queue.intermediate_queue_key) == 0
    assert queue.started_job_registry.count == 0


def test_a_warm_sigterm_lets_the_jobs_in_flight_finish(r: redis.Redis, redis_url: str, tmp_path: Path) -> None:
    queue = Queue(QUEUE, connection=r)
    proc = _worker(redis_url, tmp_path)
    deadline = time.monotonic() + 20
    while not Worker.all(connection=r):
        assert time.monotonic() < deadline and proc.poll() is None, (tmp_path / "worker.log").read_text()
        time.sleep(0.1)
    jobs = [_enqueue(queue, ticket, 0, 1.5) for ticket in "ABC"]
    while queue.started_job_registry.count < 3:
        assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0, (tmp_path / "worker.log").read_text()
    assert sorted(t for t, _, _, _ in _steps(r)) == ["A", "B", "C"]
    assert all(Job.fetch(j.id, connection=r).get_status() == JobStatus.FINISHED for j in jobs)
    assert Worker.all(connection=r) == []  # it registered its death on the way out


def test_the_heartbeat_is_sent_at_most_once_a_second(r: redis.Redis, redis_url: str, tmp_path: Path) -> None:
    queue = Queue(QUEUE, connection=r)
    for n in range(60):
        _enqueue(queue, f"T{n}", 0, 0.0)
    with r.monitor() as monitor:
        r.echo("start-of-test")
        started = time.monotonic()
        proc = _worker(redis_url, tmp_path, "--burst")
        assert proc.wait(60) == 0, (tmp_path / "worker.log").read_text()
        elapsed = time.monotonic() - started
        r.echo("end-of-test")
        beats = 0
        while (command := monitor.next_command())["command"] != "ECHO start-of-test":
            pass
        while (command := monitor.next_command())["command"] != "ECHO end-of-test":
            if command["command"].startswith("HSET rq:worker:") and " last_heartbeat " in command["command"]:
                beats += 1
    assert len(_steps(r)) == 60
    # rq's SimpleWorker sends two to three a job (120+ here); at most one a second, plus the first.
    assert beats <= elapsed + 2, (beats, elapsed)


def test_jobs_without_an_ordering_key_in_meta_are_keyed_by_their_arguments(r: redis.Redis) -> None:
    from app.queueing.ingest import event_key

    queue = Queue(QUEUE, connection=r)
    r.set(event_key("ev-1"), b'{"issue": {"id": "10042", "key": "SUP-1"}}')
    event = queue.enqueue("jobs.events.process_event", "tenant:a", "ev-1", attempt=1)  # a retry: no meta
    timer = queue.enqueue("jobs.timers.fire_timer", "tenant:a", "10042", "first_response", "breach", 0)
    other = queue.enqueue("jobs.sla.reapply_policy", "tenant:a", 3)
    assert ordering_key(event, r) == ordering_key(timer, r) == ticket_key("tenant:a", "10042")
    assert ordering_key(other, r) is None
    assert ordering_key(queue.enqueue("jobs.events.process_event", "tenant:a", "gone"), r) is None


def test_finished_jobs_leave_rqs_registries_as_rq_would_and_release_dependents(
    r: redis.Redis, redis_url: str, tmp_path: Path
) -> None:
    queue = Queue(QUEUE, connection=r)
    first = _enqueue(queue, "A", 0, 0.0)
    then = queue.enqueue(STEP, "A", 1, 0.0, depends_on=first)  # rq's own dependency release still works
    proc = _worker(redis_url, tmp_path, "--burst")
    assert proc.wait(60) == 0, (tmp_path / "worker.log").read_text()
    assert [n for _, n, _, _ in _steps(r)] == [0, 1]
    for job in (first, then):
        fetched = Job.fetch(job.id, connection=r)
        assert fetched.get_status() == JobStatus.FINISHED and fetched.return_value() in (0, 1)
        assert 0 < r.ttl(fetched.key) <= 500  # kept for rq's default result_ttl, then gone
    assert set(queue.finished_job_registry.get_job_ids()) == {first.id, then.id}
    assert queue.started_job_registry.count == 0 and queue.count == 0
