"""Comments: the customer-visible reply (ETA follow-ups) and the internal note (action kind `note`).

Not idempotent: before repeating a comment that may have reached Jira (its intent was in flight
when a worker died), the ticket's recent comments are searched for the app's comment with the
same text.
"""

from __future__ import annotations

from typing import Any

from app.policy.actions.base import ActionKind, Delivery, DeliveryPort, IntentKind, Situation
from app.policy.events import comment_text
from app.policy.intent import Intent
from app.policy.model import Action

#: How far back the duplicate check reads a ticket's comments.
RECENT_COMMENTS = 50


def app_comment_exists(port: DeliveryPort, key: str, text: str) -> bool:
    """True when the app already posted a comment with this text (a previous attempt got through)."""
    me = port.app_account_id()
    wanted = " ".join(text.split())
    for comment in port.jira.recent_comments(key, RECENT_COMMENTS):
        author = (comment.get("author") or {}).get("accountId")
        if me and author != me:
            continue
        if " ".join(comment_text(comment.get("body")).split()) == wanted:
            return True
    return False


def note_adf(text: str, assignee: str | None) -> dict[str, Any]:
    """An internal note as ADF, opening with a mention of `assignee` when given."""
    content: list[dict[str, Any]] = []
    if assignee:
        content += [{"type": "mention", "attrs": {"id": assignee}}, {"type": "text", "text": " "}]
    content.append({"type": "text", "text": text})
    return {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": content}]}


def _public_reply(port: DeliveryPort, intent: Delivery) -> dict[str, Any]:
    text = str(intent.payload["text"])
    action = intent.why.get("action", "public_reply")
    if intent.was_in_flight and app_comment_exists(port, intent.issue_key, text):
        return {"action": action, "found_in_jira": True}
    port.jira.add_public_reply(intent.issue_key, text)
    return {"action": action}


def _internal_note(port: DeliveryPort, intent: Delivery) -> dict[str, Any]:
    text = str(intent.payload["text"])
    if intent.was_in_flight and app_comment_exists(port, intent.issue_key, text):
        return {"action": "note", "found_in_jira": True}
    assignee = port.issue_meta(intent.issue_id).get("assignee") if intent.payload.get("mention_assignee") else None
    port.jira.add_internal_note(intent.issue_key, note_adf(text, assignee or None))
    return {"action": "note"}


def _build_note(action: Action, situation: Situation) -> Intent:
    return Intent("internal_note", {"text": situation.note_text, "mention_assignee": True}, situation.why)


PUBLIC_REPLY = IntentKind("public_reply", _public_reply, description="a comment the customer sees")
INTERNAL_NOTE = IntentKind("internal_note", _internal_note, description="an internal note, mentioning the assignee")
INTENT_KINDS = (PUBLIC_REPLY, INTERNAL_NOTE)
ACTION_KINDS = (ActionKind("note", {}, _build_note, INTERNAL_NOTE,
                           description="internal note mentioning the assignee"),)
