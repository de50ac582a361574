"""Action kind `page` (params: `webhook` or `url`): post the ticket, tier, severity and target to an on-call webhook.

Also built without a policy action for a breached `page_on_call` target (to the tenant's on-call
webhook). The receiver's URL is a secret (its path or query usually carries a token), so it is
never in the policy, the outbox, the audit log or the panel: a page names a stored webhook
(`webhook: pager`, kept encrypted with the chat webhooks in the tenant settings) or, with no
params, goes to the tenant's on-call webhook (encrypted too). A `url` param is accepted when a
document is saved and moved there and then into a named webhook (`app.storage.chat_webhooks`);
the version stored keeps the name only. A 5xx, 429 or connection failure is retried like an
unavailable Jira; a refused URL or any other answer is audited `page_failed`, without the
remote's status or body (which would make the audit a port scanner). At least once: a worker
dying between the POST and its `sent` mark pages again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from app.policy.actions.base import ActionKind, Delivery, DeliveryPort, IntentKind, Param, Situation
from app.policy.actions.chat import check_webhook_name
from app.policy.intent import Intent
from app.policy.model import Action

#: The payload key a page carries when it goes to the tenant's on-call webhook.
ONCALL = "oncall"


def check_url_shape(value: str) -> str | None:
    """The schema's check of a `url` param (its address rules are checked at save, `app.outbound`)."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        return "must be an https URL"
    if parts.scheme not in ("https", "http") or not parts.hostname or any(c.isspace() or c == "\\" for c in value):
        return "must be an https URL"
    if "@" in parts.netloc:
        return "must not carry a user name or password"
    return None


def page_urls(document: Mapping[str, Any]) -> list[tuple[int, str]]:
    """(index, url) of each page action of a policy document that carries a raw `url` param."""
    found = []
    for index, action in enumerate(document.get("actions") or []):
        params = action.get("params") if isinstance(action, Mapping) else None
        if action.get("kind") == "page" and isinstance(params, Mapping) and params.get("url"):
            found.append((index, str(params["url"])))
    return found


def _deliver(port: DeliveryPort, intent: Delivery) -> dict[str, Any]:
    name = intent.payload.get("webhook")
    url = port.webhook_url(str(name)) if name else port.oncall_url() if intent.payload.get(ONCALL) else None
    shown = {"webhook": str(name)} if name else {"webhook": ONCALL}
    if url is None:
        return {"action": "page_missing", **shown}
    status = port.post_json(url, dict(intent.payload["body"]), what="on-call webhook")
    return {"action": "page_failed" if status >= 300 else "page", **shown}


def page_intent(webhook: str | None, situation: Situation) -> Intent | None:
    """The page to stored webhook `webhook`, or (None) to the on-call webhook when the tenant has one."""
    if webhook:
        return Intent("page", {"webhook": webhook, "body": dict(situation.page_body)}, situation.why)
    if situation.has_oncall:
        return Intent("page", {ONCALL: True, "body": dict(situation.page_body)}, situation.why)
    return None


def _build(action: Action, situation: Situation) -> Intent | None:
    if action.params.get("url"):
        return None  # an unsaved draft's URL (saving moves it into a named webhook): never into the outbox
    return page_intent(action.params.get("webhook"), situation)


PAGE = IntentKind("page", _deliver)
INTENT_KINDS = (PAGE,)
ACTION_KINDS = (ActionKind("page", {
    "webhook": Param(required=False, description="name of a stored webhook (default: the tenant's on-call webhook)",
                     check=check_webhook_name),
    "url": Param(required=False, description="a webhook URL, moved into a named encrypted webhook when saved",
                 check=check_url_shape),
}, _build, PAGE, description="post the ticket to an on-call webhook"),)
