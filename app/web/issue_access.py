"""Who may read an issue's SLA data: the one rule both doors (Connect and Forge) apply.

Jira renders the issue panel only for people who can browse the issue, and the token it hands the
panel names that issue: Connect context tokens carry it in the `context` claim
(`context.jira.issue.id`; see "Understanding JWT for Connect apps", developer.atlassian.com), Forge
Invocation Tokens in `context.extension.issue.id`. So a token whose issue context is the requested
issue is enough; one naming another issue is refused; one with no issue context makes us ask Jira
whether the user holds Browse Projects on the issue (`POST /rest/api/3/permissions/check`, cached
for a minute). A token without a user (`sub`) — anonymous — gets nothing, and so does a portal
customer, whom Jira never grants project permissions on agent issues.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class IssueDirectory(Protocol):
    """What the rule needs from the site directory."""

    def can_browse_issue(self, tenant: Any, account_id: str | None, issue_id: str) -> bool: ...


class IssueAccessUnknown(Exception):
    """Jira could not say whether the user may browse the issue (unreachable, rate-limited)."""


def connect_context_issue(claims: Mapping[str, Any]) -> str | None:
    """The issue id a Connect context token was issued for (`context.jira.issue.id`), or None."""
    return _issue_id(claims.get("context"), ("jira", "issue", "id"))


def forge_context_issue(context: Mapping[str, Any]) -> str | None:
    """The issue id in a Forge Invocation Token's `context` (`extension.issue.id`), or None."""
    return _issue_id(context, ("extension", "issue", "id"))


def may_view_issue(tenant: Any, account_id: str | None, issue_id: str, *, context_issue_id: str | None,
                   directory: IssueDirectory) -> bool:
    """True when the user may read the SLA data of `issue_id` (see the module's docstring).

    Raises IssueAccessUnknown when the answer depends on Jira and Jira did not give one.
    """
    if not account_id:
        return False
    if context_issue_id is not None:
        return context_issue_id == issue_id
    from app.site_directory import SiteDirectoryError  # the web layer reaches Jira only through it, lazily

    try:
        return directory.can_browse_issue(tenant, account_id, issue_id)
    except SiteDirectoryError as exc:
        raise IssueAccessUnknown(str(exc)) from exc


def _issue_id(node: Any, path: tuple[str, ...]) -> str | None:
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    if isinstance(node, bool) or not isinstance(node, str | int):
        return None
    return str(node) or None
