"""The admin settings API over Flask's test client: admins only, validation with paths, versions."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pages_kit import ADMIN_ID, AGENT_ID, CLIENT_KEY, Api, FakeDirectory, context_token, install_tenant

from app import create_app
from app.schemas.presets import preset_document
from app.settings import Settings
from app.storage.chat_webhooks import ChatWebhooks


@pytest.fixture
def directory() -> FakeDirectory:
    return FakeDirectory()


@pytest.fixture
def pages_app(settings: Settings, directory: FakeDirectory) -> Iterator[Flask]:
    flask_app = create_app(settings)
    flask_app.config["TESTING"] = True
    flask_app.extensions["tierwise.site_directory"] = directory
    install_tenant(flask_app)
    yield flask_app
    flask_app.extensions["tierwise"].close()


@pytest.fixture
def client(pages_app: Flask) -> FlaskClient:
    return pages_app.test_client()


@pytest.fixture
def admin(client: FlaskClient) -> Api:
    return Api(client, ADMIN_ID)


def test_non_admins_are_refused_on_every_admin_call(client: FlaskClient, directory: FakeDirectory) -> None:
    agent = Api(client, AGENT_ID)
    for method, path in [("get", "/api/admin/policy"), ("post", "/api/admin/preview"), ("get", "/api/admin/versions"),
                         ("post", "/api/admin/policy"), ("get", "/api/admin/reference")]:
        response = getattr(agent, method)(path)
        assert response.status_code == 403, path
        assert response.get_json()["error"] == "not_admin"
    assert AGENT_ID in directory.asked


def test_a_context_token_is_required(client: FlaskClient) -> None:
    assert client.get("/api/admin/policy").status_code == 401
    forged = context_token(ADMIN_ID, secret="not-the-secret-" + "y" * 24)
    assert client.get("/api/admin/policy", headers={"Authorization": f"JWT {forged}"}).status_code == 401


def test_the_active_policy_is_the_default_preset_until_saved(admin: Api) -> None:
    body = admin.get("/api/admin/policy").get_json()
    assert body["version"]["is_default"] and body["version"]["document"]["id"] == "communardo"
    assert body["settings"]["field_bindings"] == {}


def test_validation_errors_carry_their_paths_and_nothing_is_saved(admin: Api) -> None:
    doc = preset_document("communardo")
    doc["tiers"]["standard"]["sev2"]["first_response"] = "4x on dresden"
    doc["calendars"]["dresden"]["timezone"] = "Mars/Olympus"
    checked = admin.post("/api/admin/validate", {"document": doc}).get_json()
    assert checked["valid"] is False
    paths = {e["path"] for e in checked["errors"]}
    assert {"tiers.standard.sev2.first_response.duration", "calendars.dresden.timezone"} <= paths
    saved = admin.post("/api/admin/policy", {"document": doc})
    assert saved.status_code == 422
    assert saved.get_json()["error"] == "invalid_policy"
    assert any(e["path"] == "tiers.standard.sev2.first_response.duration" for e in saved.get_json()["errors"])
    assert admin.get("/api/admin/versions").get_json()["versions"] == []


def test_preview_shows_when_a_ticket_opened_then_is_due(admin: Api) -> None:
    doc = preset_document("communardo")
    # Worked example: Tue 2026-11-17 15:00 Berlin, Level 2 (4 business hours), Wed is a Saxon holiday
    body = admin.post("/api/admin/preview", {"document": doc, "at": "2026-11-17T14:00:00Z"}).get_json()
    assert body["valid"]
    row = next(r for r in body["rows"] if r["tier"] == "standard" and r["severity"] == "sev2")
    assert row["first_response_due"] == "2026-11-19T10:00:00Z"
    assert row["resolution_due"] is None
    strip = body["calendars"][0]
    assert strip["id"] == "dresden" and len(strip["days"]) == 21
    wednesday = next(d for d in strip["days"] if d["date"] == "2026-11-18")
    assert wednesday["open"] == [] and wednesday["holiday"] and "holiday" in wednesday["closed_reason"]
    tuesday = strip["days"][0]
    assert tuesday["open"] == ["09:00–17:00"]
    doc["tiers"]["standard"]["sev2"]["first_response"] = "1h on dresden"
    faster = admin.post("/api/admin/preview", {"document": doc, "at": "2026-11-17T14:00:00Z"}).get_json()
    row = next(r for r in faster["rows"] if r["tier"] == "standard" and r["severity"] == "sev2")
    assert row["first_response_due"] == "2026-11-17T15:00:00Z"


def test_save_versions_diff_rollback_and_export(admin: Api) -> None:
    doc = preset_document("connectsoft")
    first = admin.post("/api/admin/policy", {"document": doc, "note": "start"})
    assert first.status_code == 201
    v1 = first.get_json()["version"]
    doc["tiers"]["premium"]["sev1"]["first_response"] = "30m on 24x7"
    v2 = admin.post("/api/admin/policy", {"document": doc, "note": "faster"}).get_json()["version"]
    assert (v1["number"], v2["number"]) == (1, 2)
    active = admin.get("/api/admin/policy").get_json()["version"]
    assert active["id"] == v2["id"] and active["document"]["tiers"]["premium"]["sev1"]["first_response"] == "30m on 24x7"

    changes = admin.get(f"/api/admin/versions/{v1['id']}/diff/{v2['id']}").get_json()["changes"]
    assert [c["text"] for c in changes] == ["tiers.premium.sev1.first_response: 1h on 24x7 → 30m on 24x7"]

    rolled = admin.post(f"/api/admin/versions/{v1['id']}/rollback")
    assert rolled.status_code == 201
    v3 = rolled.get_json()["version"]
    assert v3["number"] == 3
    assert admin.get("/api/admin/policy").get_json()["version"]["document"]["tiers"]["premium"]["sev1"]["first_response"] == "1h on 24x7"
    assert [v["number"] for v in admin.get("/api/admin/versions").get_json()["versions"]] == [3, 2, 1]

    exported = admin.get(f"/api/admin/versions/{v2['id']}/export")
    assert exported.status_code == 200
    assert "attachment" in exported.headers["Content-Disposition"]
    assert json.loads(exported.data)["tiers"]["premium"]["sev1"]["first_response"] == "30m on 24x7"
    assert admin.get("/api/admin/versions/999999").status_code == 404


def test_import_accepts_yaml_and_reports_problems(admin: Api) -> None:
    text = "id: tiny\nname: Tiny\nseverities:\n  - {id: sev1, name: Critical}\ntiers:\n  gold:\n    name: Gold\n    sev1: {first_response: 2x}\n"
    body = admin.post("/api/admin/import", {"text": text, "filename": "tiny.yaml"}).get_json()
    assert body["document"]["id"] == "tiny"
    assert [e["path"] for e in body["errors"]] == ["tiers.gold.sev1.first_response.duration"]
    broken = admin.post("/api/admin/import", {"text": "{not json", "filename": "x.json"})
    assert broken.status_code == 422


def test_settings_are_saved_and_invalid_ones_refused_with_paths(admin: Api) -> None:
    ok = admin.put("/api/admin/settings", {"field_bindings": {"first_response_due": "customfield_10100"},
                                           "oncall_webhook_url": "https://oncall.example/hook"})
    assert ok.status_code == 200
    assert admin.get("/api/admin/settings").get_json()["settings"]["field_bindings"] == {"first_response_due": "customfield_10100"}
    bad = admin.put("/api/admin/settings", {"field_bindings": {"tier": "Tier field"}, "oncall_webhook_url": "mailto:x"})
    assert bad.status_code == 422
    assert [e["path"] for e in bad.get_json()["errors"]] == ["field_bindings.tier", "oncall_webhook_url"]


def test_site_lists_and_reference_data(admin: Api) -> None:
    site = admin.get("/api/admin/site").get_json()
    assert {"id": "5", "name": "Waiting for customer", "category": "indeterminate"} in site["statuses"]
    reference = admin.get("/api/admin/reference").get_json()
    assert "Europe/Berlin" in reference["timezones"]
    assert "SN" in reference["holiday_regions"]["DE"]["subdivisions"]
    assert {p["id"] for p in reference["presets"]} >= {"communardo", "mulesight", "connectsoft"}


def test_a_select_fields_options_are_offered_to_admins_only(client: FlaskClient, admin: Api) -> None:
    plan = admin.get("/api/admin/site/fields/customfield_10050/options").get_json()
    assert [o["value"] for o in plan["options"]] == ["Essentials", "Enterprise"] and plan["message"] is None
    assert admin.get("/api/admin/site/fields/priority/options").get_json()["options"] == []
    assert admin.get("/api/admin/site/fields/a%20b/options").status_code == 404
    assert Api(client, AGENT_ID).get("/api/admin/site/fields/customfield_10050/options").status_code == 403


def test_field_options_say_so_when_jira_cannot_answer(admin: Api, directory: FakeDirectory,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from app.site_directory import SiteDirectoryError

    def unavailable(tenant: object, field_id: str) -> list[dict[str, object]]:
        raise SiteDirectoryError("GET /rest/api/3/field/customfield_10050/context: Jira answered 503", 503)

    monkeypatch.setattr(directory, "field_options", unavailable)
    body = admin.get("/api/admin/site/fields/customfield_10050/options").get_json()
    assert body["options"] == [] and "Jira answered 503" in body["message"]


def test_reapply_enqueues_the_job_by_path_and_reports_progress(
    settings: Settings, directory: FakeDirectory, redis_url: str
) -> None:
    import dataclasses

    from rq import Queue

    flask_app = create_app(dataclasses.replace(settings, redis_url=redis_url))
    flask_app.extensions["tierwise.site_directory"] = directory
    install_tenant(flask_app)
    admin = Api(flask_app.test_client())
    version = admin.post("/api/admin/policy", {"document": preset_document("mulesight")}).get_json()["version"]
    queued = admin.post(f"/api/admin/versions/{version['id']}/reapply")
    assert queued.status_code == 202
    svc = flask_app.extensions["tierwise"]
    job = Queue(settings.queue_name, connection=svc.redis).fetch_job(queued.get_json()["job_id"])
    assert job is not None and job.func_name == "jobs.sla.reapply_policy"
    assert job.args == ("tenant-pages-1", version["id"])
    assert admin.get(f"/api/admin/versions/{version['id']}/reapply").get_json() == {"done": None, "total": None}
    svc.redis.hset(f"tw:reapply:tenant-pages-1:{version['id']}", mapping={"done": 3, "total": 10})
    assert admin.get(f"/api/admin/versions/{version['id']}/reapply").get_json() == {"done": 3, "total": 10}
    svc.redis.delete(f"tw:reapply:tenant-pages-1:{version['id']}")
    svc.redis.set(f"tw:reapply:tenant-pages-1:{version['id']}", '{"done": 10, "total": 10}')  # the job writes JSON
    assert admin.get(f"/api/admin/versions/{version['id']}/reapply").get_json() == {"done": 10, "total": 10}
    svc.close()


# --- chat webhooks ---------------------------------------------------------------------------------

URL = "https://hooks.slack.com/services/T1/B2/verysecret"


def test_an_admin_stores_a_chat_webhook_and_sees_its_host_only(pages_app: Flask, client: FlaskClient) -> None:
    admin = Api(client, ADMIN_ID)
    stored = admin.put("/api/admin/chat-webhooks/war-room", {"url": URL})
    assert stored.status_code == 200 and stored.get_json() == {"name": "war-room", "host": "hooks.slack.com"}
    settings = admin.get("/api/admin/settings").get_data(as_text=True)
    assert '"war-room"' in settings and "hooks.slack.com" in settings and "verysecret" not in settings
    svc = pages_app.extensions["tierwise"]
    assert ChatWebhooks(svc.session_factory, svc.secrets).url(CLIENT_KEY, "war-room") == URL
    # The settings form does not wipe it.
    assert admin.put("/api/admin/settings", {"field_bindings": {}}).status_code == 200
    assert ChatWebhooks(svc.session_factory, svc.secrets).hosts(CLIENT_KEY) == {"war-room": "hooks.slack.com"}

    gone = client.delete("/api/admin/chat-webhooks/war-room", headers=admin._headers())
    assert gone.status_code == 204
    assert ChatWebhooks(svc.session_factory, svc.secrets).url(CLIENT_KEY, "war-room") is None


def test_bad_names_and_urls_are_refused_with_paths_and_agents_are_refused(client: FlaskClient) -> None:
    admin = Api(client, ADMIN_ID)
    bad = admin.put("/api/admin/chat-webhooks/bad name", {"url": "ftp://x"})
    assert bad.status_code == 422
    assert [e["path"] for e in bad.get_json()["errors"]] == ["name", "url"]
    assert Api(client, AGENT_ID).put("/api/admin/chat-webhooks/room", {"url": URL}).status_code == 403
