"""One tenant per site, whichever door: Connect installation ids, Forge installations resolved to the site's tenant.

On SQLite and PostgreSQL (the `store` fixture of tests/storage/conftest.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.forge.installations import ForgeInstallation, client_key_for
from app.storage.tenants import TenantStore

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
CONNECT_KEY = "c2d5ce5b-1c89-3e1f-9a0c-f2a7c4e8a001"
SITE = "https://acme.atlassian.net"
CLOUD_ID = "d0d52620-3203-4cfa-8db5-f2587155f0dd"
INSTALLATION = "ari:cloud:ecosystem::installation/0a3a7799-53ae-4a5b-9e7e-03338980abb5"
OTHER_INSTALLATION = "ari:cloud:ecosystem::installation/6b1c2d3e-4f50-4617-8829-3a4b5c6d7e8f"


def _connect(store: TenantStore, *, installation_id: str | None = INSTALLATION, cloud_id: str | None = CLOUD_ID,
             key: str = CONNECT_KEY, site: str = SITE) -> None:
    store.install(key, shared_secret="s" * 32, base_url=site, installation_id=installation_id, cloud_id=cloud_id,
                  at=T0)


def _forge(installation_id: str = INSTALLATION, *, cloud_id: str | None = CLOUD_ID,
           site: str | None = SITE) -> ForgeInstallation:
    return ForgeInstallation(client_key=client_key_for(installation_id), installation_id=installation_id,
                             api_base_url=f"https://api.atlassian.com/ex/jira/{cloud_id or CLOUD_ID}",
                             cloud_id=cloud_id, site_url=site, environment_id=None, installer_account_id=None)


def test_connect_install_keeps_the_installation_and_cloud_ids(store: TenantStore) -> None:
    _connect(store)
    tenant = store.get(CONNECT_KEY)
    assert tenant is not None
    assert (tenant.installation_id, tenant.cloud_id, tenant.platform) == (INSTALLATION, CLOUD_ID, "connect")
    assert tenant.takes_connect_events


def test_the_forge_installation_of_a_connect_site_is_the_same_tenant(store: TenantStore) -> None:
    _connect(store)
    assert store.find_forge_tenant(INSTALLATION, None, None) == CONNECT_KEY
    assert store.upsert_forge_installation(_forge(), at=T0 + timedelta(days=1)) == CONNECT_KEY
    assert store.list_keys() == [CONNECT_KEY]
    tenant = store.get(CONNECT_KEY)
    assert tenant is not None and (tenant.platform, tenant.event_source) == ("forge", "forge")
    assert not tenant.takes_connect_events
    assert tenant.shared_secret == "s" * 32 and tenant.base_url == SITE  # the Connect door still verifies
    # A later Connect installed (a major update) does not send the site back to Connect webhooks.
    _connect(store)
    again = store.get(CONNECT_KEY)
    assert again is not None and (again.platform, again.event_source) == ("forge", "forge")


@pytest.mark.parametrize("cloud_id,site", [(CLOUD_ID, None), (None, SITE), (CLOUD_ID, SITE)])
def test_a_connect_tenant_from_before_installation_ids_is_found_by_its_site(
        store: TenantStore, cloud_id: str | None, site: str | None) -> None:
    _connect(store, installation_id=None, cloud_id=CLOUD_ID if cloud_id else None)
    assert store.find_forge_tenant(INSTALLATION, cloud_id, site) == CONNECT_KEY
    assert store.upsert_forge_installation(_forge(cloud_id=cloud_id, site=site)) == CONNECT_KEY
    tenant = store.get(CONNECT_KEY)
    assert tenant is not None and tenant.installation_id == INSTALLATION and store.list_keys() == [CONNECT_KEY]


def test_calls_from_an_unrecorded_installation_are_not_taken_for_a_tied_site(store: TenantStore) -> None:
    _connect(store)
    assert store.find_forge_tenant(OTHER_INSTALLATION, CLOUD_ID, SITE) is None
    # Its installed event (a reinstall: one installation per site and Connect key) re-ties the site's tenant.
    assert store.upsert_forge_installation(_forge(OTHER_INSTALLATION)) == CONNECT_KEY
    assert store.find_forge_tenant(OTHER_INSTALLATION, None, None) == CONNECT_KEY
    assert store.find_forge_tenant(INSTALLATION, None, None) is None
    assert store.list_keys() == [CONNECT_KEY]


def test_an_unknown_site_gets_its_own_forge_tenant_and_a_repeat_changes_nothing(store: TenantStore) -> None:
    _connect(store, cloud_id="11111111-2222-4333-8444-555555555555", site="https://other.atlassian.net",
             installation_id=OTHER_INSTALLATION)
    key = store.upsert_forge_installation(_forge())
    assert key == client_key_for(INSTALLATION) != CONNECT_KEY
    assert store.upsert_forge_installation(_forge()) == key
    assert sorted(store.list_keys()) == sorted([CONNECT_KEY, key])
    tenant = store.get(key)
    assert tenant is not None and (tenant.platform, tenant.event_source) == ("forge", "forge")


def test_uninstalled_tenants_are_not_found_and_give_up_their_installation_id(store: TenantStore) -> None:
    _connect(store)
    store.uninstall(CONNECT_KEY, T0 + timedelta(days=1))
    assert store.find_forge_tenant(INSTALLATION, CLOUD_ID, SITE) is None
    key = store.upsert_forge_installation(_forge(), at=T0 + timedelta(days=2))
    assert key == client_key_for(INSTALLATION)
    old = store.get(CONNECT_KEY)
    assert old is not None and old.installation_id is None and old.state == "uninstalled"


def test_a_connect_install_never_takes_an_installation_id_another_tenant_holds(store: TenantStore) -> None:
    key = store.upsert_forge_installation(_forge())
    _connect(store)  # a second Connect tenant naming the same installation: stored without it
    tenant = store.get(CONNECT_KEY)
    assert tenant is not None and tenant.installation_id is None
    assert store.find_forge_tenant(INSTALLATION, None, None) == key


def test_installation_ids_are_unique_in_the_schema(store: TenantStore) -> None:
    _connect(store)
    with pytest.raises(sa.exc.IntegrityError), store._sessions.begin() as session:  # noqa: SLF001
        session.execute(sa.text(
            "INSERT INTO tenants (client_key, base_url, platform, event_source, state, state_changed_at, "
            "installed_at, updated_at, installation_id) VALUES ('x', 'https://x', 'connect', 'connect', "
            "'installed', :t, :t, :t, :i)"), {"t": T0, "i": INSTALLATION})
