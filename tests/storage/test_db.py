"""The engine: no ping per checkout, idle connections checked and replaced, SQLite writers under threads."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.storage import db
from app.storage.db import make_engine


def _statements(engine: Engine) -> list[str]:
    seen: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda _c, _cur, sql, *_a: seen.append(sql))
    return seen


def test_sqlite_threads_that_read_then_write_all_commit(engine: Engine) -> None:
    """Read-then-write transactions from many threads: none fails with "database is locked", none is lost."""
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's locking (PostgreSQL's read committed needs SELECT … FOR UPDATE for this)")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        conn.execute(sa.text("INSERT INTO counter VALUES (0)"))
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def bump() -> None:
        barrier.wait()
        for _ in range(15):
            try:
                with engine.begin() as conn:
                    n = conn.execute(sa.text("SELECT n FROM counter")).scalar_one()
                    conn.execute(sa.text("UPDATE counter SET n = :n"), {"n": n + 1})
            except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with engine.connect() as conn:
        # A lost update would show as fewer than 8 × 15: each transaction saw the one before it.
        assert conn.execute(sa.text("SELECT n FROM counter")).scalar_one() == 8 * 15


def test_a_warm_checkout_sends_only_the_transactions_statements(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))  # the pool now holds a connection
    seen = _statements(engine)
    for _ in range(3):
        with engine.begin() as conn:
            conn.execute(sa.text("SELECT 42"))
    assert [s for s in seen if s != "BEGIN IMMEDIATE"] == ["SELECT 42"] * 3


def test_a_dropped_idle_postgresql_connection_is_replaced_before_use(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only (set TIERWISE_TEST_POSTGRES_URL)")
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        admin = sa.create_engine(database_url)
        with admin.begin() as conn:  # what a server restart or an idle timeout does to it
            conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        admin.dispose()
        monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one() != pid
    finally:
        engine.dispose()


def test_postgresql_engines_do_not_pre_ping(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only (set TIERWISE_TEST_POSTGRES_URL)")
    engine: Any = make_engine(database_url)
    try:
        assert engine.pool._pre_ping is False
        assert engine.pool.size() == db.POOL_SIZE
    finally:
        engine.dispose()
