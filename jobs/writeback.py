"""The write-back: the one PUT (bound SLA fields + the `tierwise.sla` property) a record needs.

Skipped when the digest of what would be written equals the last one intended for the ticket.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from app.policy.model import Policy
from app.storage.outbox import Intent
from app.storage.policies import PolicyVersion
from app.storage.tickets import TicketRecord
from jobs.context import SLA_PROPERTY, TenantContext
from jobs.ticket_sla import field_values, sla_property, write_hash

#: Seconds the tenant's field types (for select-field bindings) are cached in Redis.
FIELD_TYPES_TTL = 3600


def iso(moment: datetime | None) -> str | None:
    """UTC ISO 8601 with `Z` (None stays None)."""
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def write_back(ctx: TenantContext, policy: Policy, version: PolicyVersion, record: TicketRecord) -> Intent | None:
    """The one PUT (bound fields + `tierwise.sla`) the record needs, or None when Jira already has it."""
    bindings = ctx.settings.field_bindings
    fields = field_values(record, policy, bindings, _field_types(ctx) if _binds_labels(bindings) else {})
    prop = sla_property(record, policy, version.number)
    digest = write_hash(fields, prop)
    if digest == record.last_written_hash:
        return None
    why = {"rule": f"{record.tier}/{record.severity}", "tier_rule": record.tier_rule,
           "severity_rule": record.severity_rule,
           "deadlines": {name: iso(t.due) for name, t in record.targets.items()}}
    return Intent("fields", {"fields": fields, "properties": [{"key": SLA_PROPERTY, "value": prop}],
                             "hash": digest}, why)


def page_payload(record: TicketRecord, kind: str, target: str | None, due: datetime | None) -> dict[str, Any]:
    """The JSON an on-call page carries."""
    return {"ticket": record.issue_key, "tier": record.tier, "severity": record.severity,
            "target": target, "due": iso(due), "kind": kind}


def _binds_labels(bindings: Any) -> bool:
    return bool(bindings.get("tier") or bindings.get("severity"))


def _field_types(ctx: TenantContext) -> dict[str, str]:
    """Field id → schema type of the tenant's fields (one GET per hour, cached in Redis)."""
    key = f"tw:fieldtypes:{ctx.key}"
    raw = ctx.redis.get(key)
    if raw:
        return dict(json.loads(raw))
    types = {str(f.get("id")): str((f.get("schema") or {}).get("type") or "") for f in ctx.jira.get_fields()}
    ctx.redis.set(key, json.dumps(types), ex=FIELD_TYPES_TTL)
    return types
