"""What can go wrong talking to Jira, in a few named exceptions (the queue decides what to retry)."""

from __future__ import annotations

from typing import Any


class JiraError(Exception):
    """Base of every error from the Jira door."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class JiraRefused(JiraError):
    """The door refused to send: a request or redirect for an origin other than the tenant's site."""


class JiraRateLimited(JiraError):
    """429: Jira asks us to slow down; retry after `retry_after` seconds (None: not said)."""

    def __init__(self, message: str, *, retry_after: float | None, status: int | None = 429) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class JiraUnavailable(JiraError):
    """5xx, a timeout or a connection error: transient, retry later with a fresh token."""


class JiraAuthError(JiraError):
    """401/403: the tenant's secret or the app's permissions do not allow this call."""


class JiraNotFound(JiraError):
    """404: the issue (or other resource) does not exist or the app cannot see it."""


class JiraBadRequest(JiraError):
    """400: Jira rejected the request; `error_messages` and `errors` are Jira's own words."""

    def __init__(
        self, message: str, *, error_messages: list[str], errors: dict[str, Any], status: int | None = 400
    ) -> None:
        super().__init__(message, status=status)
        self.error_messages = error_messages
        self.errors = errors
