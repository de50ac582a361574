"""Token verification without Flask: every refusal is a named AuthError with a stable code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from atlassian_jwt.encode import encode_token
from connect_testkit import KID, install_token
from cryptography.hazmat.primitives.asymmetric import rsa

from app.connect.errors import AuthError, BadKeyId
from app.connect.qsh import CONTEXT_QSH, query_string_hash
from app.connect.tokens import (
    ForeignUrl,
    extract_token,
    mint_token,
    token_for_url,
    verify_context_token,
    verify_install_token,
    verify_request_token,
)

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
APP = "https://tierwise.test"
SECRET = "a-shared-secret-of-forty-characters-long!"
CLIENT = "jira:6f0c1a52-1111-4e6a-9a7e-2c4b7d7a0d11"
PATH = "/lifecycle/installed"


@dataclass(frozen=True)
class T:
    client_key: str
    shared_secret: str | None
    state: str = "enabled"


class Keys:
    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        self.public = key.public_key()
        self.asked: list[str] = []

    def get(self, kid: str) -> Any:
        self.asked.append(kid)
        if kid != KID:
            raise BadKeyId("unknown")
        return self.public


def verify_install(token: str, *, body_client_key: str = CLIENT, now: datetime = NOW, keys: Any) -> dict[str, Any]:
    return verify_install_token(token, method="POST", path=PATH, query="", body_client_key=body_client_key,
                                app_base_url=APP, key_fetcher=keys, now=now)


def code_of(exc: pytest.ExceptionInfo[AuthError]) -> str:
    assert exc.value.status == 401
    assert exc.value.as_json()["message"]
    return exc.value.code


def test_install_token_verifies_and_returns_claims(rsa_key: rsa.RSAPrivateKey) -> None:
    claims = verify_install(install_token(rsa_key, client_key=CLIENT, aud=APP + "/", at=NOW), keys=Keys(rsa_key))
    assert claims["iss"] == CLIENT


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"at": NOW - timedelta(minutes=5), "ttl": 60}, "token_expired"),
        ({"at": NOW + timedelta(minutes=5)}, "token_not_yet_valid"),
        ({"aud": "https://tierwise.test.evil"}, "wrong_audience"),
        ({"path": "/lifecycle/uninstalled"}, "qsh_mismatch"),
        ({"claims": {"qsh": CONTEXT_QSH}}, "context_qsh_refused"),
        ({"client_key": "jira:someone-else"}, "client_key_mismatch"),
        ({"kid": None}, "bad_kid"),
        ({"claims": {"exp": "soon"}}, "malformed_token"),
    ],
)
def test_install_token_refusals(rsa_key: rsa.RSAPrivateKey, kw: dict[str, Any], code: str) -> None:
    options: dict[str, Any] = {"client_key": CLIENT, "aud": APP, "at": NOW} | kw
    with pytest.raises(AuthError) as exc:
        verify_install(install_token(rsa_key, **options), keys=Keys(rsa_key))
    assert code_of(exc) == code


def test_install_leeway_accepts_small_clock_skew(rsa_key: rsa.RSAPrivateKey) -> None:
    token = install_token(rsa_key, client_key=CLIENT, aud=APP, at=NOW + timedelta(seconds=10))
    assert verify_install(token, keys=Keys(rsa_key))["iss"] == CLIENT


def test_install_with_hs256_keyed_by_the_public_pem_is_refused_before_any_key_fetch(rsa_key: rsa.RSAPrivateKey) -> None:
    keys = Keys(rsa_key)
    token = jwt.encode({"iss": CLIENT, "aud": APP, "iat": 0, "exp": 2**31, "qsh": "x"}, SECRET,
                       algorithm="HS256", headers={"kid": KID})
    with pytest.raises(AuthError) as exc:
        verify_install(token, keys=keys)
    assert code_of(exc) == "bad_algorithm"
    assert keys.asked == []


def test_install_unsigned_alg_none_is_refused(rsa_key: rsa.RSAPrivateKey) -> None:
    token = install_token(None, client_key=CLIENT, aud=APP, at=NOW, alg="none")
    with pytest.raises(AuthError) as exc:
        verify_install(token, keys=Keys(rsa_key))
    assert code_of(exc) == "bad_algorithm"


# --- HS256 request and context tokens --------------------------------------------------------

def lookup(tenants: dict[str, T]) -> Any:
    return tenants.get


TENANTS = {CLIENT: T(CLIENT, SECRET)}


def verify_request(token: str, **kw: Any) -> tuple[T, dict[str, Any]]:
    options: dict[str, Any] = {"method": "POST", "path": "/webhooks/jira", "query": "user_id=u1", "now": NOW,
                               "tenant_lookup": lookup(TENANTS)} | kw
    return verify_request_token(token, **options)


def request_token(**kw: Any) -> str:
    options: dict[str, Any] = {"issuer": CLIENT, "secret": SECRET, "now": NOW,
                               "qsh": query_string_hash("POST", "/webhooks/jira", "user_id=u1")} | kw
    return mint_token(**options)


def test_request_token_verifies_and_names_the_tenant() -> None:
    tenant, claims = verify_request(request_token())
    assert tenant.client_key == CLIENT
    assert claims["exp"] - claims["iat"] == 180


@pytest.mark.parametrize(
    ("token_kw", "verify_kw", "code"),
    [
        ({"secret": "another-secret-entirely-forty-characters"}, {}, "bad_signature"),
        ({"issuer": "jira:unknown"}, {}, "unknown_tenant"),
        ({}, {"tenant_lookup": lookup({CLIENT: T(CLIENT, SECRET, "uninstalled")})}, "unknown_tenant"),
        ({}, {"tenant_lookup": lookup({CLIENT: T(CLIENT, None)})}, "unknown_tenant"),
        ({"now": NOW - timedelta(minutes=10)}, {}, "token_expired"),
        ({}, {"query": "user_id=u2"}, "qsh_mismatch"),
        ({}, {"method": "GET"}, "qsh_mismatch"),
        ({"qsh": CONTEXT_QSH}, {}, "context_qsh_refused"),
    ],
)
def test_request_token_refusals(token_kw: dict[str, Any], verify_kw: dict[str, Any], code: str) -> None:
    with pytest.raises(AuthError) as exc:
        verify_request(request_token(**token_kw), **verify_kw)
    assert code_of(exc) == code


def test_a_request_token_is_decoded_once_not_by_pyjwt_three_times(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("the token was parsed again")

    monkeypatch.setattr(jwt, "decode", refuse)
    monkeypatch.setattr(jwt, "get_unverified_header", refuse)
    tenant, claims = verify_request(request_token())
    assert tenant.client_key == CLIENT and claims["iss"] == CLIENT


def _forge(header: dict[str, Any], claims: dict[str, Any], secret: str = SECRET) -> str:
    import base64
    import hashlib
    import hmac
    import json

    def part(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    signing_input = f"{part(json.dumps(header).encode())}.{part(json.dumps(claims).encode())}"
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{part(signature)}"


@pytest.mark.parametrize(
    ("token", "code"),
    [
        ("not-a-jwt", "malformed_token"),
        ("a.b", "malformed_token"),
        ("e30.e30.!!!", "malformed_token"),
        ("ünïcode.e30.e30", "malformed_token"),
        (_forge({"alg": "HS256", "typ": "JWT"}, ["not", "an", "object"]), "malformed_token"),  # type: ignore[arg-type]
        (_forge({"alg": "HS256", "crit": ["exp"], "exp": 1}, {"iss": CLIENT}), "malformed_token"),
        (_forge({"alg": "HS256"}, {"iss": CLIENT, "iat": 0, "exp": 1, "qsh": "x"}, secret="wrong"), "bad_signature"),
        (_forge({"alg": "none"}, {"iss": CLIENT}), "bad_algorithm"),
    ],
)
def test_malformed_and_forged_request_tokens_are_refused(token: str, code: str) -> None:
    with pytest.raises(AuthError) as exc:
        verify_request(token)
    assert code_of(exc) == code


def test_the_single_decode_accepts_exactly_what_pyjwt_accepts() -> None:
    """Mutated tokens (characters changed, dropped, added): refused iff PyJWT's own decode refuses them."""
    import random
    import string

    rng = random.Random(16)
    good = request_token()
    alphabet = string.ascii_letters + string.digits + "-_.=!~ü"
    for _ in range(1500):
        chars = list(good)
        for _ in range(rng.randint(1, 3)):
            pos, roll = rng.randrange(len(chars)), rng.random()
            if roll < 0.4:
                chars[pos] = rng.choice(alphabet)
            elif roll < 0.7:
                del chars[pos]
            else:
                chars.insert(pos, rng.choice(alphabet))
        token = "".join(chars)
        try:
            jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False, "verify_iat": False})
            pyjwt_accepts = True
        except jwt.PyJWTError:
            pyjwt_accepts = False
        try:
            verify_request(token)
            ours = True
        except AuthError:
            ours = False
        # PyJWT checks no qsh, so a token it accepts may still be refused here — never the reverse.
        assert not ours or pyjwt_accepts, token


