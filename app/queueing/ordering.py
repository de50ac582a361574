"""Which jobs must not overlap: one ticket's jobs run one at a time, in the order they were queued.

A job's *ordering key* names the ticket it touches (``"<tenant>|<issue id>"``). The ingest writes it
into the job's rq ``meta`` (so the worker needs no extra read); jobs enqueued without it (retries,
jobs from older releases) are keyed from their arguments: a timer job names its issue, an event job
names its event, whose stored body names the issue. Jobs about no ticket (re-apply, purge) have no
key and run whenever a thread is free. Nothing here imports ``jobs``: jobs are known by dotted path.
"""

from __future__ import annotations

import json
from typing import Any

import redis

#: The rq ``meta`` field holding a job's ordering key.
ORDERING_META = "ticket"


def ticket_key(tenant_key: str, issue_id: str | int) -> str:
    """The ordering key of one ticket (length-prefixed: tenant keys may hold '|')."""
    return f"{len(tenant_key)}:{tenant_key}|{issue_id}"


def issue_id_of(event: dict[str, Any]) -> str | None:
    """The issue id a webhook body is about, or None."""
    issue = event.get("issue")
    if isinstance(issue, dict) and issue.get("id") is not None:
        return str(issue["id"])
    return None


def ordering_key(job: Any, connection: redis.Redis | None = None) -> str | None:
    """The ordering key of an rq job, or None when it is about no one ticket."""
    meta = getattr(job, "meta", None) or {}
    found = meta.get(ORDERING_META)
    if isinstance(found, str) and found:
        return found
    from app.queueing.ingest import DEFAULT_EVENT_JOB, event_key  # (they import this module)
    from app.queueing.timers import DEFAULT_FIRE_JOB

    args = tuple(job.args or ())
    if job.func_name == DEFAULT_FIRE_JOB and len(args) >= 2:
        return ticket_key(str(args[0]), str(args[1]))
    if job.func_name == DEFAULT_EVENT_JOB and len(args) >= 2 and connection is not None:

        raw = connection.get(event_key(str(args[1])))
        try:
            body = json.loads(raw) if raw is not None else None
        except ValueError:
            body = None
        issue = issue_id_of(body) if isinstance(body, dict) else None
        return ticket_key(str(args[0]), issue) if issue else None
    return None
