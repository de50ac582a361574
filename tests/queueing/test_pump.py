"""The timer pump drains every due timer into rq jobs, in batches, by the Redis server's clock."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import redis
from rq import Queue

from app.queueing.pump import TimerPump
from app.queueing.timers import TimerStore

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def test_one_pump_tick_drains_a_backlog_larger_than_a_batch(r: redis.Redis) -> None:
    store = TimerStore(r)
    store.schedule_many(("tenant-a", str(i), "resolution", "breach", T0) for i in range(250))
    store.schedule("tenant-a", "later", "resolution", "breach", T0 + timedelta(minutes=5))
    pump = TimerPump(store, "tierwise", batch=100, clock=lambda: T0)

    assert pump.pump_once() == 250
    assert pump.pump_once() == 0
    queue = Queue("tierwise", connection=r)
    assert queue.count == 250
    assert {queue.fetch_job(j).args[1] for j in queue.job_ids} == {str(i) for i in range(250)}  # type: ignore[union-attr]
    assert store.count() == 1  # the later timer waits


def test_the_pump_goes_by_the_redis_servers_clock(r: redis.Redis) -> None:
    store = TimerStore(r)
    server_now = TimerPump(store, "tierwise").redis_now()
    assert abs(server_now - datetime.now(UTC)) < timedelta(minutes=1)
    store.schedule("tenant-a", "1", "resolution", "breach", server_now - timedelta(seconds=1))
    store.schedule("tenant-a", "2", "resolution", "breach", server_now + timedelta(hours=1))
    assert TimerPump(store, "tierwise").pump_once() == 1


def test_run_keeps_pumping_until_stopped(r: redis.Redis) -> None:
    store = TimerStore(r)
    pump = TimerPump(store, "tierwise", clock=lambda: T0)
    stop = threading.Event()
    thread = threading.Thread(target=pump.run, args=(stop, 0.05))
    thread.start()
    store.schedule("tenant-a", "1", "resolution", "breach", T0)
    queue = Queue("tierwise", connection=r)
    for _ in range(100):
        if queue.count:
            break
        stop.wait(0.05)
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert queue.count == 1
