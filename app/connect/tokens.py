"""Connect JWTs: verifying what Atlassian sends us, minting what we send to Atlassian.

Three kinds arrive:
- signed-install lifecycle tokens (`installed`, `uninstalled`): RS256, key fetched by `kid`;
- request tokens (webhooks, page loads, `enabled`/`disabled`): HS256 with the tenant's shared
  secret, `qsh` bound to the request;
- context tokens (`AP.context.getToken()` from our own pages): HS256, `qsh` = "context-qsh".

Time is passed in (`now`), never read here. Tokens and secrets are never logged or echoed.
"""

from __future__ import annotations

import binascii
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar
from urllib.parse import SplitResult, urlsplit

import jwt
from jwt.algorithms import HMACAlgorithm
from jwt.utils import base64url_decode, base64url_encode

from app.connect.errors import (
    AuthError,
    BadAlgorithm,
    BadKeyId,
    BadSignature,
    ClientKeyMismatch,
    ContextQshRefused,
    KeyUnavailable,
    MalformedToken,
    MissingToken,
    QshMismatch,
    TokenExpired,
    TokenNotYetValid,
    UnknownTenant,
    WrongAudience,
)
from app.connect.qsh import CONTEXT_QSH, Query, qsh_for_url, query_string_hash

__all__ = [
    "AuthError",
    "BadAlgorithm",
    "BadKeyId",
    "BadSignature",
    "ClientKeyMismatch",
    "ContextQshRefused",
    "KeyUnavailable",
    "MalformedToken",
    "MissingToken",
    "QshMismatch",
    "TokenExpired",
    "TokenNotYetValid",
    "UnknownTenant",
    "WrongAudience",
    "extract_token",
    "ForeignUrl",
    "mint_token",
    "token_for_url",
    "verify_context_token",
    "verify_install_token",
    "verify_request_token",
]

#: Seconds of clock skew tolerated on `exp` and `iat` between Atlassian and us.
LEEWAY_SECONDS = 30
#: Lifetime of the tokens we mint; Atlassian's recommendation for outbound calls.
DEFAULT_TTL_SECONDS = 180
#: The only algorithm a signed-install lifecycle token may use (pinned: no algorithm confusion).
INSTALL_ALGORITHMS = ["RS256"]
#: The only algorithm a shared-secret token may use.
SHARED_SECRET_ALGORITHMS = ["HS256"]
#: Prefix of the Authorization header that carries a Connect token.
AUTH_SCHEME = "JWT"

# Signature only: audience, expiry and issued-at are checked here, against the `now` passed in.
_DECODE_OPTIONS: Any = {
    "verify_signature": True,
    "verify_exp": False,
    "verify_nbf": False,
    "verify_iat": False,
    "verify_aud": False,
    "verify_iss": False,
}


class ForeignUrl(ValueError):
    """An outbound URL outside the tenant's site: Tierwise never signs for another origin."""


class KeyFetcher(Protocol):
    """Gives the public key Atlassian published under a key id (see `app.connect.install_keys`)."""

    def get(self, kid: str) -> Any: ...


class SecretHolder(Protocol):
    """What verification needs of a tenant (`app.storage.tenants.Tenant` is one)."""

    @property
    def shared_secret(self) -> str | None: ...

    @property
    def state(self) -> str: ...


T = TypeVar("T", bound=SecretHolder)


def extract_token(authorization: str | None, query_token: str | None = None) -> str:
    """The token from an `Authorization: JWT …` header, else from the `jwt` query parameter."""
    if authorization:
        scheme, _, token = authorization.strip().partition(" ")
        if scheme != AUTH_SCHEME or not token.strip():
            raise MalformedToken("the Authorization header is not of the form 'JWT <token>'")
        return token.strip()
    if query_token:
        return query_token
    raise MissingToken("no Connect token: send 'Authorization: JWT <token>' or a jwt query parameter")


def _header(token: str) -> dict[str, Any]:
    try:
        return jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise MalformedToken("the token is not a well-formed JWT") from exc


def _decode(token: str, key: Any, algorithms: list[str]) -> dict[str, Any]:
    try:
        return jwt.decode(token, key, algorithms=algorithms, options=_DECODE_OPTIONS)
    except jwt.InvalidSignatureError as exc:
        raise BadSignature("the token's signature does not verify") from exc
    except jwt.InvalidAlgorithmError as exc:
        raise BadAlgorithm(f"the token must be signed with {' or '.join(algorithms)}") from exc
    except jwt.PyJWTError as exc:
        raise MalformedToken("the token is not a well-formed JWT") from exc


