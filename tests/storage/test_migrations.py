"""Alembic migrations from an empty database to head, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from app.bootstrap import Services
from app.settings import Settings
from app.storage.db import current_revision, make_engine, migrate


def _head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from app.storage.db import MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def test_upgrade_from_empty_to_head_creates_the_tenant_table(empty_url: str) -> None:
    engine = make_engine(empty_url)
    try:
        assert current_revision(engine) is None
        migrate(engine)
        assert current_revision(engine) == _head()
        columns = {c["name"] for c in sa.inspect(engine).get_columns("tenants")}
        assert {"client_key", "base_url", "shared_secret_encrypted", "state", "uninstalled_at"} <= columns
        migrate(engine)  # running it again is a no-op
        assert current_revision(engine) == _head()
    finally:
        engine.dispose()


def test_first_revision_is_0001_tenants(empty_url: str) -> None:
    engine = make_engine(empty_url)
    try:
        migrate(engine, "0001_tenants")
        assert current_revision(engine) == "0001_tenants"
        assert "tenants" in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_embedded_services_migrate_on_first_use(tmp_path: Path) -> None:
    settings = Settings.from_env({"TIERWISE_INSTANCE_DIR": str(tmp_path / "instance")})
    services = Services(settings)
    try:
        assert services.tenants.get("nobody") is None  # the table exists: migrated on first use
        assert (tmp_path / "instance" / "tierwise.db").exists()
        assert current_revision(services.engine) == _head()
    finally:
        services.close()
