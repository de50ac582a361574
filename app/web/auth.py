"""Connect authentication for views: decorators that verify, then expose what they verified on `flask.g`.

- `require_lifecycle_install(schema)`: signed-install `installed`/`uninstalled` (RS256). Sets
  `g.lifecycle` (the body loaded by `schema`) and `g.connect_claims`.
- `require_connect_jwt()`: webhooks, page loads, `enabled`/`disabled` (HS256, qsh bound to this
  request; a context token is refused). Sets `g.tenant` and `g.connect_claims`.
- `require_context_jwt()`: calls from the app's own pages (HS256, qsh "context-qsh"). Sets
  `g.tenant`, `g.user` (the Atlassian account id, or None) and `g.connect_claims`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar

from flask import g, request
from marshmallow import Schema

from app.connect.qsh import JWT_PARAM, relative_path
from app.connect.tokens import (
    extract_token,
    verify_context_token,
    verify_install_token,
    verify_request_token,
)
from app.web.errors import TOO_DEEP, BadBody
from app.web.services import services

P = ParamSpec("P")
R = TypeVar("R")


def _now() -> datetime:
    return datetime.now(UTC)


def request_token() -> str:
    """This request's Connect token (header first, then the `jwt` query parameter)."""
    return extract_token(request.headers.get("Authorization"), request.args.get(JWT_PARAM))


def _request_parts() -> tuple[str, str, str]:
    """Method, path relative to APP_BASE_URL's context path, and the raw query string."""
    base_url = services().settings.app_base_url
    path = relative_path(request.script_root + request.path, base_url)
    return request.method, path, request.query_string.decode("utf-8", errors="replace")


def json_body() -> dict[str, Any]:
    """The request body as a JSON object (413 if too large, `BadBody` if not a JSON object)."""
    try:
        body = request.get_json(force=True, silent=True)
    except RecursionError:
        raise BadBody(TOO_DEEP) from None
    if not isinstance(body, dict):
        raise BadBody("the request body must be a JSON object")
    return body


def load_body(schema: Schema) -> Any:
    """The JSON body loaded by `schema` (marshmallow's errors answer 400)."""
    return schema.load(json_body())


def active_tenant(client_key: str) -> Any:
    """The stored tenant for `client_key`, or None."""
    return services().tenants.get(client_key)


def verify_lifecycle_install(client_key: str | None) -> dict[str, Any]:
    """Verify this request's signed-install token for a body naming `client_key`; return its claims."""
    method, path, query = _request_parts()
    svc = services()
    return verify_install_token(
        request_token(),
        method=method,
        path=path,
        query=query,
        body_client_key=client_key,
        app_base_url=svc.settings.app_base_url,
        key_fetcher=svc.install_keys,
        now=_now(),
    )


def verify_connect_jwt(*, accept_uninstalled: bool = False) -> tuple[Any, dict[str, Any]]:
    """Verify this request's HS256 request-bound token; return (tenant, claims)."""
    method, path, query = _request_parts()
    return verify_request_token(
        request_token(),
        method=method,
        path=path,
        query=query,
        tenant_lookup=active_tenant,
        now=_now(),
        accept_uninstalled=accept_uninstalled,
    )


def require_lifecycle_install(schema: Schema) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Guard an `installed`/`uninstalled` view: token present, body valid, token verified."""

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
            request_token()  # a missing token is refused before the body is read
            body = load_body(schema)
            g.connect_claims = verify_lifecycle_install(body.get("client_key"))
            g.lifecycle = body
            return view(*args, **kwargs)

        return wrapped

    return decorate


def require_connect_jwt() -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Guard a webhook or page-load view with the tenant's request-bound HS256 token."""

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
            g.tenant, g.connect_claims = verify_connect_jwt()
            return view(*args, **kwargs)

        return wrapped

    return decorate


def require_context_jwt() -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Guard a view called from the app's own pages with a context token."""

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
            tenant, claims = verify_context_token(request_token(), tenant_lookup=active_tenant, now=_now())
            g.tenant, g.connect_claims = tenant, claims
            sub = claims.get("sub")
            g.user = sub if isinstance(sub, str) and sub else None
            return view(*args, **kwargs)

        return wrapped

    return decorate