def test_a_hand_made_token_with_the_right_secret_verifies_like_a_minted_one() -> None:
    claims = {"iss": CLIENT, "iat": int(NOW.timestamp()), "exp": int(NOW.timestamp()) + 60,
              "qsh": query_string_hash("POST", "/webhooks/jira", "user_id=u1")}
    tenant, seen = verify_request(_forge({"alg": "HS256", "typ": "JWT"}, claims))
    assert tenant.client_key == CLIENT and seen == claims


def test_request_token_signed_rs256_is_refused(rsa_key: rsa.RSAPrivateKey) -> None:
    token = jwt.encode({"iss": CLIENT, "iat": int(NOW.timestamp()), "exp": int(NOW.timestamp()) + 60,
                        "qsh": query_string_hash("POST", "/webhooks/jira", "user_id=u1")}, rsa_key, algorithm="RS256")
    with pytest.raises(AuthError) as exc:
        verify_request(token)
    assert code_of(exc) == "bad_algorithm"


def test_context_qsh_allowed_only_when_asked() -> None:
    tenant, _ = verify_request(request_token(qsh=CONTEXT_QSH), allow_context_qsh=True)
    assert tenant.client_key == CLIENT


def test_late_event_for_an_uninstalled_tenant_verifies_only_when_accepted() -> None:
    tenants = lookup({CLIENT: T(CLIENT, SECRET, "uninstalled")})
    tenant, _ = verify_request(request_token(), tenant_lookup=tenants, accept_uninstalled=True)
    assert tenant.state == "uninstalled"


