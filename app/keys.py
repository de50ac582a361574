"""Every Redis key and job path Tierwise uses, in one place (like rq's `defaults.py`).

The web tier, the queueing layer and the jobs import names from here; a test imports every job
path. Keys live in the `tw` namespace, apart from rq's `rq:`. A tenant key may contain `:`, so
keys that carry one more part after it length-prefix the tenant key.
"""

from __future__ import annotations

#: Namespace of Tierwise's Redis keys (the timer set lives under `tw:timers:`).
NAMESPACE = "tw"
#: Prefix of an ingested event body (`tw:event:<event id>`; the event id is also its rq job id).
EVENT_KEY_PREFIX = f"{NAMESPACE}:event:"
#: Prefix of a webhook delivery's "seen" marker (dedupe of Jira's retries).
DELIVERY_KEY_PREFIX = f"{NAMESPACE}:delivery:"

#: The job an ingested webhook becomes: `process_event(tenant_key, event_id, attempt=0)`.
PROCESS_EVENT_JOB = "jobs.events.process_event"
#: The job a due SLA timer becomes: `fire_timer(tenant_key, issue_id, target, kind, deadline_ts, attempt=0)`.
FIRE_TIMER_JOB = "jobs.timers.fire_timer"
#: Re-apply a policy version to a tenant's open tickets: `reapply_policy(tenant_key, version_id)`.
REAPPLY_JOB = "jobs.sla.reapply_policy"
#: Daily purge of uninstalled tenants past retention.
PURGE_JOB = "jobs.purge.purge_uninstalled_tenants"
#: Every job path above (a test imports each).
JOB_PATHS = (PROCESS_EVENT_JOB, FIRE_TIMER_JOB, REAPPLY_JOB, PURGE_JOB)


def event_key(event_id: str) -> str:
    """The key holding an ingested event's raw body."""
    return EVENT_KEY_PREFIX + event_id


def delivery_key(tenant_key: str, delivery_id: str) -> str:
    """The key marking a tenant's webhook delivery as seen."""
    return f"{DELIVERY_KEY_PREFIX}{len(tenant_key)}:{tenant_key}:{delivery_id}"


def app_account_key(tenant_key: str) -> str:
    """The app user's account id in a tenant's site (written by the worker, read by the web tier)."""
    return f"{NAMESPACE}:app-account:{tenant_key}"


def issue_meta_key(tenant_key: str, issue_id: str) -> str:
    """Hash of what events told us about an issue and the record does not keep (type, assignee)."""
    return f"{NAMESPACE}:issue:{len(tenant_key)}:{tenant_key}:{issue_id}"


def field_types_key(tenant_key: str) -> str:
    """JSON field id → Jira schema type of a tenant's fields (cached for select-field bindings)."""
    return f"{NAMESPACE}:fieldtypes:{tenant_key}"


def reapply_key(tenant_key: str, version_id: int | str) -> str:
    """JSON `{done, total}` progress of re-applying a policy version."""
    return f"{NAMESPACE}:reapply:{tenant_key}:{version_id}"
