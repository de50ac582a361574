"""forge/manifest.yml hangs together, offline: every reference resolves, every route exists here."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask

from app import create_app
from app.connect.descriptor import render_descriptor
from app.forge.events import CONNECT_WEBHOOK_FOR
from app.forge.fit import normalize_app_id
from app.settings import Settings
from app.web.forge import bp

FORGE_DIR = Path(__file__).resolve().parents[2] / "forge"
#: Modules whose entries name a remote endpoint directly, and UI modules that reach it via a resolver.
TRIGGER_MODULES = ("trigger", "scheduledTrigger")
UI_MODULES = ("jira:adminPage", "jira:issuePanel", "jira:issueContext")


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return yaml.safe_load((FORGE_DIR / "manifest.yml").read_text())


def _endpoints(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["key"]: e for e in manifest["modules"]["endpoint"]}


def test_app_id_has_the_forge_ari_form(manifest: dict[str, Any]) -> None:
    assert normalize_app_id(manifest["app"]["id"]) == manifest["app"]["id"]


def test_module_keys_are_unique_and_well_formed(manifest: dict[str, Any]) -> None:
    keys = [entry["key"] for entries in manifest["modules"].values() for entry in entries]
    assert len(keys) == len(set(keys))
    assert all(re.fullmatch(r"[a-zA-Z0-9_-]{1,63}", key) for key in keys)


def test_every_module_reaches_a_declared_endpoint_and_no_function(manifest: dict[str, Any]) -> None:
    endpoints = _endpoints(manifest)
    referenced = set()
    for name in TRIGGER_MODULES:
        for entry in manifest["modules"][name]:
            assert "function" not in entry, entry["key"]
            assert entry["endpoint"] in endpoints, entry["key"]
            referenced.add(entry["endpoint"])
    for name in UI_MODULES:
        for entry in manifest["modules"][name]:
            assert entry["resolver"] == {"endpoint": entry["resolver"]["endpoint"]}
            assert entry["resolver"]["endpoint"] in endpoints, entry["key"]
            referenced.add(entry["resolver"]["endpoint"])
    assert "function" not in manifest["modules"]
    assert referenced == set(endpoints), "an endpoint nobody uses"


def test_every_endpoint_uses_a_declared_remote_with_the_system_token(manifest: dict[str, Any]) -> None:
    remotes = {r["key"]: r for r in manifest["remotes"]}
    for endpoint in manifest["modules"]["endpoint"]:
        assert endpoint["remote"] in remotes, endpoint["key"]
        assert endpoint["auth"]["appSystemToken"] == {"enabled": True}, endpoint["key"]
    for remote in remotes.values():
        assert remote["baseUrl"].startswith("https://")
    backends = manifest["permissions"]["external"]["fetch"]["backend"]
    assert {b["remote"] for b in backends} <= set(remotes)


def test_trigger_endpoints_have_a_route_served_by_the_forge_blueprint(manifest: dict[str, Any]) -> None:
    flask_app = Flask(__name__)
    flask_app.register_blueprint(bp)
    adapter = flask_app.url_map.bind("tierwise.test")
    triggered = {e["endpoint"] for name in TRIGGER_MODULES for e in manifest["modules"][name]}
    for endpoint in manifest["modules"]["endpoint"]:
        if endpoint["key"] not in triggered:
            continue
        rule, _ = adapter.match(endpoint["route"]["path"], method="POST")
        assert rule.startswith("forge."), (endpoint["key"], rule)


def test_ui_resolver_endpoint_has_no_route_and_the_pages_paths_are_served(manifest: dict[str, Any]) -> None:
    """invokeRemote appends its path to the remote's baseUrl: a route on the UI endpoint would be ignored."""
    ui = {m["resolver"]["endpoint"] for name in UI_MODULES for m in manifest["modules"][name]}
    endpoints = _endpoints(manifest)
    assert ui == {"tierwise-ui"}
    assert "route" not in endpoints["tierwise-ui"]
    flask_app = Flask(__name__)
    flask_app.register_blueprint(bp)
    adapter = flask_app.url_map.bind("tierwise.test")
    for path in ("/forge/api/panel/10042", "/forge/api/admin/policy"):
        rule, _ = adapter.match(path, method="GET")
        assert rule == "forge.api_proxy", path


