"""The issue panel API: the stored SLA record re-evaluated now, with why and the recent audit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from pages_kit import AGENT_ID, CLIENT_KEY, Api, FakeDirectory, install_tenant

from app import create_app
from app.schemas.presets import preset_document
from app.settings import Settings
from app.storage.audit import AuditLog
from app.storage.policies import PolicyStore
from app.storage.tickets import TicketRecord, TicketStore


@pytest.fixture
def pages_app(settings: Settings) -> Iterator[Flask]:
    flask_app = create_app(settings)
    flask_app.extensions["tierwise.site_directory"] = FakeDirectory()
    install_tenant(flask_app)
    yield flask_app
    flask_app.extensions["tierwise"].close()


@pytest.fixture
def agent(pages_app: Flask) -> Api:
    return Api(pages_app.test_client(), AGENT_ID)  # agents are not admins: the panel is for them


def seed(flask_app: Flask, issue_id: str, created_ago: timedelta, **changes: object) -> TicketRecord:
    svc = flask_app.extensions["tierwise"]
    version = PolicyStore(svc.session_factory).save(CLIENT_KEY, preset_document("confluence-health-check"), None)
    record = TicketRecord(
        tenant_key=CLIENT_KEY, issue_id=issue_id, issue_key=f"SUP-{issue_id}",
        created_at=datetime.now(UTC) - created_ago, policy_version_id=version.id, tier="standard",
        severity="sev1", tier_rule="default tier", severity_rule="rule 1: field priority = 'Highest' → sev1",
    )
    record = TicketRecord(**{**record.__dict__, **changes})  # type: ignore[arg-type]
    return TicketStore(svc.session_factory).save(record, 0)


def target(body: dict, name: str) -> dict:
    return next(t for t in body["targets"] if t["id"] == name)


def test_an_unknown_ticket_says_it_is_not_tracked(agent: Api) -> None:
    body = agent.get("/api/panel/424242").get_json()
    assert body["tracked"] is False and "not seen" in body["message"]


def test_an_open_ticket_is_on_track_with_its_deadline_and_why(pages_app: Flask, agent: Api) -> None:
    record = seed(pages_app, "10001", timedelta(hours=2))
    AuditLog(pages_app.extensions["tierwise"].session_factory).record(
        CLIENT_KEY, "10001", "fields_written", {"target": "first_response", "deadline": "…"}, datetime.now(UTC))
    body = agent.get("/api/panel/10001").get_json()
    assert body["tier"] == {"id": "standard", "name": "Standard"}
    assert body["severity"]["name"] == "Critical"
    first = target(body, "first_response")
    assert first["state"] == "on_track" and first["calendar"] == "24x7"
    assert first["due"] == (record.created_at + timedelta(hours=24)).isoformat().replace("+00:00", "Z")
    assert target(body, "next_update")["state"] == "none"  # no reply yet
    assert target(body, "resolution")["state"] == "none"  # best effort in this policy
    assert body["why"]["severity_rule"].startswith("rule 1")
    assert body["why"]["policy"]["version"] == 1
    assert [a["action"] for a in body["audit"]] == ["fields_written"]


def test_an_overdue_first_response_is_breached(pages_app: Flask, agent: Api) -> None:
    seed(pages_app, "10002", timedelta(hours=30))
    first = target(agent.get("/api/panel/10002").get_json(), "first_response")
    assert first["state"] == "breached"


def test_a_waiting_ticket_is_paused_with_its_pause_listed(pages_app: Flask, agent: Api) -> None:
    now = datetime.now(UTC)
    seed(pages_app, "10003", timedelta(hours=3), phase="paused", phase_changes=((now - timedelta(hours=1), "paused"),))
    body = agent.get("/api/panel/10003").get_json()
    first = target(body, "first_response")
    assert body["phase"] == "paused" and first["state"] == "paused" and first["due"] is None
    assert 20 * 3600 <= first["remaining_seconds"] <= 22 * 3600  # 24 h minus the 2 h that ran
    assert len(body["why"]["pauses"]) == 1 and body["why"]["pauses"][0]["end"] is None


def test_after_a_reply_the_next_update_runs_on_the_cadence(pages_app: Flask, agent: Api) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    reply = now - timedelta(minutes=10)
    seed(pages_app, "10004", timedelta(hours=1), replies=(reply,), first_reply_at=reply, last_update_at=reply)
    body = agent.get("/api/panel/10004").get_json()
    assert target(body, "first_response")["state"] == "met"
    assert target(body, "first_response")["status"] == "on_time"  # the word the tierwise.sla property carries
    nxt = target(body, "next_update")
    assert nxt["state"] in ("on_track", "due_soon")
    assert nxt["due"] == (reply + timedelta(minutes=60)).isoformat().replace("+00:00", "Z")


def test_panel_page_needs_a_page_load_token(pages_app: Flask) -> None:
    assert pages_app.test_client().get("/panel?issueId=1&issueKey=SUP-1").status_code == 401
    assert pages_app.test_client().get("/api/panel/10001").status_code == 401
