"""The one door to Jira: a per-tenant gateway with small domain methods, one HTTP call each.

Built on `atlassian.Jira` (atlassian-python-api) over a `SiteSession` that signs every request
with a fresh Connect JWT (or a Forge system token) and never leaves the tenant's site. The
library's own retries are off: retries belong to the queue, which retries with a fresh token.
Every failure becomes one of the exceptions in `app.jira.errors`.

`client_for` keeps one gateway per tenant per process (at most `GATEWAY_CACHE_SIZE`, least recently
used dropped), so its HTTP connections stay open between jobs (keep-alive: no TCP or TLS handshake
per job); only the signing is per request. Job threads share it (requests' connection pool is
thread-safe; the session keeps no cookies, so no state passes between calls).
"""

from __future__ import annotations

import email.utils
import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import requests
from atlassian import Jira

from app.jira.auth import BearerAuth, ConnectJwtAuth, SiteSession
from app.jira.errors import (
    JiraAuthError,
    JiraBadRequest,
    JiraError,
    JiraNotFound,
    JiraRateLimited,
    JiraRefused,
    JiraUnavailable,
)
from app.settings import Settings

if TYPE_CHECKING:
    from app.storage.tenants import Tenant

#: Seconds for one Jira call (connect + read); a slow Jira is retried by the queue, not waited on.
REQUEST_TIMEOUT_SECONDS = 20
#: Most pages of contexts or options read for one field (Jira answers up to 100 items a page).
MAX_OPTION_PAGES = 20
#: Entity property JSM reads to decide whether a platform-API comment is internal.
INTERNAL_COMMENT_PROPERTY = "sd.public.comment"
#: Tenants whose gateway (with its open connections) one process keeps.
GATEWAY_CACHE_SIZE = 256

log = logging.getLogger(__name__)


def parse_retry_after(headers: Any, now: datetime | None = None) -> float | None:
    """Seconds to wait from `Retry-After` (seconds or HTTP date), else `X-RateLimit-Reset` (ISO 8601 or epoch)."""
    now = now or datetime.now(UTC)
    retry_after = (headers.get("Retry-After") or "").strip()
    if retry_after:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(retry_after)
            except (TypeError, ValueError):
                when = None
            if when is not None:
                if when.tzinfo is None:
                    when = when.replace(tzinfo=UTC)
                return max(0.0, (when - now).total_seconds())
    reset = (headers.get("X-RateLimit-Reset") or "").strip()
    if reset:
        try:
            return max(0.0, float(reset) - now.timestamp())
        except ValueError:
            pass
        try:
            when = datetime.fromisoformat(reset.replace("Z", "+00:00"))
        except ValueError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - now).total_seconds())
    return None


def _error_for(response: requests.Response) -> JiraError:
    status = response.status_code
    where = f"{response.request.method} {requests.compat.urlsplit(response.url).path}"
    if status == 429:
        retry_after = parse_retry_after(response.headers)
        return JiraRateLimited(f"{where}: rate limited (retry after {retry_after})", retry_after=retry_after)
    if status >= 500:
        return JiraUnavailable(f"{where}: Jira answered {status}", status=status)
    if status in (401, 403):
        return JiraAuthError(f"{where}: Jira answered {status}", status=status)
    if status == 404:
        return JiraNotFound(f"{where}: not found", status=status)
    if status == 400:
        try:
            body = response.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        messages = [str(m) for m in body.get("errorMessages") or []]
        found = body.get("errors")
        errors: dict[str, Any] = found if isinstance(found, dict) else {}
        detail = "; ".join(messages + [f"{k}: {v}" for k, v in errors.items()]) or "bad request"
        return JiraBadRequest(f"{where}: {detail}", error_messages=messages, errors=errors)
    if 300 <= status < 400:
        return JiraRefused(f"{where}: redirect to {response.headers.get('Location')!r} not followed", status=status)
    return JiraError(f"{where}: Jira answered {status}", status=status)


def _issue(key: str) -> str:
    return quote(key, safe="")