def test_connect_key_equals_the_descriptor_key(manifest: dict[str, Any]) -> None:
    """app.connect.key adopts the Connect app: it must be the key the descriptor is served with."""
    settings = Settings.from_env({})
    descriptor = render_descriptor(base_url="https://tierwise.example.com", app_key=settings.app_key,
                                   app_name=settings.app_name)
    connect = manifest["app"]["connect"]
    assert connect["key"] == descriptor["key"] == settings.app_key
    assert connect["remote"] in {r["key"] for r in manifest["remotes"]}
    assert connect["authentication"] == descriptor["authentication"]["type"]


def test_connect_lifecycle_module_points_at_the_descriptors_lifecycle_routes(manifest: dict[str, Any]) -> None:
    (lifecycle,) = manifest["connectModules"]["jira:lifecycle"]
    descriptor = json.loads((FORGE_DIR.parent / "atlassian-connect.json").read_text())
    urls = {k: v for k, v in lifecycle.items() if k != "key"}
    assert urls == {k: descriptor["lifecycle"][k] for k in ("installed", "uninstalled")}
    adapter = create_app(Settings.from_env({})).url_map.bind("tierwise.test")
    for url in urls.values():
        assert adapter.match(url, method="POST")[0].startswith("lifecycle."), url


def test_triggers_subscribe_exactly_the_events_tierwise_maps(manifest: dict[str, Any]) -> None:
    events = {e for t in manifest["modules"]["trigger"] for e in t["events"]}
    assert events == set(CONNECT_WEBHOOK_FOR) | {"avi:forge:installed:app", "avi:forge:upgraded:app"}
    (tickets,) = [t for t in manifest["modules"]["trigger"] if set(t["events"]) == set(CONNECT_WEBHOOK_FOR)]
    assert tickets["filter"] == {"ignoreSelf": True}  # our own writes are not sent back
    (refresh,) = manifest["modules"]["scheduledTrigger"]
    assert refresh["interval"] == "hour"  # the system token lives >= 2 h: hourly keeps one fresh


def test_resources_and_icons_exist(manifest: dict[str, Any]) -> None:
    resources = {r["key"]: FORGE_DIR / r["path"] for r in manifest["resources"]}
    for path in resources.values():
        assert (path / "index.html").is_file(), path
    for name in UI_MODULES:
        for entry in manifest["modules"][name]:
            assert entry["resource"] in resources
            icon = entry.get("icon")
            if icon:
                key, _, file = icon.removeprefix("resource:").partition(";")
                assert (resources[key] / file).is_file(), icon


def test_scopes_are_exactly_those_the_readme_states(manifest: dict[str, Any]) -> None:
    readme = (FORGE_DIR / "README.md").read_text()
    section = readme.split("## Scopes", 1)[1].split("\n## ", 1)[0]
    stated = set(re.findall(r"`([a-z-]+:[a-z-]+(?:\.[a-z-]+)?)`", section))
    assert set(manifest["permissions"]["scopes"]) == stated
    assert {"read:jira-work", "write:jira-work", "read:app-system-token"} <= stated
    assert len(manifest["permissions"]["scopes"]) == len(stated)


def test_sla_property_is_indexed_like_the_connect_descriptor(manifest: dict[str, Any]) -> None:
    connect = json.loads((FORGE_DIR.parent / "atlassian-connect.json").read_text())
    expected = {(c["propertyKey"], e["objectName"], e["type"], e["alias"])
                for module in connect["modules"]["jiraEntityProperties"] for c in module["keyConfigurations"]
                for e in c["extractions"]}
    indexed = {(p["propertyKey"], v["path"], v["type"], v["searchAlias"])
               for p in manifest["modules"]["jira:entityProperty"] for v in p["values"]}
    assert indexed == expected
    assert {p["entityType"] for p in manifest["modules"]["jira:entityProperty"]} == {"issue"}