def _check_algorithm(header: dict[str, Any], algorithms: list[str]) -> None:
    if header.get("alg") not in algorithms:
        raise BadAlgorithm(f"the token must be signed with {' or '.join(algorithms)}")


def _check_times(claims: dict[str, Any], now: datetime) -> None:
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise MalformedToken("the token has no numeric exp claim")
    if not isinstance(iat, int | float) or isinstance(iat, bool):
        raise MalformedToken("the token has no numeric iat claim")
    ts = now.timestamp()
    if ts > exp + LEEWAY_SECONDS:
        raise TokenExpired("the token has expired")
    if iat > ts + LEEWAY_SECONDS:
        raise TokenNotYetValid("the token was issued in the future")


def _check_qsh(claims: dict[str, Any], method: str, path: str, query: Query, allow_context: bool) -> None:
    qsh = claims.get("qsh")
    if not isinstance(qsh, str):
        raise QshMismatch("the token has no qsh claim")
    if qsh == CONTEXT_QSH:
        if allow_context:
            return
        raise ContextQshRefused("a context token is not accepted here: the token must be bound to this request")
    if not hmac.compare_digest(qsh, query_string_hash(method, path, query)):
        raise QshMismatch(f"the token's qsh does not match {method.upper()} {path}")


def _issuer(claims: dict[str, Any]) -> str:
    iss = claims.get("iss")
    if not isinstance(iss, str) or not iss:
        raise MalformedToken("the token has no iss claim")
    return iss


def verify_install_token(
    token: str,
    *,
    method: str,
    path: str,
    query: Query,
    body_client_key: str | None,
    app_base_url: str,
    key_fetcher: KeyFetcher,
    now: datetime,
) -> dict[str, Any]:
    """Verify a signed-install lifecycle token (RS256); return its claims.

    The key comes from `key_fetcher` by the header's `kid`; `aud` must name `app_base_url`
    (a trailing slash either side is ignored) and `iss` must equal the body's clientKey.
    """
    header = _header(token)
    _check_algorithm(header, INSTALL_ALGORITHMS)
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise BadKeyId("the token's header names no key id (kid)")
    key = key_fetcher.get(kid)
    claims = _decode(token, key, INSTALL_ALGORITHMS)
    _check_times(claims, now)
    audiences = claims.get("aud")
    if isinstance(audiences, str):
        audiences = [audiences]
    expected = app_base_url.rstrip("/")
    if not isinstance(audiences, list) or not any(
        isinstance(aud, str) and aud.rstrip("/") == expected for aud in audiences
    ):
        raise WrongAudience(f"the token is not addressed to {expected}")
    _check_qsh(claims, method, path, query, allow_context=False)
    issuer = _issuer(claims)
    if body_client_key != issuer:
        raise ClientKeyMismatch("the body's clientKey is not the token's issuer")
    return claims


_HS256 = HMACAlgorithm(HMACAlgorithm.SHA256)


@dataclass(frozen=True)
class _Compact:
    """A JWS compact token split and decoded once: header, payload, and what the signature covers."""

    header: dict[str, Any]
    payload: bytes
    signing_input: bytes
    signature: bytes

    def claims(self) -> dict[str, Any]:
        """The payload as a JSON object (MalformedToken otherwise)."""
        try:
            claims = json.loads(self.payload)
        except (ValueError, RecursionError) as exc:
            raise MalformedToken("the token is not a well-formed JWT") from exc
        if not isinstance(claims, dict):
            raise MalformedToken("the token's claims are not an object")
        return claims


_BASE64URL = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _segment(part: bytes) -> bytes:
    """One base64url segment, as strictly as PyJWT reads it (no junk, canonical, at most '==' padding)."""
    stripped = part.rstrip(b"=")
    padding = len(part) - len(stripped)
    if padding > 2 or (padding and len(part) % 4) or len(stripped) % 4 == 1 or not _BASE64URL.issuperset(stripped):
        raise ValueError("not base64url")
    decoded = base64url_decode(stripped)
    if base64url_encode(decoded) != stripped:
        raise ValueError("not canonical base64url")
    return decoded


def _split(token: str) -> _Compact:
    """Decode a compact JWT's parts once (nothing is trusted until `_hs256_verifies`)."""
    try:
        raw = token.encode("utf-8")
        signing_input, signature_part = raw.rsplit(b".", 1)
        header_part, payload_part = signing_input.split(b".", 1)
        header = json.loads(_segment(header_part))
        payload = _segment(payload_part)
        signature = _segment(signature_part)
    except (ValueError, RecursionError, binascii.Error) as exc:
        raise MalformedToken("the token is not a well-formed JWT") from exc
    if not isinstance(header, dict):
        raise MalformedToken("the token is not a well-formed JWT")
    if "crit" in header or header.get("b64") is False:  # JWS extensions we do not implement: refuse
        raise MalformedToken("the token uses JWS extensions Tierwise does not accept")
    return _Compact(header, payload, signing_input, signature)


