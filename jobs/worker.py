"""The production worker: rq's SimpleWorker with several jobs in flight, a timer pump thread, and recovery.

Start it as ``rq worker -w jobs.worker.TierwiseWorker --with-scheduler --url $REDIS_URL tierwise``.

Several jobs in flight (``TIERWISE_WORKER_THREADS``, default 8): a job spends most of its time
waiting on Jira (20 ms and more per call) and the database, so one job at a time leaves the process
idle. The main thread dequeues as rq does and hands each job to `jobs.lanes.Lanes`: jobs of one
ticket (their ordering key, `app.queueing.ordering`) run one after another in dequeue order on one
thread; other tickets' jobs run beside them. A slot is taken before each dequeue, so a process holds
at most that many jobs and leaves the rest in Redis for other processes. Across processes nothing
orders one ticket's jobs: two workers may run events of one ticket at the same time, and the
ticket store's optimistic version check (a lost race re-reads and re-applies) keeps the record
right, not the order in which the two were applied; a per-ticket lease across processes is the
reliability issue's (#15) to add. Job timeouts use rq's ``TimerDeathPenalty`` (SIGALRM works only
in the main thread).

rq's bookkeeping is trimmed where it repeats itself: the worker's heartbeat is sent at most once a
second (rq sends one to three per job, each its own round trips) and the worker's state only when
it changes. SIGTERM is a warm shutdown: no more dequeues, the jobs in flight finish, then the
worker registers its death; a second SIGTERM is a cold shutdown that does not wait (the jobs left
are re-run by another worker's recovery sweep, `jobs.recovery`).

Why a pump thread: rq's maintenance hooks run every few minutes and its scheduler forks a separate
process that only moves rq's own ScheduledJobRegistry, so neither can look at the timer set every
second. A daemon thread in the worker's main process, with its own Redis connection, claims due
timers every ``timer_pump_interval`` seconds while the main thread keeps working jobs. Every worker
runs one; the claim script hands each due timer to exactly one of them, so adding workers on other
machines adds redundancy, not duplicate fires.
A second thread rebuilds timers from the database (`TimerSweepMixin`, `jobs.timer_sweep`): all open
tickets at start-up, those due soon every five minutes, so timers lost with Redis's data still fire.

Why no fork per job: our jobs are short and I/O bound (a few Jira calls each); forking per job costs
~15 ms: bench/bench_worker.py measured one process at 65 trivial jobs/s forking against ~300 for
SimpleWorker. What forking buys — a crashing or leaking job cannot take the worker down — we get
back by running workers under a supervisor with ``--max-jobs`` to recycle them, and jobs are
idempotent and take ids, so a job interrupted by a dead worker is safely re-run.
``TierwiseForkingWorker`` is there for deployments that prefer isolation (one job at a time).
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any

import redis
from rq.job import JobStatus
from rq.timeouts import TimerDeathPenalty
from rq.utils import now as rq_now
from rq.worker import SimpleWorker, Worker, WorkerStatus
from rq.worker.base import StopRequested

from app.keys import NAMESPACE
from app.queueing.ordering import ordering_key
from app.queueing.pump import DEFAULT_PUMP_INTERVAL, TimerPump
from app.queueing.timers import TimerStore
from app.settings import Settings
from jobs.bootstrap import services
from jobs.lanes import Lanes
from jobs.recovery import RecoveryMixin
from jobs.timer_sweep import FULL_HORIZON, SWEEP_HORIZON, SWEEP_INTERVAL, sweep_timers

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


class TimerSweepMixin:
    """Rebuilds missing timers from the database, the source of truth for deadlines (`jobs.timer_sweep`):
    every open ticket at start-up, then those due within the next two intervals every
    `timer_sweep_interval` seconds, so a Redis that lost its timers fires every breach once, late at most
    by the outage. Scheduling is idempotent, so several workers sweeping at once do no harm."""

    timer_sweep_interval: float = SWEEP_INTERVAL
    log: logging.Logger

    def work(self, *args: Any, **kwargs: Any) -> bool:
        stop = threading.Event()
        thread = threading.Thread(target=self._sweep_loop, args=(stop,), name="tierwise-timer-sweep", daemon=True)
        thread.start()
        try:
            return super().work(*args, **kwargs)  # type: ignore[misc]
        finally:
            stop.set()
            thread.join(timeout=5)

    def _sweep_loop(self, stop: threading.Event) -> None:
        horizon = FULL_HORIZON
        while not stop.is_set():
            try:
                sweep_timers(services(), datetime.now(UTC), horizon=horizon)
                horizon = SWEEP_HORIZON
            except Exception:  # the database or Redis is down: the next round tries again
                self.log.warning("timer sweep failed; next try in %.0f s", self.timer_sweep_interval, exc_info=True)
            stop.wait(self.timer_sweep_interval)


log = logging.getLogger(__name__)

#: Least seconds between two heartbeats of one worker (rq would send one to three per job).
MIN_HEARTBEAT_INTERVAL = 1.0
#: Seconds the main thread waits for a free job slot before it sends a heartbeat and waits again.
SLOT_WAIT_SECONDS = 5.0


class LeanBookkeepingMixin:
    """rq's worker bookkeeping without the repeats: a heartbeat at most once a second, state on change only."""

    connection: redis.Redis
    worker_ttl: int
    _state: str

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._beat_lock = threading.Lock()  # job threads and the main thread all send heartbeats
        self._beat = (-1e9, -1e9)  # (when the last one was sent, when the worker's key then expires)

    def heartbeat(self, timeout: int | None = None, pipeline: Any = None) -> None:
        ttl = timeout or self.worker_ttl + 60
        at = time.monotonic()
        with self._beat_lock:
            last, expires = self._beat
            # Skip when one was sent under a second ago and the worker's key still outlives a minute.
            if at - last < MIN_HEARTBEAT_INTERVAL and expires - at > 60:
                return
            self._beat = (at, at + ttl)
        super().heartbeat(ttl, pipeline=pipeline)  # type: ignore[misc]

    def set_state(self, state: str, pipeline: Any = None) -> None:
        if pipeline is None and state == getattr(self, "_state", None):
            return
        super().set_state(state, pipeline=pipeline)  # type: ignore[misc]

    def handle_job_success(self, job: Any, queue: Any, started_job_registry: Any, execution: Any) -> None:
        """rq's success bookkeeping in one MULTI/EXEC round trip (rq's own takes three).

        rq first WATCHes and reads the job's dependents (jobs enqueued with ``depends_on`` it);
        Tierwise enqueues none, so the dependents set is only looked at inside the transaction, and
        rq's own release runs afterwards in the rare case it is not empty. Jobs that repeat or are
        rate limited take rq's own path.
        """
        if job.repeats_left or job.has_rate_limit:
            super().handle_job_success(job, queue, started_job_registry, execution)  # type: ignore[misc]
            return
        with self.connection.pipeline() as pipeline:
            self.increment_successful_job_count(pipeline=pipeline)  # type: ignore[attr-defined]
            self.increment_total_working_time(job.ended_at - job.started_at, pipeline)  # type: ignore[attr-defined]
            result_ttl = job.get_result_ttl(self.default_result_ttl)  # type: ignore[attr-defined]
            if result_ttl != 0:
                job._handle_success(result_ttl, pipeline=pipeline, worker_name=self.name,  # type: ignore[attr-defined]
                                    execution_id=execution.id, execution_started_at=execution.created_at,
                                    execution_ended_at=job.ended_at)
            job.cleanup(result_ttl, pipeline=pipeline, remove_from_queue=False)
            job._status = JobStatus.FINISHED
            self.cleanup_execution(job, pipeline=pipeline, execution=execution)  # type: ignore[attr-defined]
            pipeline.exists(job.dependents_key)
            has_dependents = pipeline.execute()[-1]
        if has_dependents:
            queue.enqueue_ready_jobs_by_queue(queue.move_dependents_to_ready(job))

    def handle_execution_ended(self, job: Any, queue: Any, heartbeat_ttl: int) -> None:
        # rq stamps a heartbeat (one more round trip) to cover the job's success/failure callback;
        # a job without callbacks only needs its end time.
        if job.success_callback is None and job.failure_callback is None:
            job.ended_at = rq_now()
            return
        super().handle_execution_ended(job, queue, heartbeat_ttl)  # type: ignore[misc]


