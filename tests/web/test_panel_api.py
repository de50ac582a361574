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
from app.web.panel import warning_level


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


@pytest.mark.parametrize(("left", "budget", "level"), [
    (timedelta(hours=2), timedelta(hours=24), None),
    (timedelta(minutes=59), timedelta(hours=24), "amber"),  # 1 h caps 25 % of a day
    (timedelta(minutes=14), timedelta(hours=24), "red"),
    (timedelta(minutes=20), timedelta(hours=1), None),  # 25 % of an hour is 15 min
    (timedelta(minutes=14), timedelta(hours=1), "amber"),
    (timedelta(minutes=5), timedelta(hours=1), "red"),  # 10 % of an hour is 6 min
    (timedelta(minutes=30), None, "amber"),  # no budget known: the caps alone
    (None, timedelta(hours=1), None),
])
def test_the_panel_warns_before_a_breach_by_default(left: timedelta | None, budget: timedelta | None,
                                                     level: str | None) -> None:
    assert warning_level(left, budget) == level


def test_a_first_response_nearly_due_warns_amber_then_red(pages_app: Flask, agent: Api) -> None:
    seed(pages_app, "10005", timedelta(hours=23, minutes=10))  # 50 min of a 24 h target left; no pre_breach
    first = target(agent.get("/api/panel/10005").get_json(), "first_response")
    assert first["state"] == "on_track" and first["warning"] == "amber"
    assert first["budget_seconds"] == 24 * 3600 and first["open_now"] is True
    seed(pages_app, "10006", timedelta(hours=23, minutes=50))
    assert target(agent.get("/api/panel/10006").get_json(), "first_response")["warning"] == "red"
    seed(pages_app, "10007", timedelta(hours=2))
    assert target(agent.get("/api/panel/10007").get_json(), "first_response")["warning"] is None


def test_a_late_first_response_says_how_late_and_stops(pages_app: Flask, agent: Api) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    reply = now - timedelta(hours=2)  # created 27.5 h ago: answered 1.5 h after the 24 h deadline
    seed(pages_app, "10008", timedelta(hours=27, minutes=30), replies=(reply,), first_reply_at=reply,
         last_update_at=reply)
    first = target(agent.get("/api/panel/10008").get_json(), "first_response")
    assert first["state"] == "breached" and first["met_at"] is not None
    assert abs(first["late_seconds"] - 90 * 60) <= 1  # whole seconds of a creation time with microseconds
    assert first["remaining_seconds"] is None and first["warning"] is None


def test_a_ticket_whose_classification_failed_says_what_failed(pages_app: Flask, agent: Api) -> None:
    AuditLog(pages_app.extensions["tierwise"].session_factory).record(
        CLIENT_KEY, "10009", "policy_error", {"event": "e1", "error": "no rule set the severity and there is no default"},
        datetime.now(UTC))
    body = agent.get("/api/panel/10009").get_json()
    assert body["tracked"] is False and body["reason"] == "classification_failed"
    assert "no rule set the severity" in body["message"] and "Jira administrator" in body["help"]
    assert agent.get("/api/panel/10010").get_json()["reason"] == "not_seen"


def test_audit_entries_read_as_sentences(pages_app: Flask, agent: Api) -> None:
    seed(pages_app, "10011", timedelta(hours=1))
    AuditLog(pages_app.extensions["tierwise"].session_factory).record(
        CLIENT_KEY, "10011", "fields_written", {"target": "first_response"}, datetime.now(UTC))
    entry = agent.get("/api/panel/10011").get_json()["audit"][0]
    assert entry["sentence"] == "Wrote the due dates to the ticket" and entry["action"] == "fields_written"
