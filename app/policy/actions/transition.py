"""Action kind `transition` (params: `name`): move the issue through the transition of that name.

Transition ids are cached per (tenant, project, issue type) in the process; a cached id Jira
refuses (the status changed, the workflow was edited) is looked up again. A name not offered from
the issue's status is audited as `transition_missing`. On a re-run after a crash the transition
is no longer offered, so it is not done twice.
"""

from __future__ import annotations

import threading
from typing import Any

from app.policy.actions.base import ActionKind, Delivery, DeliveryPort, IntentKind, Param, Situation
from app.policy.intent import Intent
from app.policy.model import Action

# (tenant, project, issue type) -> transition name (case-folded) -> id.
_transitions: dict[tuple[str, str, str], dict[str, str]] = {}
_lock = threading.Lock()


def _deliver(port: DeliveryPort, intent: Delivery) -> dict[str, Any]:
    name = str(intent.payload["name"])
    wanted = name.casefold()
    workflow = (intent.tenant_key, intent.issue_key.rsplit("-", 1)[0],
                port.issue_meta(intent.issue_id).get("type") or "*")
    with _lock:
        known = _transitions.get(workflow, {}).get(wanted)
    if known is not None:
        try:
            port.jira.transition(intent.issue_key, known)
            return {"action": "transition", "transition": name, "transition_id": known}
        except port.rejected:
            pass  # not offered from this status (or the workflow changed): ask Jira below
    offered = port.jira.get_transitions(intent.issue_key)
    names = {str(t.get("name", "")).casefold(): str(t.get("id")) for t in offered}
    with _lock:
        _transitions.setdefault(workflow, {}).update(names)
    tid = names.get(wanted)
    if tid is None:
        return {"action": "transition_missing", "transition": name,
                "offered": sorted(str(t.get("name")) for t in offered)}
    port.jira.transition(intent.issue_key, tid)
    return {"action": "transition", "transition": name, "transition_id": tid}


def _build(action: Action, situation: Situation) -> Intent:
    return Intent("transition", {"name": action.params.get("name", "")}, situation.why)


TRANSITION = IntentKind("transition", _deliver)
INTENT_KINDS = (TRANSITION,)
ACTION_KINDS = (ActionKind("transition", {"name": Param(description="the transition's name (any case)")},
                           _build, TRANSITION, description="transition the issue by name"),)
