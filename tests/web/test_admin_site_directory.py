"""`SiteDirectory` against the Jira stand-in: admin checks through Jira's permissions API, cached."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from app.bootstrap import Services
from app.settings import Settings
from app.site_directory import ADMIN_TTL_S, SiteDirectory, SiteDirectoryError
from app.storage.tenants import Tenant


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def jira() -> Iterator[Any]:
    from standin import JiraStandin

    with JiraStandin() as site:
        yield site


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    svc = Services(settings)
    yield svc
    svc.close()


@pytest.fixture
def tenant(jira: Any, services: Services) -> Tenant:
    """Tierwise registered in the stand-in as an installed app (as its `installed` callback would leave it)."""
    from standin.connect import InstalledApp, app_account_id, new_client_key, new_shared_secret
    from standin.seed import User

    key = services.settings.app_key
    client_key = new_client_key()
    user = User(app_account_id(client_key, key), "Tierwise", None, account_type="app")
    jira.site.users[user.account_id] = user
    jira.apps[key] = InstalledApp(key=key, base_url=services.settings.app_base_url, descriptor={"key": key},
                                  client_key=client_key, shared_secret=new_shared_secret(), user=user,
                                  oauth_client_id="x" * 32, scopes={"READ", "WRITE"})
    return services.tenants.install(client_key, shared_secret=jira.apps[key].shared_secret,
                                    base_url=jira.base_url, at=datetime.now(UTC))


def _checks(jira: Any) -> int:
    return len(jira.calls("POST", "/rest/api/3/permissions/check"))


def test_jira_admins_are_admins_and_agents_are_not(jira: Any, services: Services, tenant: Tenant) -> None:
    from standin import ADMIN, AGENT

    clock = Clock()
    directory = SiteDirectory(services, clock)
    before = _checks(jira)
    assert directory.is_admin(tenant, ADMIN.account_id) is True
    assert directory.is_admin(tenant, AGENT.account_id) is False
    assert directory.is_admin(tenant, None) is False  # a token without a user is nobody
    assert _checks(jira) == before + 2
    # cached for a few minutes, then asked again (a revoked admin loses access)
    assert directory.is_admin(tenant, ADMIN.account_id) is True
    assert _checks(jira) == before + 2
    clock.now += ADMIN_TTL_S + 1
    assert directory.is_admin(tenant, ADMIN.account_id) is True
    assert _checks(jira) == before + 3


def test_fields_and_statuses_come_from_the_site(jira: Any, services: Services, tenant: Tenant) -> None:
    directory = SiteDirectory(services)
    fields = {f["id"]: f for f in directory.fields(tenant)}
    assert fields["customfield_10100"]["name"] == "First response due" and fields["customfield_10100"]["custom"]
    statuses = {s["name"]: s["category"] for s in directory.statuses(tenant)}
    assert statuses["Waiting for customer"] == "indeterminate" and statuses["Closed"] == "done"


def test_jira_failures_become_one_named_error(jira: Any, services: Services, tenant: Tenant) -> None:
    from standin import ADMIN

    jira.inject("/rest/api/3/permissions/check", status=503, times=1)
    try:
        with pytest.raises(SiteDirectoryError):
            SiteDirectory(services).is_admin(tenant, ADMIN.account_id)
    finally:
        jira.clear_faults()
    unreachable = dataclasses.replace(tenant, base_url="http://127.0.0.1:9")
    with pytest.raises(SiteDirectoryError):
        SiteDirectory(services).fields(unreachable)


def test_a_select_fields_options_come_from_its_contexts(jira: Any, services: Services, tenant: Tenant) -> None:
    from app.jira.client import client_for
    from app.jira.errors import JiraBadRequest, JiraNotFound

    gateway = client_for(tenant, services.settings)
    plan = gateway.get_field_options("customfield_10050")
    assert [o["value"] for o in plan][:3] == ["Essentials", "Enterprise", "Regulated"]
    assert all(o["id"] and o["disabled"] is False for o in plan)
    with pytest.raises(JiraBadRequest):
        gateway.get_field_options("customfield_10108")  # a text field has no options
    with pytest.raises(JiraNotFound):
        gateway.get_field_options("customfield_99999")
    assert jira.response_errors == []  # every answer matched Atlassian's spec (requests are checked too)


def test_field_options_are_cached_and_empty_for_fields_without_options(
    jira: Any, services: Services, tenant: Tenant
) -> None:
    directory = SiteDirectory(services)
    before = len(jira.calls("GET", "/rest/api/3/field/*"))
    impact = directory.field_options(tenant, "customfield_10004")
    assert "Extensive / Widespread" in [o["value"] for o in impact]
    assert directory.field_options(tenant, "customfield_10004") == impact
    assert len(jira.calls("GET", "/rest/api/3/field/*")) == before + 2  # one context listing, one option page
    assert directory.field_options(tenant, "priority") == []  # a system field: nothing asked
    assert directory.field_options(tenant, "customfield_10108") == []  # a text field
    assert len(jira.calls("GET", "/rest/api/3/field/*")) == before + 4
    jira.inject("/rest/api/3/field/*", status=503, times=1)
    try:
        with pytest.raises(SiteDirectoryError):
            SiteDirectory(services).field_options(tenant, "customfield_10005")
    finally:
        jira.clear_faults()
