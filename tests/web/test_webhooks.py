"""POST /webhooks/jira: verify, drop duplicates and the app's own echoes, enqueue, 204 (503 without Redis)."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.connect.qsh import query_string_hash
from app.connect.tokens import mint_token
from app.settings import Settings
from app.web.services import services

PATH = "/webhooks/jira"
QUEUE = "tierwise-webhooks-test"


def _event(kind: str = "jira:issue_created", user: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "timestamp": 1763900000000,
        "webhookEvent": kind,
        "user": user or {"accountId": "5b10ac8d82e05b22cc7d4ef5", "accountType": "atlassian"},
        "issue": {"id": "10001", "key": "SUP-1", "fields": {"priority": {"name": "Highest"}}},
    }


@dataclasses.dataclass
class Site:
    client: FlaskClient
    app: Flask
    client_key: str
    secret: str
    redis: redis.Redis

    def post(self, body: Any, *, secret: str | None = None, delivery: str | None = None,
             path: str = PATH, raw: bytes | None = None) -> Any:
        token = mint_token(issuer=self.client_key, secret=secret or self.secret,
                           qsh=query_string_hash("POST", path, ""), now=datetime.now(UTC))
        headers = {"Authorization": f"JWT {token}", "Content-Type": "application/json"}
        if delivery:
            headers["X-Atlassian-Webhook-Identifier"] = delivery
        data = raw if raw is not None else json.dumps(body).encode()
        return self.client.post(PATH, data=data, headers=headers)

    def queued(self) -> int:
        return int(self.redis.llen(f"rq:queue:{QUEUE}"))

    def install(self, secret: str) -> None:
        with self.app.app_context():
            services().tenants.install(self.client_key, shared_secret=secret, base_url="https://site.atlassian.net",
                                       at=datetime.now(UTC))
        self.secret = secret


def _make_site(settings: Settings, redis_url: str) -> Iterator[Site]:
    settings = dataclasses.replace(settings, redis_url=redis_url, queue_name=QUEUE)
    app = create_app(settings)
    site = Site(app.test_client(), app, f"client-{uuid.uuid4()}", "", redis.Redis.from_url(redis_url))
    site.install("first-secret-0123456789-0123456789-abcdef")
    yield site
    site.redis.close()


@pytest.fixture
def site(settings: Settings, redis_url: str) -> Iterator[Site]:
    yield from _make_site(settings, redis_url)


def test_signed_event_is_queued_once_per_delivery(site: Site) -> None:
    assert site.post(_event(), delivery="d-1").status_code == 204
    assert site.queued() == 1
    job_id = site.redis.lrange(f"rq:queue:{QUEUE}", 0, -1)[0].decode()
    stored = json.loads(site.redis.get(f"tw:event:{job_id}"))
    assert stored["issue"]["key"] == "SUP-1"
    assert site.post(_event(), delivery="d-1").status_code == 204  # Jira's retry of the same delivery
    assert site.post(_event(), delivery="d-1").status_code == 204
    assert site.queued() == 1
    assert site.post(_event(), delivery="d-2").status_code == 204
    assert site.queued() == 2


def test_refusals_are_401_json_and_queue_nothing(site: Site) -> None:
    forged = site.post(_event(), secret="not-the-secret-0123456789-0123456789-xyz")
    assert forged.status_code == 401 and forged.get_json()["error"] == "bad_signature"
    other_path = site.post(_event(), path="/webhooks/other")
    assert other_path.status_code == 401 and other_path.get_json()["error"] == "qsh_mismatch"
    unsigned = site.client.post(PATH, json=_event())
    assert unsigned.status_code == 401
    assert site.queued() == 0


def test_reinstall_with_a_new_secret_is_accepted_at_once(site: Site) -> None:
    assert site.post(_event(), delivery="a").status_code == 204  # caches the first secret
    site.install("second-secret-0123456789-0123456789-abcdef")
    assert site.post(_event(), delivery="b").status_code == 204
    old = site.post(_event(), delivery="c", secret="first-secret-0123456789-0123456789-abcdef")
    assert old.status_code == 401
    assert site.queued() == 2


def test_bodies_without_an_issue_are_accepted_and_ignored(site: Site) -> None:
    assert site.post({"webhookEvent": "worklog_created", "worklog": {}}).status_code == 204
    assert site.queued() == 0
    bad = site.post(None, raw=b"not json")
    assert bad.status_code == 400 and bad.get_json()["error"] == "bad_body"
    assert site.post(None, raw=b"[1, 2]").status_code == 400


def test_the_apps_own_echo_is_dropped_other_apps_are_followed(site: Site) -> None:
    site.redis.set(f"tw:app-account:{site.client_key}", "557058:our-app")
    ours = {"accountId": "557058:our-app", "accountType": "app"}
    assert site.post(_event("jira:issue_updated", user=ours)).status_code == 204
    comment = _event("comment_created")
    comment["comment"] = {"id": "1", "body": "Next update by …", "author": ours}
    assert site.post(comment).status_code == 204
    assert site.queued() == 0
    automation = {"accountId": "557058:automation", "accountType": "app"}
    assert site.post(_event("jira:issue_updated", user=automation)).status_code == 204
    assert site.queued() == 1


def test_redis_down_answers_503_so_jira_retries(settings: Settings, redis_url: str) -> None:
    site = next(_make_site(settings, redis_url))
    with site.app.app_context():
        svc = services()
    down = dataclasses.replace(svc.settings, redis_url="redis://127.0.0.1:1/0")
    svc.settings = down
    answer = site.post(_event(), delivery="x")
    assert answer.status_code == 503 and answer.get_json()["error"] == "queue_unavailable"
