"""Turn Forge Jira product events into the Connect webhook bodies the rest of Tierwise reads.

`app.policy.events.parse_webhook` and the worker read Connect bodies
(`{"webhookEvent": "jira:issue_created", "issue": …, "user": …, "changelog": …}`,
`{"webhookEvent": "comment_created", "comment": …, "issue": …}`); `to_connect_webhook` gives a
Forge event that shape, so nothing behind the front door cares which platform a tenant uses.

Forge payloads, per Atlassian's "Jira events" reference (Forge events reference):
- `avi:jira:created:issue`: `eventType`, `issue` {id, key, fields}, `atlassianId?` (the actor),
  `associatedUsers?`; `avi:jira:updated:issue` adds `changelog` {items: [{field, fieldId, from,
  fromString, to, toString}]} and `associatedStatuses?`.
- `avi:jira:commented:issue`: `issue`, `comment` {id, author, body (ADF), updateAuthor, created,
  updated, jsdPublic}, `atlassianId?`. It fires on comment creation AND edits; Connect's
  `comment_created` only on creation, so edits are dropped here.
- The issue is REDUCED (`summary`, `issueType`, `creator`, `created`, `project`, `reporter`,
  `assignee`, `updated`, `status`): no priority, no custom fields, no organizations. The Connect-shaped
  body is marked `PARTIAL_ISSUE_KEY`, so the worker re-reads the issue (`jobs.issue_refresh`) before it
  derives tier and severity from it.
- Events the app caused itself carry `selfGenerated: true` and are dropped (the Connect path
  drops the app user's own events too; the manifest's `filter.ignoreSelf` keeps most from coming).
A remote receives the event either as the body or wrapped as `{"payload": {…}, "context": {…}}`, with
`retryContext` ({retryCount, retryReason, …}) on Forge's retries; `event_payload` accepts both, and a
retry is the same delivery as its first attempt (`delivery_id` leaves `retryContext` out).
The event's own time is used: its `timestamp` when it has one, else the issue's `updated` / the
comment's `created`; the time of receipt only when it carries none (a retry minutes later must not move
a ticket's clock).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from app.forge.errors import ForgeError
from app.policy.events import PARTIAL_ISSUE_KEY

#: Forge event name → the Connect webhook it stands for.
CONNECT_WEBHOOK_FOR = {
    "avi:jira:created:issue": "jira:issue_created",
    "avi:jira:updated:issue": "jira:issue_updated",
    "avi:jira:commented:issue": "comment_created",
}
#: Connect's `issue_event_type_name` for the two issue webhooks.
_EVENT_TYPE_NAME = {"jira:issue_created": "issue_created", "jira:issue_updated": "issue_updated"}
#: Marks a body as mapped from Forge (audits and logs may show it; parse_webhook ignores it).
PLATFORM_KEY = "tierwisePlatform"
#: Keys Forge changes between deliveries of the same event; left out of the delivery id.
_VOLATILE_KEYS = ("retryContext",)


class ForgeEventError(ForgeError):
    """A Forge event body Tierwise cannot read; answered 400."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def as_json(self) -> dict[str, str]:
        """The response body."""
        return {"error": "malformed_event", "message": self.message}


def event_payload(body: Any) -> Mapping[str, Any]:
    """The Forge event inside a request body (bare, or wrapped in `payload`), without its `retryContext`."""
    if not isinstance(body, Mapping):
        raise ForgeEventError("the body is not a JSON object")
    if isinstance(body.get("eventType"), str):
        event = body
    else:
        inner = body.get("payload")
        if not (isinstance(inner, Mapping) and isinstance(inner.get("eventType"), str)):
            raise ForgeEventError("the body names no eventType")
        event = inner
    return {k: v for k, v in event.items() if k not in _VOLATILE_KEYS}


def retry_count(body: Any) -> int:
    """Which retry of its event a request body is (0: the first attempt), from Forge's `retryContext`."""
    for holder in (body, body.get("payload") if isinstance(body, Mapping) else None):
        context = holder.get("retryContext") if isinstance(holder, Mapping) else None
        count = context.get("retryCount") if isinstance(context, Mapping) else None
        if isinstance(count, int) and not isinstance(count, bool) and count > 0:
            return count
    return 0


