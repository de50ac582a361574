"""Bad input gets a clear 4xx JSON answer, never a 500 or a traceback (issue #14, point 8).

Deeply nested JSON on a signed webhook and on the unauthenticated lifecycle callbacks, policy
imports using YAML aliases, `!!binary`, `!!set` or deep nesting, and previews the engine cannot
compute, all through the real Flask app and its error handlers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pages_kit import Api, FakeDirectory, install_tenant

from app import create_app
from app.connect.qsh import query_string_hash
from app.connect.tokens import mint_token
from app.schemas.limits import MAX_CALENDARS, MAX_DEPTH
from app.schemas.presets import preset_document
from app.settings import Settings

#: Far deeper than any JSON parser's recursion allows.
DEEP = 50_000
WEBHOOK_SECRET = "bad-input-secret-0123456789-0123456789-ab"


@pytest.fixture
def flask_app(settings: Settings) -> Iterator[Flask]:
    flask_app = create_app(settings)
    flask_app.extensions["tierwise.site_directory"] = FakeDirectory()
    install_tenant(flask_app)
    flask_app.extensions["tierwise"].tenants.install(
        "tenant-webhooks", shared_secret=WEBHOOK_SECRET, base_url="https://acme.atlassian.net", at=datetime.now(UTC))
    yield flask_app
    flask_app.extensions["tierwise"].close()


@pytest.fixture
def client(flask_app: Flask) -> FlaskClient:
    return flask_app.test_client()


def _deep_json(depth: int = DEEP) -> bytes:
    return b'{"webhookEvent": "jira:issue_created", "issue": ' + b"[" * depth + b"]" * depth + b"}"


def _assert_clean_refusal(response, caplog: pytest.LogCaptureFixture, status: int) -> None:
    assert response.status_code == status
    body = response.get_json()
    assert set(body) == {"error", "message"}
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR], "no traceback, no ERROR"


def test_deeply_nested_json_on_a_signed_webhook_is_a_400(client: FlaskClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    token = mint_token(issuer="tenant-webhooks", secret=WEBHOOK_SECRET,
                       qsh=query_string_hash("POST", "/webhooks/jira", ""), now=datetime.now(UTC))
    response = client.post("/webhooks/jira", data=_deep_json(),
                           headers={"Authorization": f"JWT {token}", "Content-Type": "application/json"})
    _assert_clean_refusal(response, caplog, 400)
    assert "nests" in response.get_json()["message"]
    assert any("request body refused" in r.getMessage() and r.levelno == logging.INFO for r in caplog.records)


@pytest.mark.parametrize("event", ["installed", "uninstalled", "enabled", "disabled"])
def test_deeply_nested_json_on_unauthenticated_lifecycle_is_a_4xx_and_one_info_line(
    client: FlaskClient, caplog: pytest.LogCaptureFixture, event: str
) -> None:
    caplog.set_level(logging.INFO)
    response = client.post(f"/lifecycle/{event}", data=_deep_json(),
                           headers={"Authorization": "JWT a.b.c", "Content-Type": "application/json"})
    assert response.status_code in (400, 401)
    _assert_clean_refusal(response, caplog, response.status_code)
    assert len([r for r in caplog.records if r.name.startswith("app.")]) == 1
    assert all(len(r.getMessage()) < 200 for r in caplog.records)


def test_deep_json_admin_body_is_a_400(client: FlaskClient) -> None:
    response = client.post("/api/admin/validate", data=_deep_json(),
                           headers={**Api(client)._headers(), "Content-Type": "application/json"})
    assert response.status_code == 400 and response.get_json()["error"] == "bad_body"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b]\n",
         "aliases"),
        ("id: x\npayload: !!binary aGVsbG8gd29ybGQ=\n", "tag:yaml.org,2002:binary"),
        ("id: x\nseverities: !!set {sev1, sev2}\n", "tag:yaml.org,2002:set"),
        ("id: x\nnested: " + "[" * 5000 + "]" * 5000 + "\n", "levels deep"),
        ("id: x\nnested:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 60)) + "  " * 60 + "v: 1\n",
         "levels deep"),
    ],
)
def test_import_refuses_yaml_bombs_and_tags_with_a_clear_error(client: FlaskClient, text: str, message: str) -> None:
    response = Api(client).post("/api/admin/import", {"text": text, "filename": "policy.yaml"})
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "invalid_policy"
    assert any(message in e["message"] for e in body["errors"]), body
    assert len(response.data) < 2_000  # the answer does not expand what was sent


def test_import_refuses_json_nested_past_the_parser(client: FlaskClient) -> None:
    text = '{"id": ' + "[" * DEEP + "]" * DEEP + "}"
    response = Api(client).post("/api/admin/import", {"text": text, "filename": "policy.json"})
    assert response.status_code == 422
    assert f"more than {MAX_DEPTH} levels" in response.get_json()["errors"][0]["message"]


def test_import_keeps_yaml_dates_as_the_strings_json_has(client: FlaskClient) -> None:
    import yaml

    document = preset_document("communardo")
    document["calendars"]["dresden"]["closed_dates"] = ["2026-12-24"]
    text = yaml.safe_dump(document).replace("'2026-12-24'", "2026-12-24")
    assert "- 2026-12-24" in text
    body = Api(client).post("/api/admin/import", {"text": text, "filename": "policy.yaml"}).get_json()
    assert body["errors"] == []
    assert body["document"]["calendars"]["dresden"]["closed_dates"] == ["2026-12-24"]


def test_validate_names_a_limit_with_its_path(client: FlaskClient) -> None:
    document = preset_document("communardo")
    calendar = document["calendars"]["dresden"]
    document["calendars"] = {f"c{i}": calendar for i in range(MAX_CALENDARS + 1)}
    body = Api(client).post("/api/admin/validate", {"document": document}).get_json()
    assert body["valid"] is False
    assert body["errors"] == [{"path": "calendars", "message": f"{MAX_CALENDARS + 1} calendars; "
                                                               f"at most {MAX_CALENDARS} are allowed"}]


def test_preview_the_engine_cannot_compute_is_a_422(client: FlaskClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    document = preset_document("communardo")
    # Open one minute a week: the longest allowed target then ends about 10,000 years from now.
    document["calendars"]["dresden"]["hours"] = {"mon": ["09:00-09:01"]}
    document["calendars"]["dresden"].pop("day_length", None)
    for targets in document["tiers"].values():
        for sev in targets.values():
            if isinstance(sev, dict) and "resolution" in sev:
                sev["resolution"] = "8784h on dresden"
    response = Api(client).post("/api/admin/preview", {"document": document})
    _assert_clean_refusal(response, caplog, 422)
    assert response.get_json()["error"] == "preview_failed"


def test_preview_at_an_absurd_time_is_a_400(client: FlaskClient) -> None:
    response = Api(client).post("/api/admin/preview", {"document": preset_document("communardo"),
                                                      "at": "9999-12-31T23:00:00Z"})
    assert response.status_code == 400 and response.get_json()["error"] == "bad_body"
