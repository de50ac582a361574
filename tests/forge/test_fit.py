"""Forge Invocation Token checks against a JWKS served on 127.0.0.1."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from forge_fixtures import (
    API_BASE_URL,
    APP_ID,
    APP_UUID,
    CLOUD_ID,
    DROP,
    INSTALLATION_ID,
    KID,
    JwksServer,
    fit_claims,
    public_jwk,
    sign,
)

from app.forge.errors import ForgeAuthError
from app.forge.fit import JwksCache, bearer_token, normalize_app_id, verify_fit


def _cache(server: JwksServer, **kwargs: Any) -> JwksCache:
    return JwksCache(server.url, **kwargs)


def _refused(token: str, cache: JwksCache, app_id: str = APP_ID) -> str:
    with pytest.raises(ForgeAuthError) as caught:
        verify_fit(token, app_id=app_id, keys=cache)
    assert caught.value.as_json()["error"] == caught.value.code
    return caught.value.code


def test_valid_token_gives_the_invocation_context(jwks_server: JwksServer, signing_key: rsa.RSAPrivateKey) -> None:
    context = verify_fit(sign(fit_claims(), signing_key), app_id=APP_ID, keys=_cache(jwks_server))

    assert context.installation_id == INSTALLATION_ID
    assert context.installation_uuid == INSTALLATION_ID.rsplit("/", 1)[1]
    assert context.api_base_url == API_BASE_URL
    assert context.app_id == APP_ID
    assert context.cloud_id == CLOUD_ID
    assert context.site_url == "https://vendor.atlassian.net"
    assert context.account_id == "655362:312d3308-8954-42b0-aa38-771a10c88656"
    assert context.module_key == "tierwise-events"
    assert context.environment_type == "PRODUCTION"
    assert context.app_version == "16.0.1"


def test_event_token_without_context_or_principal_is_accepted(
    jwks_server: JwksServer, signing_key: rsa.RSAPrivateKey
) -> None:
    # Backend-originated invocations (events, lifecycle) carry no `context` and no user.
    token = sign(fit_claims(context=DROP, principal=DROP), signing_key)
    context = verify_fit(token, app_id=APP_ID, keys=_cache(jwks_server))
    assert (context.cloud_id, context.account_id) == (None, None)


def test_a_bare_uuid_app_id_setting_means_the_app_ari(
    jwks_server: JwksServer, signing_key: rsa.RSAPrivateKey
) -> None:
    assert normalize_app_id(APP_UUID) == APP_ID
    context = verify_fit(sign(fit_claims(), signing_key), app_id=APP_UUID, keys=_cache(jwks_server))
    assert context.app_id == APP_ID
    with pytest.raises(ValueError):
        normalize_app_id("tierwise")


def test_keys_are_cached_by_kid(jwks_server: JwksServer, signing_key: rsa.RSAPrivateKey) -> None:
    cache = _cache(jwks_server)
    for _ in range(5):
        verify_fit(sign(fit_claims(), signing_key), app_id=APP_ID, keys=cache)
    assert jwks_server.requests == 1


def now() -> int:
    return int(time.time())


REFUSALS = [
    ("expired", lambda: fit_claims(iat=now() - 120, nbf=now() - 120, exp=now() - 60), "token_expired"),
    ("not yet valid", lambda: fit_claims(nbf=now() + 300, exp=now() + 600), "token_not_yet_valid"),
    ("issued in the future", lambda: fit_claims(iat=now() + 300, exp=now() + 600), "token_not_yet_valid"),
    ("wrong audience", lambda: fit_claims(aud="ari:cloud:ecosystem::app/00000000-0000-0000-0000-000000000000"),
     "wrong_audience"),
    ("audience is the site, not the app", lambda: fit_claims(aud="https://vendor.atlassian.net"), "wrong_audience"),
    ("wrong issuer", lambda: fit_claims(iss="jira:1234"), "wrong_issuer"),
    ("no exp", lambda: fit_claims(exp=DROP), "missing_claim"),
    ("no nbf", lambda: fit_claims(nbf=DROP), "missing_claim"),
    ("no iat", lambda: fit_claims(iat=DROP), "missing_claim"),
    ("no iss", lambda: fit_claims(iss=DROP), "missing_claim"),
    ("no installation", lambda: fit_claims(app={"id": APP_ID, "apiBaseUrl": API_BASE_URL}), "missing_claim"),
    ("no api base url", lambda: fit_claims(app={"id": APP_ID, "installationId": INSTALLATION_ID}),
     "missing_claim"),
]


@pytest.mark.parametrize(("claims", "code"), [(c, code) for _, c, code in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_invalid_claims_are_refused(
    jwks_server: JwksServer, signing_key: rsa.RSAPrivateKey, claims: Any, code: str
) -> None:
    assert _refused(sign(claims(), signing_key), _cache(jwks_server)) == code


def test_token_signed_by_another_key_under_forges_kid_is_refused(
    jwks_server: JwksServer, other_key: rsa.RSAPrivateKey
) -> None:
    assert _refused(sign(fit_claims(), other_key), _cache(jwks_server)) == "bad_signature"


def test_alg_none_is_refused(jwks_server: JwksServer) -> None:
    token = jwt.encode(fit_claims(), None, algorithm="none", headers={"kid": KID})
    assert _refused(token, _cache(jwks_server)) == "wrong_algorithm"
    assert jwks_server.requests == 0


def test_hs256_signed_with_the_public_key_is_refused(
    jwks_server: JwksServer, signing_key: rsa.RSAPrivateKey
) -> None:
    # The classic confusion attack: HMAC keyed with the published RSA public key.
    pem = signing_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "kid": KID, "typ": "JWT"}
    import base64
    import hashlib
    import hmac
    import json

    def b64(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    signing_input = b64(json.dumps(header).encode()) + b"." + b64(json.dumps(fit_claims()).encode())
    signature = b64(hmac.new(pem, signing_input, hashlib.sha256).digest())
    token = (signing_input + b"." + signature).decode()
    assert _refused(token, _cache(jwks_server)) == "wrong_algorithm"


@pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b.c"])
def test_garbage_is_refused(jwks_server: JwksServer, token: str) -> None:
    assert _refused(token, _cache(jwks_server)) == "malformed_token"


def test_token_without_kid_is_refused(jwks_server: JwksServer, signing_key: rsa.RSAPrivateKey) -> None:
    assert _refused(sign(fit_claims(), signing_key, kid=None), _cache(jwks_server)) == "malformed_token"


def test_unknown_kid_triggers_exactly_one_refetch(
    jwks_server: JwksServer, signing_key: rsa.RSAPrivateKey, other_key: rsa.RSAPrivateKey
) -> None:
    cache = _cache(jwks_server, refetch_floor=0)
    verify_fit(sign(fit_claims(), signing_key), app_id=APP_ID, keys=cache)
    assert jwks_server.requests == 1

    # Forge rotates: a new key appears in the JWKS; the first token using it causes one refetch.
    jwks_server.keys = [public_jwk(signing_key, KID), public_jwk(other_key, "forge-test-key-2")]
    verify_fit(sign(fit_claims(), other_key, kid="forge-test-key-2"), app_id=APP_ID, keys=cache)
    assert jwks_server.requests == 2

    # A kid Forge never published: one refetch, then refused.
    assert _refused(sign(fit_claims(), other_key, kid="made-up"), cache) == "unknown_key"
    assert jwks_server.requests == 3


def test_a_flood_of_unknown_kids_fetches_at_most_once_per_floor(
    jwks_server: JwksServer, signing_key: rsa.RSAPrivateKey, other_key: rsa.RSAPrivateKey
) -> None:
    clock = [1000.0]
    cache = _cache(jwks_server, refetch_floor=30, clock=lambda: clock[0])
    verify_fit(sign(fit_claims(), signing_key), app_id=APP_ID, keys=cache)
    for i in range(50):
        assert _refused(sign(fit_claims(), other_key, kid=f"bogus-{i}"), cache) == "unknown_key"
    assert jwks_server.requests == 1  # all inside the floor: no request at all

    clock[0] += 31
    assert _refused(sign(fit_claims(), other_key, kid="bogus-late"), cache) == "unknown_key"
    assert jwks_server.requests == 2
    # Known keys keep working during the flood.
    verify_fit(sign(fit_claims(), signing_key), app_id=APP_ID, keys=cache)
    assert jwks_server.requests == 2


def test_jwks_endpoint_down_refuses_with_its_own_code(signing_key: rsa.RSAPrivateKey) -> None:
    cache = JwksCache("http://127.0.0.1:9/.well-known/jwks.json", timeout=0.5)
    assert _refused(sign(fit_claims(), signing_key), cache) == "jwks_unavailable"


@pytest.mark.parametrize(
    ("header", "ok"),
    [("Bearer abc.def.ghi", True), ("bearer abc", True), ("JWT abc", False), ("Bearer ", False), (None, False)],
)
def test_bearer_header(header: str | None, ok: bool) -> None:
    if ok:
        assert bearer_token(header) == header.split(" ", 1)[1]  # type: ignore[union-attr]
    else:
        with pytest.raises(ForgeAuthError) as caught:
            bearer_token(header)
        assert caught.value.code == "missing_token"


def test_a_key_forge_withdraws_stops_working_after_max_age(
    jwks_server: JwksServer, signing_key: rsa.RSAPrivateKey, other_key: rsa.RSAPrivateKey
) -> None:
    clock = [0.0]
    cache = _cache(jwks_server, max_age=3600, clock=lambda: clock[0])
    verify_fit(sign(fit_claims(), signing_key), app_id=APP_ID, keys=cache)

    jwks_server.keys = [public_jwk(other_key, "forge-test-key-2")]  # KID withdrawn
    clock[0] = 1800
    verify_fit(sign(fit_claims(), signing_key), app_id=APP_ID, keys=cache)  # still within max_age
    assert jwks_server.requests == 1
    clock[0] = 3601
    assert _refused(sign(fit_claims(), signing_key), cache) == "unknown_key"
    assert jwks_server.requests == 2


def test_known_keys_keep_working_while_the_jwks_endpoint_fails(
    jwks_server: JwksServer, signing_key: rsa.RSAPrivateKey
) -> None:
    clock = [0.0]
    cache = _cache(jwks_server, max_age=60, clock=lambda: clock[0])
    verify_fit(sign(fit_claims(), signing_key), app_id=APP_ID, keys=cache)
    jwks_server.status = 500
    clock[0] = 120
    verify_fit(sign(fit_claims(), signing_key), app_id=APP_ID, keys=cache)
    assert jwks_server.requests == 2  # it tried, failed, and kept the known key


def test_jwks_answering_500_refuses_with_its_own_code(
    jwks_server: JwksServer, signing_key: rsa.RSAPrivateKey
) -> None:
    jwks_server.status = 500
    assert _refused(sign(fit_claims(), signing_key), _cache(jwks_server)) == "jwks_unavailable"
