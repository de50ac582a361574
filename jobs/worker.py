"""The production worker: rq's SimpleWorker plus a timer pump thread.

Start it as ``rq worker -w jobs.worker.TierwiseWorker --with-scheduler --url $REDIS_URL tierwise``.

Why a thread: rq's maintenance hooks run every few minutes and its scheduler forks a separate
process that only moves rq's own ScheduledJobRegistry, so neither can look at the timer set every
second. A daemon thread in the worker's main process, with its own Redis connection, claims due
timers every ``timer_pump_interval`` seconds while the main thread keeps working jobs. Every worker
runs one; the claim script hands each due timer to exactly one of them, so adding workers on other
machines adds redundancy, not duplicate fires.

Why SimpleWorker (jobs run in the worker process, no fork per job): our jobs are short and I/O
bound (a few Jira calls each); forking per job costs ~15 ms: bench/bench_worker.py measured one
process at 65 trivial jobs/s forking against ~300 for SimpleWorker (4.5-4.9x), and 25-29 against
40 jobs/s for jobs that wait 20 ms on Jira (1.4-1.6x); the pump thread costs nothing measurable. What forking
buys — a crashing or leaking job cannot take the worker down — we get back by running workers
under a supervisor with ``--max-jobs`` to recycle them, and jobs are idempotent and take ids, so a
job interrupted by a dead worker is safely re-run. ``TierwiseForkingWorker`` is there for
deployments that prefer isolation. Job timeouts still apply: SimpleWorker runs jobs in the main
thread, where rq's SIGALRM death penalty works.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import redis
from rq.worker import SimpleWorker, Worker

from app.keys import NAMESPACE
from app.queueing.pump import DEFAULT_PUMP_INTERVAL, TimerPump
from app.queueing.timers import TimerStore
from jobs.recovery import RecoveryMixin

#: Key namespace of the timer set (shared with the code that schedules timers).
TIMER_NAMESPACE = NAMESPACE


class TimerPumpMixin:
    """Runs a TimerPump thread for as long as the worker's work loop runs."""

    timer_pump_interval: float = DEFAULT_PUMP_INTERVAL
    timer_namespace: str = TIMER_NAMESPACE
    connection: redis.Redis
    queues: list[Any]
    log: logging.Logger

    def work(self, *args: Any, **kwargs: Any) -> bool:
        stop = threading.Event()
        # Its own connection pool: the pump must not share sockets with the work loop (or a forked horse).
        pool = self.connection.connection_pool
        client = redis.Redis(
            connection_pool=redis.ConnectionPool(
                connection_class=pool.connection_class, **pool.connection_kwargs
            )
        )
        # Fired timers go to the worker's first queue, which is the one it serves first.
        pump = TimerPump(TimerStore(client, self.timer_namespace), self.queues[0].name, logger=self.log)
        thread = threading.Thread(
            target=pump.run, args=(stop, self.timer_pump_interval), name="tierwise-timer-pump", daemon=True
        )
        thread.start()
        try:
            return super().work(*args, **kwargs)  # type: ignore[misc]
        finally:
            stop.set()
            thread.join(timeout=self.timer_pump_interval + 5)
            client.close()


class TierwiseWorker(RecoveryMixin, TimerPumpMixin, SimpleWorker):
    """The worker Tierwise runs in production: jobs in-process, timers pumped alongside, and the
    jobs of dead workers re-run (`jobs.recovery`)."""


class TierwiseForkingWorker(RecoveryMixin, TimerPumpMixin, Worker):
    """The same with a forked work horse per job: slower, but a crashing job cannot kill the worker."""

    def execute_job(self, job: Any, queue: Any) -> Any:
        # Build the services (engine, embedded-database migration) once in the parent: a horse
        # that built its own would pay for them on every job.
        import jobs.events  # noqa: F401 - the job modules and the Jira door, imported once here
        import jobs.sla  # noqa: F401
        from jobs.bootstrap import services

        _ = services().engine
        return super().execute_job(job, queue)

    def main_work_horse(self, job: Any, queue: Any) -> Any:
        from jobs.bootstrap import services

        # Pooled database connections belong to the parent: the horse opens its own.
        services().engine.dispose(close=False)
        return super().main_work_horse(job, queue)
