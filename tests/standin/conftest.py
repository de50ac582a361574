"""Fixtures: the specs load once per session; a fresh stand-in and receiving app per test."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from standin_fakeapp import FakeApp, QuietHandler
from werkzeug.serving import make_server

from standin import JiraStandin, specs


@pytest.fixture(scope="session")
def spec_load_seconds() -> dict[str, float]:
    """Load both specs once for the whole session."""
    return specs.warm_up()


@pytest.fixture
def fake_app() -> Iterator[FakeApp]:
    app = FakeApp(webhooks=[{"event": "jira:issue_created", "url": "/hooks/created"},
                            {"event": "jira:issue_updated", "url": "/hooks/updated"},
                            {"event": "comment_created", "url": "/hooks/comment", "filter": "project = SUP"}])
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    app.port = server.server_port
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
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