class JiraGateway:
    """Jira for one tenant, in domain terms."""

    def __init__(self, base_url: str, auth: ConnectJwtAuth | BearerAuth, *, timeout: int = REQUEST_TIMEOUT_SECONDS) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = SiteSession(auth)
        self._jira = Jira(
            url=self.base_url,
            session=self.session,
            cloud=True,
            timeout=timeout,
            api_version="3",
            advanced_mode=True,
            backoff_and_retry=False,
            retry_with_header=False,
        )

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        """One HTTP call; the decoded JSON body (None when empty) or a named JiraError."""
        try:
            response = self._jira.request(method, path, params=params, json=json, advanced_mode=True)
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise JiraUnavailable(f"{method} /{path}: {type(exc).__name__}") from exc
        except requests.TooManyRedirects as exc:
            raise JiraUnavailable(f"{method} /{path}: too many redirects") from exc
        if not 200 <= response.status_code < 300:
            raise _error_for(response)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise JiraError(f"{method} /{path}: answer is not JSON", status=response.status_code) from exc

    # -- issues ------------------------------------------------------------------------------

    def get_issue(
        self, key: str, fields: Sequence[str] | None = None, expand: Sequence[str] | None = None
    ) -> dict[str, Any]:
        """The issue with the given fields (all navigable ones when None) and expansions."""
        params: dict[str, Any] = {}
        if fields is not None:
            params["fields"] = ",".join(fields)
        if expand:
            params["expand"] = ",".join(expand)
        return self._call("GET", f"rest/api/3/issue/{_issue(key)}", params=params or None)  # type: ignore[no-any-return]

    def update_issue(
        self,
        key: str,
        fields: dict[str, Any],
        properties: Sequence[dict[str, Any]] = (),
        notify: bool = False,
    ) -> None:
        """Set fields and entity properties (`{"key", "value"}` items) in one edit."""
        body: dict[str, Any] = {"fields": fields}
        if properties:
            body["properties"] = [{"key": p["key"], "value": p["value"]} for p in properties]
        params = None if notify else {"notifyUsers": "false"}
        self._call("PUT", f"rest/api/3/issue/{_issue(key)}", params=params, json=body)

    def recent_comments(self, key: str, limit: int = 50) -> list[dict[str, Any]]:
        """The issue's newest comments first (platform API shape, ADF bodies)."""
        body = self._call(
            "GET", f"rest/api/3/issue/{_issue(key)}/comment",
            params={"orderBy": "-created", "maxResults": limit},
        )
        return list((body or {}).get("comments") or [])

    def get_transitions(self, key: str) -> list[dict[str, Any]]:
        """The transitions the app may perform on the issue now."""
        body = self._call("GET", f"rest/api/3/issue/{_issue(key)}/transitions")
        return list((body or {}).get("transitions") or [])

    def transition(self, key: str, transition_id: str) -> None:
        """Perform a workflow transition."""
        self._call(
            "POST", f"rest/api/3/issue/{_issue(key)}/transitions", json={"transition": {"id": str(transition_id)}}
        )

    def add_internal_note(self, key: str, adf_body: dict[str, Any]) -> dict[str, Any]:
        """Add an internal (agents-only) comment with an ADF body; returns the created comment."""
        body = {"body": adf_body, "properties": [{"key": INTERNAL_COMMENT_PROPERTY, "value": {"internal": True}}]}
        return self._call("POST", f"rest/api/3/issue/{_issue(key)}/comment", json=body)  # type: ignore[no-any-return]

    def add_public_reply(self, key: str, text: str) -> dict[str, Any]:
        """Add a comment the customer sees (JSM request comment); returns the created comment."""
        return self._call(  # type: ignore[no-any-return]
            "POST", f"rest/servicedeskapi/request/{_issue(key)}/comment", json={"body": text, "public": True}
        )

    # -- site --------------------------------------------------------------------------------

    def get_fields(self) -> list[dict[str, Any]]:
        """Every system and custom field of the site."""
        return list(self._call("GET", "rest/api/3/field") or [])

    def get_field_options(self, field_id: str) -> list[dict[str, Any]]:
        """The options of a custom select field over all its contexts: `{"id", "value", "disabled"}`, no repeats.

        A field without options (a text field) raises `JiraBadRequest`; an unknown one `JiraNotFound`.
        """
        base = f"rest/api/3/field/{quote(field_id, safe='')}/context"
        found: dict[str, dict[str, Any]] = {}
        for context in self._values(base):
            for option in self._values(f"{base}/{quote(str(context.get('id')), safe='')}/option"):
                value = str(option.get("value") or "")
                if value and value not in found:
                    found[value] = {"id": str(option.get("id") or ""), "value": value,
                                    "disabled": bool(option.get("disabled"))}
        return list(found.values())

    def _values(self, path: str) -> list[dict[str, Any]]:
        """Every `values` item of a paginated (`startAt`/`isLast`) listing."""
        items: list[dict[str, Any]] = []
        for _ in range(MAX_OPTION_PAGES):
            page = self._call("GET", path, params={"startAt": len(items), "maxResults": 100}) or {}
            values = list(page.get("values") or [])
            items += values
            if page.get("isLast", True) or not values:
                break
        return items

    def get_statuses(self) -> list[dict[str, Any]]:
        """Every workflow status of the site."""
        return list(self._call("GET", "rest/api/3/status") or [])

    def has_permission(self, account_id: str, permission: str) -> bool:
        """True when the user holds the global permission (e.g. "ADMINISTER": a Jira admin)."""
        body = self._call(
            "POST", "rest/api/3/permissions/check",
            json={"accountId": account_id, "globalPermissions": [permission]},
        )  # fmt: skip
        return permission in ((body or {}).get("globalPermissions") or [])

    def has_issue_permission(self, account_id: str, issue_id: str, permission: str) -> bool:
        """True when the user holds the project permission (e.g. "BROWSE_PROJECTS") on the issue.

        Jira ignores unknown issue ids, so an issue that does not exist is never granted.
        """
        if not issue_id.isdigit():
            return False
        body = self._call(
            "POST", "rest/api/3/permissions/check",
            json={"accountId": account_id, "projectPermissions": [{"issues": [int(issue_id)], "permissions": [permission]}]},
        )  # fmt: skip
        return any(
            grant.get("permission") == permission and int(issue_id) in (grant.get("issues") or [])
            for grant in (body or {}).get("projectPermissions") or []
        )

    def myself(self) -> dict[str, Any]:
        """The user the app acts as (its add-on user)."""
        return self._call("GET", "rest/api/3/myself")  # type: ignore[no-any-return]


