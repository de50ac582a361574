"""`/_standin/…`: drive the stand-in from another process (the demo, benches, browser tests). No auth: 127.0.0.1 only."""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from standin.state import JiraError

if TYPE_CHECKING:
    from standin.server import JiraStandin


def _ok(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, default=str), status, content_type="application/json")


def handle_admin(s: JiraStandin, request: Request, action: str) -> Response:
    """Dispatch one admin call; bodies are JSON objects whose keys are the Python API's arguments."""
    body: dict[str, Any] = request.get_json(silent=True) or {}
    method = request.method.upper()
    try:
        if action == "info" and method == "GET":
            return _ok({"base_url": s.base_url, "install_keys_url": s.install_keys_url,
                        "apps": {k: {"client_key": a.client_key, "enabled": a.enabled, "installed": a.installed}
                                 for k, a in s.apps.items()},
                        "users": {"admin": s.admin.account_id, "agent": s.agent.account_id,
                                  "customer": s.customer.account_id}})
        if action == "requests" and method == "GET":
            return _ok([dataclasses.asdict(r) for r in s.requests])
        if action == "deliveries" and method == "GET":
            return _ok([dataclasses.asdict(d) for d in s.deliveries])
        if action == "wait" and method == "POST":
            return _ok({"idle": s.wait_for_deliveries(float(body.get("timeout", 10)))})
        if action == "install" and method == "POST":
            app = s.install_app(body["descriptor_url"], scopes=body.get("scopes"))
            return _ok({"key": app.key, "client_key": app.client_key})
        if action in ("uninstall", "enable", "disable") and method == "POST":
            status = getattr(s, f"{action}_app")(body.get("key"))
            return _ok({"status": status})
        if action == "inject" and method == "POST":
            fault = s.inject(body.get("path", "*"), body.get("status", 429), int(body.get("times", 1)),
                             retry_after=body.get("retry_after"), rate_limit_reset=body.get("rate_limit_reset"),
                             method=body.get("method"), latency=float(body.get("latency", 0)))
            return _ok(dataclasses.asdict(fault))
        if action == "latency" and method == "POST":
            s.latency = float(body.get("seconds", 0))
            return _ok({"latency": s.latency})
        if action == "faults" and method == "DELETE":
            s.clear_faults()
            return _ok({"cleared": True})
        if action == "issues" and method == "POST":
            return _ok(s.create_issue(body.get("summary", "Something is broken"), project=body.get("project", "SUP"),
                                      reporter=_user(s, body.get("reporter")), fields=body.get("fields"),
                                      description=body.get("description")), 201)
        if action.startswith("issues/"):
            parts = action.split("/")
            key = parts[1]
            if len(parts) == 2 and method == "GET":
                return _ok(s.issue(key))
            if len(parts) == 2 and method == "PUT":
                return _ok(s.update_issue(key, fields=body.get("fields"), status=body.get("status"),
                                          by=_user(s, body.get("by"))))
            if parts[2:] == ["comment"] and method == "POST":
                return _ok(s.add_comment(key, body["body"], public=bool(body.get("public", True)),
                                         author=_user(s, body.get("author"))), 201)
            if parts[2:] == ["comment"] and method == "GET":
                return _ok(s.comments(key))
            if parts[2:] == ["transition"] and method == "POST":
                return _ok(s.transition_issue(key, body["name"], by=_user(s, body.get("by"))))
    except JiraError as exc:
        return _ok(exc.body, exc.status)
    except (KeyError, ValueError) as exc:
        return _ok({"error": f"bad admin call: {exc!r}"}, 400)
    return _ok({"error": f"unknown admin call {method} /_standin/{action}"}, 404)


def _user(s: JiraStandin, who: str | None) -> Any:
    """'admin' | 'agent' | 'customer' | an accountId | None."""
    if who is None:
        return None
    named = {"admin": s.admin, "agent": s.agent, "customer": s.customer}
    return named.get(who) or s.site.user(who)
