"""The database engine, sessions and migrations (SQLite and PostgreSQL through psycopg 3).

Pools are sized for a worker's job threads (`POOL_SIZE`). No ping on every checkout (on
PostgreSQL that was a round trip per transaction): a connection is pinged only when it sat idle
in the pool for `IDLE_PING_SECONDS` (a server restart or an idle timeout may have dropped it; a
dead one is replaced before the transaction starts), and recycled after `POOL_RECYCLE_SECONDS`.
A connection that drops while in use fails its transaction, and SQLAlchemy then replaces every
pooled connection that is older. SQLite transactions begin with ``BEGIN IMMEDIATE``: a deferred
transaction that reads and then writes fails at once with "database is locked" when another thread
or process wrote in between (WAL cannot upgrade a stale read snapshot, and the busy timeout does
not apply); taking the write lock up front makes it wait its turn instead.
"""

from __future__ import annotations

import fcntl
import logging
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

#: Alembic's script directory (the `migrations/` folder at the top of the checkout).
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent.parent / "migrations"
#: Seconds a PostgreSQL connection attempt may take before /healthz and jobs give up.
PG_CONNECT_TIMEOUT = 5
#: Seconds SQLite waits on a lock held by another process (web and worker share the file).
SQLITE_BUSY_TIMEOUT = 15
#: Connections kept open per process (a worker's job threads, its timer pump, web threads), and extra ones allowed.
POOL_SIZE = 10
POOL_OVERFLOW = 10
#: Seconds a pooled connection may sit idle before its next checkout pings it first.
IDLE_PING_SECONDS = 30.0
#: Seconds after which a PostgreSQL connection is closed and replaced (ahead of server and proxy idle limits).
POOL_RECYCLE_SECONDS = 1800

log = logging.getLogger(__name__)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # Foreign keys are off by default in SQLite; purging a tenant relies on ON DELETE CASCADE.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # With WAL, NORMAL stays consistent after a crash (a power loss may drop the last commits) and a
    # commit costs ~0.1 ms instead of ~8 ms with FULL; a ticket event makes several commits.
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Freed and rewritten content is zeroed, not left in free pages: a secret moved to its encrypted
    # form (migration 0007, a key rotation) does not linger in the file.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()
    # No implicit BEGIN from the driver: the "begin" listener below says how a transaction begins.
    dbapi_connection.isolation_level = None


def _sqlite_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _stamp_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    idle_since = record.info.get("idle_since")
    if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
        return
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
    except Exception as exc:  # noqa: BLE001 - any failure means this connection is gone
        # DisconnectionError makes the pool discard it and check out another (SQLAlchemy retries 3 times).
        raise sa.exc.DisconnectionError("idle connection dropped") from exc


def make_engine(url: str) -> Engine:
    """An engine for `url` with the pragmas and timeouts Tierwise relies on."""
    if url.startswith("sqlite"):
        db_path = sa.engine.make_url(url).database
        if db_path and db_path != ":memory:":
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        memory = db_path in (None, "", ":memory:")
        pool: dict[str, Any] = {} if memory else {"pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW}
        engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT}, **pool)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    engine = sa.create_engine(
        url, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW, pool_recycle=POOL_RECYCLE_SECONDS,
        connect_args={"connect_timeout": PG_CONNECT_TIMEOUT},
    )
    sa.event.listen(engine, "checkin", _stamp_checkin)
    sa.event.listen(engine, "checkout", _ping_if_idle)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to `engine` that keep loaded rows usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def upsert_for(session: Session) -> Any:
    """The dialect's `insert` construct, which offers `on_conflict_do_update` (SQLite and PostgreSQL)."""
    from sqlalchemy.dialects import postgresql, sqlite

    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert
    if name == "sqlite":
        return sqlite.insert
    raise NotImplementedError(f"no upsert for database dialect {name!r}")


def _alembic_config(engine: Engine, secrets: Any = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    config.attributes["secrets"] = secrets
    return config


def migrate(engine: Engine, revision: str = "head", *, secrets: Any = None) -> None:
    """Upgrade the database behind `engine` to `revision` (Alembic). `secrets` (a SecretBox) is the key
    data migrations encrypt with (0007); without it they build one from the environment."""
    from alembic import command

    command.upgrade(_alembic_config(engine, secrets), revision)
    if engine.dialect.name == "sqlite":  # the rewritten pages into the main file, the WAL emptied
        raw = engine.raw_connection()  # outside any transaction: the pool's begin hook opens BEGIN IMMEDIATE
        try:
            cursor = raw.cursor()
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cursor.close()
        finally:
            raw.close()


def migrate_embedded(engine: Engine, lock_dir: Path, *, secrets: Any = None) -> None:
    """Migrate the embedded SQLite database, one process at a time (web workers and the worker start together)."""
    lock_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_dir / "migrate.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            migrate(engine, secrets=secrets)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None when never migrated)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
