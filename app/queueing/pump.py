"""The timer pump: claim due SLA timers and turn each into an rq job, about once a second."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import redis

from app.queueing.timers import DEFAULT_FIRE_JOB, TimerStore

log = logging.getLogger(__name__)

#: Seconds between two looks at the due set; timers must fire within 5 s of their instant.
DEFAULT_PUMP_INTERVAL = 1.0
#: Timers claimed per script call; a backlog is drained in batches of this size within one tick.
DEFAULT_PUMP_BATCH = 100


class TimerPump:
    """Move due timers from a TimerStore to an rq queue as ``job_func`` jobs, exactly once each."""

    def __init__(
        self,
        store: TimerStore,
        queue_name: str,
        *,
        job_func: str = DEFAULT_FIRE_JOB,
        batch: int = DEFAULT_PUMP_BATCH,
        clock: Callable[[], datetime] | None = None,
        logger: logging.Logger = log,
    ) -> None:
        self.store = store
        self.queue_name = queue_name
        self.job_func = job_func
        self.batch = batch
        self.clock = clock or self.redis_now
        self.log = logger

    def redis_now(self) -> datetime:
        """The Redis server's clock: pollers on machines with skewed clocks still agree on "due"."""
        seconds, micros = self.store.redis.time()
        return datetime.fromtimestamp(seconds + micros / 1e6, UTC)

    def pump_once(self) -> int:
        """Fire every timer due now; return how many were enqueued."""
        fired = 0
        while True:
            timers = self.store.claim_due(self.clock(), self.batch)
            fired += sum(self.store.fire(timers, self.queue_name, self.job_func))
            if len(timers) < self.batch:
                return fired

    def run(self, stop: threading.Event, interval: float = DEFAULT_PUMP_INTERVAL) -> None:
        """Pump until ``stop`` is set; a Redis outage is logged and retried on the next tick."""
        while not stop.is_set():
            try:
                fired = self.pump_once()
                if fired:
                    self.log.info("timer pump: fired %d timer(s) into %s", fired, self.queue_name)
            except redis.RedisError:
                self.log.warning("timer pump: Redis error, retrying in %.1f s", interval, exc_info=True)
            stop.wait(interval)
