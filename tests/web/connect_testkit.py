"""Test helpers for the Connect front door: an install-key server on 127.0.0.1, token minting,
lifecycle bodies, and an in-memory tenant store with the storage API's semantics."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from app.connect.qsh import query_string_hash

#: The key id our key server publishes the signing key under.
KID = "3a1f5b3c-7d2e-4c1b-9a8e-0f6d2b7c4e11"
#: A tenant's base URL (the Jira site).
SITE_URL = "https://acme.atlassian.net"


def pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


class KeyServer:
    """Atlassian's install-key service in miniature: GET /{kid} → PEM; records the paths asked for."""

    def __init__(self) -> None:
        self.keys: dict[str, bytes] = {}
        self.requests: list[str] = []
        #: Seconds each answer is held back (to exercise the fetcher's timeout).
        self.delay = 0.0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                outer.requests.append(self.path)
                if outer.delay:
                    time.sleep(outer.delay)
                body = outer.keys.get(self.path.lstrip("/"))
                try:
                    self.send_response(200 if body else 404)
                    self.end_headers()
                    self.wfile.write(body or b"not found")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (the timeout test)

            def log_message(self, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def now() -> datetime:
    return datetime.now(UTC)


def install_token(
    key: Any,
    *,
    client_key: str,
    aud: str,
    method: str = "POST",
    path: str = "/lifecycle/installed",
    query: str = "",
    kid: str | None = KID,
    alg: str = "RS256",
    at: datetime | None = None,
    ttl: int = 180,
    claims: dict[str, Any] | None = None,
) -> str:
    """A token as Atlassian signs `installed`/`uninstalled` under signed-install."""
    at = at or now()
    body: dict[str, Any] = {
        "iss": client_key,
        "aud": aud,
        "iat": int(at.timestamp()),
        "exp": int((at + timedelta(seconds=ttl)).timestamp()),
        "qsh": query_string_hash(method, path, query),
    }
    body.update(claims or {})
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(body, key, algorithm=alg, headers=headers)


def lifecycle_body(client_key: str, event: str, secret: str = "", base_url: str = SITE_URL) -> dict[str, Any]:
    """The body Jira POSTs to a lifecycle callback."""
    body: dict[str, Any] = {
        "key": "tierwise",
        "clientKey": client_key,
        "baseUrl": base_url,
        "displayUrl": base_url,
        "productType": "jira",
        "description": "Atlassian JIRA at " + base_url,
        "eventType": event,
        "serverVersion": "100242",  # an extra key Atlassian sends: must be tolerated
    }
    if event == "installed":
        body["sharedSecret"] = secret
    return body


def new_client_key() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Tenant:
    client_key: str
    base_url: str
    shared_secret: str | None
    state: str
    installed_at: datetime
    updated_at: datetime
    display_url: str | None = None
    product_type: str | None = None
    description: str | None = None
    oauth_client_id: str | None = None
    installation_id: str | None = None
    entitlement_id: str | None = None
    entitlement_number: str | None = None
    platform: str = "connect"
    uninstalled_at: datetime | None = None
    state_changed_at: datetime | None = None


class FakeTenantStore:
    """In-memory stand-in for app.storage.tenants.TenantStore until the real one lands."""

    def __init__(self) -> None:
        self.rows: dict[str, Tenant] = {}
        self._lock = threading.Lock()

    def get(self, client_key: str) -> Tenant | None:
        return self.rows.get(client_key)

    def install(self, client_key: str, *, shared_secret: str, base_url: str, at: datetime, **extra: Any) -> Tenant:
        with self._lock:
            old = self.rows.get(client_key)
            tenant = Tenant(client_key=client_key, base_url=base_url, shared_secret=shared_secret,
                            state="installed", installed_at=old.installed_at if old else at, updated_at=at,
                            state_changed_at=at, **extra)
            self.rows[client_key] = tenant
            return tenant

    def set_state(self, client_key: str, state: str, at: datetime) -> Tenant | None:
        with self._lock:
            old = self.rows.get(client_key)
            if old is None:
                return None
            if old.state == "uninstalled" or (old.state_changed_at and at < old.state_changed_at):
                return old
            self.rows[client_key] = replace(old, state=state, state_changed_at=at, updated_at=at)
            return self.rows[client_key]

    def uninstall(self, client_key: str, at: datetime) -> Tenant | None:
        with self._lock:
            old = self.rows.get(client_key)
            if old is None:
                return None
            self.rows[client_key] = replace(old, state="uninstalled", uninstalled_at=at, updated_at=at)
            return self.rows[client_key]
