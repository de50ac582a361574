"""Build the Redis writes of an rq enqueue in Python, so one Lua script can apply them atomically.

rq 3.0's ``Queue.enqueue`` (queue.py ``enqueue_job`` → ``_enqueue_async_job``) does, for a job
without dependencies, rate limit or ttl: ``SADD rq:queues rq:queue:<name>``, ``HSET rq:job:<id>``
with ``Job.to_dict()`` (status ``queued``, ``enqueued_at``, ``origin``, ``timeout`` defaulted to the
queue's), then ``RPUSH rq:queue:<name> <id>``. We build the same hash with rq's own ``Job`` and
``Queue`` objects and leave only the writes to a script, so a real ``rq worker`` sees exactly what
rq itself would have written.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import redis
from rq import Queue
from rq.job import JobStatus
from rq.utils import now

#: rq's set of known queue keys (``Queue.redis_queues_keys``); ``rq info`` and workers list it.
RQ_QUEUES_KEY: str = Queue.redis_queues_keys

#: Lua that pushes a prepared job, shared by every script that enqueues: KEYS job, queue, queues set;
#: ARGV[a] job id, ARGV[a+1] queue key, ARGV[a+2..] the job hash as field, value pairs.
LUA_PUSH_JOB = """
local function push_job(job_key, queue_key, queues_key, a)
  redis.call('SADD', queues_key, ARGV[a + 1])
  redis.call('HSET', job_key, unpack(ARGV, a + 2))
  redis.call('RPUSH', queue_key, ARGV[a])
end
"""


@dataclass(frozen=True)
class PreparedJob:
    """An rq job ready to be written by a script: its keys and its hash as flat field/value pairs."""

    job_id: str
    job_key: str
    queue_key: str
    fields: list[Any]

    def keys(self) -> list[str]:
        """KEYS for ``push_job``: job hash, queue list, rq's queues set."""
        return [self.job_key, self.queue_key, RQ_QUEUES_KEY]

    def args(self) -> list[Any]:
        """ARGV for ``push_job``: job id, queue key, then the hash pairs."""
        return [self.job_id, self.queue_key, *self.fields]


def prepare_job(
    connection: redis.Redis,
    queue_name: str,
    func: str,
    args: tuple[Any, ...],
    *,
    job_id: str | None = None,
    timeout: int | None = None,
    result_ttl: int | None = None,
    failure_ttl: int | None = None,
    meta: dict[str, Any] | None = None,
) -> PreparedJob:
    """Create the job ``Queue(queue_name).enqueue(func, *args)`` would write, without writing it."""
    queue = Queue(queue_name, connection=connection)
    job = queue.create_job(
        func,
        args=args,
        timeout=timeout,
        result_ttl=result_ttl,
        failure_ttl=failure_ttl,
        job_id=job_id or str(uuid.uuid4()),
        status=JobStatus.QUEUED,
        meta=meta,
    )
    # What Queue._prepare_for_queue sets before saving (redis_server_version is not part of the hash).
    job.origin = queue.name
    job.enqueued_at = now()
    fields: list[Any] = []
    for name, value in job.to_dict().items():
        if value is not None:  # rq's own script helper skips None the same way
            fields += (name, value)
    return PreparedJob(job_id=job.id, job_key=job.key, queue_key=queue.key, fields=fields)
