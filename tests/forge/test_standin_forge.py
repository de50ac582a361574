"""The Jira stand-in as the Forge platform (`standin/forge.py`), checked with Tierwise's own Forge code.

Invocation tokens must verify with `app.forge.fit.verify_fit` against the stand-in's JWKS, the events it
delivers must map through `app.forge.events` to what `parse_webhook` reads, and its REST API must take
the system tokens it issued (and nothing else) as `Authorization: Bearer`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from app.forge.events import delivery_id, event_payload, to_connect_webhook
from app.forge.fit import JwksCache, bearer_token, verify_fit
from app.forge.system_token import token_expiry
from app.policy.events import CommentEvent, IssueEvent, parse_webhook
from standin import ADMIN, AGENT, JiraStandin
from standin.forge import EVENT_ATTEMPTS, REDUCED_ISSUE_FIELDS, ForgeInstallation

MANIFEST = yaml.safe_load((Path(__file__).resolve().parents[2] / "forge" / "manifest.yml").read_text())
APP_ID = "ari:cloud:ecosystem::app/2d3e4f50-6172-4839-94a5-b6c7d8e9f0a1"


@dataclass
class Remote:
    """A Forge remote on 127.0.0.1 that records every call and answers `status`."""

    calls: list[tuple[str, dict[str, str], Any]] = field(default_factory=list)
    status: int = 204
    url: str = ""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        self.calls.append((request.path, dict(request.headers), request.get_json(silent=True)))
        return Response(status=self.status)(environ, start_response)

    def events(self) -> list[tuple[dict[str, str], Any]]:
        return [(h, b) for p, h, b in self.calls if p == "/forge/events"]


@pytest.fixture
def forge() -> Iterator[tuple[JiraStandin, Remote, ForgeInstallation]]:
    remote = Remote()
    server = make_server("127.0.0.1", 0, remote, threaded=True)
    remote.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    with JiraStandin(webhook_backoff_s=0.01) as jira:
        inst = jira.forge.install(remote.url, MANIFEST, app_id=APP_ID)
        yield jira, remote, inst
    server.shutdown()
    server.server_close()


def _verify(jira: JiraStandin, headers: dict[str, str]) -> Any:
    return verify_fit(bearer_token(headers["Authorization"]), app_id=APP_ID, keys=JwksCache(jira.forge.jwks_url))


def test_install_calls_the_lifecycle_endpoint_with_a_verifiable_token(forge: Any) -> None:
    jira, remote, inst = forge
    path, headers, body = remote.calls[0]
    assert path == "/forge/lifecycle/installed"
    assert body["eventType"] == "avi:forge:installed:app" and body["installerAccountId"] == ADMIN.account_id
    context = _verify(jira, headers)
    assert context.installation_id == inst.installation_id and context.cloud_id == inst.cloud_id == jira.cloud_id
    # apiBaseUrl has the shape of https://api.atlassian.com/ex/jira/<cloudId>, served by the stand-in.
    assert context.api_base_url == f"http://127.0.0.1:{jira.port}/ex/jira/{jira.cloud_id}"
    expiry = token_expiry(headers["X-Forge-Oauth-System"], datetime.now(UTC))
    assert 7000 < (expiry - datetime.now(UTC)).total_seconds() <= 7200


def test_system_tokens_act_as_the_app_user_on_rest_and_nothing_else_does(forge: Any) -> None:
    jira, _, inst = forge
    token = jira.forge.issue_system_token(inst)

    def get(path: str, authorization: str, base: str = jira.forge.api_base_url) -> requests.Response:
        return requests.get(base + path, headers={"Authorization": authorization}, timeout=10)

    me = get("/rest/api/3/myself", f"Bearer {token}")
    assert me.status_code == 200 and me.json()["accountId"] == inst.app.user.account_id
    assert me.json()["accountType"] == "app"
    assert get("/rest/api/3/myself", "Bearer not-a-token").status_code == 401
    # The system token works at the apiBaseUrl only, as at api.atlassian.com: not at the site URL.
    assert get("/rest/api/3/myself", f"Bearer {token}", jira.base_url).status_code == 401
    # Spec validation applies to Forge calls as to Connect ones.
    issue = jira.create_issue("Broken", fields={"priority": {"name": "High"}})
    bad = requests.put(jira.forge.api_base_url + f"/rest/api/3/issue/{issue['key']}", json={"fields": "nope"},
                       headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert bad.status_code == 400
    jira.forge.expire_tokens(inst)
    expired = get("/rest/api/3/myself", f"Bearer {token}")
    assert expired.status_code == 401 and "expired" in expired.json()["errorMessages"][0]


def test_ticket_changes_arrive_as_forge_events_that_map_to_the_connect_shape(forge: Any) -> None:
    jira, remote, inst = forge
    issue = jira.create_issue("Checkout down", fields={"priority": {"name": "Highest"}})
    jira.update_issue(issue["key"], fields={"priority": {"name": "Low"}}, by=AGENT)
    jira.add_comment(issue["key"], "Looking into it", public=True, author=AGENT)
    jira.transition_issue(issue["key"], "Start progress", by=AGENT)
    assert jira.wait_for_deliveries(10)
    events = remote.events()
    names = [event_payload(b)["eventType"] for _, b in events]
    assert names == ["avi:jira:created:issue", "avi:jira:updated:issue", "avi:jira:commented:issue",
                     "avi:jira:updated:issue"]
    parsed = []
    for headers, body in events:
        assert _verify(jira, headers).installation_id == inst.installation_id
        assert "X-Forge-Oauth-System" in headers
        mapped = to_connect_webhook(event_payload(body), received_at=datetime.now(UTC))
        assert mapped is not None
        parsed.append(parse_webhook(mapped))
    created, updated, commented, moved = parsed
    assert isinstance(created, IssueEvent) and created.kind == "issue_created" and created.issue_key == issue["key"]
    # The reduced issue of the Jira events reference: no priority, no custom fields.
    assert set(event_payload(events[0][1])["issue"]["fields"]) == set(REDUCED_ISSUE_FIELDS)
    assert "priority" not in created.fields and created.partial_issue
    assert set(events[0][1]) == {"payload", "context"}  # wrapped; no retryContext on a first attempt
    assert isinstance(updated, IssueEvent) and "priority" in updated.changed_fields
    assert isinstance(commented, CommentEvent) and commented.author_account_id == AGENT.account_id
    assert commented.public is True and "Looking into it" in commented.body_text
    assert isinstance(moved, IssueEvent) and moved.status_name == "In Progress"
    assert len({delivery_id(event_payload(b)) for _, b in events}) == 4


def _own_comment(jira: JiraStandin, inst: ForgeInstallation) -> None:
    issue = jira.create_issue("Slow")
    token = jira.forge.issue_system_token(inst)
    answer = requests.post(jira.forge.api_base_url + f"/rest/servicedeskapi/request/{issue['key']}/comment",
                           json={"body": "Next update by 15:00", "public": True},
                           headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert answer.status_code == 201, answer.text
    assert jira.wait_for_deliveries(10)


def test_the_apps_own_changes_are_not_delivered_with_ignore_self(forge: Any) -> None:
    jira, remote, inst = forge
    _own_comment(jira, inst)
    assert [event_payload(b)["eventType"] for _, b in remote.events()] == ["avi:jira:created:issue"]


def test_without_ignore_self_the_apps_own_changes_come_marked_self_generated(forge: Any) -> None:
    jira, remote, inst = forge
    inst.ignore_self = False
    _own_comment(jira, inst)
    own = [event_payload(b) for _, b in remote.events() if b["payload"]["eventType"] == "avi:jira:commented:issue"]
    assert len(own) == 1 and own[0]["selfGenerated"] is True
    assert to_connect_webhook(own[0], received_at=datetime.now(UTC)) is None


@pytest.mark.parametrize("status", [503, 400, 404, 302])
def test_any_non_2xx_is_retried_four_times_with_a_fresh_token_and_retry_context(forge: Any, status: int) -> None:
    jira, remote, _ = forge
    remote.status = status
    jira.create_issue("Down")
    assert jira.wait_for_deliveries(10)
    first = remote.events()
    assert len(first) == EVENT_ATTEMPTS == 5  # the first attempt and 4 retries
    assert len({h["Authorization"] for h, _ in first}) == len(first)  # a new invocation token each time
    assert "retryContext" not in first[0][1]
    assert [b["retryContext"]["retryCount"] for _, b in first[1:]] == [1, 2, 3, 4]
    assert all(event_payload(b) == event_payload(first[0][1]) for _, b in first)
    assert len({delivery_id(event_payload(b)) for _, b in first}) == 1
    remote.status = 204
    jira.redeliver(jira.deliveries[-1])
    assert jira.wait_for_deliveries(10)
    assert remote.events()[-1][1] == first[0][1] and jira.deliveries[-1].delivered


def test_uninstalled_apps_get_no_events_and_their_tokens_stop_working(forge: Any) -> None:
    jira, remote, inst = forge
    token = jira.forge.issue_system_token(inst)
    jira.forge.uninstall(inst)
    jira.create_issue("After uninstall")
    assert jira.wait_for_deliveries(5)
    assert remote.events() == []
    me = requests.get(jira.forge.api_base_url + "/rest/api/3/myself", headers={"Authorization": f"Bearer {token}"},
                      timeout=10)
    assert me.status_code == 401


def test_a_manifest_whose_connect_key_names_an_installed_connect_app_upgrades_that_installation() -> None:
    with JiraStandin() as jira:
        # A Connect app "tierwise" (the manifest's app.connect.key) is installed; its descriptor is served here.
        descriptor = {"key": MANIFEST["app"]["connect"]["key"], "name": "Tierwise", "baseUrl": "http://127.0.0.1:9",
                      "lifecycle": {}, "scopes": ["READ"], "modules": {}}
        server = make_server("127.0.0.1", 0, lambda e, s: Response(json.dumps(descriptor), 200,
                                                                  content_type="application/json")(e, s))
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        try:
            connect = jira.install_app(f"http://127.0.0.1:{server.server_port}/atlassian-connect.json")
            assert connect.installation_id.startswith("ari:cloud:ecosystem::installation/")
            lifecycle = jira.lifecycle_body(connect, "installed")
            assert lifecycle["installationId"] == connect.installation_id and lifecycle["cloudId"] == jira.cloud_id
            manifest = {**MANIFEST, "modules": {k: v for k, v in MANIFEST["modules"].items() if k != "trigger"}}
            inst = jira.forge.install("http://127.0.0.1:9", manifest, app_id=APP_ID)
            assert inst.installation_id == connect.installation_id and inst.app.user == connect.user
        finally:
            server.shutdown()
            server.server_close()
