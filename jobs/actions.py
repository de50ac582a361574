"""Carrying out a ticket's committed intents, each at most once in effect, through the registry.

`deliver(ctx, issue_key, intents)` walks the intents in order and hands each to its kind's
delivery (`app.policy.actions`), through `WorkerPort` (the tenant's Jira gateway, the issue's
meta in Redis, the one outbound-HTTP function, the tenant's encrypted chat webhooks). A kind that
is not idempotent is marked `in_flight` before its call (a worker that dies mid-call leaves the
mark, and the next run looks for the effect first); every intent is marked `sent` after, with its
audit entry — the marks of idempotent intents are written together at the end. Transient
failures propagate (the job retries; the intent stays); 401/403/404/400 and a refused URL
abandon the intent with an audit entry.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from app.jira.errors import JiraAuthError, JiraBadRequest, JiraNotFound
from app.keys import issue_meta_key
from app.outbound import OutboundRefused, post_json
from app.policy.actions import Delivery, JiraPort, intent_kind
from app.storage.outbox import ABANDONED, IN_FLIGHT, SENT, StoredIntent
from jobs.context import TenantContext

log = logging.getLogger(__name__)

#: Failures that end an intent (no retry can help): abandoned with an audit entry.
_GIVE_UP = (JiraAuthError, JiraNotFound, JiraBadRequest, OutboundRefused)


class WorkerPort:
    """`app.policy.actions.DeliveryPort` for one tenant, as the worker has it."""

    rejected: tuple[type[BaseException], ...] = (JiraBadRequest,)

    def __init__(self, ctx: TenantContext) -> None:
        self._ctx = ctx
        self._meta: dict[str, Mapping[str, str]] = {}

    @property
    def jira(self) -> JiraPort:
        return self._ctx.jira

    def app_account_id(self) -> str | None:
        return self._ctx.app_account_id()

    def issue_meta(self, issue_id: str) -> Mapping[str, str]:
        """What the issue's events said about it (`type`, `assignee`), read once per delivery run."""
        found = self._meta.get(issue_id)
        if found is None:
            raw = self._ctx.redis.hgetall(issue_meta_key(self._ctx.key, issue_id)) or {}
            found = self._meta[issue_id] = {_text(k): _text(v) for k, v in raw.items()}
        return found

    def post_json(self, url: str, body: Mapping[str, Any], *, what: str) -> int:
        return post_json(url, body, what=what)

    def chat_webhook_url(self, name: str) -> str | None:
        return self._ctx.stores.chat_webhooks.url(self._ctx.key, name)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def deliver(ctx: TenantContext, issue_key: str, intents: Sequence[StoredIntent]) -> int:
    """Carry out `intents` in order; return how many were sent. Transient failures raise."""
    outbox = ctx.stores.outbox
    port = WorkerPort(ctx)
    done: list[tuple[StoredIntent, str, tuple[str, Mapping[str, Any]] | None]] = []  # idempotent ones' marks, written together
    sent = 0
    try:
        for intent in intents:
            kind = intent_kind(intent.kind)
            if not kind.idempotent:
                outbox.mark_many([*done, (intent, IN_FLIGHT, None)], at=datetime.now(UTC))
                done = []
            try:
                result = kind.deliver(port, Delivery(intent.kind, ctx.key, intent.issue_id, issue_key, intent.payload,
                                                     intent.why, was_in_flight=intent.state == IN_FLIGHT))
            except _GIVE_UP as exc:
                status = getattr(exc, "status", None)
                mark = (intent, ABANDONED, ("gave_up", {**intent.why, "intent": intent.kind, "error": str(exc),
                                                           "status": status}))
                outbox.mark_many([*done, mark], at=datetime.now(UTC))
                done = []
                continue
            mark = (intent, SENT, (str(result.pop("action", intent.kind)), {**intent.why, **result}))
            sent += 1
            if kind.idempotent:
                done.append(mark)
            else:
                outbox.mark_many([*done, mark], at=datetime.now(UTC))
                done = []
    finally:
        if done:
            outbox.mark_many(done, at=datetime.now(UTC))
    return sent
