"""Helpers for the Forge tests: a JWKS server on 127.0.0.1, FIT claims and signing.

Claims follow the example FIT in Atlassian's "Forge Remote essentials" (app.installationId,
app.apiBaseUrl, app.environment, app.module, context.cloudId, principal, aud = the app ARI).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

APP_UUID = "8db33809-1f32-48bb-8c52-5877dab48107"
APP_ID = f"ari:cloud:ecosystem::app/{APP_UUID}"
INSTALLATION_UUID = "0a3a7799-53ae-4a5b-9e7e-03338980abb5"
INSTALLATION_ID = f"ari:cloud:ecosystem::installation/{INSTALLATION_UUID}"
CLOUD_ID = "d0d52620-3203-4cfa-8db5-f2587155f0dd"
API_BASE_URL = f"https://api.atlassian.com/ex/jira/{CLOUD_ID}"
KID = "forge-test-key-1"


def public_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": kid, "use": "sig", "alg": "RS256"})
    return jwk


class JwksServer:
    """Serves `{"keys": self.keys}` at /.well-known/jwks.json and counts requests."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.requests = 0
        self.status = 200
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                server.requests += 1
                body = json.dumps({"keys": server.keys}).encode()
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/.well-known/jwks.json"
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


#: Pass as a claim override to leave the claim out.
DROP = object()


def fit_claims(**overrides: Any) -> dict[str, Any]:
    """Claims of a FIT for an event delivered to the remote, valid for 25 s from now."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "app": {
            "id": APP_ID,
            "version": "16",
            "appVersion": "16.0.1",
            "installationId": INSTALLATION_ID,
            "apiBaseUrl": API_BASE_URL,
            "environment": {
                "type": "PRODUCTION",
                "id": f"ari:cloud:ecosystem::environment/{APP_UUID}/aa911f10-c54b-4b93-9e27-dd2947840b9e",
            },
            "module": {"type": "core:endpoint", "key": "tierwise-events"},
        },
        "context": {"cloudId": CLOUD_ID, "siteUrl": "https://vendor.atlassian.net"},
        "principal": "655362:312d3308-8954-42b0-aa38-771a10c88656",
        "aud": APP_ID,
        "iss": "forge/invocation-token",
        "iat": now,
        "nbf": now,
        "exp": now + 25,
        "jti": "d8a496253ec8c18a54631e4c82cbedd5d0ae8570",
    }
    for name, value in overrides.items():
        if value is DROP:
            claims.pop(name, None)
        else:
            claims[name] = value
    return claims


def sign(claims: dict[str, Any], key: Any, *, kid: str | None = KID, alg: str = "RS256") -> str:
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(claims, key, algorithm=alg, headers=headers)


def system_token(exp: int, secret: str = "opaque-platform-secret-32-bytes-long") -> str:
    """A stand-in for Forge's app system token: a JWT whose only claim Tierwise reads is `exp`."""
    return jwt.encode({"exp": exp, "sub": "app-system"}, secret, algorithm="HS256")
