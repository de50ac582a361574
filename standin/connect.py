"""Connect security as Jira applies it: installed apps, signed lifecycle calls, JWTs both ways."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import jwt
from atlassian_jwt.url_utils import hash_url
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from standin.seed import User

#: Lifetime of the tokens Jira mints for the app (3 minutes, as Jira Cloud does).
TOKEN_LIFETIME_S = 180
#: Clock skew Jira tolerates on the app's tokens.
LEEWAY_S = 30
#: Connect scopes, each implying those after it.
SCOPE_ORDER = ("ADMIN", "PROJECT_ADMIN", "DELETE", "WRITE", "READ")


class ConnectAuthError(Exception):
    """The request's Connect JWT is missing, malformed, forged, expired or for another request (401)."""


@dataclass
class InstalledApp:
    """One Connect app installed on the site."""

    key: str
    base_url: str  # the descriptor's baseUrl
    descriptor: dict[str, Any]
    client_key: str
    shared_secret: str
    user: User  # the app's own user (accountType "app")
    oauth_client_id: str
    enabled: bool = True
    installed: bool = True
    scopes: set[str] = field(default_factory=set)
    platform: str = "connect"  # "forge": installed through `standin.forge`, calls with a system token
    #: The installation ARI sent as `installationId` in lifecycle bodies (kept across reinstalls, and
    #: reused by a Forge app whose app.connect.key is this app's key: the upgrade keeps the installation).
    installation_id: str = ""

    @property
    def lifecycle(self) -> dict[str, str]:
        return dict(self.descriptor.get("lifecycle") or {})

    @property
    def webhooks(self) -> list[dict[str, Any]]:
        return list((self.descriptor.get("modules") or {}).get("webhooks") or [])

    def has_scope(self, scope: str) -> bool:
        """Whether the app's scopes include `scope` (ADMIN implies PROJECT_ADMIN implies … READ)."""
        wanted = SCOPE_ORDER.index(scope)
        return any(s in SCOPE_ORDER and SCOPE_ORDER.index(s) <= wanted for s in self.scopes)

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")


def relative_to(base_url: str, url: str) -> str:
    """The path and query of `url` relative to `base_url`'s path (what a qsh hashes)."""
    base_path = urlsplit(base_url).path.rstrip("/")
    parts = urlsplit(url)
    path = parts.path
    if base_path and path.startswith(base_path):
        path = path[len(base_path):] or "/"
    return path + (f"?{parts.query}" if parts.query else "")


@cache
def _process_key() -> tuple[str, rsa.RSAPrivateKey]:
    """One RSA key per process: generating one takes ~0.1 s, and every stand-in may share it."""
    return str(uuid.uuid4()), rsa.generate_private_key(public_exponent=65537, key_size=2048)


class InstallKeys:
    """The RSA key pair that signs install/uninstall callbacks; its public half is served by kid."""

    def __init__(self) -> None:
        self.kid, self._private = _process_key()
        self.public_pem = self._private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self._private, algorithm="RS256", headers={"kid": self.kid})


def new_client_key() -> str:
    """A clientKey shaped like Jira Cloud's (a UUID)."""
    return str(uuid.uuid4())


def new_shared_secret() -> str:
    return secrets.token_urlsafe(48)


def app_account_id(client_key: str, app_key: str) -> str:
    return "557058:" + hashlib.sha256(f"{client_key}:{app_key}".encode()).hexdigest()[:32]


def install_token(keys: InstallKeys, app: InstalledApp, method: str, url: str) -> str:
    """The RS256 token Jira puts on signed-install lifecycle calls (installed, uninstalled)."""
    now = int(time.time())
    return keys.sign({"iss": app.client_key, "aud": app.base_url, "sub": "5c5f880629be9642ba529340",
                      "iat": now, "exp": now + TOKEN_LIFETIME_S,
                      "qsh": hash_url(method, relative_to(app.base_url, url))})


def app_token(app: InstalledApp, method: str, url: str, sub: str | None = None,
              lifetime_s: int = TOKEN_LIFETIME_S) -> str:
    """The HS256 token Jira puts on calls to the app signed with its shared secret (webhooks, enabled…)."""
    now = int(time.time())
    claims: dict[str, Any] = {"iss": app.client_key, "iat": now, "exp": now + lifetime_s,
                              "qsh": hash_url(method, relative_to(app.base_url, url))}
    if sub:
        claims["sub"] = sub
    return jwt.encode(claims, app.shared_secret, algorithm="HS256")


def verify_inbound(apps: dict[str, InstalledApp], authorization: str | None, jwt_param: str | None,
                   method: str, relative_url: str) -> InstalledApp:
    """Check a REST call from an app: HS256 with its secret, iss = app key, qsh of this request."""
    token = None
    if authorization and authorization.startswith("JWT "):
        token = authorization[4:].strip()
    elif jwt_param:
        token = jwt_param
    if not token:
        raise ConnectAuthError("Missing JWT (Authorization: JWT … or ?jwt=)")
    try:
        unverified = jwt.decode(token, options={"verify_signature": False})
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise ConnectAuthError(f"Malformed JWT: {exc}") from None
    if header.get("alg") != "HS256":
        raise ConnectAuthError(f"Unsupported JWT algorithm {header.get('alg')!r}")
    app = apps.get(str(unverified.get("iss")))
    if app is None or not app.installed or app.platform != "connect":
        raise ConnectAuthError(f"No installed app with key {unverified.get('iss')!r}")
    if not app.enabled:
        raise ConnectAuthError(f"App {app.key!r} is disabled")
    try:
        claims = jwt.decode(token, app.shared_secret, algorithms=["HS256"], leeway=LEEWAY_S,
                            options={"require": ["iss", "iat", "exp", "qsh"], "verify_aud": False})
    except jwt.PyJWTError as exc:
        raise ConnectAuthError(f"JWT rejected: {exc}") from None
    expected = hash_url(method, _without_jwt(relative_url))
    if claims["qsh"] != expected:
        raise ConnectAuthError("JWT qsh does not match the request (expected the hash of "
                               f"{method.upper()} {relative_url})")
    return app


def _without_jwt(relative_url: str) -> str:
    # atlassian_jwt already skips a `jwt` query parameter when hashing.
    return relative_url
