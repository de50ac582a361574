"""Jira Cloud webhook bodies as ticket facts: `parse_webhook(body) -> IssueEvent | CommentEvent | None`.

Pure parsing of the three events Tierwise subscribes to (`jira:issue_created`, `jira:issue_updated`,
`comment_created`), checked against the real bodies in `../shared/peers/webhooks/`. Service Management
fields whose ids differ per site (organizations, request participants) are named by `JsmFieldIds`,
which the worker resolves once per tenant from `GET /rest/api/3/field`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from app.policy.errors import PolicyError

#: `IssueEvent.kind` values.
ISSUE_CREATED = "issue_created"
ISSUE_UPDATED = "issue_updated"

COMMENT_CREATED_WEBHOOK = "comment_created"

#: `issue_event_type_name` of the `jira:issue_updated` that Jira also fires for a new comment (Cloud
#: and Server). The comment itself is taken from `comment_created`, never from this echo.
ISSUE_COMMENTED = "issue_commented"

#: `accountType` of an app's user (Connect and Forge apps act as one in Jira).
APP_ACCOUNT_TYPE = "app"
#: Body key marking a webhook body whose `issue` is a reduced one (Forge product events carry only a
#: handful of fields): the worker re-reads the issue before deriving tier and severity.
PARTIAL_ISSUE_KEY = "tierwisePartialIssue"

#: Link fragment that marks a JSM organization object (`_links.self` of an OrganizationDTO).
_ORGANIZATION_LINK = "/servicedeskapi/organization/"


class EventError(PolicyError):
    """A webhook body Tierwise cannot read as a ticket fact."""


@dataclass(frozen=True)
class JsmFieldIds:
    """Site-specific custom field ids of Service Management fields (None: not known).

    Without `organizations`, organization values are recognised by their JSM shape (objects whose
    `_links.self` points at `/rest/servicedeskapi/organization/{id}`).
    """

    organizations: str | None = None
    request_participants: str | None = None


@dataclass(frozen=True)
class IssueEvent:
    """An issue was created or updated.

    `fields` is the issue's `fields` object as sent (read-only); `changed_fields` the field ids of
    the changelog (`status`, `priority`, `customfield_10042`; empty when Jira sent `items: []` or
    no changelog). `actor_*` describe who caused it (`user`); None when the body does not say.
    """

    kind: str
    issue_id: str
    issue_key: str
    project_key: str
    at: datetime
    actor_account_id: str | None
    actor_account_type: str | None
    status_name: str | None
    status_category: str | None
    fields: Mapping[str, Any] = field(hash=False, compare=False, repr=False)
    changed_fields: tuple[str, ...] = ()
    reporter_account_id: str | None = None
    reporter_email: str | None = None
    organizations: tuple[str, ...] = ()
    request_participants: tuple[str, ...] = ()
    event_type_name: str = ""
    created_at: datetime | None = None
    #: The issue in `fields` is reduced (a Forge product event): the worker reads it whole first.
    partial_issue: bool = False

    @property
    def is_comment_echo(self) -> bool:
        """True for the issue_updated Jira fires alongside a new comment: no field changed."""
        return self.event_type_name == ISSUE_COMMENTED and not self.changed_fields


@dataclass(frozen=True)
class CommentEvent:
    """A comment was added to an issue.

    `public` is true when the customer can see it (`jsdPublic`, and no role/group `visibility`);
    `body_text` is the comment as plain text (wiki markup as Cloud sends it; ADF flattened).
    The reporter, participants and organizations are filled only when the body carries them
    (Cloud's comment_created sends a handful of issue fields: usually not the reporter).
    """

    issue_id: str
    issue_key: str
    project_key: str
    comment_id: str
    at: datetime
    author_account_id: str | None
    author_account_type: str | None
    body_text: str
    public: bool
    author_email: str | None = None
    author_is_external_email: bool = False
    status_name: str | None = None
    status_category: str | None = None
    reporter_account_id: str | None = None
    organizations: tuple[str, ...] = ()
    request_participants: tuple[str, ...] = ()
    #: The issue fields sent are reduced (a Forge product event): the worker reads the issue first.
    partial_issue: bool = False


TicketEvent = IssueEvent | CommentEvent


def actor_of(event: TicketEvent) -> tuple[str | None, str | None]:
    """(account id, account type) of whoever caused the event."""
    if isinstance(event, IssueEvent):
        return event.actor_account_id, event.actor_account_type
    return event.author_account_id, event.author_account_type


def body_actor(body: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(account id, account type) of whoever caused a raw webhook body (the comment's author, else the user)."""
    comment = body.get("comment")
    person = comment.get("author") if isinstance(comment, Mapping) else body.get("user")
    if not isinstance(person, Mapping):
        return None, None
    return _opt_str(person.get("accountId")), _opt_str(person.get("accountType"))


def is_app_echo(actor: tuple[str | None, str | None], app_account: Callable[[], str | None]) -> bool:
    """True for the echo of the app's own write: its own `app` user caused it (other apps are followed).

    `app_account()` (the app user's id, from a cache or Jira) is asked only for `app` actors, so
    the common case — a person — costs nothing.
    """
    account_id, account_type = actor
    if account_type != APP_ACCOUNT_TYPE or not account_id:
        return False
    return account_id == app_account()


@dataclass(frozen=True)
class EventKind:
    """One webhook event Tierwise subscribes to: its Connect webhook name (descriptor `webhooks`), the
    Forge product event that stands for it (manifest trigger), and how its body is read."""

    webhook: str
    forge_event: str
    parse: Callable[[Mapping[str, Any], JsmFieldIds], TicketEvent]


#: Every event kind, the one list: the Connect descriptor's webhooks, the Forge manifest's trigger
#: events and `parse_webhook` are checked against it (tests/policy/test_event_kinds.py).
EVENT_KINDS: tuple[EventKind, ...] = (
    EventKind("jira:issue_created", "avi:jira:created:issue", lambda b, ids: _issue_event(ISSUE_CREATED, b, ids)),
    EventKind("jira:issue_updated", "avi:jira:updated:issue", lambda b, ids: _issue_event(ISSUE_UPDATED, b, ids)),
    EventKind(COMMENT_CREATED_WEBHOOK, "avi:jira:commented:issue", lambda b, ids: _comment_event(b, ids)),
)
_BY_WEBHOOK = {kind.webhook: kind for kind in EVENT_KINDS}


def parse_webhook(body: Mapping[str, Any], *, jsm_fields: JsmFieldIds | None = None) -> TicketEvent | None:
    """Read a webhook body; None for events Tierwise does not act on (issue_deleted, worklogs, …)."""
    if not isinstance(body, Mapping):
        raise EventError("webhook body is not a JSON object")
    name = body.get("webhookEvent")
    if not isinstance(name, str) or not name:
        raise EventError("missing webhookEvent", "webhookEvent")
    kind = _BY_WEBHOOK.get(name)
    return kind.parse(body, jsm_fields or JsmFieldIds()) if kind is not None else None


# --- issue events ---------------------------------------------------------------------------------


def _issue_event(kind: str, body: Mapping[str, Any], ids: JsmFieldIds) -> IssueEvent:
    issue = _issue(body)
    fields = _mapping(issue.get("fields"), "issue.fields")
    user = _obj(body.get("user"))
    status_name, status_category = _status(fields)
    reporter = _obj(fields.get("reporter"))
    created = _jira_time(fields.get("created"), "issue.fields.created", required=False)
    return IssueEvent(
        kind=kind,
        issue_id=_id(issue, "id", "issue.id"),
        issue_key=_id(issue, "key", "issue.key"),
        project_key=_project_key(fields),
        at=_event_time(body, fallback=fields.get("updated")),
        actor_account_id=_opt_str(user.get("accountId")),
        actor_account_type=_opt_str(user.get("accountType")),
        status_name=status_name,
        status_category=status_category,
        fields=MappingProxyType(dict(fields)),
        changed_fields=_changed_fields(body.get("changelog")),
        reporter_account_id=_opt_str(reporter.get("accountId")),
        reporter_email=_opt_str(reporter.get("emailAddress")),
        organizations=_organizations(fields, ids),
        request_participants=_participants(fields, ids),
        event_type_name=_opt_str(body.get("issue_event_type_name")) or "",
        created_at=created,
        partial_issue=body.get(PARTIAL_ISSUE_KEY) is True,
    )


def _changed_fields(changelog: Any) -> tuple[str, ...]:
    if not isinstance(changelog, Mapping):
        return ()
    items = changelog.get("items")
    if not isinstance(items, Sequence) or isinstance(items, str):
        return ()
    changed: list[str] = []
    for item in items:
        if not isinstance(item, Mapping):
            continue
        # fieldId is the stable id (`status`, `customfield_10072`); `field` is a display name
        # ("Status", "MJK - Number Field") that older bodies send alone.
        name = _opt_str(item.get("fieldId")) or _opt_str(item.get("field"))
        if name and name not in changed:
            changed.append(name)
    return tuple(changed)


# --- comment events -------------------------------------------------------------------------------


def _comment_event(body: Mapping[str, Any], ids: JsmFieldIds) -> CommentEvent:
    issue = _issue(body)
    fields = _obj(issue.get("fields"))
    comment = _mapping(body.get("comment"), "comment")
    author = _obj(comment.get("author"))
    status_name, status_category = _status(fields)
    reporter = _obj(fields.get("reporter"))
    created = _jira_time(comment.get("created"), "comment.created", required=False)
    return CommentEvent(
        issue_id=_id(issue, "id", "issue.id"),
        issue_key=_id(issue, "key", "issue.key"),
        project_key=_project_key(fields),
        comment_id=_id(comment, "id", "comment.id"),
        at=created or _event_time(body, fallback=None),
        author_account_id=_opt_str(author.get("accountId")),
        author_account_type=_opt_str(author.get("accountType")),
        author_email=_opt_str(author.get("emailAddress")),
        author_is_external_email=comment.get("jsdAuthorCanSeeRequest") is False,
        body_text=comment_text(comment.get("body")),
        public=_is_public(comment),
        status_name=status_name,
        status_category=status_category,
        reporter_account_id=_opt_str(reporter.get("accountId")),
        organizations=_organizations(fields, ids),
        request_participants=_participants(fields, ids),
        partial_issue=body.get(PARTIAL_ISSUE_KEY) is True,
    )


def _is_public(comment: Mapping[str, Any]) -> bool:
    """Visible to the customer: `jsdPublic` (absent outside JSM, where Jira defaults it to true)
    and not restricted to a role or group by `visibility`."""
    if comment.get("visibility"):
        return False
    public = comment.get("jsdPublic", True)
    return public is True or (isinstance(public, str) and public.lower() == "true")


def comment_text(body: Any) -> str:
    """A comment body as text: wiki markup strings as they are, ADF documents flattened."""
    if body is None:
        return ""
    if isinstance(body, str):
        return body
    if isinstance(body, Mapping):
        parts: list[str] = []
        _adf_text(body, parts)
        return "".join(parts).strip()
    raise EventError("comment body is neither a string nor an ADF document", "comment.body")


_ADF_BLOCKS = {"paragraph", "heading", "listItem", "blockquote", "codeBlock", "panel", "tableRow", "rule"}


def _adf_text(node: Mapping[str, Any], out: list[str]) -> None:
    kind = node.get("type")
    if kind == "text":
        out.append(str(node.get("text", "")))
    elif kind == "mention":
        out.append(str((node.get("attrs") or {}).get("text") or "@mention"))
    elif kind == "hardBreak":
        out.append("\n")
    elif kind == "codeBlock":
        # Code is quoted material (logs, commands), never a promise: keep it out of the text.
        out.append("\n")
        return
    for child in node.get("content") or ():
        if isinstance(child, Mapping):
            _adf_text(child, out)
    if kind in _ADF_BLOCKS:
        out.append("\n")


# --- shared field readers -------------------------------------------------------------------------


def _issue(body: Mapping[str, Any]) -> Mapping[str, Any]:
    return _mapping(body.get("issue"), "issue")


def _obj(value: Any) -> Mapping[str, Any]:
    """`value` when it is an object, else an empty one (optional parts of a body)."""
    return value if isinstance(value, Mapping) else {}


def _mapping(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise EventError("missing or not an object", path)
    return value


def _id(obj: Mapping[str, Any], key: str, path: str) -> str:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int) or str(value) == "":
        raise EventError("missing", path)
    return str(value)


def _opt_str(value: Any) -> str | None:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _project_key(fields: Mapping[str, Any]) -> str:
    project = fields.get("project")
    return (_opt_str(project.get("key")) or "") if isinstance(project, Mapping) else ""


def _status(fields: Mapping[str, Any]) -> tuple[str | None, str | None]:
    status = fields.get("status")
    if not isinstance(status, Mapping):
        return None, None
    category = status.get("statusCategory")
    category_key = _opt_str(category.get("key")) if isinstance(category, Mapping) else None
    return _opt_str(status.get("name")), category_key


def _organizations(fields: Mapping[str, Any], ids: JsmFieldIds) -> tuple[str, ...]:
    if ids.organizations:
        return _names(fields.get(ids.organizations))
    for key, value in fields.items():
        if key.startswith("customfield_") and _looks_like_organizations(value):
            return _names(value)
    return ()


def _looks_like_organizations(value: Any) -> bool:
    if not isinstance(value, list) or not value:
        return False
    for item in value:
        links = item.get("_links") if isinstance(item, Mapping) else None
        link = links.get("self") if isinstance(links, Mapping) else None
        if not (isinstance(link, str) and _ORGANIZATION_LINK in link):
            return False
    return True


def _names(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    names = (_opt_str(item.get("name")) for item in value if isinstance(item, Mapping))
    return tuple(n for n in names if n)


def _participants(fields: Mapping[str, Any], ids: JsmFieldIds) -> tuple[str, ...]:
    value = fields.get(ids.request_participants) if ids.request_participants else None
    if not isinstance(value, list):
        return ()
    accounts = (_opt_str(u.get("accountId")) for u in value if isinstance(u, Mapping))
    return tuple(a for a in accounts if a)


def _event_time(body: Mapping[str, Any], *, fallback: Any) -> datetime:
    """The webhook's `timestamp` (epoch milliseconds, UTC); else the given Jira timestamp."""
    stamp = body.get("timestamp")
    if isinstance(stamp, int | float) and not isinstance(stamp, bool):
        try:
            return datetime.fromtimestamp(stamp / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise EventError(f"{stamp!r} is not an epoch time in milliseconds", "timestamp") from exc
    if stamp is not None:
        raise EventError(f"{stamp!r} is not an epoch time in milliseconds", "timestamp")
    when = _jira_time(fallback, "issue.fields.updated", required=False)
    if when is None:
        raise EventError("missing", "timestamp")
    return when


def _jira_time(value: Any, path: str, *, required: bool) -> datetime | None:
    """Jira's `2019-02-15T19:11:18.321-0800` as an aware datetime."""
    if value is None or value == "":
        if required:
            raise EventError("missing", path)
        return None
    if not isinstance(value, str):
        raise EventError(f"{value!r} is not a Jira timestamp", path)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise EventError(f"{value!r} is not a Jira timestamp", path) from exc
    if parsed.tzinfo is None:
        raise EventError(f"{value!r} has no UTC offset", path)
    return parsed