def test_context_token_gives_the_user() -> None:
    token = request_token(qsh=CONTEXT_QSH, subject="557058:f00d")
    tenant, claims = verify_context_token(token, tenant_lookup=lookup(TENANTS), now=NOW)
    assert (tenant.client_key, claims["sub"]) == (CLIENT, "557058:f00d")


def test_context_token_must_carry_context_qsh() -> None:
    with pytest.raises(AuthError) as exc:
        verify_context_token(request_token(), tenant_lookup=lookup(TENANTS), now=NOW)
    assert code_of(exc) == "qsh_mismatch"


def test_tokens_minted_by_atlassian_jwt_are_accepted() -> None:
    """atlassian-jwt (Atlassian's own package) signs for the same request: we accept its token."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("atlassian_jwt.encode.time", lambda: NOW.timestamp())
        token = encode_token("POST", "/webhooks/jira?user_id=u1", CLIENT, SECRET)
    tenant, _ = verify_request(token)
    assert tenant.client_key == CLIENT


@pytest.mark.parametrize(
    ("header", "query", "expected"),
    [("JWT abc.def.ghi", None, "abc.def.ghi"), (None, "abc.def.ghi", "abc.def.ghi"),
     ("JWT h.h.h", "q.q.q", "h.h.h")],
)
def test_extract_token(header: str | None, query: str | None, expected: str) -> None:
    assert extract_token(header, query) == expected


@pytest.mark.parametrize(("header", "code"), [(None, "missing_token"), ("Bearer x.y.z", "malformed_token"),
                                              ("JWT", "malformed_token")])
def test_extract_token_refusals(header: str | None, code: str) -> None:
    with pytest.raises(AuthError) as exc:
        extract_token(header, None)
    assert code_of(exc) == code


def test_no_message_echoes_the_token_or_secret(rsa_key: rsa.RSAPrivateKey) -> None:
    token = request_token(secret="wrong-secret-but-long-enough-for-hs256!!")
    with pytest.raises(AuthError) as exc:
        verify_request(token)
    assert token not in str(exc.value) and SECRET not in str(exc.value)


# --- outbound ------------------------------------------------------------------------------------

def test_outbound_token_is_bound_to_the_request_relative_to_the_site() -> None:
    base = "https://acme.atlassian.net/"
    url = "https://acme.atlassian.net/rest/api/3/issue/SUP-1?fields=summary,status"
    token = token_for_url("put", url, base_url=base, issuer="tierwise", secret=SECRET, now=NOW)
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False})
    assert claims["iss"] == "tierwise"
    assert claims["exp"] - claims["iat"] == 180
    assert claims["qsh"] == query_string_hash("PUT", "/rest/api/3/issue/SUP-1", "fields=summary,status")


@pytest.mark.parametrize("url", [
    "https://evil.example/rest/api/3/myself",
    "http://acme.atlassian.net/rest/api/3/myself",
    "https://acme.atlassian.net:8443/rest/api/3/myself",
    "https://acme.atlassian.net.evil.example/rest/api/3/myself",
    "https://acme.atlassian.net/wikiX/rest",
])
def test_outbound_token_refuses_other_origins(url: str) -> None:
    with pytest.raises(ForeignUrl):
        token_for_url("GET", url, base_url="https://acme.atlassian.net/wiki", issuer="tierwise", secret=SECRET, now=NOW)
