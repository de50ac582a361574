"""`POST /webhooks/jira`: the hot path from Jira to the queue.

Verify the Connect JWT (HS256 with the tenant's shared secret, `qsh` bound to this request),
check the body is a JSON object, drop the app's own echoes, then dedupe by
`X-Atlassian-Webhook-Identifier`, store the body and enqueue `jobs.events.process_event` in one
Redis round trip, and answer 204. No Jira call and no database write here; the tenant's secret
comes from a small in-process cache (re-read once when a signature fails, so a reinstall with a
new secret works at once). 503 only when Redis cannot take the event, so Jira retries; a valid
signed event never gets a 4xx (an event without an issue is accepted and ignored).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import redis
from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from app.connect.errors import BadSignature
from app.connect.qsh import JWT_PARAM, relative_path
from app.connect.tokens import extract_token, verify_request_token
from app.keys import app_account_key
from app.policy.events import body_actor, is_app_echo
from app.queueing.ingest import ingest_event
from app.ttl_cache import TtlCache
from app.web.errors import BadBody, error_body
from app.web.services import services

log = logging.getLogger(__name__)

bp = Blueprint("webhooks", __name__)

#: Seconds a tenant's shared secret is trusted from the in-process cache.
SECRET_TTL_SECONDS = 30.0
#: Seconds the app user's account id is trusted from the in-process cache.
APP_ACCOUNT_TTL_SECONDS = 300.0
#: Seconds "not known yet" is trusted: the worker learns the id from the first echo it drops.
APP_ACCOUNT_UNKNOWN_TTL_SECONDS = 5.0
#: Header carrying Jira's delivery id (the same on every retry of one delivery).
DELIVERY_HEADER = "X-Atlassian-Webhook-Identifier"


_tenants = TtlCache(SECRET_TTL_SECONDS)
_app_accounts = TtlCache(APP_ACCOUNT_TTL_SECONDS)


def _cached_tenant(client_key: str) -> Any:
    found, tenant = _tenants.get(client_key)
    if found:
        return tenant
    tenant = services().tenants.get(client_key)
    if tenant is not None:  # unknown tenants are not cached: an install may be on its way
        _tenants.put(client_key, tenant)
    return tenant


def _fresh_tenant(client_key: str) -> Any:
    _tenants.forget(client_key)
    return _cached_tenant(client_key)


def _verify() -> Any:
    """The verified tenant of this request (AuthError → 401 by the error handlers)."""
    token = extract_token(request.headers.get("Authorization"), request.args.get(JWT_PARAM))
    path = relative_path(request.script_root + request.path, services().settings.app_base_url)
    query = request.query_string.decode("utf-8", errors="replace")
    now = datetime.now(UTC)
    try:
        tenant, _ = verify_request_token(
            token, method="POST", path=path, query=query, tenant_lookup=_cached_tenant, now=now
        )
    except BadSignature:
        # The cached secret may be stale (the app was reinstalled): read the database once.
        tenant, _ = verify_request_token(
            token, method="POST", path=path, query=query, tenant_lookup=_fresh_tenant, now=now
        )
    return tenant


def _app_account(redis_client: redis.Redis, tenant_key: str) -> str | None:
    found, account = _app_accounts.get(tenant_key)
    if not found:
        raw = redis_client.get(app_account_key(tenant_key))  # written by the worker (jobs.context)
        account = raw.decode() if isinstance(raw, bytes) else raw
        _app_accounts.put(tenant_key, account, None if account else APP_ACCOUNT_UNKNOWN_TTL_SECONDS)
    return account if isinstance(account, str) else None


def own_echo(redis_client: redis.Redis, tenant_key: str, event: dict[str, Any]) -> bool:
    """True when the app's own user caused the event (our PUTs and comments fire webhooks too)."""
    return is_app_echo(body_actor(event), lambda: _app_account(redis_client, tenant_key))


@bp.post("/webhooks/jira")
def jira_webhook() -> ResponseReturnValue:
    """Take one Jira webhook: verify, dedupe, enqueue, 204."""
    tenant = _verify()
    if not tenant.takes_connect_events:  # the site moved to Forge: its events come through /forge/events
        return "", 204
    raw = request.get_data(cache=False)
    try:
        event = json.loads(raw)
    except ValueError:
        raise BadBody("the request body must be a JSON object") from None
    if not isinstance(event, dict):
        raise BadBody("the request body must be a JSON object")
    if not isinstance(event.get("issue"), dict):
        return "", 204  # signed, but not about an issue: nothing for Tierwise to do
    svc = services()
    try:
        if own_echo(svc.redis, tenant.client_key, event):
            return "", 204
        ingest_event(svc.redis, svc.settings.queue_name, tenant.client_key, request.headers.get(DELIVERY_HEADER), raw)
    except redis.RedisError:
        log.warning("webhook for %s not queued: Redis unavailable", tenant.client_key, exc_info=True)
        return jsonify(error_body("queue_unavailable", "the event could not be queued; retry later")), 503
    return "", 204
