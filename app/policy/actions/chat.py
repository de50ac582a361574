"""Action kind `chat` (params: `webhook`): post a message to a Slack-compatible incoming webhook.

The policy names the webhook (`webhook: oncall-room`); its URL is a secret kept encrypted in the
tenant's settings (`chat_webhooks`), read only at delivery: it is never in the policy, the outbox,
the audit log, the panel or an export, which show the host at most. The message is Slack's
incoming-webhook shape, `{"text": …}` (Mattermost, Rocket.Chat and Teams' Slack-compatible
connectors take the same). 5xx, 429 and connection failures are retried; another 4xx is audited as
`chat_refused`; a name with no stored URL as `chat_missing`. At least once, like a page.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from app.policy.actions.base import ActionKind, Delivery, DeliveryPort, IntentKind, Param, Situation
from app.policy.intent import Intent
from app.policy.model import Action

#: What a webhook name may look like (it is a key in the tenant's settings, shown in the admin page).
WEBHOOK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def masked_host(url: str) -> str:
    """What may be shown of a webhook URL: its host, nothing of the path that carries the secret."""
    return urlsplit(url).hostname or "?"


def _check_name(value: str) -> str | None:
    return None if WEBHOOK_NAME.match(value) else f'"{value}" is not a webhook name (letters, digits, _ . -)'


def message_text(situation: Situation) -> str:
    """The chat message: the issue key, then what happened in words."""
    return f"{situation.record.issue_key}: {situation.note_text}"


def _build(action: Action, situation: Situation) -> Intent:
    return Intent("chat", {"webhook": action.params.get("webhook", ""), "text": message_text(situation)},
                  situation.why)


def _deliver(port: DeliveryPort, intent: Delivery) -> dict[str, Any]:
    name = str(intent.payload["webhook"])
    url = port.chat_webhook_url(name)
    if url is None:
        return {"action": "chat_missing", "webhook": name}
    status = port.post_json(url, {"text": str(intent.payload["text"])}, what="chat webhook")
    return {"action": "chat_refused" if status >= 400 else "chat", "webhook": name, "host": masked_host(url),
            "status": status}


CHAT = IntentKind("chat", _deliver, description="a message to a Slack-compatible incoming webhook")
INTENT_KINDS = (CHAT,)
ACTION_KINDS = (ActionKind("chat", {"webhook": Param(description="name of a chat webhook in the tenant's settings",
                                                     check=_check_name)},
                           _build, CHAT, description="post a message to a chat webhook"),)