def to_connect_webhook(event: Mapping[str, Any], *, received_at: datetime) -> dict[str, Any] | None:
    """The Connect webhook body for a Forge event; None for events Tierwise does not act on.

    `received_at` (aware) stands in for Connect's `timestamp` only when the payload carries no
    time of its own (`issue.fields.updated`, `comment.created`): a redelivery minutes later must
    not move a ticket's clock.
    """
    name = event.get("eventType")
    webhook = CONNECT_WEBHOOK_FOR.get(name) if isinstance(name, str) else None
    if webhook is None or event.get("selfGenerated") is True:
        return None
    issue = _issue(event)
    actor = event.get("atlassianId")
    body: dict[str, Any] = {"webhookEvent": webhook, PLATFORM_KEY: "forge", PARTIAL_ISSUE_KEY: True, "issue": issue}
    stamp = _event_timestamp(event.get("timestamp"))
    if stamp is not None:
        body["timestamp"] = stamp
    if webhook == "comment_created":
        comment = event.get("comment")
        if not isinstance(comment, Mapping) or comment.get("id") in (None, ""):
            raise ForgeEventError("avi:jira:commented:issue without a comment id")
        if _is_edit(comment):
            return None
        comment = dict(comment)
        if not isinstance(comment.get("author"), Mapping) and isinstance(actor, str) and actor:
            comment["author"] = {"accountId": actor}
        body["comment"] = comment
        if not comment.get("created") and "timestamp" not in body:
            body["timestamp"] = _epoch_ms(received_at)
        return body
    body["issue_event_type_name"] = _EVENT_TYPE_NAME[webhook]
    if isinstance(actor, str) and actor:
        body["user"] = {"accountId": actor}
    changelog = event.get("changelog")
    if isinstance(changelog, Mapping):
        body["changelog"] = dict(changelog)
    if not issue["fields"].get("updated") and "timestamp" not in body:
        body["timestamp"] = _epoch_ms(received_at)
    return body


def delivery_id(event: Mapping[str, Any]) -> str:
    """A stable id for one Forge event, equal across Forge's redeliveries of it (for dedupe)."""
    stable = {k: v for k, v in event.items() if k not in _VOLATILE_KEYS}
    canonical = json.dumps(stable, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return "forge-" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:40]


def _issue(event: Mapping[str, Any]) -> dict[str, Any]:
    issue = event.get("issue")
    if not isinstance(issue, Mapping) or issue.get("id") in (None, "") or not issue.get("key"):
        raise ForgeEventError(f"{event.get('eventType')} without an issue id and key")
    raw_fields = issue.get("fields")
    if raw_fields is None:
        raw_fields = {}
    if not isinstance(raw_fields, Mapping):
        raise ForgeEventError("issue.fields is not an object")
    fields = dict(raw_fields)
    # Forge's type reference spells it issueType; Jira REST and Connect bodies say issuetype.
    if "issuetype" not in fields and isinstance(fields.get("issueType"), Mapping):
        fields["issuetype"] = fields["issueType"]
    copied = dict(issue)
    copied["id"] = str(issue["id"])
    copied["fields"] = fields
    return copied


def _is_edit(comment: Mapping[str, Any]) -> bool:
    """A comment whose `updated` is later than `created` was edited, not created, by this event."""
    created, updated = comment.get("created"), comment.get("updated")
    if not (isinstance(created, str) and isinstance(updated, str)) or created == updated:
        return False
    try:
        return datetime.fromisoformat(updated) > datetime.fromisoformat(created)
    except ValueError:
        return False


def _event_timestamp(value: Any) -> int | None:
    """An event's own `timestamp` (epoch milliseconds, or an ISO 8601 time) as epoch ms; None if absent/unreadable."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return int(value)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return _epoch_ms(parsed) if parsed.tzinfo is not None else None
    return None


def _epoch_ms(when: datetime) -> int:
    if when.tzinfo is None:
        raise ValueError("received_at must be timezone-aware")
    return int(when.timestamp() * 1000)
