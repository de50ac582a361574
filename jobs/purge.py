"""Purge tenants uninstalled longer than the retention period (TENANT_RETENTION_DAYS), daily.

Scheduling: the worker calls `schedule_daily_purge` when it starts, and each purge run calls it
again for the next day. The job for a day has a deterministic id (`tierwise-purge-YYYY-MM-DD`),
so however many workers start, each day is scheduled once; rq's scheduler (workers run
`--with-scheduler`) moves it onto the queue at `PURGE_HOUR_UTC`. A day on which no worker runs
is caught up when one starts (its scheduled job is simply late). The job takes no arguments and
builds what it needs through `jobs.bootstrap`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta

from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, get_current_job

from app import keys
from jobs.bootstrap import services

#: Hour (UTC) at which the daily purge runs.
PURGE_HOUR_UTC = 3
#: Dotted path the job is enqueued by (the web layer never imports jobs).
PURGE_JOB = keys.PURGE_JOB
#: How long the result of a purge run is kept in Redis (a day, for `rq info` and operators).
RESULT_TTL_SECONDS = 24 * 3600

log = logging.getLogger(__name__)


def next_purge_at(now: datetime) -> datetime:
    """The first PURGE_HOUR_UTC strictly after `now`."""
    candidate = datetime.combine(now.astimezone(UTC).date(), time(PURGE_HOUR_UTC), tzinfo=UTC)
    return candidate if candidate > now else candidate + timedelta(days=1)


def purge_job_id(when: datetime) -> str:
    """The id of the purge scheduled for `when`'s day."""
    return f"tierwise-purge-{when.astimezone(UTC).date().isoformat()}"


def schedule_daily_purge(queue: Queue, now: datetime | None = None) -> str:
    """Make sure the next daily purge is scheduled on `queue`; returns its job id."""
    when = next_purge_at(now or datetime.now(UTC))
    job_id = purge_job_id(when)
    try:
        Job.fetch(job_id, connection=queue.connection)
    except NoSuchJobError:
        queue.enqueue_at(when, PURGE_JOB, job_id=job_id, result_ttl=RESULT_TTL_SECONDS)
        log.info("purge scheduled", extra={"job_id": job_id, "at": when.isoformat()})
    return job_id


def purge_uninstalled_tenants() -> int:
    """Delete every tenant uninstalled more than the retention period ago; returns how many."""
    svc = services()
    now = datetime.now(UTC)
    cutoff = now - timedelta(days=svc.settings.retention_days)
    purged = svc.tenants.purge_uninstalled(cutoff)
    log.info("purged uninstalled tenants", extra={"purged": purged, "cutoff": cutoff.isoformat()})
    if get_current_job() is not None:  # run by a worker (not inline by `tierwise purge`): chain tomorrow's
        schedule_daily_purge(svc.queue, now)
    return purged
