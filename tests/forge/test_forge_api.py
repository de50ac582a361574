"""`/forge/api/<path>`: the Forge UI resolvers reach the same panel and admin JSON APIs as the Connect pages.

The whole app (`create_app`) is served on 127.0.0.1 and installed into the Jira stand-in acting as the
Forge platform: the stand-in signs the invocation tokens (its JWKS is `FORGE_JWKS_URL`), and the admin
check asks the stand-in, with the stored system token, whether the FIT's `principal` administers Jira.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from werkzeug.serving import make_server

from app import create_app
from app.settings import Settings
from app.web.services import services_of
from standin import ADMIN, AGENT, JiraStandin
from standin.forge import ForgeInstallation

MANIFEST = yaml.safe_load((Path(__file__).resolve().parents[2] / "forge" / "manifest.yml").read_text())
APP_ID = "ari:cloud:ecosystem::app/7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f"


@dataclass
class Site:
    jira: JiraStandin
    inst: ForgeInstallation
    base_url: str
    tenant_key: str
    app: Any = None

    def call(self, path: str, *, method: str = "GET", body: Any = None, principal: str | None = None,
             module: str = "tierwise-admin", extension: dict[str, Any] | None = None) -> requests.Response:
        """What the page's `invokeRemote({path: "/forge/api" + path, method, body})` makes Forge send."""
        return self.jira.forge.invoke_remote(self.inst, module, "/forge/api" + path, method=method, body=body,
                                             principal=principal, extension=extension)

    def panel(self, issue_id: str, *, shown_on: str, principal: str | None = AGENT.account_id) -> requests.Response:
        """The issue panel shown on issue `shown_on` asking for the panel data of `issue_id`."""
        return self.call(f"/panel/{issue_id}", module="tierwise-sla-panel", principal=principal,
                         extension=self.jira.forge.issue_extension(shown_on))


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with JiraStandin() as jira:
        server = make_server("127.0.0.1", 0, lambda e, s: flask_app(e, s), threaded=True)
        base_url = f"http://127.0.0.1:{server.server_port}"
        flask_app = create_app(Settings.from_env({
            "TIERWISE_INSTANCE_DIR": str(tmp_path / "instance"),
            "APP_BASE_URL": base_url,
            "TIERWISE_SECRET_KEY": "q6aYb4V2o2Yq3wqzq7sM2s6WJ9yq1Yx0c1Jt0a0v1pQ=",
            "LOG_FORMAT": "text",
            "FORGE_APP_ID": APP_ID,
            "FORGE_JWKS_URL": jira.forge.jwks_url,
        }))
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        try:
            inst = jira.forge.install(base_url, MANIFEST, app_id=APP_ID)
            yield Site(jira, inst, base_url, "forge:" + inst.installation_uuid, flask_app)
        finally:
            server.shutdown()
            server.server_close()
            services_of(flask_app).close()


def test_panel_answers_through_forge_like_through_connect(site: Site) -> None:
    issue = site.jira.create_issue("Checkout down")
    response = site.panel(issue["id"], shown_on=issue["key"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["tracked"] is False and body["issue_id"] == issue["id"]
    assert "has not seen this ticket yet" in body["message"]


def test_panel_answers_only_for_the_issue_it_is_shown_on(site: Site) -> None:
    shown, other = site.jira.create_issue("Shown here"), site.jira.create_issue("Someone else's")
    for response in (site.panel(other["id"], shown_on=shown["key"]),
                     site.call(f"/panel/{other['id']}", module="tierwise-admin", principal=AGENT.account_id)):
        assert response.status_code == 404 and set(response.json()) == {"error", "message"}
    # A token without a user (an event-style FIT) opens no page data at all.
    anonymous = site.panel(shown["id"], shown_on=shown["key"], principal=None)
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "missing_principal"


def test_admin_api_checks_the_principal_is_a_jira_admin(site: Site) -> None:
    # The same admin view as /api/admin/policy: the default policy for a new tenant.
    as_admin = site.call("/admin/policy", principal=ADMIN.account_id)
    assert as_admin.status_code == 200, as_admin.text
    assert as_admin.json()["version"]["is_default"] is True
    # An agent is not a Jira admin: refused by the same site-directory check the Connect page uses.
    as_agent = site.call("/admin/policy", principal=AGENT.account_id)
    assert as_agent.status_code == 403 and as_agent.json()["error"] == "not_admin"
    # No principal (an event-style token) is no user at all: refused before any view runs.
    assert site.call("/admin/policy").status_code == 401
    # The admin check went to Jira with the system token the installation brought.
    checks = site.jira.calls("POST", "/rest/api/3/permissions/check")
    assert checks and all(c.app_key == APP_ID and c.status == 200 for c in checks)


def test_admin_writes_are_recorded_under_the_forge_user(site: Site) -> None:
    saved = site.call("/admin/settings", method="PUT", principal=ADMIN.account_id,
                      body={"field_bindings": {"first_response_due": "customfield_10100"}})
    assert saved.status_code == 200, saved.text
    again = site.call("/admin/settings", principal=ADMIN.account_id).json()
    assert again["settings"]["field_bindings"]["first_response_due"] == "customfield_10100"


def test_only_page_apis_are_reachable_and_only_with_a_valid_token(site: Site) -> None:
    assert site.call("/nothing/here", principal=ADMIN.account_id).status_code == 404
    assert site.call("/admin/policy", method="DELETE", principal=ADMIN.account_id).status_code == 404
    no_token = requests.get(site.base_url + "/forge/api/admin/policy", timeout=10)
    assert no_token.status_code == 401 and no_token.json()["error"] == "missing_token"
    other = site.jira.forge.invocation_token(site.inst, "tierwise-admin", principal=ADMIN.account_id,
                                             aud="ari:cloud:ecosystem::app/11111111-2222-4333-8444-555555555555")
    wrong = requests.get(site.base_url + "/forge/api/admin/policy", headers={"Authorization": f"Bearer {other}"},
                         timeout=10)
    assert wrong.status_code == 401 and wrong.json()["error"] == "wrong_audience"


def test_a_connect_tenant_from_before_installation_ids_is_tied_at_its_first_forge_call(site: Site) -> None:
    from datetime import UTC, datetime

    tenants = services_of(site.app).tenants
    tenants.uninstall(site.tenant_key, datetime.now(UTC))  # only the site's Connect tenant is left
    connect_key = "0f6e3c2a-1b2c-4d5e-8f90-a1b2c3d4e5f6"
    tenants.install(connect_key, shared_secret="s" * 32, base_url=site.jira.base_url, at=datetime.now(UTC))
    answer = site.call("/admin/policy", principal=ADMIN.account_id)
    assert answer.status_code == 200, answer.text
    tied = tenants.get(connect_key)
    assert tied is not None and tied.installation_id == site.inst.installation_id
    assert (tied.platform, tied.event_source) == ("forge", "forge")
    assert tenants.list_keys(state="installed") == [connect_key]
