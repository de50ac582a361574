"""The per-ticket audit log: what the app did, when, and why (rule, target, deadline). Append-only.

The panel reads the last few entries of one ticket; the index (tenant, issue, at, id) serves that
read directly, newest first, however long the ticket's history.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from app.storage.models import Base

#: Entries the panel shows by default.
DEFAULT_RECENT = 10
#: Most entries one `recent` call returns.
MAX_RECENT = 200


@dataclass(frozen=True)
class AuditEntry:
    """One thing the app did to a ticket: `action` (`fields_written`, `eta_comment`, `transition`,
    `page`, `gave_up`, …) and `detail` (rule, target, deadline, error)."""

    id: int
    tenant_key: str
    issue_id: str
    at: datetime
    action: str
    detail: Mapping[str, Any] = field(default_factory=dict, hash=False)


class AuditRow(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    client_key: Mapped[str] = mapped_column(
        sa.String(255), sa.ForeignKey("tenants.client_key", ondelete="CASCADE")
    )
    issue_id: Mapped[str] = mapped_column(sa.String(64))
    at: Mapped[datetime]
    action: Mapped[str] = mapped_column(sa.String(64))
    detail: Mapped[Any] = mapped_column(sa.JSON)

    __table_args__ = (sa.Index("ix_audit_log_ticket", "client_key", "issue_id", "at", "id"),)


class AuditLog:
    """Append and read a ticket's audit entries."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._sessions = session_factory

    def record(
        self, tenant_key: str, issue_id: str, action: str, detail: Mapping[str, Any], at: datetime
    ) -> AuditEntry:
        """Append an entry; `detail` must be JSON-serialisable (datetimes as ISO strings)."""
        with self._sessions() as session, session.begin():
            row = AuditRow(client_key=tenant_key, issue_id=issue_id, at=at, action=action, detail=dict(detail))
            session.add(row)
            session.flush()
            return _to_entry(row)

    def recent(self, tenant_key: str, issue_id: str, limit: int = DEFAULT_RECENT) -> list[AuditEntry]:
        """The ticket's newest entries, newest first (ties in time: the later-recorded first)."""
        with self._sessions() as session:
            return [_to_entry(row) for row in session.scalars(recent_query(tenant_key, issue_id, limit))]


def recent_query(tenant_key: str, issue_id: str, limit: int = DEFAULT_RECENT) -> sa.Select[AuditRow]:
    """The panel's query (exposed so tests can EXPLAIN it)."""
    return (
        sa.select(AuditRow)
        .where(AuditRow.client_key == tenant_key, AuditRow.issue_id == issue_id)
        .order_by(AuditRow.at.desc(), AuditRow.id.desc())
        .limit(max(1, min(limit, MAX_RECENT)))
    )


def _to_entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        tenant_key=row.client_key,
        issue_id=row.issue_id,
        at=row.at,
        action=row.action,
        detail=MappingProxyType(dict(row.detail or {})),
    )
