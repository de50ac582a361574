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


def _module_urls(modules: dict[str, Any]) -> list[tuple[str, str]]:
    """Every (method, path) the descriptor's modules make Jira call on the app."""
    urls: list[tuple[str, str]] = []
    for hook in modules.get("webhooks", []):
        urls.append(("POST", hook["url"]))
    for name in ("adminPages", "webPanels"):
        urls += [("GET", m["url"]) for m in modules.get(name, [])]
    if "configurePage" in modules:
        urls.append(("GET", modules["configurePage"]["url"]))
    for ctx in modules.get("jiraIssueContexts", []):
        urls += [("GET", ctx["target"]["url"]), ("GET", ctx["icon"]["url"])]
    return urls


def test_every_module_url_is_served_by_the_app(client: FlaskClient) -> None:
    """A module pointing at a route the app does not have would 404 inside Jira."""
    body = client.get("/atlassian-connect.json").get_json()
    urls = _module_urls(body["modules"])
    assert {"webhooks", "adminPages", "configurePage", "webPanels", "jiraIssueContexts",
            "jiraEntityProperties"} <= set(body["modules"])
    adapter = client.application.url_map.bind("tierwise.test")
    for method, url in urls:
        path = url.split("?", 1)[0]
        adapter.match(path, method=method)  # raises NotFound / MethodNotAllowed


def test_sla_property_aliases_are_declared_for_jql(client: FlaskClient) -> None:
    body = client.get("/atlassian-connect.json").get_json()
    (prop,) = body["modules"]["jiraEntityProperties"]
    (config,) = prop["keyConfigurations"]
    assert config["propertyKey"] == "tierwise.sla"
    aliases = {e["alias"] for e in config["extractions"]}
    assert {"tierwiseFirstResponseDue", "tierwiseNextUpdateDue", "tierwiseResolutionDue"} <= aliases
