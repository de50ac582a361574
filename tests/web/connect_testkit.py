"""Test helpers for the Connect front door: an install-key server on 127.0.0.1, token minting,
and lifecycle bodies as Jira sends them."""

from __future__ import annotations

import threading
import time
import uuid
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
