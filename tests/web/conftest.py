"""Fixtures for the Connect front door over Flask's test client.

An RSA key served by our own install-key server on 127.0.0.1 signs lifecycle tokens; the app's
CONNECT_INSTALL_KEYS_URL points at it. A tiny test-only blueprint exercises the page-load and
context-token decorators, which no production route uses yet.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from connect_testkit import KID, SITE_URL, KeyServer, install_token, lifecycle_body, pem
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Blueprint, Flask, g, jsonify
from flask.testing import FlaskClient

from app import create_app
from app.settings import Settings
from app.storage.tenants import TenantStore
from app.web.auth import require_connect_jwt, require_context_jwt


@pytest.fixture(scope="session")
def signing_key() -> rsa.RSAPrivateKey:
    """The key Atlassian publishes under `KID`."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def other_key() -> rsa.RSAPrivateKey:
    """A key nobody published: tokens signed with it are forgeries."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def _key_server(signing_key: rsa.RSAPrivateKey) -> Iterator[KeyServer]:
    server = KeyServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def key_server(_key_server: KeyServer, signing_key: rsa.RSAPrivateKey) -> KeyServer:
    """The install-key server, publishing only `signing_key` under `KID`, with no requests seen yet."""
    _key_server.keys.clear()
    _key_server.keys[KID] = pem(signing_key)
    _key_server.requests.clear()
    return _key_server


@pytest.fixture
def connect_settings(settings: Settings, key_server: KeyServer) -> Settings:
    return dataclasses.replace(settings, connect_install_keys_url=key_server.url)


def _test_blueprint() -> Blueprint:
    bp = Blueprint("connect_test", __name__, url_prefix="/test")

    @bp.get("/page")
    @require_connect_jwt()
    def page() -> Any:
        return jsonify(tenant=g.tenant.client_key)

    @bp.post("/context")
    @require_context_jwt()
    def context() -> Any:
        return jsonify(tenant=g.tenant.client_key, user=g.user)

    return bp


@pytest.fixture
def flask_app(connect_settings: Settings) -> Iterator[Flask]:
    """The real app on its own embedded SQLite database, plus the test-only blueprint."""
    flask_app = create_app(connect_settings)
    flask_app.register_blueprint(_test_blueprint())
    flask_app.config["TESTING"] = True
    yield flask_app
    flask_app.extensions["tierwise"].close()


@pytest.fixture
def store(flask_app: Flask) -> TenantStore:
    """The app's own tenant store."""
    return flask_app.extensions["tierwise"].tenants


@pytest.fixture
def client(flask_app: Flask) -> FlaskClient:
    return flask_app.test_client()


@pytest.fixture
def install(client: FlaskClient, signing_key: rsa.RSAPrivateKey, connect_settings: Settings) -> Callable[..., Any]:
    """POST a correctly signed `installed` (or `uninstalled`) callback; returns the response."""

    def do(client_key: str, secret: str = "s" * 40, event: str = "installed", **token_kw: Any) -> Any:
        path = f"/lifecycle/{event}"
        token = install_token(signing_key, client_key=client_key, aud=connect_settings.app_base_url,
                              path=path, **token_kw)
        return client.post(path, json=lifecycle_body(client_key, event, secret, SITE_URL),
                           headers={"Authorization": f"JWT {token}"})

    return do
