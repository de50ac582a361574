"""Who wrote a comment, as the SLA sees it: a customer-facing agent update, an internal note, the customer, or us.

How each field of the real payloads decides this is written down in `docs/replies.md`.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.policy.events import APP_ACCOUNT_TYPE, CommentEvent, IssueEvent

#: A public comment by someone who is not one of the request's customers: it meets first
#: response and next-update targets.
AGENT_PUBLIC = "agent_public"
#: An internal note (not visible to the customer): it meets nothing.
AGENT_INTERNAL = "agent_internal"
#: A comment by the reporter, a request participant, an organization member or any portal customer.
CUSTOMER = "customer"
#: A comment the app itself posted (the ETA follow-up, breach notes): never counts.
APP = "app"

#: `accountType` values from the platform spec's `User` schema.
ACCOUNT_TYPE_APP = APP_ACCOUNT_TYPE
ACCOUNT_TYPE_CUSTOMER = "customer"


def classify_comment(
    event: CommentEvent,
    *,
    app_account_id: str | None,
    customers: Iterable[str] = (),
) -> str:
    """Say whether `event` is an agent's public update, an internal note, the customer's, or the app's.

    `customers` are account ids the caller knows to be the request's customers beyond what the
    body carries: the reporter and participants stored from the issue's own events, and members
    of the request's organizations when the worker has looked them up.
    """
    if is_app_author(event.author_account_id, event.author_account_type, app_account_id=app_account_id):
        return APP
    if event.author_account_type == ACCOUNT_TYPE_CUSTOMER:
        return CUSTOMER  # portal-only customer accounts can only ever be customers
    if event.author_account_id is None or event.author_is_external_email:
        # No account, or mailed in by someone outside the request: not one of our agents.
        return CUSTOMER
    if not event.public:
        return AGENT_INTERNAL  # only agents can write internal notes; customers cannot see them
    known = set(customers)
    known.update(event.request_participants)
    if event.reporter_account_id:
        known.add(event.reporter_account_id)
    if event.author_account_id in known:
        return CUSTOMER
    return AGENT_PUBLIC


def is_app_author(account_id: str | None, account_type: str | None, *, app_account_id: str | None) -> bool:
    """True when the account is an app (any Connect/OAuth system account) or this app's own user."""
    if account_type == ACCOUNT_TYPE_APP:
        return True
    return bool(app_account_id) and account_id == app_account_id


def caused_by_app(event: IssueEvent | CommentEvent, *, app_account_id: str | None) -> bool:
    """True when Tierwise's own write fired this webhook (our PUTs and comments echo back).

    Only our own account: other apps (Automation for Jira, integrations) change severities and
    statuses that Tierwise must follow.
    """
    actor = event.author_account_id if isinstance(event, CommentEvent) else event.actor_account_id
    return bool(app_account_id) and actor == app_account_id


def counts_as_agent_update(kind: str) -> bool:
    """True for the one kind of comment that meets first-response and next-update targets."""
    return kind == AGENT_PUBLIC