_gateways: OrderedDict[tuple[str, ...], JiraGateway] = OrderedDict()
_gateways_lock = threading.Lock()


def _cached_gateway(key: tuple[str, ...], build: Callable[[], JiraGateway]) -> JiraGateway:
    with _gateways_lock:
        gateway = _gateways.get(key)
        if gateway is not None:
            _gateways.move_to_end(key)
            return gateway
    gateway = build()
    with _gateways_lock:
        gateway = _gateways.setdefault(key, gateway)
        _gateways.move_to_end(key)
        while len(_gateways) > GATEWAY_CACHE_SIZE:
            _, dropped = _gateways.popitem(last=False)
            dropped.session.close()
    return gateway


def forget_gateways(*, close: bool = True) -> None:
    """Drop every kept gateway, closing its connections (`close=False` in a forked child: they are the parent's)."""
    with _gateways_lock:
        while _gateways:
            _, gateway = _gateways.popitem()
            if close:
                gateway.session.close()


def client_for(tenant: Tenant, settings: Settings, *, system_token: Any = None) -> JiraGateway:
    """The gateway for a tenant: Connect JWT with its shared secret, or a Forge system token.

    `system_token` is an `app.forge.system_token.SystemToken` (required for Forge tenants). The
    gateway is the process's one for that tenant and site: a new shared secret (reinstall) or API
    base gets a new one; a Forge gateway sends the token given here from now on.
    """
    if tenant.platform == "forge":
        if system_token is None:
            raise JiraAuthError(f"no system token for Forge tenant {tenant.client_key}")
        base = system_token.api_base_url
        bearer = BearerAuth(authorization=system_token.authorization, base_url=base)
        gateway = _cached_gateway(("forge", tenant.client_key, base), lambda: JiraGateway(base, bearer))
        gateway.session.use(bearer)
        return gateway
    secret = tenant.shared_secret
    if not secret:
        raise JiraAuthError(f"tenant {tenant.client_key} has no shared secret")
    # The secret's digest, not the secret, names the entry: a reinstall's new secret is a new gateway.
    key = ("connect", tenant.client_key, tenant.base_url, settings.app_key, hashlib.sha256(secret.encode()).hexdigest())
    return _cached_gateway(key, lambda: JiraGateway(tenant.base_url, ConnectJwtAuth(
        app_key=settings.app_key, shared_secret=secret, base_url=tenant.base_url)))
