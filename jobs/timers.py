"""The job a due SLA timer becomes (enqueued by the timer pump, and by its own retries, by dotted path)."""

from __future__ import annotations


def fire_timer(tenant_key: str, issue_id: str, target: str, kind: str, deadline_ts: int, attempt: int = 0) -> None:
    """Hand a fired timer to the SLA handler, which ignores it if the deadline has moved since."""
    from jobs.sla import on_timer  # lazily: the SLA handler pulls in the Jira door and storage

    if attempt:
        on_timer(tenant_key, issue_id, target, kind, deadline_ts, attempt)
    else:
        on_timer(tenant_key, issue_id, target, kind, deadline_ts)
