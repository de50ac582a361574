"""A small Connect app on 127.0.0.1 that records what the stand-in sends it, and a signing client."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from atlassian_jwt import encode_token
from werkzeug.serving import WSGIRequestHandler
from werkzeug.wrappers import Request, Response

from standin import JiraStandin

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Received:
    path: str
    query: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeApp:
    """A Connect app on 127.0.0.1 that records what Jira sends it and answers with `statuses` in order."""

    key: str = "tierwise-test"
    webhooks: list[dict[str, Any]] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # next answers for webhook posts; then 204
    port: int = 0
    lifecycle_status: int = 204
    scopes: list[str] = field(default_factory=lambda: ["READ", "WRITE", "PROJECT_ADMIN"])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/app"

    def descriptor(self) -> dict[str, Any]:
        return {"key": self.key, "name": "Tierwise (test)", "baseUrl": self.base_url,
                "authentication": {"type": "jwt"}, "apiVersion": 1,
                "apiMigrations": {"signed-install": True, "context-qsh": True, "gdpr": True},
                "lifecycle": {"installed": "/lifecycle/installed", "uninstalled": "/lifecycle/uninstalled",
                              "enabled": "/lifecycle/enabled", "disabled": "/lifecycle/disabled"},
                "scopes": self.scopes, "modules": {"webhooks": self.webhooks}}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        req = Request(environ)
        if req.path == "/app/atlassian-connect.json":
            return Response(json.dumps(self.descriptor()), content_type="application/json")(environ, start_response)
        self.received.append(Received(req.path, req.query_string.decode(), dict(req.headers),
                                      req.get_json(silent=True)))
        status = 204
        if req.path.startswith("/app/hooks") and self.statuses:
            status = self.statuses.pop(0)
        elif req.path.startswith("/app/lifecycle"):
            status = self.lifecycle_status
        return Response(status=status)(environ, start_response)

    def hits(self, prefix: str) -> list[Received]:
        return [r for r in list(self.received) if r.path.startswith(prefix)]


def signed(standin: JiraStandin, method: str, path: str, *, app_key: str | None = None,
           secret: str | None = None, **kwargs: Any) -> Any:
    """Call the stand-in as the installed app would: a fresh Connect JWT minted by atlassian-jwt."""
    app = standin.app(app_key)
    token = encode_token(method, path, app.key, secret or app.shared_secret)
    return requests.request(method, standin.base_url + path, headers={"Authorization": f"JWT {token}"},
                            timeout=10, **kwargs)


class QuietHandler(WSGIRequestHandler):
    """No access log for the fake app either."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass
