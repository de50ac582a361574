"""Bogus installs with made-up key ids do not stall other tenants (issue #14, point 7), over real gunicorn.

The attack: post `/lifecycle/installed` with tokens whose `kid` names no key, each forcing an
outbound fetch before any signature can be checked, while the key service is slow. Under the
fetcher's per-process bounds (few fetches, then refusals without a request) the other tenant's
webhooks keep being answered and only a handful of fetches ever leave the process.
"""

from __future__ import annotations

import statistics
import threading
import time
from datetime import UTC, datetime

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from test_lifecycle_gunicorn import FIRST_SECRET, Gunicorn, gunicorn, installed_call, signing_key  # noqa: F401

from app.connect.install_keys import FETCH_BURST, FETCH_INTERVAL_SECONDS
from app.connect.qsh import query_string_hash
from app.connect.tokens import mint_token

pytestmark = pytest.mark.e2e

#: Bogus installs sent, from this many threads at once.
BOGUS_INSTALLS, ATTACKERS = 48, 8
#: Seconds the key service takes to answer anything during the attack (more than the fetch timeout).
SLOW_SECONDS = 5.0
GUNICORN_WORKERS = 2
EVENT = {"webhookEvent": "jira:issue_updated", "timestamp": 1763900000000,
         "issue": {"id": "10001", "key": "SUP-1", "fields": {"project": {"key": "SUP"}}}}


def _webhook(server: Gunicorn, client_key: str) -> tuple[int, float]:
    token = mint_token(issuer=client_key, secret=FIRST_SECRET, qsh=query_string_hash("POST", "/webhooks/jira", ""),
                       now=datetime.now(UTC))
    started = time.monotonic()
    response = requests.post(f"{server.base_url}/webhooks/jira", json=EVENT, timeout=30,
                             headers={"Authorization": f"JWT {token}"})
    return response.status_code, time.monotonic() - started


def test_other_tenants_webhooks_are_answered_while_bogus_installs_hit_a_slow_key_service(
    gunicorn: Gunicorn, signing_key: rsa.RSAPrivateKey,  # noqa: F811
) -> None:
    server, tenant = gunicorn, "flood-victim-tenant"
    assert installed_call(server, signing_key, tenant, "installed", FIRST_SECRET).status_code == 204
    assert _webhook(server, tenant)[0] == 204  # warm: Redis up, the tenant known
    keys = server.key_server
    keys.delay = SLOW_SECONDS
    asked_before = len(keys.requests)

    statuses: list[int] = []
    lock = threading.Lock()

    def attack(n: int) -> None:
        for i in range(n, BOGUS_INSTALLS, ATTACKERS):
            response = installed_call(server, signing_key, f"attacker-{i}", "installed", "x" * 40, kid=f"bogus-{i}")
            with lock:
                statuses.append(response.status_code)

    attackers = [threading.Thread(target=attack, args=(n,)) for n in range(ATTACKERS)]
    started = time.monotonic()
    for t in attackers:
        t.start()
    latencies: list[float] = []
    while any(t.is_alive() for t in attackers):
        status, took = _webhook(server, tenant)
        assert status == 204
        latencies.append(took)
        time.sleep(0.05)
    for t in attackers:
        t.join()
    elapsed = time.monotonic() - started

    assert sorted(set(statuses)) == [401] and len(statuses) == BOGUS_INSTALLS
    fetches = len(keys.requests) - asked_before
    allowed = GUNICORN_WORKERS * (FETCH_BURST + int(elapsed / FETCH_INTERVAL_SECONDS) + 1)
    assert fetches <= allowed, f"{fetches} fetches for {BOGUS_INSTALLS} bogus installs (bound {allowed})"
    # Each worker waits on at most one fetch at a time (≤ the fetch timeout), then refuses at once.
    assert max(latencies) < SLOW_SECONDS
    assert statistics.median(latencies) < 0.5, latencies
