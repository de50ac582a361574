"""The Connect app descriptor: `atlassian-connect.json` at the repository root, rendered per deployment.

Scopes asked for, and why: READ (issues, fields, statuses, request types, to evaluate SLAs) and
WRITE (SLA fields, issue properties, comments, transitions at breaches). Nothing else. Later
modules (webhooks, pages) go into the template's `modules`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

#: The descriptor template; `{{APP_BASE_URL}}`, `{{APP_KEY}}` and `{{APP_NAME}}` are filled in.
TEMPLATE_PATH = Path(__file__).resolve().parent.parent.parent / "atlassian-connect.json"


def _fill(node: Any, values: dict[str, str]) -> Any:
    if isinstance(node, str):
        for name, value in values.items():
            node = node.replace("{{" + name + "}}", value)
        return node
    if isinstance(node, list):
        return [_fill(item, values) for item in node]
    if isinstance(node, dict):
        return {key: _fill(value, values) for key, value in node.items()}
    return node


def render_descriptor(*, base_url: str, app_key: str, app_name: str,
                      template: dict[str, Any] | None = None) -> dict[str, Any]:
    """The descriptor for this deployment (placeholders filled after JSON parsing, so no escaping issue)."""
    if template is None:
        template = json.loads(TEMPLATE_PATH.read_text(encoding="utf-8"))
    values = {"APP_BASE_URL": base_url.rstrip("/"), "APP_KEY": app_key, "APP_NAME": app_name}
    rendered = _fill(template, values)
    assert isinstance(rendered, dict)
    return rendered
