"""One ticket event in one database transaction: read what the decision needs, write what it decided.

`TicketUnit.begin()` opens a transaction; inside it, `tx.stores_factory` lets the read-only store
methods (`TenantStore.get`, `PolicyStore.effective`/`get`/`get_settings`, `TicketStore.get`) run
in the same transaction, and `tx.commit_update` writes the applied-event mark, the record
(optimistic version check), the event's outbox intents and its audit entries. Leaving the block
commits all of it, or nothing: the hot path of an event is one transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from app.policy.intent import Intent
from app.policy.record import TicketRecord
from app.storage.audit import AuditRow
from app.storage.outbox import PENDING, OutboxRow, StoredIntent, open_intents_in
from app.storage.tickets import AppliedEventRow, EventAlreadyApplied, TicketRow, TicketStore, to_record


class _Joined:
    """A `sessionmaker` stand-in that hands out one open session and never closes it."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def __call__(self) -> _Joined:
        return self

    def __enter__(self) -> Session:
        return self._session

    def __exit__(self, *_: Any) -> None:
        return None


@dataclass
class UnitTx:
    """An open transaction for one ticket event."""

    session: Session

    @property
    def stores_factory(self) -> Any:
        """A session factory for read-only store methods, joined to this transaction."""
        return _Joined(self.session)

    def record(self, tenant_key: str, issue_id: str) -> TicketRecord | None:
        row = self.session.get(TicketRow, (tenant_key, issue_id))
        return to_record(row) if row is not None else None

    def is_applied(self, tenant_key: str, event_id: str) -> bool:
        return self.session.get(AppliedEventRow, (tenant_key, event_id)) is not None

    def open_intents(self, tenant_key: str, issue_id: str) -> list[StoredIntent]:
        """The ticket's committed, unsent intents as they stand in this transaction."""
        return open_intents_in(self.session, tenant_key, issue_id)

    def audit(self, tenant_key: str, issue_id: str, action: str, detail: Mapping[str, Any], at: datetime) -> None:
        self.session.add(AuditRow(client_key=tenant_key, issue_id=issue_id, at=at, action=action, detail=dict(detail)))

    def mark_applied(self, tenant_key: str, event_id: str, at: datetime) -> bool:
        """Mark the event applied in this transaction; False when it already was."""
        return TicketStore.mark_in(self.session, tenant_key, event_id, at)

    def commit_update(
        self, record: TicketRecord, expected_version: int, *, event_id: str, intents: Sequence[Intent],
        audits: Sequence[tuple[str, Mapping[str, Any]]], at: datetime, audit_event: bool = True,
    ) -> TicketRecord:
        """Write mark, record, intents and audit entries (tagged with `event_id` unless `audit_event` is
        false); raises `EventAlreadyApplied` / `ConcurrentUpdate`."""
        session = self.session
        if not self.mark_applied(record.tenant_key, event_id, at):
            raise EventAlreadyApplied(event_id)
        stored = TicketStore.write_in(session, record, expected_version, at)
        if intents:
            session.execute(sa.insert(OutboxRow), [
                {"client_key": record.tenant_key, "issue_id": record.issue_id, "event_id": event_id, "seq": seq,
                 "kind": i.kind, "payload": dict(i.payload), "why": dict(i.why), "state": PENDING, "attempts": 0,
                 "created_at": at, "updated_at": at}
                for seq, i in enumerate(intents)])
        if audits:
            session.execute(sa.insert(AuditRow), [
                {"client_key": record.tenant_key, "issue_id": record.issue_id, "at": at, "action": action,
                 "detail": {**detail, "event": event_id} if audit_event else dict(detail)}
                for action, detail in audits])
        return stored


class TicketUnit:
    """Opens the one transaction of a ticket event."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._sessions = session_factory

    @contextmanager
    def begin(self) -> Iterator[UnitTx]:
        """A transaction: committed when the block ends, rolled back when it raises."""
        with self._sessions() as session, session.begin():
            yield UnitTx(session)
