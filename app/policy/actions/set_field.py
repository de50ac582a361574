"""Action kind `set_field` (params: `field`, `value`): write one field; repeating it is harmless.

A text value Jira refuses as is is retried as a select option (`{"value": …}`).
"""

from __future__ import annotations

from typing import Any

from app.policy.actions.base import ActionKind, Delivery, DeliveryPort, IntentKind, Param, Situation
from app.policy.intent import Intent
from app.policy.model import Action


def _deliver(port: DeliveryPort, intent: Delivery) -> dict[str, Any]:
    field, value = str(intent.payload["field"]), intent.payload.get("value")
    try:
        port.jira.update_issue(intent.issue_key, {field: value})
    except port.rejected:
        if not isinstance(value, str):
            raise
        port.jira.update_issue(intent.issue_key, {field: {"value": value}})  # a select field takes an option
    return {"action": "set_field", "field": field, "value": value}


def _build(action: Action, situation: Situation) -> Intent:
    return Intent("set_field", {"field": action.params.get("field", ""), "value": action.params.get("value")},
                  situation.why)


SET_FIELD = IntentKind("set_field", _deliver, idempotent=True)
INTENT_KINDS = (SET_FIELD,)
ACTION_KINDS = (ActionKind("set_field", {"field": Param(description="Jira field id"),
                                         "value": Param(description="the value (text, or a select option)")},
                           _build, SET_FIELD, description="set one field"),)
