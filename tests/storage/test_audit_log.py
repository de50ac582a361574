"""The per-ticket audit log, on SQLite and (under CI) PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from app.storage.audit import AuditLog, AuditRow, recent_query
from app.storage.db import make_session_factory
from app.storage.models import TenantRow

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture
def audit_db(engine: sa.Engine) -> tuple[sa.Engine, sessionmaker[Session], str]:
    """The migrated database (tests/storage/conftest.py) and a fresh tenant in it."""
    sessions = make_session_factory(engine)
    key = f"tenant-{uuid.uuid4().hex[:12]}"
    with sessions.begin() as session:
        session.add(TenantRow(client_key=key, base_url="https://acme.atlassian.net", state="installed",
                              state_changed_at=T0, installed_at=T0, updated_at=T0))
    return engine, sessions, key


def test_record_and_read_newest_first(audit_db: tuple[sa.Engine, sessionmaker[Session], str]) -> None:
    _, sessions, tenant = audit_db
    log = AuditLog(sessions)
    log.record(tenant, "10040", "fields_written", {"target": "first_response", "due": "2026-11-24T09:30:00+00:00"}, T0)
    log.record(tenant, "10040", "eta_comment", {"rule": "sev1.eta_required", "due": "2026-11-24T10:00:00+00:00"},
               T0 + timedelta(minutes=5))
    log.record(tenant, "10040", "transition", {"name": "Escalated", "target": "first_response"},
               T0 + timedelta(minutes=30))
    log.record(tenant, "99999", "fields_written", {}, T0 + timedelta(hours=1))  # another ticket
    entries = log.recent(tenant, "10040")
    assert [e.action for e in entries] == ["transition", "eta_comment", "fields_written"]
    assert entries[0].at == T0 + timedelta(minutes=30)
    assert entries[1].detail["rule"] == "sev1.eta_required"
    assert [e.action for e in log.recent(tenant, "10040", limit=2)] == ["transition", "eta_comment"]
    assert log.recent("other-tenant", "10040") == []


def test_same_instant_keeps_recording_order(audit_db: tuple[sa.Engine, sessionmaker[Session], str]) -> None:
    _, sessions, tenant = audit_db
    log = AuditLog(sessions)
    for action in ("warned", "noted", "paged"):
        log.record(tenant, "1", action, {}, T0)
    assert [e.action for e in log.recent(tenant, "1")] == ["paged", "noted", "warned"]


def test_detail_is_read_only(audit_db: tuple[sa.Engine, sessionmaker[Session], str]) -> None:
    _, sessions, tenant = audit_db
    entry = AuditLog(sessions).record(tenant, "1", "gave_up", {"status": 404}, T0)
    with pytest.raises(TypeError):
        entry.detail["status"] = 200  # type: ignore[index]


def test_tenant_delete_cascades(audit_db: tuple[sa.Engine, sessionmaker[Session], str]) -> None:
    _, sessions, tenant = audit_db
    log = AuditLog(sessions)
    log.record(tenant, "1", "fields_written", {}, T0)
    with sessions.begin() as session:
        session.execute(sa.delete(TenantRow).where(TenantRow.client_key == tenant))
    with sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(AuditRow)
                              .where(AuditRow.client_key == tenant)) == 0


def test_panel_read_of_a_long_history_uses_the_index(
    audit_db: tuple[sa.Engine, sessionmaker[Session], str],
) -> None:
    engine, sessions, tenant = audit_db
    rows = [
        {"client_key": tenant, "issue_id": issue, "at": T0 + timedelta(minutes=n), "action": f"a{n}", "detail": {"n": n}}
        for issue in ("10040", "10041")
        for n in range(2000)
    ]
    with sessions.begin() as session:
        session.execute(sa.insert(AuditRow), rows)
    log = AuditLog(sessions)
    entries = log.recent(tenant, "10040")
    assert [e.detail["n"] for e in entries] == list(range(1999, 1989, -1))  # ten rows fetched, newest first

    query = recent_query(tenant, "10040")
    sql = str(query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            plan = " ".join(str(r[-1]) for r in conn.execute(sa.text("EXPLAIN QUERY PLAN " + sql)))
            assert "ix_audit_log_ticket" in plan
            assert "TEMP B-TREE" not in plan  # ordered by the index: no sort of the history
        else:
            conn.execute(sa.text("ANALYZE audit_log"))
            plan = " ".join(str(r[0]) for r in conn.execute(sa.text("EXPLAIN " + sql)))
            assert "ix_audit_log_ticket" in plan
            assert "Sort" not in plan and "Seq Scan" not in plan
