"""Which failures are a database outage (retried with capped backoff) and which are bugs (raised)."""

from __future__ import annotations

import random
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.storage.db import make_engine
from jobs.retry import OUTAGE_CAP_SECONDS, OUTAGE_MAX_ATTEMPTS, is_database_outage, outage_delay


def _error_of(engine: sa.Engine, sql: str = "SELECT 1") -> BaseException:
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(sql))
    except sa.exc.SQLAlchemyError as exc:
        return exc
    finally:
        engine.dispose()
    raise AssertionError("the statement worked")


def test_an_unreachable_postgresql_is_an_outage() -> None:
    # Port 1 on the loopback: nothing listens, the connection is refused at once.
    url = "postgresql+psycopg://postgres@127.0.0.1:1/test"
    assert is_database_outage(_error_of(make_engine(url)))


def test_an_unopenable_sqlite_file_is_an_outage(tmp_path: Path) -> None:
    (tmp_path / "db").mkdir()
    assert is_database_outage(_error_of(make_engine(f"sqlite:///{tmp_path / 'db'}")))


def test_a_constraint_or_sql_error_is_not_an_outage(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'ok.db'}")
    # SQLite reports a missing table as OperationalError too: a bug, not an outage.
    assert not is_database_outage(_error_of(engine, "SELECT * FROM no_such_table"))
    assert not is_database_outage(IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed")))


def test_outage_backoff_is_capped_and_bounded() -> None:
    rng = random.Random(7)
    delays = [outage_delay(n, rng=rng) for n in range(OUTAGE_MAX_ATTEMPTS - 1)]
    assert all(d is not None and 0 < d <= OUTAGE_CAP_SECONDS for d in delays)
    assert delays[0] is not None and delays[0] <= 1.0
    assert outage_delay(OUTAGE_MAX_ATTEMPTS - 1) is None
