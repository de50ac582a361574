"""Verify Forge Invocation Tokens (FIT): the bearer token on every call Forge makes to the remote.

A FIT is an RS256 JWT signed by a key from Atlassian's JWKS (`FORGE_JWKS_URL`), with
`iss` = `forge/invocation-token`, `aud` = the app's id (`ari:cloud:ecosystem::app/<uuid>`, the
`app.id` of `forge/manifest.yml`) and `exp`, `nbf`, `iat`. Its claims name the installation
(`app.installationId`), the base URL for calls back into Jira (`app.apiBaseUrl`), the environment,
the module, and for UI calls the site (`context.cloudId`) and the user (`principal`).
Source: Atlassian, "Forge Remote essentials", section "The Forge Invocation Token (FIT)".
"""

from __future__ import annotations

import base64
import binascii
import http.client
import json
import logging
import re
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import jwt
from jwt.algorithms import RSAAlgorithm

from app.forge.errors import ForgeAuthError

log = logging.getLogger(__name__)

#: The only issuer Forge uses for invocation tokens.
FIT_ISSUER = "forge/invocation-token"
#: Pinned: a token naming any other algorithm (none, HS256, ES256…) is refused before any key lookup.
FIT_ALGORITHMS = ("RS256",)
#: Claims a FIT must carry; PyJWT checks their presence, we check the values.
REQUIRED_CLAIMS = ("exp", "nbf", "iat", "iss", "aud")
#: Seconds of clock skew tolerated on exp/nbf/iat (FITs live about 25 s).
LEEWAY_SECONDS = 10
#: How long a JWKS request may take; Forge gives the remote 5 s for an event in total.
JWKS_TIMEOUT_SECONDS = 3.0
#: Least time between two JWKS fetches, so a flood of made-up kids cannot hammer Atlassian's CDN.
JWKS_REFETCH_FLOOR_SECONDS = 30.0
#: A key set older than this is refreshed (at most once per floor), so withdrawn keys stop working.
JWKS_MAX_AGE_SECONDS = 3600.0
#: Largest JWKS document read (the real one is a few KiB).
JWKS_MAX_BYTES = 256 * 1024
#: A kid worth looking up: short and plain (it is only a dict key here, but keep logs clean).
_KID = re.compile(r"^[A-Za-z0-9._:/+=-]{1,128}$")
#: Hosts for which an `http://` apiBaseUrl is accepted (local stand-ins; Forge itself always sends https).
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
#: The form of a Forge app id, as `app.id` in the manifest and as the FIT's `aud`.
APP_ARI_PREFIX = "ari:cloud:ecosystem::app/"
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def normalize_app_id(value: str) -> str:
    """The app id as the FIT's `aud` spells it; a bare UUID gets the `ari:cloud:ecosystem::app/` prefix.

    Lifecycle payloads name the app by bare UUID while the FIT uses the ARI: accept either in
    `FORGE_APP_ID`.
    """
    value = value.strip()
    if _UUID.match(value):
        return APP_ARI_PREFIX + value.lower()
    if value.startswith(APP_ARI_PREFIX) and _UUID.match(value[len(APP_ARI_PREFIX):]):
        return value
    raise ValueError(f"FORGE_APP_ID: {value!r} is neither ari:cloud:ecosystem::app/<uuid> nor a UUID")


@dataclass(frozen=True)
class ForgeContext:
    """Who is calling, read from a verified FIT.

    `installation_id` is the installation ARI (stable across upgrades, new on reinstall);
    `cloud_id`, `site_url` and `account_id` (the FIT's `principal`) are None when Forge does not
    send them (events and lifecycle calls carry no user and often no `context`).
    """

    installation_id: str
    app_id: str
    api_base_url: str
    environment_id: str | None
    environment_type: str | None
    module_key: str | None
    module_type: str | None
    cloud_id: str | None
    site_url: str | None
    account_id: str | None
    app_version: str | None
    token_id: str | None
    expires_at: int
    #: `context.extension` of a UI call: where the module is shown (for `jira:issuePanel`: `type`,
    #: `issue` {id, key, type}, `project` {id, key, type}); empty for events and lifecycle calls.
    extension: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def installation_uuid(self) -> str:
        """The installation id without its ARI prefix."""
        return self.installation_id.rsplit("/", 1)[-1]

    @property
    def extension_issue(self) -> tuple[str | None, str | None]:
        """(id, key) of the issue the calling UI module is shown on; (None, None) when there is none."""
        issue = _mapping(self.extension.get("issue"))
        issue_id = issue.get("id")
        return (str(issue_id) if isinstance(issue_id, str | int) and str(issue_id) else None,
                _str(issue.get("key")))


