"""The tenant store on SQLite and PostgreSQL: upsert, secrets at rest, state ordering, purge."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.storage.crypto import SecretBox
from app.storage.db import make_session_factory
from app.storage.tenants import StaleInstall, TenantStore

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
KEY = "c2d5ce5b-1c89-3e1f-9a0c-f2a7c4e8a001"
SECRET = "Zk9sQ2u1-the-first-shared-secret-Xy7"


def _install(store: TenantStore, *, secret: str = SECRET, base_url: str = "https://acme.atlassian.net",
             at: datetime = T0, key: str = KEY):
    return store.install(
        key, shared_secret=secret, base_url=base_url, display_url=base_url, product_type="jira",
        description="Acme support", oauth_client_id="oauth-1", entitlement_id="ent-1",
        entitlement_number="E-1", at=at,
    )


def _row_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM tenants")).scalar_one())


def test_install_then_get_returns_every_field_with_the_secret_decrypted(store: TenantStore) -> None:
    _install(store)
    tenant = store.get(KEY)
    assert tenant is not None
    assert tenant.shared_secret == SECRET
    assert (tenant.base_url, tenant.display_url, tenant.product_type) == (
        "https://acme.atlassian.net", "https://acme.atlassian.net", "jira")
    assert (tenant.entitlement_id, tenant.entitlement_number, tenant.oauth_client_id) == ("ent-1", "E-1", "oauth-1")
    assert (tenant.state, tenant.platform) == ("installed", "connect")
    assert tenant.installed_at == T0 and tenant.installed_at.tzinfo is not None
    assert tenant.uninstalled_at is None
    assert SECRET not in repr(tenant)
    assert store.get("unknown") is None


def test_reinstall_replaces_secret_and_base_url_and_never_adds_a_row(store: TenantStore, engine: Engine) -> None:
    _install(store)
    again = _install(store, secret="second-secret", base_url="https://renamed.atlassian.net",
                     at=T0 + timedelta(hours=1))
    assert again.shared_secret == "second-secret"
    assert again.base_url == "https://renamed.atlassian.net"
    assert again.installed_at == T0  # a repeated install keeps its first date
    assert again.updated_at == T0 + timedelta(hours=1)
    assert _row_count(engine) == 1


def test_concurrent_reinstalls_leave_exactly_one_row(store: TenantStore, engine: Engine) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def reinstall(n: int) -> None:
        try:
            barrier.wait()
            _install(store, secret=f"secret-{n}", at=T0 + timedelta(seconds=n))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=reinstall, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # An install that arrives after a later-signed one is a stale replay (StaleInstall), nothing else fails.
    assert all(isinstance(e, StaleInstall) for e in errors), errors
    assert _row_count(engine) == 1
    tenant = store.get(KEY)
    assert tenant is not None and tenant.shared_secret == "secret-7"  # the latest signed install wins


def test_reinstall_after_uninstall_reactivates_the_same_row(store: TenantStore, engine: Engine) -> None:
    _install(store)
    store.uninstall(KEY, T0 + timedelta(days=1))
    back = _install(store, secret="new", at=T0 + timedelta(days=2))
    assert (back.state, back.uninstalled_at, back.shared_secret) == ("installed", None, "new")
    assert back.installed_at == T0 + timedelta(days=2)
    assert _row_count(engine) == 1


def test_secret_is_not_readable_in_the_database(store: TenantStore, engine: Engine) -> None:
    _install(store)
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT * FROM tenants")).mappings().one()
    assert all(SECRET not in str(value) for value in row.values())
    if engine.dialect.name == "sqlite":
        db_file = Path(engine.url.database or "")
        engine.dispose()
        files = [p for p in db_file.parent.iterdir() if p.name.startswith(db_file.name)]
        raw = b"".join(p.read_bytes() for p in files)
        assert b"acme.atlassian.net" in raw  # the file is readable: the check below means something
        assert SECRET.encode() not in raw


def test_a_store_with_another_key_cannot_read_the_secret(store: TenantStore, engine: Engine) -> None:
    from app.storage.crypto import SecretDecryptionError

    _install(store)
    other = TenantStore(make_session_factory(engine), SecretBox(["some other key"]))
    with pytest.raises(SecretDecryptionError):
        other.get(KEY)


def test_key_rotation_keeps_old_secrets_readable_then_reencrypts(
    engine: Engine, secrets: SecretBox, secret_key: str
) -> None:
    from app.storage.crypto import SecretDecryptionError

    factory = make_session_factory(engine)
    _install(TenantStore(factory, secrets))
    rotated = TenantStore(factory, SecretBox(["the new key", secret_key]))
    assert rotated.get(KEY).shared_secret == SECRET  # type: ignore[union-attr]
    assert rotated.rotate_secrets() == 1
    new_only = TenantStore(factory, SecretBox(["the new key"]))
    assert new_only.get(KEY).shared_secret == SECRET  # type: ignore[union-attr]
    with pytest.raises(SecretDecryptionError):
        TenantStore(factory, SecretBox([secret_key])).get(KEY)


@pytest.mark.parametrize(
    ("events", "final"),
    [
        ([("enabled", 1), ("disabled", 2)], "disabled"),
        ([("disabled", 2), ("enabled", 1)], "disabled"),  # the older enable arrives late: ignored
        ([("enabled", 2), ("disabled", 1)], "enabled"),
        ([("enabled", 1), ("uninstall", 2), ("disabled", 3)], "uninstalled"),
        ([("uninstall", 2), ("enabled", 1)], "uninstalled"),
        ([("enabled", 3), ("uninstall", 2)], "uninstalled"),
    ],
)
def test_final_state_does_not_depend_on_arrival_order(
    store: TenantStore, events: list[tuple[str, int]], final: str
) -> None:
    _install(store)
    for name, minute in events:
        at = T0 + timedelta(minutes=minute)
        if name == "uninstall":
            store.uninstall(KEY, at)
        else:
            store.set_state(KEY, name, at)
    tenant = store.get(KEY)
    assert tenant is not None and tenant.state == final


def test_a_stale_uninstall_does_not_undo_a_later_reinstall(store: TenantStore) -> None:
    _install(store)
    store.install(KEY, shared_secret="fresh", base_url="https://renamed.atlassian.net", at=T0 + timedelta(minutes=5))
    assert store.uninstall(KEY, T0 + timedelta(minutes=2)) is not None  # signed before the reinstall
    tenant = store.get(KEY)
    assert tenant is not None and tenant.state == "installed" and tenant.shared_secret == "fresh"
    store.uninstall(KEY, T0 + timedelta(minutes=6))
    assert store.get(KEY).state == "uninstalled"  # type: ignore[union-attr]


def test_state_changes_for_unknown_tenants_change_nothing(store: TenantStore, engine: Engine) -> None:
    assert store.set_state("nobody", "enabled", T0) is None
    assert store.uninstall("nobody", T0) is None
    assert _row_count(engine) == 0
    with pytest.raises(ValueError):
        store.set_state(KEY, "uninstalled", T0)


def test_purge_deletes_only_tenants_uninstalled_before_the_cutoff(store: TenantStore, engine: Engine) -> None:
    _install(store, key="old")
    _install(store, key="recent")
    _install(store, key="active")
    store.uninstall("old", T0 + timedelta(days=1))
    store.uninstall("recent", T0 + timedelta(days=20))
    cutoff = T0 + timedelta(days=31) - timedelta(days=30)  # retention 30 days, run on day 31
    assert store.purge_uninstalled(cutoff + timedelta(seconds=1)) == 1
    assert store.get("old") is None
    assert store.get("recent") is not None and store.get("active") is not None
    assert _row_count(engine) == 2


def test_purge_cascades_to_rows_that_reference_the_tenant(store: TenantStore, engine: Engine) -> None:
    """Later tables reference tenants with ON DELETE CASCADE; purging removes their rows too."""
    with engine.begin() as conn:
        conn.execute(sa.text(
            "CREATE TABLE tw_child (id INTEGER PRIMARY KEY, client_key VARCHAR(255) NOT NULL "
            "REFERENCES tenants(client_key) ON DELETE CASCADE)"))
    _install(store)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO tw_child (id, client_key) VALUES (1, :k)"), {"k": KEY})
    store.uninstall(KEY, T0)
    assert store.purge_uninstalled(T0 + timedelta(days=31)) == 1
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM tw_child")).scalar_one() == 0