def _hs256_verifies(token: _Compact, secret: str) -> bool:
    """PyJWT's HS256 check (constant-time compare) of the token's signature with `secret`."""
    return bool(_HS256.verify(token.signing_input, _HS256.prepare_key(secret), token.signature))


def _verify_shared_secret(
    token: str, tenant_lookup: Callable[[str], T | None], now: datetime, accept_uninstalled: bool = False
) -> tuple[T, dict[str, Any]]:
    # One decode of the token for the algorithm, the issuer and the signature (PyJWT's own
    # `decode` would parse it again for each of the three).
    parsed = _split(token)
    _check_algorithm(parsed.header, SHARED_SECRET_ALGORITHMS)
    # The issuer only chooses which secret to try; nothing is trusted before the signature verifies.
    claims = parsed.claims()
    issuer = _issuer(claims)
    tenant = tenant_lookup(issuer)
    if tenant is None or not tenant.shared_secret or (tenant.state == "uninstalled" and not accept_uninstalled):
        raise UnknownTenant("the token's issuer is not an installed tenant")
    try:
        verified = _hs256_verifies(parsed, tenant.shared_secret)
    except jwt.PyJWTError as exc:  # e.g. a secret that looks like a PEM key: never used as an HMAC key
        raise BadSignature("the token's signature does not verify") from exc
    if not verified:
        raise BadSignature("the token's signature does not verify")
    _check_times(claims, now)
    return tenant, claims


def verify_request_token(
    token: str,
    *,
    method: str,
    path: str,
    query: Query,
    tenant_lookup: Callable[[str], T | None],
    now: datetime,
    allow_context_qsh: bool = False,
    accept_uninstalled: bool = False,
) -> tuple[T, dict[str, Any]]:
    """Verify a request-bound HS256 token (webhook, page load, enabled/disabled); return (tenant, claims).

    The tenant is looked up by the token's `iss` alone; its `qsh` must be this request's hash.
    An uninstalled tenant is unknown unless `accept_uninstalled` (late lifecycle events, which
    the store then ignores).
    """
    tenant, claims = _verify_shared_secret(token, tenant_lookup, now, accept_uninstalled)
    _check_qsh(claims, method, path, query, allow_context=allow_context_qsh)
    return tenant, claims


def verify_context_token(
    token: str,
    *,
    tenant_lookup: Callable[[str], T | None],
    now: datetime,
) -> tuple[T, dict[str, Any]]:
    """Verify a context token from one of our pages (HS256, qsh "context-qsh"); return (tenant, claims).

    The user is the claims' `sub` (an Atlassian account id), absent for anonymous contexts.
    """
    tenant, claims = _verify_shared_secret(token, tenant_lookup, now)
    if claims.get("qsh") != CONTEXT_QSH:
        raise QshMismatch("a context token must carry qsh 'context-qsh'")
    return tenant, claims


def mint_token(
    *,
    issuer: str,
    secret: str,
    qsh: str,
    now: datetime,
    ttl: int = DEFAULT_TTL_SECONDS,
    subject: str | None = None,
    extra: dict[str, Any] | None = None,
) -> str:
    """An HS256 Connect token: `iss`, `iat`, `exp` = iat + ttl, `qsh` (and `sub`, extra claims)."""
    iat = int(now.timestamp())
    claims: dict[str, Any] = dict(extra or {})
    claims.update({"iss": issuer, "iat": iat, "exp": iat + ttl, "qsh": qsh})
    if subject is not None:
        claims["sub"] = subject
    return jwt.encode(claims, secret, algorithm="HS256")


def _origin(parts: SplitResult) -> tuple[str, str, int | None]:
    port = parts.port or {"https": 443, "http": 80}.get(parts.scheme.lower())
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def token_for_url(
    method: str, url: str, *, base_url: str, issuer: str, secret: str, now: datetime,
    ttl: int = DEFAULT_TTL_SECONDS,
) -> str:
    """A fresh token for one outbound request to `url` on the site at `base_url` (`ForeignUrl` otherwise)."""
    target, site = urlsplit(url), urlsplit(base_url)
    context = site.path.rstrip("/")
    if _origin(target) != _origin(site) or not (
        target.path == context or target.path.startswith(context + "/") or not context
    ):
        raise ForeignUrl(f"refusing to sign a request outside {site.scheme}://{site.netloc}{context}")
    return mint_token(issuer=issuer, secret=secret, qsh=qsh_for_url(method, url, base_url), now=now, ttl=ttl)
