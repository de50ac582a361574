"""The Forge package's errors: one base, auth failures with a code, and the stale system token."""

from __future__ import annotations

from datetime import datetime


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


class ForgeTokenExpired(ForgeError):
    """No fresh system token is stored for an installation: wait for the next Forge invocation.

    Jobs catch it and retry later (see `app.forge.system_token.retry_delay`), giving up with an
    audit entry once `should_give_up` says so.
    """

    def __init__(self, installation_id: str, expired_at: datetime | None) -> None:
        when = f"expired at {expired_at.isoformat()}" if expired_at else "none was ever received"
        super().__init__(f"no fresh Forge system token for {installation_id}: {when}")
        self.installation_id = installation_id
        self.expired_at = expired_at
