"""Connect lifecycle callbacks: verify, validate, record in the tenant store, answer 204.

Under the `signed-install` migration `installed` and `uninstalled` (a reinstall too) carry an
RS256 token checked against Atlassian's published key; `enabled` and `disabled` are signed with
the tenant's shared secret (HS256). Each event is recorded at its token's `iat`, so the store can
keep the final state independent of arrival order.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, g
from flask.typing import ResponseReturnValue
from marshmallow import EXCLUDE, Schema, fields

from app.connect.tokens import ClientKeyMismatch, UnknownTenant
from app.web.auth import load_body, require_lifecycle_install, verify_connect_jwt
from app.web.services import services

log = logging.getLogger(__name__)

bp = Blueprint("lifecycle", __name__, url_prefix="/lifecycle")


class LifecycleSchema(Schema):
    """The body Atlassian POSTs to every lifecycle callback (new keys Atlassian adds are ignored)."""

    class Meta:
        unknown = EXCLUDE

    client_key = fields.String(data_key="clientKey", required=True, validate=lambda s: bool(s.strip()))
    shared_secret = fields.String(data_key="sharedSecret", load_default=None)
    base_url = fields.Url(data_key="baseUrl", load_default=None, require_tld=False)
    display_url = fields.Url(data_key="displayUrl", load_default=None, allow_none=True, require_tld=False)
    product_type = fields.String(data_key="productType", load_default=None, allow_none=True)
    description = fields.String(load_default=None, allow_none=True)
    oauth_client_id = fields.String(data_key="oauthClientId", load_default=None, allow_none=True)
    entitlement_id = fields.String(data_key="entitlementId", load_default=None, allow_none=True)
    entitlement_number = fields.String(data_key="entitlementNumber", load_default=None, allow_none=True)
    event_type = fields.String(data_key="eventType", load_default=None, allow_none=True)
    #: The installation ARI; the same installation the Forge app's invocations name after the upgrade.
    installation_id = fields.String(data_key="installationId", load_default=None, allow_none=True)
    cloud_id = fields.String(data_key="cloudId", load_default=None, allow_none=True)


class InstalledSchema(LifecycleSchema):
    """`installed` must bring the shared secret and the site's base URL."""

    shared_secret = fields.String(data_key="sharedSecret", required=True, validate=lambda s: bool(s))
    base_url = fields.Url(data_key="baseUrl", required=True, require_tld=False)


def _issued_at(claims: dict[str, Any]) -> datetime:
    return datetime.fromtimestamp(claims["iat"], UTC)


@bp.post("/installed")
@require_lifecycle_install(InstalledSchema())
def installed() -> ResponseReturnValue:
    body = g.lifecycle
    services().tenants.install(
        body["client_key"],
        shared_secret=body["shared_secret"],
        base_url=body["base_url"],
        display_url=body["display_url"],
        product_type=body["product_type"],
        description=body["description"],
        oauth_client_id=body["oauth_client_id"],
        entitlement_id=body["entitlement_id"],
        entitlement_number=body["entitlement_number"],
        installation_id=body["installation_id"] or None,
        cloud_id=body["cloud_id"] or None,
        at=_issued_at(g.connect_claims),
    )
    log.info("tenant installed: %s", body["client_key"])
    return "", 204


@bp.post("/uninstalled")
@require_lifecycle_install(LifecycleSchema())
def uninstalled() -> ResponseReturnValue:
    client_key = g.lifecycle["client_key"]
    if services().tenants.uninstall(client_key, at=_issued_at(g.connect_claims)) is None:
        log.info("uninstalled for an unknown tenant ignored: %s", client_key)
    else:
        log.info("tenant uninstalled: %s", client_key)
    return "", 204


def _set_state(state: str) -> ResponseReturnValue:
    try:
        # A late event for an uninstalled tenant still verifies with the kept secret; the store ignores it.
        tenant, claims = verify_connect_jwt(accept_uninstalled=True)
    except UnknownTenant:
        if state == "disabled":  # nothing to disable: answer as Atlassian expects, change nothing
            log.info("disabled for an unknown tenant ignored")
            return "", 204
        raise
    body = load_body(LifecycleSchema())
    if body["client_key"] != tenant.client_key:
        raise ClientKeyMismatch("the body's clientKey is not the token's issuer")
    services().tenants.set_state(tenant.client_key, state, at=_issued_at(claims))
    log.info("tenant %s: %s", state, tenant.client_key)
    return "", 204


@bp.post("/enabled")
def enabled() -> ResponseReturnValue:
    return _set_state("enabled")


@bp.post("/disabled")
def disabled() -> ResponseReturnValue:
    return _set_state("disabled")
