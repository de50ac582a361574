"""The write-back intent: one `PUT` with the bound SLA fields and the `tierwise.sla` property.

Built by `app.policy.writeback.write_back` (not a policy action); repeating it is harmless.
"""

from __future__ import annotations

from typing import Any

from app.policy.actions.base import Delivery, DeliveryPort, IntentKind


def _deliver(port: DeliveryPort, intent: Delivery) -> dict[str, Any]:
    fields = dict(intent.payload["fields"])
    port.jira.update_issue(intent.issue_key, fields, properties=list(intent.payload["properties"]))
    return {"action": "fields_written", "fields": sorted(fields)}


FIELDS = IntentKind("fields", _deliver, idempotent=True, description="bound SLA fields + tierwise.sla property")
INTENT_KINDS = (FIELDS,)
