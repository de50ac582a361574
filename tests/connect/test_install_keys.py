"""Install public keys: the kid is checked before any request, keys are cached, failures are AuthErrors."""

from __future__ import annotations

import socket

import pytest
from connect_testkit import KID, KeyServer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from app.connect.errors import AuthError
from app.connect.install_keys import (
    FAILURE_TTL_SECONDS,
    FETCH_BURST,
    FETCH_INTERVAL_SECONDS,
    NEGATIVE_TTL_SECONDS,
    InstallKeyFetcher,
)


class FakeClock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


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


def test_unknown_kid_is_remembered_as_missing_for_a_while(key_server: KeyServer) -> None:
    clock = FakeClock()
    fetcher = InstallKeyFetcher(key_server.url, clock=clock)
    for _ in range(3):
        with pytest.raises(AuthError) as exc:
            fetcher.get("not-published")
        assert exc.value.code == "key_unavailable"
    assert key_server.requests == ["/not-published"]  # asked once, then answered from memory
    key_server.keys["not-published"] = key_server.keys[KID]
    clock.now += NEGATIVE_TTL_SECONDS + FETCH_INTERVAL_SECONDS
    assert fetcher.get("not-published") is not None  # published since: a retry after the TTL finds it


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


def test_fetches_are_rate_limited_and_known_keys_still_answer(key_server: KeyServer) -> None:
    clock = FakeClock()
    fetcher = InstallKeyFetcher(key_server.url, clock=clock)
    assert fetcher.get(KID) is not None
    for n in range(FETCH_BURST - 1):  # the rest of the burst: real fetches
        with pytest.raises(AuthError):
            fetcher.get(f"bogus-{n}")
    asked = len(key_server.requests)
    with pytest.raises(AuthError) as exc:
        fetcher.get("bogus-over-the-limit")
    assert "too many" in exc.value.message
    assert len(key_server.requests) == asked  # refused without a request
    assert fetcher.get(KID) is not None  # a known key needs no budget
    clock.now += FETCH_INTERVAL_SECONDS
    with pytest.raises(AuthError):
        fetcher.get("bogus-later")
    assert len(key_server.requests) == asked + 1


def test_a_failing_key_service_is_not_asked_again_at_once(key_server: KeyServer) -> None:
    clock = FakeClock()
    fetcher = InstallKeyFetcher(key_server.url, timeout=0.3, clock=clock)
    key_server.delay = 1.0
    with pytest.raises(AuthError):
        fetcher.get("slow-kid")
    key_server.delay = 0.0
    with pytest.raises(AuthError):
        fetcher.get("slow-kid")
    assert key_server.requests == ["/slow-kid"]
    clock.now += FAILURE_TTL_SECONDS + FETCH_INTERVAL_SECONDS
    with pytest.raises(AuthError):
        fetcher.get("slow-kid")  # asked again after the short failure TTL (still 404)
    assert key_server.requests == ["/slow-kid", "/slow-kid"]


def test_one_fetch_at_a_time_others_fail_at_once(key_server: KeyServer) -> None:
    import threading
    import time

    fetcher = InstallKeyFetcher(key_server.url, timeout=3.0)
    key_server.delay = 1.0
    results: dict[str, float] = {}

    def ask(kid: str) -> None:
        started = time.monotonic()
        with pytest.raises(AuthError):
            fetcher.get(kid)
        results[kid] = time.monotonic() - started

    slow = threading.Thread(target=ask, args=("first-kid",))
    slow.start()
    time.sleep(0.3)
    ask("second-kid")
    slow.join()
    assert results["second-kid"] < 0.5 <= results["first-kid"]
    assert key_server.requests == ["/first-kid"]
