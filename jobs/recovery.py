"""Re-run jobs whose worker died mid-job (SIGKILL, OOM, a lost machine).

What rq 3.0 does on its own: a started job sits in the queue's StartedJobRegistry under a score of
"now + heartbeat TTL" (min(job timeout, 30 s) + 60 s, refreshed only by a forking worker's
monitor loop). `StartedJobRegistry.cleanup` treats an entry past its score as abandoned and
retries it only if the job carries `Retry` (`retries_left`), else moves it to the
FailedJobRegistry; cleanup runs at worker start-up and then every 10 minutes
(`maintenance_interval`). So a job killed with its worker is, by default, *failed* up to ten
minutes later, not re-run.

What is added here: `requeue_abandoned` looks at started jobs and asks whether their worker is
alive: on this host by its pid (a killed worker is known dead at once), elsewhere by its rq
worker key (which expires `worker_ttl` after its last heartbeat). A dead worker's job is removed
from the registry (an atomic ZREM decides which of several sweeping workers requeues it) and put
back on its queue — also the jobs a threaded worker had registered but not begun (they waited
behind another job of their ticket, `jobs.lanes`). Jobs are idempotent (`jobs.events`, `jobs.sla`), so re-running one that had
got half-way is safe. `RecoveryMixin` (part of `jobs.worker.TierwiseWorker`) sweeps at start-up and
every `RECOVERY_INTERVAL` seconds.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterable
from typing import Any

import redis
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.executions import Execution
from rq.job import Job, JobStatus
from rq.worker import Worker

log = logging.getLogger(__name__)

#: Seconds between two sweeps for abandoned jobs in a running worker.
RECOVERY_INTERVAL = 10.0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def worker_alive(connection: redis.Redis, worker_name: str, *, hostname: str | None = None) -> bool:
    """True unless the worker is known dead: its key is gone, it recorded a death, or its pid on this host is gone."""
    if not worker_name:
        return False
    data = connection.hgetall(Worker.redis_worker_namespace_prefix + worker_name)
    if not data:
        return False
    if data.get(b"death"):
        return False
    raw_host = data.get(b"hostname") or b""
    host = raw_host.decode() if isinstance(raw_host, bytes) else str(raw_host)
    pid = data.get(b"pid")
    if host == (hostname or socket.gethostname()) and pid:
        return _pid_alive(int(pid))
    return True  # another machine: its key lives until worker_ttl after its last heartbeat


def requeue_abandoned(connection: redis.Redis, queues: Iterable[Queue], *, hostname: str | None = None) -> list[str]:
    """Put the started jobs of dead workers back on their queues; return their ids."""
    requeued: list[str] = []
    for queue in queues:
        registry = queue.started_job_registry
        for job_id, execution_id in registry.get_job_and_execution_ids(cleanup=False):
            try:
                execution: Execution | None = Execution.fetch(execution_id, job_id, connection)
            except Exception:  # noqa: BLE001 - the execution hash expired: its worker is long gone
                execution = None
            if execution is not None and worker_alive(connection, execution.worker_name, hostname=hostname):
                continue
            if not connection.zrem(registry.key, f"{job_id}:{execution_id}"):
                continue  # another worker's sweep took it
            try:
                job = Job.fetch(job_id, connection=connection)
            except NoSuchJobError:
                continue
            # STARTED: it was running. QUEUED: it waited behind its ticket's running job in the
            # dead worker (`jobs.lanes`), registered but not begun. Anything else has ended.
            if job.get_status() not in (JobStatus.STARTED, JobStatus.QUEUED):
                continue
            # A job that never began is still in rq's intermediate list (rq takes it out on start).
            connection.lrem(queue.intermediate_queue_key, 0, job_id)
            queue.enqueue_job(job)
            requeued.append(job_id)
            log.warning("requeued job %s: its worker %s died mid-job", job_id,
                        execution.worker_name if execution else "?")
    return requeued


class RecoveryMixin:
    """Sweep for abandoned jobs when the worker starts and every `recovery_interval` seconds."""

    recovery_interval: float = RECOVERY_INTERVAL
    connection: redis.Redis
    queues: list[Queue]

    def _sweep(self) -> None:
        try:
            requeue_abandoned(self.connection, self.queues)
        except redis.RedisError:
            log.warning("abandoned-job sweep: Redis error", exc_info=True)

    def work(self, *args: Any, **kwargs: Any) -> bool:
        stop = threading.Event()
        self._sweep()

        def loop() -> None:
            while not stop.wait(self.recovery_interval):
                self._sweep()

        thread = threading.Thread(target=loop, name="tierwise-recovery", daemon=True)
        thread.start()
        try:
            return super().work(*args, **kwargs)  # type: ignore[misc]
        finally:
            stop.set()