Fetch = Callable[[str, float], bytes]


def _http_get(url: str, timeout: float) -> bytes:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (configured URL)
        data: bytes = response.read(JWKS_MAX_BYTES + 1)
        return data


class JwksCache:
    """Forge's public keys by `kid`, fetched from the JWKS URL when needed.

    An unknown kid triggers at most one refetch, and never more than one per `refetch_floor`
    seconds across all callers: a flood of made-up kids inside the floor is refused without a
    request. The whole set is also refreshed once it is older than `max_age`, so a key Forge
    withdraws stops being trusted; if that refresh fails the known keys stay in use (an outage of
    Atlassian's CDN must not stop ticket events). Thread-safe; `fetch` and `clock` are injectable.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = JWKS_TIMEOUT_SECONDS,
        refetch_floor: float = JWKS_REFETCH_FLOOR_SECONDS,
        max_age: float = JWKS_MAX_AGE_SECONDS,
        fetch: Fetch = _http_get,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.refetch_floor = refetch_floor
        self.max_age = max_age
        self._fetch = fetch
        self._clock = clock
        self._keys: dict[str, Any] = {}
        self._fetched_at: float | None = None  # last successful fetch
        self._attempted_at: float | None = None  # last attempt, successful or not
        self._last_failed = False
        self._lock = threading.Lock()
        #: How many times the JWKS was requested (for tests and metrics).
        self.fetch_count = 0

    def key(self, kid: str) -> Any:
        """The RSA public key for `kid`; ForgeAuthError `unknown_key` when Forge does not publish it."""
        now = self._clock()
        with self._lock:
            stale = self._fetched_at is None or now - self._fetched_at >= self.max_age
            may_fetch = self._attempted_at is None or now - self._attempted_at >= self.refetch_floor
            if (stale or kid not in self._keys) and may_fetch:
                self._attempted_at = now
                self._refresh(now)
            found = self._keys.get(kid)
            failed = self._last_failed
        if found is None:
            if failed:
                raise ForgeAuthError("jwks_unavailable", "Forge's signing keys could not be fetched")
            raise ForgeAuthError("unknown_key", "the token was signed with a key Forge does not publish")
        return found

    def _refresh(self, now: float) -> None:
        self.fetch_count += 1
        try:
            keys = _parse_jwks(self._fetch(self.url, self.timeout))
        except (OSError, ValueError, http.client.HTTPException) as exc:
            log.warning("Forge JWKS fetch from %s failed: %s", self.url, exc)
            self._last_failed = True
            return
        self._keys, self._fetched_at, self._last_failed = keys, now, False


def _parse_jwks(raw: bytes) -> dict[str, Any]:
    """RSA signing keys of a JWKS document by kid; ValueError when it is no usable JWKS."""
    if len(raw) > JWKS_MAX_BYTES:
        raise ValueError("the key set is larger than expected")
    document = json.loads(raw)
    entries = document.get("keys") if isinstance(document, Mapping) else None
    if not isinstance(entries, list):
        raise ValueError("the key set has no keys list")
    keys: dict[str, Any] = {}
    for entry in entries:
        if not isinstance(entry, Mapping) or entry.get("kty") != "RSA":
            continue
        kid = entry.get("kid")
        if not isinstance(kid, str) or entry.get("use", "sig") != "sig":
            continue
        try:
            keys[kid] = RSAAlgorithm.from_jwk(dict(entry))
        except (jwt.InvalidKeyError, ValueError, TypeError, KeyError):
            continue
    return keys


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer <FIT>` header."""
    if not authorization:
        raise ForgeAuthError("missing_token", "no Authorization header with a Forge Invocation Token")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ForgeAuthError("missing_token", "the Authorization header is not 'Bearer <token>'")
    return token.strip()


