"""Fixtures: one stand-in per module (specs load once per process) and a small receiving Connect app."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from standin import JiraStandin, specs


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
        status = self.statuses.pop(0) if self.statuses and req.path.startswith("/app/hooks") else 204
        return Response(status=status)(environ, start_response)

    def hits(self, prefix: str) -> list[Received]:
        return [r for r in list(self.received) if r.path.startswith(prefix)]


@pytest.fixture(scope="session")
def spec_load_seconds() -> dict[str, float]:
    """Load both specs once for the whole session."""
    return specs.warm_up()


@pytest.fixture
def fake_app() -> Iterator[FakeApp]:
    app = FakeApp(webhooks=[{"event": "jira:issue_created", "url": "/hooks/created"},
                            {"event": "jira:issue_updated", "url": "/hooks/updated"},
                            {"event": "comment_created", "url": "/hooks/comment", "filter": "project = SUP"}])
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.port = server.server_port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app
    server.shutdown()
    server.server_close()


@pytest.fixture
def standin(spec_load_seconds: dict[str, float]) -> Iterator[JiraStandin]:
    with JiraStandin(webhook_backoff_s=0.01) as s:
        yield s


@pytest.fixture
def installed(standin: JiraStandin, fake_app: FakeApp) -> tuple[JiraStandin, FakeApp]:
    standin.install_app(f"{fake_app.base_url}/atlassian-connect.json")
    return standin, fake_app
