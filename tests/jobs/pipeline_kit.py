"""Shared by the pipeline tests (tests/jobs), the end-to-end suite (tests/e2e), the demo and the benches.

- `short_policy()`: a policy document with minute-long targets on 24x7 (real timers fire in tests).
- `serve_wsgi(app)`: a threaded werkzeug server on 127.0.0.1 (in-process tests).
- `OncallReceiver`: a tiny HTTP receiver that records on-call pages.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from werkzeug.serving import make_server


class _Server:
    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class OncallReceiver(_Server):
    """Records every JSON POST (an on-call/alerting integration's inbound webhook)."""

    def __init__(self) -> None:
        self.pages: list[dict[str, Any]] = []
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                pages.append(json.loads(self.rfile.read(length) or b"{}"))
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(Handler)


class WsgiThread:
    """A threaded werkzeug server for a WSGI app on 127.0.0.1 (in-process tests)."""

    def __init__(self, app: Any, port: int = 0) -> None:
        self.server = make_server("127.0.0.1", port, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.server.server_port)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: Callable[[], Any], timeout: float = 20.0, interval: float = 0.05) -> Any:
    """Poll `check` until it returns something truthy; AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


_SEVERITIES = [
    {"id": "sev1", "name": "Critical", "aliases": ["Highest", "Sev-1", "P1"]},
    {"id": "sev2", "name": "High", "aliases": ["High", "Sev-2", "P2"]},
    {"id": "sev3", "name": "Medium", "aliases": ["Medium", "Sev-3", "P3"]},
    {"id": "sev4", "name": "Low", "aliases": ["Low", "Lowest", "Sev-4", "P4"]},
]


def short_policy(*, first_response: str = "1m", cadence: str = "60m", pre_breach: str | None = None,
                 actions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A policy on 24x7 with a short Sev-1 first response, so real timers fire within a test."""
    sev1 = {"first_response": f"{first_response} on 24x7", "update_cadence": {"active": f"{cadence} on 24x7"},
            "resolution": "8h on 24x7", "eta_required": True, "page_on_call": True}
    other = {"first_response": "4h on 24x7", "update_cadence": {"active": "8h on 24x7"},
             "resolution": "120h on 24x7"}
    doc: dict[str, Any] = {
        "id": "short-test",
        "name": "Short targets",
        "description": "Minute-long targets for end-to-end tests.",
        "calendars": {},
        "severities": _SEVERITIES,
        "tiers": {"standard": {"name": "Standard", "sev1": sev1, "sev2": dict(other, eta_required=True),
                               "sev3": other, "sev4": other}},
        "mapping": {"rules": [{"field": "priority", "sets": "severity"}],
                    "default_tier": "standard", "default_severity": "sev3"},
        "phases": {"paused": {"statuses": ["Waiting for customer"]}, "closed": {"categories": ["done"]}},
        "actions": actions if actions is not None else [
            {"on": "breach", "kind": "transition", "params": {"name": "Start progress"},
             "targets": ["first_response"]},
        ],
    }
    if pre_breach:
        doc["pre_breach"] = {"lead": pre_breach}
    return doc


#: Field bindings matching the stand-in's seeded fields.
STANDIN_BINDINGS = {
    "first_response_due": "customfield_10100",
    "next_update_due": "customfield_10101",
    "resolution_due": "customfield_10102",
}
