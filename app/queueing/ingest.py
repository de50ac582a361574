"""The webhook hot path: drop a duplicate delivery, store the event, enqueue its job — one round trip."""

from __future__ import annotations

import json
import uuid
import weakref
from typing import Any

import redis
from redis.commands.core import Script

from app.keys import DELIVERY_KEY_PREFIX, EVENT_KEY_PREFIX, PROCESS_EVENT_JOB, delivery_key, event_key
from app.queueing.rqjob import LUA_PUSH_JOB, prepare_job

__all__ = ["DELIVERY_KEY_PREFIX", "EVENT_KEY_PREFIX", "delete_event", "delivery_key", "event_key", "ingest_event",
           "load_event"]

#: The job a webhook event becomes; it is called as ``process_event(tenant_key, event_id)``.
DEFAULT_EVENT_JOB = PROCESS_EVENT_JOB
#: How long a delivery id is remembered: Jira retries a failed delivery for hours, not days.
DEFAULT_DEDUPE_TTL = 24 * 3600
#: How long a stored event body outlives its enqueue; a job run later than this finds no event.
DEFAULT_EVENT_TTL = 7 * 24 * 3600

# KEYS: job hash, queue list, rq queues set, event body[, delivery marker]
# ARGV: event body, event ttl, dedupe ttl, then push_job's (job id, queue key, hash pairs...)
_INGEST_LUA = (
    LUA_PUSH_JOB
    + """
if #KEYS == 5 and not redis.call('SET', KEYS[5], ARGV[4], 'NX', 'EX', ARGV[3]) then
  return 0
end
redis.call('SET', KEYS[4], ARGV[1], 'EX', ARGV[2])
push_job(KEYS[1], KEYS[2], KEYS[3], 4)
return 1
"""
)

_scripts: weakref.WeakKeyDictionary[redis.Redis, Script] = weakref.WeakKeyDictionary()


def _script(connection: redis.Redis) -> Script:
    script = _scripts.get(connection)
    if script is None:
        script = _scripts[connection] = connection.register_script(_INGEST_LUA)
    return script


def ingest_event(
    redis: redis.Redis,
    queue_name: str,
    tenant_key: str,
    delivery_id: str | None,
    event: dict[str, Any] | bytes,
    *,
    job_func: str = DEFAULT_EVENT_JOB,
    dedupe_ttl: int = DEFAULT_DEDUPE_TTL,
    event_ttl: int = DEFAULT_EVENT_TTL,
    job_timeout: int | None = None,
    result_ttl: int | None = None,
    failure_ttl: int | None = None,
) -> bool:
    """Enqueue ``job_func(tenant_key, event_id)`` for a webhook event unless its delivery was seen.

    Returns True when enqueued, False for a duplicate of ``delivery_id`` (Jira's
    ``X-Atlassian-Webhook-Identifier``) for this tenant; without a delivery id the event is always
    enqueued. The event body is stored under ``event_key(event_id)`` (the job's id too), the job is
    written exactly as rq's ``Queue.enqueue`` writes it, and the dedupe check, the body and the job
    go in one atomic EVALSHA. Raises ``redis.RedisError`` when Redis is unreachable, so the web
    handler can answer 5xx and Jira retries.
    """
    body = event if isinstance(event, bytes) else json.dumps(event, separators=(",", ":")).encode()
    event_id = str(uuid.uuid4())
    job = prepare_job(
        redis,
        queue_name,
        job_func,
        (tenant_key, event_id),
        job_id=event_id,
        timeout=job_timeout,
        result_ttl=result_ttl,
        failure_ttl=failure_ttl,
    )
    keys = [*job.keys(), event_key(event_id)]
    if delivery_id:
        keys.append(delivery_key(tenant_key, delivery_id))
    return bool(_script(redis)(keys=keys, args=[body, event_ttl, dedupe_ttl, *job.args()]))


def load_event(redis: redis.Redis, event_id: str) -> dict[str, Any] | None:
    """The event ingested under ``event_id``, or None when it expired or was deleted."""
    raw = redis.get(event_key(event_id))
    return None if raw is None else json.loads(raw)


def delete_event(redis: redis.Redis, event_id: str) -> None:
    """Forget an event body once its job has applied it."""
    redis.delete(event_key(event_id))
