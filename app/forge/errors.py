"""The Forge package's errors: one base, auth failures with a code, and the stale system token."""

from __future__ import annotations

from datetime import datetime

from app.jira.errors import JiraUnavailable


class ForgeError(Exception):
    """Base of every error raised by `app.forge`."""


class ForgeAuthError(ForgeError):
    """A remote call Tierwise refuses: answered 401 with `{"error": code, "message": text}`.

    `code` is stable and machine-readable (`token_expired`, `wrong_audience`, …); `message` says
    what was wrong without echoing the token.
    """

    status = 401

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def as_json(self) -> dict[str, str]:
        """The response body."""
        return {"error": self.code, "message": self.message}


class ForgeTokenExpired(ForgeError, JiraUnavailable):
    """No fresh system token is stored for an installation: wait for the next Forge invocation.

    It is a transient Jira failure (`app.jira.errors.JiraUnavailable`) for the jobs: they treat it
    like a 5xx, retry with backoff (`jobs.retry`) and give up with an audit entry after the last
    attempt. Any Forge invocation in between stores a fresh token, and the retry goes through.
    """

    def __init__(self, installation_id: str, expired_at: datetime | None) -> None:
        when = f"expired at {expired_at.isoformat()}" if expired_at else "none was ever received"
        super().__init__(f"no fresh Forge system token for {installation_id}: {when}")
        self.installation_id = installation_id
        self.expired_at = expired_at
