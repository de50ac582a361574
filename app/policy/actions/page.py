"""Action kind `page` (params: `url`): post the ticket, tier, severity and target to an on-call webhook.

Also built without a policy action for a breached `page_on_call` target (to the tenant's on-call
URL). A 5xx, 429 or connection failure is retried like an unavailable Jira; another 4xx is
audited as `page_refused`. At least once: a worker dying between the POST and its `sent` mark
pages again.
"""

from __future__ import annotations

from typing import Any

from app.policy.actions.base import ActionKind, Delivery, DeliveryPort, IntentKind, Param, Situation
from app.policy.intent import Intent
from app.policy.model import Action


def _deliver(port: DeliveryPort, intent: Delivery) -> dict[str, Any]:
    url = str(intent.payload["url"])
    status = port.post_json(url, dict(intent.payload["body"]), what="on-call webhook")
    return {"action": "page_refused" if status >= 400 else "page", "url": url, "status": status}


def page_intent(url: str | None, situation: Situation) -> Intent | None:
    """The page to `url` (None without a URL)."""
    return Intent("page", {"url": url, "body": dict(situation.page_body)}, situation.why) if url else None


def _build(action: Action, situation: Situation) -> Intent | None:
    return page_intent(action.params.get("url") or situation.oncall_url, situation)


PAGE = IntentKind("page", _deliver)
INTENT_KINDS = (PAGE,)
ACTION_KINDS = (ActionKind("page", {"url": Param(required=False, description="the on-call webhook URL (default: the tenant's)")}, _build, PAGE,
                           description="post the ticket to an on-call webhook"),)
