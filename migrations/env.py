"""Alembic environment: the engine is handed in by `app.storage.db.migrate`, else built from Settings."""

from __future__ import annotations

from alembic import context

import app.storage.audit  # noqa: F401  (registers the audit table on Base.metadata)
import app.storage.tickets  # noqa: F401  (registers the ticket tables on Base.metadata)
from app.storage.models import Base

target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = context.config.attributes.get("engine")
    if engine is None:  # the `alembic` command line
        from app.settings import Settings
        from app.storage.db import make_engine

        engine = make_engine(Settings.from_env().effective_database_url)
    with engine.connect() as connection:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
run_migrations_online()
