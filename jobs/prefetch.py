"""What `decide` needs from Jira, read before the decision and outside any transaction.

At most one issue read per event: the whole issue when an issue event carried a reduced one (a
Forge product event, `partial_issue`) or when a comment arrives for a ticket Tierwise never saw
(the issue is read once and tracked as created). Plus the tenant's field types when tier or severity
is bound to a field (one `GET /field` per hour, cached in Redis).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from app.keys import field_types_key
from app.policy.events import IssueEvent, TicketEvent, parse_webhook
from app.policy.writeback import binds_labels
from jobs.context import TenantContext
from jobs.issue_refresh import complete, read_reduced

#: Seconds the tenant's field types (for select-field bindings) are cached in Redis.
FIELD_TYPES_TTL = 3600


@dataclass(frozen=True)
class Prefetched:
    """What was read for one event. `issue` is the issue as Jira returned it (parsed as an issue event)."""

    issue: IssueEvent | None = None
    issue_read: bool = False
    field_types: Mapping[str, str] | None = field(default=None, hash=False)


@dataclass(frozen=True)
class Needs:
    """What the decision is missing: the whole issue, the field types (or both)."""

    issue: bool = False
    field_types: bool = False

    def __bool__(self) -> bool:
        return self.issue or self.field_types


def needs(ctx: TenantContext, got: Prefetched, *, event: TicketEvent | None = None,
          record_known: bool = True) -> tuple[Needs, Prefetched]:
    """What must be read from Jira before deciding `event` (nothing on the hot path: full fields, no
    label binding or cached field types), and `got` with what Redis already had."""
    if event is None:
        want_issue = False
    elif isinstance(event, IssueEvent):
        want_issue = event.partial_issue
    else:  # a comment: only for an unseen ticket (its reduced issue fields decide nothing else)
        want_issue = not record_known
    want_types = False
    if binds_labels(ctx.settings.field_bindings) and got.field_types is None:
        cached = _cached_field_types(ctx)
        if cached is None:
            want_types = True
        else:
            got = replace(got, field_types=cached)
    return Needs(issue=want_issue and not got.issue_read, field_types=want_types), got


def fetch(ctx: TenantContext, want: Needs, got: Prefetched, event: TicketEvent | None = None) -> Prefetched:
    """Read what `want` names (the one issue read, the field types) and add it to `got`."""
    if want.issue and event is not None:
        got = replace(got, issue=read_issue(ctx, event), issue_read=True)
    if want.field_types:
        got = replace(got, field_types=load_field_types(ctx))
    return got


def field_types(ctx: TenantContext, got: Prefetched) -> Mapping[str, str]:
    """The field types for the decision (empty when no label is bound)."""
    return got.field_types if got.field_types is not None and binds_labels(ctx.settings.field_bindings) else {}


def read_issue(ctx: TenantContext, event: TicketEvent) -> IssueEvent | None:
    """The issue of `event` read once from Jira, as an issue event at the event's time.

    A reduced issue event reads only the fields the policy looks at (`jobs.issue_refresh`); a comment on
    an unseen ticket reads the whole issue (it seeds the record)."""
    if isinstance(event, IssueEvent) and event.partial_issue:
        return read_reduced(ctx, event, ctx.policy)
    issue = ctx.jira.get_issue(event.issue_key)
    kind = "jira:issue_updated" if isinstance(event, IssueEvent) and event.kind != "issue_created" \
        else "jira:issue_created"
    parsed = parse_webhook({"webhookEvent": kind, "issue": issue, "timestamp": int(event.at.timestamp() * 1000)})
    return parsed if isinstance(parsed, IssueEvent) else None


def whole_issue(event: IssueEvent, read: IssueEvent | None) -> IssueEvent:
    """`event` with the fields of the issue as read (a partial event keeps its own kind, time, actor, changes)."""
    return event if read is None else complete(event, read)


def _cached_field_types(ctx: TenantContext) -> dict[str, str] | None:
    raw = ctx.redis.get(field_types_key(ctx.key))
    return dict(json.loads(raw)) if raw else None


def load_field_types(ctx: TenantContext) -> dict[str, str]:
    """Field id → schema type of the tenant's fields (one GET per hour, cached in Redis)."""
    cached = _cached_field_types(ctx)
    if cached is not None:
        return cached
    fields: list[dict[str, Any]] = ctx.jira.get_fields()
    types = {str(f.get("id")): str((f.get("schema") or {}).get("type") or "") for f in fields}
    ctx.redis.set(field_types_key(ctx.key), json.dumps(types), ex=FIELD_TYPES_TTL)
    return types
