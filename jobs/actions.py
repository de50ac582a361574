"""Carrying out intents in Jira (and at the on-call webhook), each at most once in effect.

`deliver(ctx, issue_key, intents)` walks a ticket's committed outbox intents in order. An intent
is marked `in_flight` before its call and `sent` after; one already `in_flight` (a worker died
mid-call) is first looked for in Jira: the app's comment with the same text, the transition
no longer offered. Transient Jira failures propagate (the job retries later, the intent stays);
401/403/404/400 abandon the intent with an audit entry.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import requests

from app.jira.errors import JiraAuthError, JiraBadRequest, JiraNotFound, JiraUnavailable
from app.policy.events import comment_text
from app.policy.model import Action, Policy
from app.storage.outbox import ABANDONED, IN_FLIGHT, SENT, Intent, StoredIntent
from jobs.context import TenantContext, issue_meta_key

log = logging.getLogger(__name__)

#: Seconds the on-call webhook may take (connect + read); a slow pager is retried, not waited on.
PAGE_TIMEOUT_SECONDS = 5
#: How far back the duplicate check reads a ticket's comments.
RECENT_COMMENTS = 50

#: Intents that can simply be repeated (a PUT of the same values): no in-flight mark needed.
IDEMPOTENT_KINDS = frozenset({"fields", "set_field"})

# (tenant, project, issue type) -> transition name (case-folded) -> id.
_transitions: dict[tuple[str, str, str], dict[str, str]] = {}
_transitions_lock = threading.Lock()


class PageFailed(JiraUnavailable):
    """The on-call webhook did not take the page: retried like an unavailable Jira."""


# --- intents from policy actions -----------------------------------------------------------------


def matching_actions(policy: Policy, on: str, *, tier: str | None, severity: str | None,
                     target: str | None = None) -> list[Action]:
    """The policy's actions for event `on` that apply to this tier, severity and target."""
    found = []
    for action in policy.actions:
        if action.on != on:
            continue
        if action.targets and target not in action.targets:
            continue
        if action.severities and severity not in action.severities:
            continue
        if action.tiers and tier not in action.tiers:
            continue
        found.append(action)
    return found


def action_intent(action: Action, *, why: Mapping[str, Any], page_body: Mapping[str, Any],
                  oncall_url: str | None, note_text: str) -> Intent | None:
    """The intent one policy action becomes (None: a page with no URL anywhere)."""
    params = dict(action.params)
    if action.kind == "note":
        return Intent("internal_note", {"text": note_text, "mention_assignee": True}, why)
    if action.kind == "transition":
        return Intent("transition", {"name": params.get("name", "")}, why)
    if action.kind == "set_field":
        return Intent("set_field", {"field": params.get("field", ""), "value": params.get("value")}, why)
    if action.kind == "page":
        url = params.get("url") or oncall_url
        return Intent("page", {"url": url, "body": dict(page_body)}, why) if url else None
    log.warning("unknown action kind %r ignored", action.kind)
    return None


# --- delivery ------------------------------------------------------------------------------------


def deliver(ctx: TenantContext, issue_key: str, intents: Sequence[StoredIntent]) -> int:
    """Carry out `intents` in order; return how many were sent. Transient failures raise."""
    sent = 0
    outbox = ctx.stores.outbox
    for intent in intents:
        now = datetime.now(UTC)
        was_in_flight = intent.state == IN_FLIGHT
        if intent.kind not in IDEMPOTENT_KINDS:
            outbox.mark(intent.id, IN_FLIGHT, at=now)
        try:
            result = _carry_out(ctx, issue_key, intent, was_in_flight)
        except (JiraAuthError, JiraNotFound, JiraBadRequest) as exc:
            outbox.mark(intent.id, ABANDONED, at=datetime.now(UTC), audit=("gave_up", {
                **intent.why, "intent": intent.kind, "error": str(exc), "status": exc.status}))
            continue
        outbox.mark(intent.id, SENT, at=datetime.now(UTC),
                    audit=(result.pop("action", intent.kind), {**intent.why, **result}))
        sent += 1
    return sent


