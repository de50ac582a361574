"""When and how a job that hit a Jira failure runs again.

- 429: after Jira's `Retry-After` (else `X-RateLimit-Reset`; the door reads both into
  `JiraRateLimited.retry_after`), else exponential backoff with full jitter.
- 5xx, timeouts, connection errors: exponential backoff with jitter.
- 401/403/404/400: never retried (the caller records an audit entry and gives up).
- A database outage (SQLAlchemy `OperationalError`/`InterfaceError`, a DBAPI disconnect): retried
  with backoff capped at `OUTAGE_CAP_SECONDS` for `OUTAGE_MAX_ATTEMPTS` attempts (hours), so the
  job waits the outage out instead of landing on rq's failed list. Nothing was written: the job's
  transaction rolled back, and the event body stays in Redis until the job applies it.

A retry is a new rq job scheduled with `enqueue_in` (the worker runs with `--with-scheduler`),
carrying `attempt + 1`; each attempt builds its Jira calls afresh, so every request is signed
with a fresh Connect JWT. After `MAX_ATTEMPTS` the job gives up.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from rq import Queue, get_current_job
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from app.forge.errors import ForgeTokenExpired
from app.forge.system_token import token_retry_delay
from app.jira.errors import JiraError, JiraRateLimited, JiraUnavailable

log = logging.getLogger(__name__)

#: Attempts a job makes before giving up (the first run included).
MAX_ATTEMPTS = 8
#: First backoff step, in seconds; doubled per attempt.
BACKOFF_BASE_SECONDS = 1.0
#: Longest wait between two attempts (and the cap on a server-requested wait).
BACKOFF_CAP_SECONDS = 300.0
#: rq job timeout of a retried job, in seconds.
RETRY_JOB_TIMEOUT = 180
#: Longest wait between two attempts during a database outage (short: the outage may end any second).
OUTAGE_CAP_SECONDS = 60.0
#: Attempts a job makes through a database outage before it fails (about three hours at the cap).
OUTAGE_MAX_ATTEMPTS = 200
#: SQLite `OperationalError` messages that mean the file cannot be used now (not a wrong statement).
_SQLITE_OUTAGES = ("unable to open database", "database is locked", "disk i/o error", "readonly database",
                   "database or disk is full")


def is_transient(exc: BaseException) -> bool:
    """True for failures worth another attempt: rate limits, 5xx, timeouts, connection errors."""
    return isinstance(exc, JiraRateLimited | JiraUnavailable)


def is_database_outage(exc: BaseException) -> bool:
    """True when the database could not be reached or dropped the connection (not a constraint or SQL error)."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    if type(exc.orig).__module__.startswith("sqlite3"):
        # SQLite reports SQL errors ("no such table") as OperationalError too: only these are outages.
        return any(marker in str(exc.orig).lower() for marker in _SQLITE_OUTAGES)
    return True  # psycopg: connection refused or lost, server shutting down, too many connections


def backoff_seconds(attempt: int, *, rng: random.Random | None = None, cap: float = BACKOFF_CAP_SECONDS) -> float:
    """Full-jitter exponential backoff for `attempt` (0-based): uniform in [base·2^n / 2, base·2^n]."""
    ceiling = min(cap, BACKOFF_BASE_SECONDS * (2 ** min(attempt, 30)))
    return (rng or random).uniform(ceiling / 2, ceiling)


def outage_delay(attempt: int, *, rng: random.Random | None = None) -> float | None:
    """Seconds to wait before attempt `attempt + 1` after a database outage, or None past the budget."""
    if attempt + 1 >= OUTAGE_MAX_ATTEMPTS:
        return None
    return backoff_seconds(attempt, rng=rng, cap=OUTAGE_CAP_SECONDS)


def retry_after_outage(func: str, args: tuple[Any, ...], attempt: int, exc: BaseException, *,
                       fallback_queue: Queue) -> str:
    """Schedule the job again after a database outage: "retry", or re-raise `exc` past the budget."""
    delay = outage_delay(attempt)
    if delay is None:
        raise exc
    log.warning("%s%r: database unavailable (%s)", func, args, type(exc).__name__)
    schedule_retry(func, args, attempt, delay, fallback_queue=fallback_queue)
    return "retry"


def retry_delay(exc: JiraError, attempt: int, *, rng: random.Random | None = None) -> float | None:
    """Seconds to wait before attempt `attempt + 1`, or None when `exc` must not be retried."""
    if isinstance(exc, ForgeTokenExpired):  # wait for the next Forge invocation, not for Jira
        return token_retry_delay(attempt)
    if attempt + 1 >= MAX_ATTEMPTS or not is_transient(exc):
        return None
    if isinstance(exc, JiraRateLimited) and exc.retry_after is not None:
        # A little jitter on top, so a burst of jobs told the same instant does not return as one.
        return min(BACKOFF_CAP_SECONDS, exc.retry_after + (rng or random).uniform(0, 0.5))
    return backoff_seconds(attempt, rng=rng)


def schedule_retry(
    func: str, args: tuple[Any, ...], attempt: int, delay: float, *, fallback_queue: Queue,
    kwargs: Mapping[str, Any] | None = None,
) -> None:
    """Enqueue `func(*args, attempt=attempt + 1)` on the current job's queue after `delay` seconds."""
    job = get_current_job()
    queue = Queue(job.origin, connection=job.connection) if job is not None else fallback_queue
    call_kwargs = {**(kwargs or {}), "attempt": attempt + 1}
    if delay <= 0:
        queue.enqueue(func, *args, **call_kwargs, job_timeout=RETRY_JOB_TIMEOUT)
    else:
        queue.enqueue_in(timedelta(seconds=delay), func, *args, **call_kwargs, job_timeout=RETRY_JOB_TIMEOUT)
    log.info("%s%r: attempt %d in %.1f s", func, args, attempt + 2, delay)