_DECODE_ERRORS: tuple[tuple[type[Exception], str, str], ...] = (
    (jwt.ExpiredSignatureError, "token_expired", "the token has expired"),
    (jwt.ImmatureSignatureError, "token_not_yet_valid", "the token is not valid yet (nbf/iat in the future)"),
    (jwt.InvalidAudienceError, "wrong_audience", "the token is meant for another app (aud)"),
    (jwt.InvalidIssuerError, "wrong_issuer", "the token was not issued by forge/invocation-token"),
    (jwt.MissingRequiredClaimError, "missing_claim", "the token lacks a required claim"),
    (jwt.InvalidSignatureError, "bad_signature", "the token's signature does not verify"),
    (jwt.DecodeError, "malformed_token", "the token is not a well-formed JWT"),
)


def verify_fit(
    token: str,
    *,
    app_id: str,
    keys: JwksCache,
    leeway: float = LEEWAY_SECONDS,
) -> ForgeContext:
    """Verify a FIT and read its context; ForgeAuthError (401) on anything wrong."""
    header = _unverified_header(token)
    if header.get("alg") not in FIT_ALGORITHMS:
        raise ForgeAuthError("wrong_algorithm", "only RS256 invocation tokens are accepted")
    kid = header.get("kid")
    if not isinstance(kid, str) or not _KID.match(kid):
        raise ForgeAuthError("malformed_token", "the token names no usable key id (kid)")
    key = keys.key(kid)
    audience = normalize_app_id(app_id)
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=list(FIT_ALGORITHMS),
            audience=audience,
            issuer=FIT_ISSUER,
            leeway=leeway,
            options={"require": list(REQUIRED_CLAIMS)},
        )
    except jwt.InvalidTokenError as exc:
        for kind, code, message in _DECODE_ERRORS:
            if isinstance(exc, kind):
                raise ForgeAuthError(code, message) from exc
        raise ForgeAuthError("invalid_token", "the token is not valid") from exc
    return context_from_claims(claims, audience)


def _unverified_header(token: str) -> Mapping[str, Any]:
    """The JOSE header, read only to pick the algorithm and key; PyJWT then verifies everything.

    Read here rather than with `jwt.get_unverified_header`, which validates every character of
    all three segments in Python and so doubled the cost of a verification.
    """
    segment = token.split(".", 1)[0] if token.count(".") == 2 else ""
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, binascii.Error) as exc:
        raise ForgeAuthError("malformed_token", "the token is not a well-formed JWT") from exc
    if not isinstance(header, Mapping):
        raise ForgeAuthError("malformed_token", "the token's header is not a JSON object")
    return header


def context_from_claims(claims: Mapping[str, Any], audience: str) -> ForgeContext:
    """Read the installation, API base URL and caller from verified claims."""
    app = claims.get("app")
    if not isinstance(app, Mapping):
        raise ForgeAuthError("missing_claim", "the token has no app claim")
    installation = app.get("installationId")
    if not isinstance(installation, str) or not installation:
        installation_obj = app.get("installation")
        installation = installation_obj.get("id") if isinstance(installation_obj, Mapping) else None
    if not isinstance(installation, str) or not installation:
        raise ForgeAuthError("missing_claim", "the token names no app.installationId")
    api_base_url = app.get("apiBaseUrl")
    if not isinstance(api_base_url, str) or not _usable_api_base_url(api_base_url):
        raise ForgeAuthError("missing_claim", "the token has no https app.apiBaseUrl")
    if app.get("id") not in (None, audience):
        raise ForgeAuthError("wrong_audience", "the token's app.id differs from its audience")
    environment = _mapping(app.get("environment"))
    module = _mapping(app.get("module"))
    context = _mapping(claims.get("context"))
    return ForgeContext(
        installation_id=installation,
        app_id=audience,
        api_base_url=api_base_url.rstrip("/"),
        environment_id=_str(environment.get("id")),
        environment_type=_str(environment.get("type")),
        module_key=_str(module.get("key")),
        module_type=_str(module.get("type")),
        cloud_id=_str(context.get("cloudId")),
        site_url=_str(context.get("siteUrl")),
        account_id=_str(claims.get("principal")),
        app_version=_str(app.get("appVersion")) or _str(app.get("version")),
        token_id=_str(claims.get("jti")),
        expires_at=int(claims["exp"]),
        extension=dict(_mapping(context.get("extension"))),
    )


def _usable_api_base_url(url: str) -> bool:
    """HTTPS, or plain HTTP to this machine's loopback (a local Jira stand-in; never reachable remotely)."""
    if url.startswith("https://"):
        return True
    parts = urlsplit(url)
    return parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
