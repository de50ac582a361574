"""The outbox: what the worker intends to do in Jira (comments, field writes, transitions, pages).

An intent is written before the ticket's state change and takes effect with it: it is
*committed* once its `event_id` is marked applied (`applied_events`, in the same transaction as
the ticket record), so a job that dies before its state change leaves no live intent, and one
that dies after it leaves an intent the next run delivers. Delivery marks an intent `in_flight`
before the Jira call and `sent` after; an intent found `in_flight` may have reached Jira, so the
worker looks for its effect there before repeating it (no duplicate comment).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from app.policy.intent import Intent
from app.storage.audit import AuditRow
from app.storage.models import Base
from app.storage.tickets import AppliedEventRow

#: Intent states: waiting, handed to Jira (maybe delivered), done, abandoned (gave up).
PENDING, IN_FLIGHT, SENT, ABANDONED = "pending", "in_flight", "sent", "abandoned"
#: Most intents a ticket's delivery run looks at (oldest first).
MAX_BATCH = 50


@dataclass(frozen=True)
class StoredIntent:
    id: int
    tenant_key: str
    issue_id: str
    event_id: str
    seq: int
    kind: str
    payload: Mapping[str, Any] = field(hash=False)
    why: Mapping[str, Any] = field(hash=False)
    state: str
    attempts: int


class OutboxRow(Base):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    client_key: Mapped[str] = mapped_column(
        sa.String(255), sa.ForeignKey("tenants.client_key", ondelete="CASCADE")
    )
    issue_id: Mapped[str] = mapped_column(sa.String(64))
    event_id: Mapped[str] = mapped_column(sa.String(255))
    seq: Mapped[int]
    kind: Mapped[str] = mapped_column(sa.String(32))
    payload: Mapped[Any] = mapped_column(sa.JSON)
    why: Mapped[Any] = mapped_column(sa.JSON)
    state: Mapped[str] = mapped_column(sa.String(16))
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        sa.UniqueConstraint("client_key", "event_id", "seq", name="uq_outbox_event_seq"),
        sa.Index("ix_outbox_ticket_state", "client_key", "issue_id", "state"),
    )


class Outbox:
    """Record, list and settle intents."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._sessions = session_factory

    def stage(
        self, tenant_key: str, issue_id: str, event_id: str, intents: Sequence[Intent], *, at: datetime
    ) -> None:
        """Replace the not-yet-committed intents of `event_id` by `intents` (a retried computation wins)."""
        with self._sessions() as session, session.begin():
            session.execute(
                sa.delete(OutboxRow).where(
                    OutboxRow.client_key == tenant_key,
                    OutboxRow.event_id == event_id,
                    OutboxRow.state == PENDING,
                )
            )
            for seq, intent in enumerate(intents):
                session.add(
                    OutboxRow(
                        client_key=tenant_key, issue_id=issue_id, event_id=event_id, seq=seq,
                        kind=intent.kind, payload=dict(intent.payload), why=dict(intent.why),
                        state=PENDING, attempts=0, created_at=at, updated_at=at,
                    )
                )

    def open_intents(self, tenant_key: str, issue_id: str) -> list[StoredIntent]:
        """The ticket's committed intents not yet sent, oldest first."""
        with self._sessions() as session:
            return open_intents_in(session, tenant_key, issue_id)

    def mark(
        self, intent_id: int, state: str, *, at: datetime, audit: tuple[str, Mapping[str, Any]] | None = None
    ) -> None:
        """Move an intent to `state` (`in_flight` counts an attempt), with the ticket's audit entry
        (action, detail) in the same transaction when given."""
        with self._sessions() as session, session.begin():
            row = session.get(OutboxRow, intent_id) if audit is not None else None
            _mark_in(session, intent_id, state, at)
            if row is not None and audit is not None:
                session.add(AuditRow(client_key=row.client_key, issue_id=row.issue_id, at=at, action=audit[0],
                                     detail=dict(audit[1])))

    def mark_many(
        self, marks: Sequence[tuple[StoredIntent, str, tuple[str, Mapping[str, Any]] | None]], *, at: datetime
    ) -> None:
        """`mark` for several intents (each with its audit entry or None) in one transaction."""
        if not marks:
            return
        with self._sessions() as session, session.begin():
            for intent, state, audit in marks:
                _mark_in(session, intent.id, state, at)
                if audit is not None:
                    session.add(AuditRow(client_key=intent.tenant_key, issue_id=intent.issue_id, at=at,
                                         action=audit[0], detail=dict(audit[1])))

    def abandon_open(self, tenant_key: str, issue_id: str, *, at: datetime) -> int:
        """Give up every pending or in-flight intent of a ticket (its job ran out of attempts)."""
        with self._sessions() as session, session.begin():
            result = session.execute(
                sa.update(OutboxRow)
                .where(OutboxRow.client_key == tenant_key, OutboxRow.issue_id == issue_id,
                       OutboxRow.state.in_((PENDING, IN_FLIGHT)))
                .values(state=ABANDONED, updated_at=at)
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def states(self, tenant_key: str, issue_id: str) -> list[tuple[str, str]]:
        """(kind, state) of every intent of a ticket, oldest first (tests and the panel)."""
        query = (
            sa.select(OutboxRow.kind, OutboxRow.state)
            .where(OutboxRow.client_key == tenant_key, OutboxRow.issue_id == issue_id)
            .order_by(OutboxRow.id)
        )
        with self._sessions() as session:
            return [(k, s) for k, s in session.execute(query)]


def open_intents_in(session: Session, tenant_key: str, issue_id: str) -> list[StoredIntent]:
    """The ticket's committed, unsent intents (oldest first), read in `session`'s transaction."""
    applied = sa.exists().where(
        AppliedEventRow.client_key == OutboxRow.client_key, AppliedEventRow.event_id == OutboxRow.event_id
    )
    query = (
        sa.select(OutboxRow)
        .where(
            OutboxRow.client_key == tenant_key,
            OutboxRow.issue_id == issue_id,
            OutboxRow.state.in_((PENDING, IN_FLIGHT)),
            applied,
        )
        .order_by(OutboxRow.id)
        .limit(MAX_BATCH)
    )
    return [_to_intent(row) for row in session.scalars(query)]


def _mark_in(session: Session, intent_id: int, state: str, at: datetime) -> None:
    values: dict[str, Any] = {"state": state, "updated_at": at}
    if state == IN_FLIGHT:
        values["attempts"] = OutboxRow.attempts + 1
    session.execute(sa.update(OutboxRow).where(OutboxRow.id == intent_id).values(**values))


def _to_intent(row: OutboxRow) -> StoredIntent:
    return StoredIntent(
        id=row.id,
        tenant_key=row.client_key,
        issue_id=row.issue_id,
        event_id=row.event_id,
        seq=row.seq,
        kind=row.kind,
        payload=MappingProxyType(dict(row.payload or {})),
        why=MappingProxyType(dict(row.why or {})),
        state=row.state,
        attempts=row.attempts,
    )
