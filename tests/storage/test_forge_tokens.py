"""Forge system tokens and installations in the SQL store (the Forge front door's ports)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.forge.installations import ForgeInstallation, client_key_for
from app.forge.system_token import SystemToken
from app.storage.crypto import SecretBox
from app.storage.db import make_session_factory
from app.storage.forge_tokens import SqlSystemTokenStore
from app.storage.tenants import TenantStore

INSTALLATION = "ari:cloud:ecosystem::installation/5b1e8f3c-0a5e-4c39-9f0e-7d2f1b9c4a11"
API_BASE = "https://api.atlassian.com/ex/jira/2f4c9e1a-6b3d-4e2f-8a1c-9d0e7f6a5b4c"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def test_system_token_round_trips_encrypted_and_is_replaced(engine: Engine, secrets: SecretBox) -> None:
    store = SqlSystemTokenStore(make_session_factory(engine), secrets)
    assert store.load_system_token(INSTALLATION) is None
    store.save_system_token(SystemToken(INSTALLATION, "tok-one-XYZ", T0 + timedelta(hours=1), API_BASE))
    store.save_system_token(SystemToken(INSTALLATION, "tok-two-XYZ", T0 + timedelta(hours=2), API_BASE))
    loaded = store.load_system_token(INSTALLATION)
    assert loaded is not None
    assert (loaded.token, loaded.expires_at, loaded.api_base_url) == ("tok-two-XYZ", T0 + timedelta(hours=2), API_BASE)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM forge_system_tokens")).mappings().all()
    assert len(rows) == 1 and all("tok-two-XYZ" not in str(v) for v in rows[0].values())


def test_forge_installation_becomes_a_tenant_and_purge_drops_its_token(engine: Engine, secrets: SecretBox) -> None:
    factory = make_session_factory(engine)
    tenants = TenantStore(factory, secrets)
    tokens = SqlSystemTokenStore(factory, secrets)
    key = client_key_for(INSTALLATION)
    assert not tenants.is_installed(key)
    tenants.upsert_forge_installation(
        ForgeInstallation(key, INSTALLATION, API_BASE, "2f4c9e1a-6b3d-4e2f-8a1c-9d0e7f6a5b4c",
                          "https://acme.atlassian.net", None, None), at=T0)
    tenant = tenants.get(key)
    assert tenant is not None and tenants.is_installed(key)
    assert (tenant.platform, tenant.installation_id, tenant.base_url, tenant.shared_secret) == (
        "forge", INSTALLATION, API_BASE, None)
    tokens.save_system_token(SystemToken(INSTALLATION, "tok", T0 + timedelta(hours=1), API_BASE))
    tenants.uninstall(key, T0)
    assert not tenants.is_installed(key)
    assert tenants.purge_uninstalled(T0 + timedelta(days=31)) == 1
    assert tokens.load_system_token(INSTALLATION) is None
