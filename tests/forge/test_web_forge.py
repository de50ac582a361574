"""The /forge endpoints over HTTP (Flask test client), with FITs checked against a 127.0.0.1 JWKS.

The tenant store and the queue are in-memory stand-ins passed through `ForgeServices`: the storage
layer's tenant store and `app.queueing.ingest.ingest_event` plug into the same two seams.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from flask.testing import FlaskClient
from forge_fixtures import (
    API_BASE_URL,
    APP_UUID,
    CLOUD_ID,
    DROP,
    INSTALLATION_ID,
    INSTALLATION_UUID,
    KID,
    JwksServer,
    fit_claims,
    sign,
    system_token,
)

from app.forge.fit import JwksCache
from app.forge.installations import InMemoryForgeTenants
from app.forge.system_token import InMemorySystemTokenStore, fresh_system_token
from app.web.forge import ForgeServices, bp, init_forge

TENANT_KEY = f"forge:{INSTALLATION_UUID}"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

ISSUE_CREATED = {
    "eventType": "avi:jira:created:issue",
    "issue": {
        "id": "10042",
        "key": "SUP-42",
        "fields": {
            "summary": "Checkout down",
            "project": {"id": "10001", "key": "SUP"},
            "created": "2026-11-23T09:58:12.345+0000",
            "updated": "2026-11-23T09:58:12.345+0000",
            "status": {"name": "Open", "statusCategory": {"key": "new"}},
        },
    },
    "atlassianId": "5b10ac8d82e05b22cc7d4ef5",
    "selfGenerated": False,
}


@dataclass
class FakeQueue:
    """Dedupe by delivery id per tenant, like ingest_event; `fail` simulates Redis being down."""

    events: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    seen: set[tuple[str, str]] = field(default_factory=set)
    fail: bool = False

    def ingest(self, tenant_key: str, delivery: str, event: dict[str, Any]) -> bool:
        if self.fail:
            raise ConnectionError("redis down")
        if (tenant_key, delivery) in self.seen:
            return False
        self.seen.add((tenant_key, delivery))
        self.events.append((tenant_key, delivery, event))
        return True


@dataclass
class Harness:
    client: FlaskClient
    tenants: InMemoryForgeTenants
    tokens: InMemorySystemTokenStore
    queue: FakeQueue
    key: rsa.RSAPrivateKey
    jwks: JwksServer
    woken: list[str] = field(default_factory=list)

    def headers(self, claims: dict[str, Any] | None = None, *, token: str | None = None,
                system: str | None = None) -> dict[str, str]:
        fit = token if token is not None else sign(claims or fit_claims(), self.key)
        headers = {"Authorization": f"Bearer {fit}"}
        if system is not None:
            headers["x-forge-oauth-system"] = system
        return headers

    def install(self) -> None:
        response = self.client.post("/forge/lifecycle/installed", json=INSTALLED_BODY, headers=self.headers(
            fit_claims(context=DROP, principal=DROP)))
        assert response.status_code == 204, response.get_json()


INSTALLED_BODY = {
    "eventType": "avi:forge:installed:app",
    "id": INSTALLATION_UUID,
    "installerAccountId": "4ad9aa0c52dc1b420a791d12",
    "app": {"id": APP_UUID, "version": "9.0.0"},
    "environment": {"id": "23863033-1de4-4ebf-b30d-c906264a1e92"},
}


def _app(services: ForgeServices | None) -> Flask:
    flask_app = Flask(__name__)
    flask_app.register_blueprint(bp)
    if services is not None:
        init_forge(flask_app, services)
    return flask_app


@pytest.fixture
def harness(jwks_server: JwksServer, signing_key: rsa.RSAPrivateKey) -> Iterator[Harness]:
    tenants, tokens, queue = InMemoryForgeTenants(), InMemorySystemTokenStore(), FakeQueue()
    services = ForgeServices(
        app_id=APP_UUID,  # as a vendor may paste it; normalised to the ARI
        keys=JwksCache(jwks_server.url),
        tenants=tenants,
        tokens=tokens,
        ingest=queue.ingest,
        clock=lambda: NOW,
    )
    woken: list[str] = []

    def wake(tenant_key: str) -> int:
        woken.append(tenant_key)
        return 1

    services.wake_waiting = wake
    with _app(services).test_client() as client:
        yield Harness(client, tenants, tokens, queue, signing_key, jwks_server, woken)


def test_installed_event_creates_the_tenant(harness: Harness) -> None:
    harness.install()
    installation = harness.tenants.installations[TENANT_KEY]
    assert installation.installation_id == INSTALLATION_ID
    assert installation.api_base_url == API_BASE_URL
    assert installation.cloud_id == CLOUD_ID  # read from apiBaseUrl when the FIT has no context
    assert installation.installer_account_id == "4ad9aa0c52dc1b420a791d12"

    harness.install()  # Forge redelivers: still one tenant
    assert list(harness.tenants.installations) == [TENANT_KEY]


def test_event_is_mapped_deduplicated_and_queued(harness: Harness) -> None:
    harness.install()
    for _ in range(3):  # Forge retries a delivery it thinks failed
        response = harness.client.post("/forge/events", json=ISSUE_CREATED, headers=harness.headers())
        assert response.status_code == 204
    assert len(harness.queue.events) == 1
    tenant, delivery, event = harness.queue.events[0]
    assert tenant == TENANT_KEY
    assert delivery.startswith("forge-")
    assert event["webhookEvent"] == "jira:issue_created"
    assert event["issue"]["key"] == "SUP-42"


def test_wrapped_event_with_retry_context_is_the_same_delivery(harness: Harness) -> None:
    harness.install()
    harness.client.post("/forge/events", json=ISSUE_CREATED, headers=harness.headers())
    retried = {"payload": {**ISSUE_CREATED, "retryContext": {"retryCount": 1, "retryReason": "TIMEOUT_ERROR"}}}
    assert harness.client.post("/forge/events", json=retried, headers=harness.headers()).status_code == 204
    assert len(harness.queue.events) == 1


def test_events_tierwise_ignores_are_acknowledged_without_queueing(harness: Harness) -> None:
    harness.install()
    own = {**ISSUE_CREATED, "selfGenerated": True}
    assert harness.client.post("/forge/events", json=own, headers=harness.headers()).status_code == 204
    assert harness.queue.events == []


def test_event_from_an_unknown_installation_is_401(harness: Harness) -> None:
    response = harness.client.post("/forge/events", json=ISSUE_CREATED, headers=harness.headers())
    assert response.status_code == 401
    assert response.get_json()["error"] == "unknown_installation"
    assert harness.queue.events == []


def test_queue_failure_is_a_503_so_forge_redelivers(harness: Harness) -> None:
    harness.install()
    harness.queue.fail = True
    response = harness.client.post("/forge/events", json=ISSUE_CREATED, headers=harness.headers())
    assert response.status_code == 503
    assert response.get_json()["error"] == "queue_unavailable"


def test_malformed_event_is_400(harness: Harness) -> None:
    harness.install()
    response = harness.client.post("/forge/events", json={"nothing": 1}, headers=harness.headers())
    assert response.status_code == 400
    assert response.get_json()["error"] == "malformed_event"


def _now() -> int:
    return int(time.time())


def _none_token() -> str:
    return jwt.encode(fit_claims(), None, algorithm="none", headers={"kid": KID})  # type: ignore[arg-type]


def _hs256_token() -> str:
    return jwt.encode(fit_claims(), "a-shared-secret-of-thirty-two-bytes!!", algorithm="HS256", headers={"kid": KID})


REFUSED = [
    ("forged", lambda h, other: sign(fit_claims(), other), "bad_signature"),
    ("expired", lambda h, other: sign(fit_claims(iat=_now() - 120, nbf=_now() - 120, exp=_now() - 60), h.key),
     "token_expired"),
    ("not yet valid", lambda h, other: sign(fit_claims(nbf=_now() + 300, exp=_now() + 600), h.key),
     "token_not_yet_valid"),
    ("wrong audience", lambda h, other: sign(
        fit_claims(aud="ari:cloud:ecosystem::app/11111111-2222-4333-8444-555555555555"), h.key), "wrong_audience"),
    ("wrong issuer", lambda h, other: sign(fit_claims(iss="forge/other-token"), h.key), "wrong_issuer"),
    ("no exp", lambda h, other: sign(fit_claims(exp=DROP), h.key), "missing_claim"),
    ("no nbf", lambda h, other: sign(fit_claims(nbf=DROP), h.key), "missing_claim"),
    ("no iat", lambda h, other: sign(fit_claims(iat=DROP), h.key), "missing_claim"),
    ("alg none", lambda h, other: _none_token(), "wrong_algorithm"),
    ("HS256", lambda h, other: _hs256_token(), "wrong_algorithm"),
    ("unknown kid", lambda h, other: sign(fit_claims(), other, kid="not-published"), "unknown_key"),
]


@pytest.mark.parametrize("path", ["/forge/events", "/forge/lifecycle/installed", "/forge/api/panel/SUP-42"])
@pytest.mark.parametrize(("make", "code"), [(m, c) for _, m, c in REFUSED], ids=[r[0] for r in REFUSED])
def test_bad_tokens_are_401_with_a_json_error(
    harness: Harness, other_key: rsa.RSAPrivateKey, path: str, make: Any, code: str
) -> None:
    harness.install()
    response = harness.client.post(path, json=ISSUE_CREATED, headers=harness.headers(token=make(harness, other_key)))
    assert response.status_code == 401
    body = response.get_json()
    assert body["error"] == code
    assert isinstance(body["message"], str) and body["message"]
    assert harness.queue.events == []


def test_missing_authorization_is_401(harness: Harness) -> None:
    response = harness.client.post("/forge/events", json=ISSUE_CREATED)
    assert response.status_code == 401
    assert response.get_json()["error"] == "missing_token"


def test_refused_lifecycle_call_creates_no_tenant(harness: Harness, other_key: rsa.RSAPrivateKey) -> None:
    response = harness.client.post("/forge/lifecycle/installed", json=INSTALLED_BODY,
                                   headers=harness.headers(token=sign(fit_claims(), other_key)))
    assert response.status_code == 401
    assert harness.tenants.installations == {}


def test_system_token_of_each_invocation_is_kept_for_jobs(harness: Harness) -> None:
    early = system_token(int(NOW.timestamp()) + 600)
    later = system_token(int(NOW.timestamp()) + 900)
    harness.client.post("/forge/lifecycle/installed", json=INSTALLED_BODY,
                        headers=harness.headers(system=early))
    stored = fresh_system_token(harness.tokens, INSTALLATION_ID, now=NOW)
    assert stored.token == early and stored.api_base_url == API_BASE_URL

    harness.client.post("/forge/events", json=ISSUE_CREATED, headers=harness.headers(system=later))
    assert fresh_system_token(harness.tokens, INSTALLATION_ID, now=NOW).token == later


def test_system_token_of_a_refused_call_is_not_kept(harness: Harness, other_key: rsa.RSAPrivateKey) -> None:
    harness.install()
    forged = sign(fit_claims(), other_key)
    harness.client.post("/forge/events", json=ISSUE_CREATED,
                        headers=harness.headers(token=forged, system=system_token(int(NOW.timestamp()) + 600)))
    assert harness.tokens.load_system_token(INSTALLATION_ID) is None


def test_ui_proxy_reaches_only_page_apis(harness: Harness) -> None:
    # An /api route without the pages' context-token guard is not a page API: Forge cannot reach it.
    harness.client.application.add_url_rule("/api/open", "open", lambda: "open", methods=["POST"])
    harness.install()
    for path in ("/forge/api/open", "/forge/api/panel/SUP-42"):
        response = harness.client.post(path, json={}, headers=harness.headers())
        assert response.status_code == 404, path
        assert response.get_json()["error"] == "not_found"


def test_without_forge_configuration_every_endpoint_is_503(signing_key: rsa.RSAPrivateKey) -> None:
    with _app(None).test_client() as client:
        response = client.post("/forge/events", json=ISSUE_CREATED,
                               headers={"Authorization": f"Bearer {sign(fit_claims(), signing_key)}"})
    assert response.status_code == 503
    assert response.get_json()["error"] == "forge_not_configured"


def test_hourly_refresh_keeps_a_token_and_heals_a_missed_install(harness: Harness) -> None:
    token = system_token(int(NOW.timestamp()) + 7200)
    response = harness.client.post("/forge/lifecycle/refresh", json={},
                                   headers=harness.headers(fit_claims(context=DROP, principal=DROP), system=token))
    assert response.status_code == 204
    assert TENANT_KEY in harness.tenants.installations
    assert fresh_system_token(harness.tokens, INSTALLATION_ID, now=NOW).token == token


def test_tokens_never_reach_the_logs(
    harness: Harness, other_key: rsa.RSAPrivateKey, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    secret = system_token(int(NOW.timestamp()) + 7200)
    good = harness.headers(fit_claims(context=DROP, principal=DROP), system=secret)
    harness.client.post("/forge/lifecycle/installed", json=INSTALLED_BODY, headers=good)
    harness.client.post("/forge/events", json=ISSUE_CREATED, headers=good)
    forged = harness.headers(token=sign(fit_claims(), other_key), system=secret)
    harness.client.post("/forge/events", json=ISSUE_CREATED, headers=forged)
    harness.queue.fail = True
    harness.client.post("/forge/events", json={**ISSUE_CREATED, "atlassianId": "other"}, headers=good)

    assert "unknown_installation" not in caplog.text and "bad_signature" in caplog.text  # it did log
    for value in (secret, good["Authorization"].split()[1], forged["Authorization"].split()[1]):
        assert value not in caplog.text
        assert value.split(".")[1] not in caplog.text  # not even the claims part


def test_body_over_the_limit_is_413(harness: Harness) -> None:
    harness.install()
    harness.client.application.config["MAX_CONTENT_LENGTH"] = 1024
    big = {**ISSUE_CREATED, "padding": "x" * 4096}
    response = harness.client.post("/forge/events", json=big, headers=harness.headers())
    assert response.status_code == 413
    assert harness.queue.events == []


def test_a_token_after_a_time_without_one_wakes_the_waiting_jobs_once(harness: Harness) -> None:
    stale = system_token(int(NOW.timestamp()) + 30)  # inside the freshness margin: jobs wait
    harness.client.post("/forge/lifecycle/installed", json=INSTALLED_BODY, headers=harness.headers(system=stale))
    assert harness.woken == []
    fresh = system_token(int(NOW.timestamp()) + 7200)
    harness.client.post("/forge/lifecycle/refresh", json={}, headers=harness.headers(system=fresh))
    assert harness.woken == [TENANT_KEY]
    later = system_token(int(NOW.timestamp()) + 7300)  # a token was already fresh: nobody was waiting
    harness.client.post("/forge/events", json=ISSUE_CREATED, headers=harness.headers(system=later))
    assert harness.woken == [TENANT_KEY]
