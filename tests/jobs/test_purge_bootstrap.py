"""`jobs.bootstrap`: the worker's services and the Jira door per tenant (Connect or Forge)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.forge.errors import ForgeTokenExpired
from app.forge.installations import ForgeInstallation, client_key_for
from app.forge.system_token import SystemToken
from app.jira.auth import BearerAuth, ConnectJwtAuth
from jobs import bootstrap

INSTALLATION = "ari:cloud:ecosystem::installation/0c7e3f00-1d2b-4c9a-8e55-3a6f1c2b9d10"
API_BASE = "https://api.atlassian.com/ex/jira/4a1c2e3f-5b6d-4e7f-8091-a2b3c4d5e6f7"
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TIERWISE_INSTANCE_DIR", str(tmp_path / "instance"))
    monkeypatch.setenv("APP_KEY", "tierwise-dev")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    bootstrap.set_services(None)
    yield
    bootstrap.services().close()
    bootstrap.set_services(None)


def test_services_are_built_once_per_process_from_the_environment(env: None) -> None:
    assert bootstrap.services() is bootstrap.services()
    assert bootstrap.services().settings.app_key == "tierwise-dev"


def test_connect_tenant_gets_a_jwt_signed_door(env: None) -> None:
    tenant = bootstrap.services().tenants.install(
        "ck", shared_secret="a-shared-secret-of-32-characters!", base_url="https://acme.atlassian.net", at=NOW)
    gateway = bootstrap.jira_for(tenant)
    assert isinstance(gateway.session.auth, ConnectJwtAuth)
    assert (gateway.base_url, gateway.session.auth.app_key) == ("https://acme.atlassian.net", "tierwise-dev")


def test_forge_tenant_needs_a_fresh_system_token(env: None) -> None:
    svc = bootstrap.services()
    key = client_key_for(INSTALLATION)
    svc.tenants.upsert_forge_installation(
        ForgeInstallation(key, INSTALLATION, API_BASE, None, "https://acme.atlassian.net", None, None), at=NOW)
    tenant = svc.tenants.get(key)
    assert tenant is not None
    with pytest.raises(ForgeTokenExpired):
        bootstrap.jira_for(tenant, NOW)
    svc.system_tokens.save_system_token(SystemToken(INSTALLATION, "sys", NOW + timedelta(hours=2), API_BASE))
    gateway = bootstrap.jira_for(tenant, NOW)
    assert isinstance(gateway.session.auth, BearerAuth) and gateway.base_url == API_BASE
    with pytest.raises(ForgeTokenExpired):
        bootstrap.jira_for(tenant, NOW + timedelta(hours=3))
