"""Request signing for the Jira door: a fresh Connect JWT on every request, for one site only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from http.cookiejar import DefaultCookiePolicy
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase

from app.connect.qsh import qsh_for_url
from app.connect.tokens import mint_token
from app.jira.errors import JiraRefused

#: Lifetime of each outbound token (Atlassian recommends short-lived tokens; 3 minutes).
TOKEN_TTL_SECONDS = 180
#: Open connections a session keeps per host: one per job thread of a worker, with room to spare.
POOL_CONNECTIONS = 16

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(scheme)


def within_site(url: str, base_url: str) -> bool:
    """True when `url` has the origin of `base_url` and lies under its context path."""
    if _origin(url) != _origin(base_url):
        return False
    context = urlsplit(base_url).path.rstrip("/")
    path = urlsplit(url).path
    return not context or path == context or path.startswith(context + "/")


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ConnectJwtAuth(AuthBase):
    """Signs each request with an HS256 Connect JWT (`iss`, `iat`, `exp` = +180 s, `qsh`)."""

    def __init__(
        self,
        *,
        app_key: str,
        shared_secret: str,
        base_url: str,
        clock: Callable[[], datetime] = _utcnow,
        ttl: int = TOKEN_TTL_SECONDS,
    ) -> None:
        self.app_key = app_key
        self.base_url = base_url.rstrip("/")
        self._secret = shared_secret
        self._clock = clock
        self._ttl = ttl

    def __repr__(self) -> str:  # never print the secret
        return f"ConnectJwtAuth(app_key={self.app_key!r}, base_url={self.base_url!r})"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        url, method = request.url or "", (request.method or "GET").upper()
        if not within_site(url, self.base_url):
            raise JiraRefused(f"refusing to sign a request for {_origin(url)[1]!r}: not the tenant's site")
        token = mint_token(
            issuer=self.app_key,
            secret=self._secret,
            qsh=qsh_for_url(method, url, self.base_url),
            now=self._clock(),
            ttl=self._ttl,
        )
        request.headers["Authorization"] = f"JWT {token}"
        return request


class BearerAuth(AuthBase):
    """Sends a Forge app system token (`Authorization: Bearer …`) to one API base only."""

    def __init__(self, *, authorization: str, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._authorization = authorization

    def __repr__(self) -> str:
        return f"BearerAuth(base_url={self.base_url!r})"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if not within_site(request.url or "", self.base_url):
            raise JiraRefused("refusing to send the system token outside the installation's API base")
        request.headers["Authorization"] = self._authorization
        return request


class SiteSession(requests.Session):
    """A keep-alive session that follows redirects only within the site, re-signing each hop afresh.

    No retries (`max_retries=0`: the queue retries, with fresh tokens) and no cookies (a session
    shared by job threads carries no state from one call to the next).
    """

    def __init__(self, auth: ConnectJwtAuth | BearerAuth) -> None:
        super().__init__()
        self.auth = auth
        self.max_redirects = 5
        self._site_auth = auth
        self._base_url = auth.base_url
        self.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        for prefix in ("https://", "http://"):
            self.mount(prefix, HTTPAdapter(pool_connections=1, pool_maxsize=POOL_CONNECTIONS, max_retries=0))

    def use(self, auth: ConnectJwtAuth | BearerAuth) -> None:
        """Sign from now on with `auth` (a newer Forge system token for the same API base)."""
        if auth.base_url != self._base_url:
            raise JiraRefused("a session stays on the site it was made for")
        self.auth = auth
        self._site_auth = auth

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        target = super().get_redirect_target(resp)
        if target is None:
            return None
        absolute = requests.compat.urljoin(resp.url, target)
        # An off-site redirect is not followed: the caller sees the 3xx and the door raises.
        return target if within_site(absolute, self._base_url) else None

    def rebuild_auth(self, prepared_request: requests.PreparedRequest, response: requests.Response) -> None:
        prepared_request.headers.pop("Authorization", None)
        self._site_auth(prepared_request)  # a new token whose qsh names the new method and path