def _import_job_modules() -> None:
    """Import the job modules (and through them the Jira door and storage) before the first job.

    Otherwise the first event after a start waits a second or two on imports, and so do the events
    queued behind it.
    """
    import importlib

    from app.queueing.ingest import DEFAULT_EVENT_JOB
    from app.queueing.timers import DEFAULT_FIRE_JOB

    for path in (DEFAULT_EVENT_JOB, DEFAULT_FIRE_JOB):
        try:
            importlib.import_module(path.rsplit(".", 1)[0])
        except ImportError:  # a worker serving other jobs only (tests): nothing to warm
            log.debug("job module of %s not importable", path)


class ConcurrentJobsMixin:
    """Run up to `job_threads` jobs at once on threads, one ticket's jobs in order (`jobs.lanes`)."""

    #: Jobs in flight per process; None reads ``TIERWISE_WORKER_THREADS`` (default 8).
    job_threads: int | None = None
    death_penalty_class: Any = TimerDeathPenalty
    connection: redis.Redis
    log: logging.Logger
    _stop_requested: bool

    def work(self, *args: Any, **kwargs: Any) -> bool:
        threads = self.job_threads or Settings.from_env().worker_threads
        _import_job_modules()
        self._lanes = Lanes(threads, self._run_job)
        self._dispatching = False
        self._cold = False
        try:
            return super().work(*args, **kwargs)  # type: ignore[misc]
        finally:
            self._lanes.close()

    def dequeue_job_and_maintain_ttl(self, timeout: int | None, max_idle_time: int | None = None) -> Any:
        lanes = self._lanes
        while not lanes.acquire(timeout=SLOT_WAIT_SECONDS):  # every slot is busy: keep the worker alive
            self.heartbeat()  # type: ignore[attr-defined]
        try:
            while True:
                result = super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)  # type: ignore[misc]
                if result is not None or lanes.in_flight == 0:
                    break
                # Queue empty in burst mode (or idle too long) while jobs still run: they may queue
                # more (retries, follow-ups), so the queue is empty only once they are done.
                while not lanes.wait_idle(SLOT_WAIT_SECONDS):
                    self.heartbeat()  # type: ignore[attr-defined]
        except BaseException:
            lanes.release()
            raise
        if result is None:
            lanes.release()
        return result

    def execute_job(self, job: Any, queue: Any) -> None:
        self._dispatching = True  # a warm-shutdown signal now must not interrupt the hand-over
        try:
            # Registered as started by this worker before it waits in its lane, so if the process
            # dies the recovery sweep re-runs it.
            execution = self.prepare_execution(job)  # type: ignore[attr-defined]
            self._lanes.submit(ordering_key(job, self.connection), (job, queue, execution))
        finally:
            self._dispatching = False
        if self._stop_requested:
            raise StopRequested()

    def _run_job(self, item: tuple[Any, Any, Any]) -> None:
        job, queue, execution = item
        self.perform_job(job, queue, execution)  # type: ignore[attr-defined]
        if self._lanes.in_flight <= 1:  # this job is the last one in flight
            super().set_state(WorkerStatus.IDLE)  # type: ignore[misc]

    def set_state(self, state: str, pipeline: Any = None) -> None:
        lanes = getattr(self, "_lanes", None)
        if state == WorkerStatus.IDLE and lanes is not None and lanes.in_flight:
            return  # rq marks the worker idle before every dequeue; it is busy while any job runs
        super().set_state(state, pipeline=pipeline)  # type: ignore[misc]

    def _shutdown(self) -> None:
        """Warm shutdown: stop dequeuing now; the jobs in flight finish in `teardown`."""
        self._stop_requested = True
        self.set_shutdown_requested_date()  # type: ignore[attr-defined]
        if getattr(self, "scheduler", None):
            self.stop_scheduler()  # type: ignore[attr-defined]
        if not self._dispatching:
            raise StopRequested()  # out of a blocking dequeue, as rq does for an idle worker

    def request_force_stop(self, signum: int, frame: Any) -> None:
        self._cold = True
        super().request_force_stop(signum, frame)  # type: ignore[misc]

    def teardown(self) -> None:
        lanes = getattr(self, "_lanes", None)
        try:
            if lanes is not None and not self._cold:
                if lanes.in_flight:
                    self.log.info("Worker: waiting for %d job(s) in flight", lanes.in_flight)
                while not lanes.wait_idle(SLOT_WAIT_SECONDS):
                    self.heartbeat()  # type: ignore[attr-defined]
        finally:  # a second signal (cold shutdown) lands here too: still register the death
            super().teardown()  # type: ignore[misc]


class TierwiseWorker(RecoveryMixin, TimerPumpMixin, TimerSweepMixin, ConcurrentJobsMixin, LeanBookkeepingMixin,
                     SimpleWorker):
    """The worker Tierwise runs in production: several jobs in flight (one ticket's in order), timers
    pumped alongside, and the jobs of dead workers re-run (`jobs.recovery`)."""


class TierwiseForkingWorker(RecoveryMixin, TimerPumpMixin, TimerSweepMixin, LeanBookkeepingMixin, Worker):
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
        from app.jira.client import forget_gateways
        from jobs.bootstrap import services

        # Pooled database and Jira connections belong to the parent: the horse opens its own.
        services().engine.dispose(close=False)
        forget_gateways(close=False)
        return super().main_work_horse(job, queue)
