"""The ticket's SLA record (what the panel shows, what the worker updates) and applied-event marks.

One row per (tenant, issue): the panel reads it by primary key. Writes are optimistic: `save`
succeeds only when the row still has the version the caller read, else `ConcurrentUpdate` (the
worker reloads and retries). `applied_events` makes event processing idempotent: an event id is
marked once per tenant, by a primary key, so concurrent or retried jobs cannot both apply it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from app.policy.record import MAX_PHASE_CHANGES, MAX_REPLIES, TargetState, TicketRecord
from app.policy.timefmt import utc_iso
from app.storage.db import upsert_for
from app.storage.models import Base

__all__ = ["MAX_PHASE_CHANGES", "MAX_REPLIES", "ConcurrentUpdate", "EventAlreadyApplied", "TargetState",
           "TicketRecord", "TicketStore"]


class ConcurrentUpdate(Exception):
    """The ticket's record changed since it was read: reload and retry."""


class EventAlreadyApplied(Exception):
    """The event was applied before (a retried or duplicated job): do nothing."""


class TicketRow(Base):
    __tablename__ = "tickets"

    client_key: Mapped[str] = mapped_column(
        sa.String(255), sa.ForeignKey("tenants.client_key", ondelete="CASCADE"), primary_key=True
    )
    issue_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    issue_key: Mapped[str] = mapped_column(sa.String(255))
    policy_version_id: Mapped[int | None]
    tier: Mapped[str | None] = mapped_column(sa.String(255))
    severity: Mapped[str | None] = mapped_column(sa.String(255))
    tier_rule: Mapped[str | None] = mapped_column(sa.Text)
    severity_rule: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime]
    first_reply_at: Mapped[datetime | None]
    last_update_at: Mapped[datetime | None]
    promised_update_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    phase: Mapped[str] = mapped_column(sa.String(64))
    pauses: Mapped[Any] = mapped_column(sa.JSON)
    phase_changes: Mapped[Any] = mapped_column(sa.JSON)
    replies: Mapped[Any] = mapped_column(sa.JSON)
    targets: Mapped[Any] = mapped_column(sa.JSON)
    customer_account_ids: Mapped[Any] = mapped_column(sa.JSON)
    last_written_hash: Mapped[str | None] = mapped_column(sa.String(128))
    version: Mapped[int]
    updated_at: Mapped[datetime]

    __table_args__ = (sa.Index("ix_tickets_open", "client_key", "closed_at"),)


class AppliedEventRow(Base):
    __tablename__ = "applied_events"

    client_key: Mapped[str] = mapped_column(
        sa.String(255), sa.ForeignKey("tenants.client_key", ondelete="CASCADE"), primary_key=True
    )
    event_id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    applied_at: Mapped[datetime] = mapped_column(index=True)


class TicketStore:
    """Tickets' SLA records and applied-event marks."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._sessions = session_factory

    def get(self, tenant_key: str, issue_id: str) -> TicketRecord | None:
        """The ticket's record, or None when Tierwise has not seen the ticket."""
        with self._sessions() as session:
            row = session.get(TicketRow, (tenant_key, issue_id))
            return to_record(row) if row else None

    def list_open(self, tenant_key: str) -> list[TicketRecord]:
        """The tenant's tickets not closed yet, oldest first."""
        query = (
            sa.select(TicketRow)
            .where(TicketRow.client_key == tenant_key, TicketRow.closed_at.is_(None))
            .order_by(TicketRow.created_at, TicketRow.issue_id)
        )
        with self._sessions() as session:
            return [to_record(row) for row in session.scalars(query)]

    def save(
        self,
        record: TicketRecord,
        expected_version: int,
        *,
        event_id: str | None = None,
        at: datetime | None = None,
    ) -> TicketRecord:
        """Store `record` if the stored version is still `expected_version` (0: not stored yet).

        With `event_id`, the event is marked applied in the same transaction: both happen or
        neither (`EventAlreadyApplied` when it was applied before). Returns the stored record.
        """
        now = at or datetime.now(UTC)
        with self._sessions() as session, session.begin():
            if event_id is not None and not self.mark_in(session, record.tenant_key, event_id, now):
                raise EventAlreadyApplied(event_id)
            return self.write_in(session, record, expected_version, now)

    @staticmethod
    def write_in(session: Session, record: TicketRecord, expected_version: int, now: datetime) -> TicketRecord:
        """Insert (version 0) or update the record in `session`'s transaction, checking the version."""
        stored = replace(record, version=expected_version + 1, updated_at=now)
        values = record_values(stored)
        if expected_version == 0:
            try:
                with session.begin_nested():
                    session.execute(sa.insert(TicketRow).values(**values))
            except IntegrityError as exc:
                if session.get(TicketRow, (record.tenant_key, record.issue_id)) is None:
                    raise  # not a race: e.g. the tenant is not installed (foreign key)
                raise ConcurrentUpdate(f"{record.tenant_key}/{record.issue_id} already exists") from exc
        else:
            result = session.execute(
                sa.update(TicketRow)
                .where(
                    TicketRow.client_key == record.tenant_key,
                    TicketRow.issue_id == record.issue_id,
                    TicketRow.version == expected_version,
                )
                .values(**values)
            )
            if _rowcount(result) != 1:
                raise ConcurrentUpdate(
                    f"{record.tenant_key}/{record.issue_id} is no longer at version {expected_version}"
                )
        return stored

    def mark_event_applied(self, tenant_key: str, event_id: str, *, at: datetime | None = None) -> bool:
        """Mark the event applied; False when it was already (safe under concurrent workers)."""
        with self._sessions() as session, session.begin():
            return self.mark_in(session, tenant_key, event_id, at or datetime.now(UTC))

    def is_event_applied(self, tenant_key: str, event_id: str) -> bool:
        with self._sessions() as session:
            return session.get(AppliedEventRow, (tenant_key, event_id)) is not None

    def forget_events_before(self, before: datetime) -> int:
        """Drop marks older than `before` (Jira stops retrying a delivery after a day or so)."""
        with self._sessions() as session, session.begin():
            result = session.execute(sa.delete(AppliedEventRow).where(AppliedEventRow.applied_at < before))
            return _rowcount(result)

    @staticmethod
    def mark_in(session: Session, tenant_key: str, event_id: str, at: datetime) -> bool:
        insert = upsert_for(session)
        result = session.execute(
            insert(AppliedEventRow)
            .values(client_key=tenant_key, event_id=event_id, applied_at=at)
            .on_conflict_do_nothing(index_elements=["client_key", "event_id"])
            .returning(AppliedEventRow.event_id)
        )
        # RETURNING yields the row only when this statement inserted it (rowcount is not
        # reliable for ON CONFLICT DO NOTHING across drivers).
        return result.first() is not None