def _carry_out(ctx: TenantContext, key: str, intent: StoredIntent, was_in_flight: bool) -> dict[str, Any]:
    payload = intent.payload
    if intent.kind == "fields":
        ctx.jira.update_issue(key, dict(payload["fields"]), properties=list(payload["properties"]))
        return {"action": "fields_written", "fields": sorted(payload["fields"])}
    if intent.kind == "public_reply":
        text = str(payload["text"])
        if was_in_flight and _app_comment_exists(ctx, key, text):
            return {"action": intent.why.get("action", "public_reply"), "found_in_jira": True}
        ctx.jira.add_public_reply(key, text)
        return {"action": intent.why.get("action", "public_reply")}
    if intent.kind == "internal_note":
        text = str(payload["text"])
        if was_in_flight and _app_comment_exists(ctx, key, text):
            return {"action": "note", "found_in_jira": True}
        ctx.jira.add_internal_note(key, _note_adf(text, _assignee(ctx, intent) if payload.get("mention_assignee")
                                                  else None))
        return {"action": "note"}
    if intent.kind == "transition":
        return _transition(ctx, key, intent)
    if intent.kind == "set_field":
        return _set_field(ctx, key, str(payload["field"]), payload.get("value"))
    if intent.kind == "page":
        return _page(str(payload["url"]), dict(payload["body"]))
    raise ValueError(f"unknown intent kind {intent.kind!r}")


def _app_comment_exists(ctx: TenantContext, key: str, text: str) -> bool:
    """True when the app already posted a comment with this text (a previous attempt got through)."""
    me = ctx.app_account_id()
    wanted = " ".join(text.split())
    for comment in ctx.jira.recent_comments(key, RECENT_COMMENTS):
        author = (comment.get("author") or {}).get("accountId")
        if me and author != me:
            continue
        if " ".join(comment_text(comment.get("body")).split()) == wanted:
            return True
    return False


def _assignee(ctx: TenantContext, intent: StoredIntent) -> str | None:
    raw = ctx.redis.hget(issue_meta_key(ctx.key, intent.issue_id), "assignee")
    return (raw.decode() if isinstance(raw, bytes) else str(raw)) if raw else None


def _note_adf(text: str, assignee: str | None) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if assignee:
        content += [{"type": "mention", "attrs": {"id": assignee}}, {"type": "text", "text": " "}]
    content.append({"type": "text", "text": text})
    return {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": content}]}


def _workflow_key(ctx: TenantContext, intent: StoredIntent, key: str) -> tuple[str, str, str]:
    raw = ctx.redis.hget(issue_meta_key(ctx.key, intent.issue_id), "type")
    return ctx.key, key.rsplit("-", 1)[0], (raw.decode() if isinstance(raw, bytes) else str(raw)) if raw else "*"


def _transition(ctx: TenantContext, key: str, intent: StoredIntent) -> dict[str, Any]:
    """Transition by name: the id comes from a per-(tenant, project, issue type) cache, else GET transitions."""
    name = str(intent.payload["name"])
    wanted = name.casefold()
    cache_key = _workflow_key(ctx, intent, key)
    with _transitions_lock:
        known = _transitions.get(cache_key, {}).get(wanted)
    if known is not None:
        try:
            ctx.jira.transition(key, known)
            return {"action": "transition", "transition": name, "transition_id": known}
        except JiraBadRequest:
            pass  # not offered from this status (or the workflow changed): ask Jira below
    offered = ctx.jira.get_transitions(key)
    names = {str(t.get("name", "")).casefold(): str(t.get("id")) for t in offered}
    with _transitions_lock:
        _transitions.setdefault(cache_key, {}).update(names)
    tid = names.get(wanted)
    if tid is None:
        return {"action": "transition_missing", "transition": name,
                "offered": sorted(str(t.get("name")) for t in offered)}
    ctx.jira.transition(key, tid)
    return {"action": "transition", "transition": name, "transition_id": tid}


def _set_field(ctx: TenantContext, key: str, field: str, value: Any) -> dict[str, Any]:
    try:
        ctx.jira.update_issue(key, {field: value})
    except JiraBadRequest:
        if not isinstance(value, str):
            raise
        ctx.jira.update_issue(key, {field: {"value": value}})  # a select field takes an option
    return {"action": "set_field", "field": field, "value": value}


def _page(url: str, body: dict[str, Any]) -> dict[str, Any]:
    try:
        response = requests.post(url, json=body, timeout=PAGE_TIMEOUT_SECONDS)
    except requests.RequestException as exc:
        raise PageFailed(f"on-call webhook: {type(exc).__name__}") from exc
    if response.status_code >= 500 or response.status_code == 429:
        raise PageFailed(f"on-call webhook answered {response.status_code}", status=response.status_code)
    if response.status_code >= 400:
        return {"action": "page_refused", "url": url, "status": response.status_code}
    return {"action": "page", "url": url, "status": response.status_code}
