"""Rendering the descriptor template (no Flask)."""

from __future__ import annotations

import json

from app.connect.descriptor import TEMPLATE_PATH, render_descriptor


def test_placeholders_are_filled_everywhere() -> None:
    rendered = render_descriptor(base_url="https://abc.ngrok.app/", app_key="tierwise-dev", app_name="Tierwise (dev)")
    assert (rendered["key"], rendered["name"], rendered["baseUrl"]) == (
        "tierwise-dev", "Tierwise (dev)", "https://abc.ngrok.app")
    assert "{{" not in json.dumps(rendered)


def test_security_settings_and_lifecycle() -> None:
    rendered = render_descriptor(base_url="https://x.test", app_key="tierwise", app_name="Tierwise")
    assert rendered["authentication"] == {"type": "jwt"}
    assert rendered["apiMigrations"] == {"signed-install": True, "context-qsh": True, "gdpr": True}
    assert rendered["lifecycle"] == {event: f"/lifecycle/{event}"
                                     for event in ("installed", "uninstalled", "enabled", "disabled")}
    # PROJECT_ADMIN: the SLA write-back is a PUT with notifyUsers=false, which needs Administer Projects.
    assert sorted(rendered["scopes"]) == ["PROJECT_ADMIN", "READ", "WRITE"]
    assert isinstance(rendered["modules"], dict)


def test_values_with_json_special_characters_stay_valid() -> None:
    rendered = render_descriptor(base_url="https://x.test", app_key="k", app_name='Acme "Support" \\ Co')
    assert rendered["name"] == 'Acme "Support" \\ Co'
    assert json.loads(TEMPLATE_PATH.read_text(encoding="utf-8"))["name"] == "{{APP_NAME}}"
