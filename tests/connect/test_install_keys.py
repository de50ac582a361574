"""Install public keys: the kid is checked before any request, keys are cached, failures are AuthErrors."""

from __future__ import annotations

import socket

import pytest
from connect_testkit import KID, KeyServer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from app.connect.errors import AuthError
from app.connect.install_keys import InstallKeyFetcher


def test_fetches_by_kid_and_caches(key_server: KeyServer, rsa_key: rsa.RSAPrivateKey) -> None:
    fetcher = InstallKeyFetcher(key_server.url + "/")
    first = fetcher.get(KID)
    assert first.public_numbers() == rsa_key.public_key().public_numbers()
    assert fetcher.get(KID) is first
    assert key_server.requests == [f"/{KID}"]


@pytest.mark.parametrize("kid", ["../x", "..", "a/b", "%2e%2e", "a?b=c", "a#b", "a b", "", "-lead", "é", "x" * 129])
def test_bad_kid_is_refused_before_any_request(key_server: KeyServer, kid: str) -> None:
    with pytest.raises(AuthError) as exc:
        InstallKeyFetcher(key_server.url).get(kid)
    assert exc.value.code == "bad_kid"
    assert key_server.requests == []


def test_unknown_kid_is_unavailable_and_not_cached(key_server: KeyServer, rsa_key: rsa.RSAPrivateKey) -> None:
    fetcher = InstallKeyFetcher(key_server.url)
    with pytest.raises(AuthError) as exc:
        fetcher.get("not-published")
    assert exc.value.code == "key_unavailable"
    key_server.keys["not-published"] = key_server.keys[KID]
    assert fetcher.get("not-published") is not None  # published since: a retry finds it


def test_non_pem_and_non_rsa_keys_are_unavailable(key_server: KeyServer) -> None:
    ec_pem = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    key_server.keys.update({"garbage": b"<html>oops</html>", "ec-key": ec_pem})
    fetcher = InstallKeyFetcher(key_server.url)
    for kid in ("garbage", "ec-key"):
        with pytest.raises(AuthError) as exc:
            fetcher.get(kid)
        assert exc.value.code == "key_unavailable"


def test_unreachable_service_is_unavailable() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(AuthError) as exc:
        InstallKeyFetcher(f"http://127.0.0.1:{port}", timeout=1.0).get(KID)
    assert exc.value.code == "key_unavailable"


def test_slow_service_times_out(key_server: KeyServer) -> None:
    key_server.delay = 1.0
    with pytest.raises(AuthError) as exc:
        InstallKeyFetcher(key_server.url, timeout=0.2).get(KID)
    assert exc.value.code == "key_unavailable"
