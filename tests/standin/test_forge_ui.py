"""The Custom UI bridge host (`standin/forge_ui.py`): what `invokeRemote` sends to a remote and what the
page gets back, checked against a recording remote on 127.0.0.1 and Tierwise's own FIT verifier."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import pytest
import yaml
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from app.forge.fit import JwksCache, bearer_token, verify_fit
from standin import ADMIN, AGENT, JiraStandin
from standin.forge_ui import BridgeRejected, ForgeUiHost, UiUser, admin_page, issue_panel

MANIFEST = yaml.safe_load((Path(__file__).resolve().parents[2] / "forge" / "manifest.yml").read_text())
APP_ID = "ari:cloud:ecosystem::app/0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
#: What the recording remote answers per path: (status, content type, body).
ANSWERS: dict[str, tuple[int, str, str]] = {
    "/forge/api/panel/10001": (200, "application/json", json.dumps({"tracked": False})),
    "/forge/api/admin/policy": (409, "application/json", json.dumps({"error": "conflict", "message": "stale"})),
    "/forge/api/denied": (401, "application/json", json.dumps({"error": "invalid_token"})),
    "/forge/api/plain": (500, "text/plain", "boom"),
}


@dataclass
class Remote:
    """A Forge remote that records every request and answers from ANSWERS (204 for anything else)."""

    calls: list[Request] = field(default_factory=list)
    bodies: list[Any] = field(default_factory=list)
    url: str = ""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        self.calls.append(request)
        self.bodies.append(request.get_json(silent=True))
        status, kind, body = ANSWERS.get(request.path, (204, "application/json", ""))
        headers = {"X-Tierwise-Trace": "t-1"} if status == 200 else {}
        return Response(body, status=status, content_type=kind, headers=headers)(environ, start_response)


def serve(remote: Remote) -> Any:
    server = make_server("127.0.0.1", 0, remote, threaded=True)
    remote.url = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


@pytest.fixture
def platform() -> Iterator[tuple[JiraStandin, Remote, Any]]:
    remote = Remote()
    server = serve(remote)
    with JiraStandin() as jira:
        inst = jira.forge.install(remote.url, MANIFEST, app_id=APP_ID)
        yield jira, remote, inst
    server.shutdown()
    server.server_close()


def invoke(host: ForgeUiHost, path: str, method: str = "GET", body: Any = None) -> Any:
    payload: dict[str, Any] = {"path": path, "method": method, "invokeType": "ui-remote-fetch"}
    if body is not None:
        payload["body"] = body
    return host.call("invoke", payload)


def test_invoke_remote_sends_a_fit_for_the_panel_issue_to_base_url_plus_path(platform: Any) -> None:
    jira, remote, inst = platform
    host = ForgeUiHost(jira.forge, inst, issue_panel("10001", "SUP-1"), UiUser(AGENT.account_id))
    answer = invoke(host, "/forge/api/panel/10001")
    assert answer["success"] is True
    assert answer["payload"]["status"] == 200 and answer["payload"]["body"] == {"tracked": False}
    assert answer["payload"]["headers"]["x-tierwise-trace"] == ["t-1"]  # header values as lists, like Forge's
    request = remote.calls[-1]
    assert request.method == "GET" and request.url == remote.url + "/forge/api/panel/10001"
    context = verify_fit(bearer_token(request.headers["Authorization"]), app_id=APP_ID,
                         keys=JwksCache(jira.forge.jwks_url))  # Tierwise's verifier accepts it
    assert context.installation_id == inst.installation_id and context.account_id == AGENT.account_id
    claims = jwt.decode(bearer_token(request.headers["Authorization"]), options={"verify_signature": False})
    assert claims["app"]["module"] == {"type": "jira:issuePanel", "key": "tierwise-sla-panel"}
    assert claims["context"]["extension"]["issue"] == {"id": "10001", "key": "SUP-1", "type": "Support", "typeId": "10002"}
    assert claims["context"]["extension"]["project"]["key"] == "SUP"
    assert request.headers.get("x-forge-oauth-system")  # the resolver endpoint enables appSystemToken


def test_a_body_is_sent_as_json_and_a_non_2xx_json_answer_resolves(platform: Any) -> None:
    jira, remote, inst = platform
    host = ForgeUiHost(jira.forge, inst, admin_page(), UiUser(ADMIN.account_id))
    answer = invoke(host, "/forge/api/admin/policy", "POST", {"document": {"id": "x"}, "note": "n"})
    assert answer["payload"]["status"] == 409 and answer["payload"]["body"]["error"] == "conflict"
    assert remote.calls[-1].headers["Content-Type"] == "application/json"
    assert remote.bodies[-1] == {"document": {"id": "x"}, "note": "n"}
    assert host.sent[-1].method == "POST" and host.sent[-1].body == {"document": {"id": "x"}, "note": "n"}


@pytest.mark.parametrize("path", ["/forge/api/denied", "/forge/api/plain"])
def test_a_401_or_a_response_that_is_not_json_rejects(platform: Any, path: str) -> None:
    jira, _, inst = platform
    host = ForgeUiHost(jira.forge, inst, admin_page(), UiUser(ADMIN.account_id))
    with pytest.raises(BridgeRejected):
        invoke(host, path)


@pytest.mark.parametrize("payload", [
    {"path": "/forge/api/x", "method": "GET", "invokeType": "ui-container-fetch"},  # invokeService
    {"path": "/forge/api/x", "method": "HEAD", "invokeType": "ui-remote-fetch"},
    {"path": "forge/api/x", "method": "GET", "invokeType": "ui-remote-fetch"},
])
def test_inputs_invoke_remote_refuses_never_reach_the_remote(platform: Any, payload: dict[str, Any]) -> None:
    jira, remote, inst = platform
    host = ForgeUiHost(jira.forge, inst, admin_page(), UiUser(ADMIN.account_id))
    before = len(remote.calls)
    with pytest.raises(BridgeRejected):
        host.call("invoke", payload)
    assert len(remote.calls) == before


def test_no_system_token_when_the_resolver_endpoint_does_not_ask_for_one() -> None:
    manifest = copy.deepcopy(MANIFEST)
    for endpoint in manifest["modules"]["endpoint"]:
        if endpoint["key"] == "tierwise-ui":
            endpoint.pop("auth", None)
    remote = Remote()
    server = serve(remote)
    try:
        with JiraStandin() as jira:
            inst = jira.forge.install(remote.url, manifest, app_id=APP_ID)
            host = ForgeUiHost(jira.forge, inst, admin_page(), UiUser(ADMIN.account_id))
            invoke(host, "/forge/api/panel/10001")
            assert "x-forge-oauth-system" not in remote.calls[-1].headers
            assert remote.calls[-1].headers["Authorization"].startswith("Bearer ")
    finally:
        server.shutdown()
        server.server_close()


def test_get_context_carries_the_users_profile_the_theme_and_the_extension(platform: Any) -> None:
    jira, _, inst = platform
    user = UiUser(AGENT.account_id, locale="de-DE", timezone="Europe/Berlin", color_mode="dark")
    host = ForgeUiHost(jira.forge, inst, issue_panel("10001", "SUP-1"), user)
    context = host.call("getContext")
    assert (context["locale"], context["timezone"], context["theme"]) == ("de-DE", "Europe/Berlin", {"colorMode": "dark"})
    assert context["accountId"] == AGENT.account_id and context["cloudId"] == inst.cloud_id
    assert context["moduleKey"] == "tierwise-sla-panel" and context["extension"]["type"] == "jira:issuePanel"
    assert host.call("showFlag", {"id": "f1", "type": "success", "title": "Saved"}) is True
    assert host.flags == [{"id": "f1", "type": "success", "title": "Saved"}]
    with pytest.raises(BridgeRejected):
        host.call("requestJira", {"path": "/rest/api/3/myself"})
