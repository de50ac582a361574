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