def _rowcount(result: Any) -> int:
    return int(result.rowcount)


# --- row <-> record -------------------------------------------------------------------------------


def _dt(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).astimezone(UTC)


def _req_dt(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def record_values(record: TicketRecord) -> dict[str, Any]:
    """The row values of a record."""
    return {
        "client_key": record.tenant_key,
        "issue_id": record.issue_id,
        "issue_key": record.issue_key,
        "policy_version_id": record.policy_version_id,
        "tier": record.tier,
        "severity": record.severity,
        "tier_rule": record.tier_rule,
        "severity_rule": record.severity_rule,
        "created_at": record.created_at,
        "first_reply_at": record.first_reply_at,
        "last_update_at": record.last_update_at,
        "promised_update_at": record.promised_update_at,
        "closed_at": record.closed_at,
        "phase": record.phase,
        "pauses": [[utc_iso(start), utc_iso(end)] for start, end in record.pauses],
        "phase_changes": [[utc_iso(at), phase] for at, phase in record.phase_changes],
        "replies": [utc_iso(at) for at in record.replies[-MAX_REPLIES:]],
        "targets": {
            name: {
                "due": utc_iso(t.due),
                "warned_at": utc_iso(t.warned_at),
                "met_at": utc_iso(t.met_at),
                "breached_at": utc_iso(t.breached_at),
            }
            for name, t in record.targets.items()
        },
        "customer_account_ids": list(record.customer_account_ids),
        "last_written_hash": record.last_written_hash,
        "version": record.version,
        "updated_at": record.updated_at,
    }


def to_record(row: TicketRow) -> TicketRecord:
    """The record of a row."""
    return TicketRecord(
        tenant_key=row.client_key,
        issue_id=row.issue_id,
        issue_key=row.issue_key,
        policy_version_id=row.policy_version_id,
        tier=row.tier,
        severity=row.severity,
        tier_rule=row.tier_rule,
        severity_rule=row.severity_rule,
        created_at=row.created_at,
        first_reply_at=row.first_reply_at,
        last_update_at=row.last_update_at,
        promised_update_at=row.promised_update_at,
        closed_at=row.closed_at,
        phase=row.phase,
        pauses=tuple((_req_dt(start), _dt(end)) for start, end in row.pauses or ()),
        phase_changes=tuple((_req_dt(at), str(phase)) for at, phase in row.phase_changes or ()),
        replies=tuple(_req_dt(at) for at in row.replies or ()),
        targets=MappingProxyType(
            {
                name: TargetState(
                    due=_dt(t.get("due")),
                    warned_at=_dt(t.get("warned_at")),
                    met_at=_dt(t.get("met_at")),
                    breached_at=_dt(t.get("breached_at")),
                )
                for name, t in (row.targets or {}).items()
            }
        ),
        customer_account_ids=tuple(row.customer_account_ids or ()),
        last_written_hash=row.last_written_hash,
        version=row.version,
        updated_at=row.updated_at,
    )
