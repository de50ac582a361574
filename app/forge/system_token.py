"""Keep the app system token Forge sends in `x-forge-oauth-system`, per installation, with its expiry.

Forge gives the remote no way to ask for a token: each invocation (an event, the lifecycle call, a
UI resolver call, a scheduled trigger) whose endpoint has `auth.appSystemToken` carries a fresh
one, valid for a while (its JWT `exp`; Atlassian: "Calling Atlassian app APIs from a remote",
"Token Expiry"). The manifest's hourly scheduled trigger (`/forge/lifecycle/refresh`) is the
main source: Forge guarantees its token for at least 2 hours ("Configuring scheduled triggers to
invoke a remote backend"), so a token is normally always fresh. Tierwise therefore:

1. on every verified invocation, stores the token with its expiry and the FIT's `apiBaseUrl`
   (`remember_system_token`), keeping whichever token lives longest, encrypted at rest by the
   storage layer (`SystemTokenStore`);
2. when a job needs to call Jira for a Forge tenant, takes the stored token if it is still fresh
   for `FRESHNESS_MARGIN` (`fresh_system_token`), else raises `ForgeTokenExpired`;
3. a job that gets `ForgeTokenExpired` treats it like a transient Jira failure (it is a
   `JiraUnavailable`): `jobs.retry` runs it again with exponential backoff and, after its last
   attempt, gives up with a `gave_up` audit entry on the ticket naming the installation. Any
   invocation in between (the hourly trigger, a ticket event, an agent opening the panel) stores a
   fresh token (`keep_invocation_token` says when it ends a wait: the web layer then runs the
   waiting jobs at once), and the next attempt goes through.

The token is opaque to Tierwise: only its `exp` is read (unverified; it is no credential check,
only a hint when to stop using it). It is never logged.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

import jwt

from app.forge.errors import ForgeTokenExpired
from app.forge.fit import ForgeContext

#: A token this close to its expiry is not handed to a job (the job's Jira calls need time too).
FRESHNESS_MARGIN = timedelta(seconds=60)
#: Expiry assumed when a token carries no readable `exp` (Forge documents one; be conservative).
FALLBACK_LIFETIME = timedelta(minutes=5)
#: Longest token accepted from the header (Forge's are ~1-2 KiB JWTs).
MAX_TOKEN_CHARS = 16 * 1024
#: Seconds a job without a fresh token waits before each next attempt (`token_retry_delay`): long
#: enough together (about 4 h) to outlast several missed hourly triggers, which bring a new token.
TOKEN_RETRY_DELAYS: tuple[float, ...] = (60, 120, 300, 600, 900, 1800, 3600, 3600, 3600)


@dataclass(frozen=True, repr=False)
class SystemToken:
    """A stored app system token: the bearer value, until when it works, and where it works."""

    installation_id: str
    token: str
    expires_at: datetime
    api_base_url: str

    def __repr__(self) -> str:  # never print the token itself
        return (
            f"SystemToken(installation_id={self.installation_id!r}, "
            f"expires_at={self.expires_at.isoformat()}, api_base_url={self.api_base_url!r})"
        )

    @property
    def authorization(self) -> str:
        """The `Authorization` header value for calls to `api_base_url`."""
        return f"Bearer {self.token}"

    def is_fresh(self, now: datetime, margin: timedelta = FRESHNESS_MARGIN) -> bool:
        """Usable for a job starting at `now`."""
        return self.expires_at - margin > now


class SystemTokenStore(Protocol):
    """Where system tokens live between invocations; the storage layer implements it encrypted."""

    def save_system_token(self, token: SystemToken) -> None:
        """Store `token` for its installation, replacing the previous one."""
        ...

    def load_system_token(self, installation_id: str) -> SystemToken | None:
        """The stored token of an installation, or None."""
        ...


class InMemorySystemTokenStore:
    """A `SystemTokenStore` in a dict, for tests and single-process development."""

    def __init__(self) -> None:
        self._tokens: dict[str, SystemToken] = {}
        self._lock = threading.Lock()

    def save_system_token(self, token: SystemToken) -> None:
        with self._lock:
            self._tokens[token.installation_id] = token

    def load_system_token(self, installation_id: str) -> SystemToken | None:
        with self._lock:
            return self._tokens.get(installation_id)


def token_expiry(token: str, received_at: datetime) -> datetime:
    """When a system token stops working: its JWT `exp`, else `received_at + FALLBACK_LIFETIME`."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return received_at + FALLBACK_LIFETIME
    exp = claims.get("exp")
    if isinstance(exp, int | float) and not isinstance(exp, bool):
        try:
            return datetime.fromtimestamp(exp, tz=UTC)
        except (OverflowError, OSError, ValueError):
            pass
    return received_at + FALLBACK_LIFETIME


@dataclass(frozen=True)
class Remembered:
    """What storing an invocation's token did: the token now stored, and whether it ends a wait.

    `revived` is True when no fresh token was stored before this one and there is one now: jobs
    that are waiting for a token (`ForgeTokenExpired`) can run at once.
    """

    token: SystemToken | None
    revived: bool


def remember_system_token(
    store: SystemTokenStore, context: ForgeContext, header_value: str | None, *, now: datetime
) -> SystemToken | None:
    """Store the `x-forge-oauth-system` token of a verified invocation if it outlives the stored one.

    Returns the token now stored (None when the header was absent or unusable). Invocations may
    arrive out of order; an older token never replaces a newer one.
    """
    return keep_invocation_token(store, context, header_value, now=now).token


def keep_invocation_token(
    store: SystemTokenStore, context: ForgeContext, header_value: str | None, *, now: datetime
) -> Remembered:
    """`remember_system_token`, also saying whether the token ends a time without a fresh one."""
    value = (header_value or "").strip()
    if not value or len(value) > MAX_TOKEN_CHARS or any(c.isspace() for c in value):
        return Remembered(None, False)
    expires_at = token_expiry(value, now)
    if expires_at <= now:
        return Remembered(None, False)
    candidate = SystemToken(
        installation_id=context.installation_id,
        token=value,
        expires_at=expires_at,
        api_base_url=context.api_base_url,
    )
    current = store.load_system_token(context.installation_id)
    if current is not None and current.expires_at >= expires_at:
        return Remembered(current, False)
    store.save_system_token(candidate)
    revived = candidate.is_fresh(now) and (current is None or not current.is_fresh(now))
    return Remembered(candidate, revived)


def fresh_system_token(
    store: SystemTokenStore, installation_id: str, *, now: datetime, margin: timedelta = FRESHNESS_MARGIN
) -> SystemToken:
    """The installation's stored token if still fresh; ForgeTokenExpired otherwise."""
    stored = store.load_system_token(installation_id)
    if stored is None:
        raise ForgeTokenExpired(installation_id, None)
    if not stored.is_fresh(now, margin):
        raise ForgeTokenExpired(installation_id, stored.expires_at)
    return stored




def token_retry_delay(attempt: int) -> float | None:
    """Seconds before attempt `attempt + 1` (0-based) of a job that got ForgeTokenExpired; None: give up.

    The schedule for waiting on the next Forge invocation rather than on a recovering Jira; the jobs
    use it once `jobs.retry.retry_delay` routes `ForgeTokenExpired` here (until then they back off
    like for a 5xx).
    """
    if attempt < 0 or attempt >= len(TOKEN_RETRY_DELAYS):
        return None
    return float(TOKEN_RETRY_DELAYS[attempt])
