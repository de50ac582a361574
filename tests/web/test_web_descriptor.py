"""`GET /atlassian-connect.json` validates against Atlassian's descriptor schema."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from flask.testing import FlaskClient

from app.settings import Settings


@pytest.fixture(scope="module")
def descriptor_schema(peers_dir: Path) -> dict[str, Any]:
    """Atlassian's 2019 schema, told about the two migrations it predates (see peers/README)."""
    schema = json.loads((peers_dir / "specs" / "connect-jira-global-schema.json").read_text(encoding="utf-8"))
    patched = copy.deepcopy(schema)
    for name in ("signed-install", "context-qsh"):
        patched["properties"]["apiMigrations"]["properties"][name] = {"type": "boolean"}
    return patched


def test_served_descriptor_validates(client: FlaskClient, descriptor_schema: dict[str, Any],
                                     connect_settings: Settings) -> None:
    resp = client.get("/atlassian-connect.json")
    assert resp.status_code == 200
    assert resp.mimetype == "application/json"
    body = resp.get_json()
    jsonschema.Draft4Validator(descriptor_schema).validate(body)
    assert body["baseUrl"] == connect_settings.app_base_url
    assert body["apiMigrations"]["signed-install"] is True


def test_the_patched_schema_still_rejects_an_unknown_migration(descriptor_schema: dict[str, Any],
                                                              client: FlaskClient) -> None:
    body = client.get("/atlassian-connect.json").get_json()
    body["apiMigrations"]["made-up"] = True
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(descriptor_schema).validate(body)


def test_every_lifecycle_url_is_served(client: FlaskClient) -> None:
    """Each lifecycle path in the descriptor reaches a route (an unsigned call is refused, not 404)."""
    body = client.get("/atlassian-connect.json").get_json()
    for path in body["lifecycle"].values():
        resp = client.post(path, json={})
        assert resp.status_code == 401, path
        assert resp.get_json()["error"] == "missing_token"
