"""Tickets' SLA records and applied-event marks, on SQLite and (under CI) PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.orm import Session, sessionmaker

from app.storage.db import MIGRATIONS_DIR, current_revision, make_session_factory, migrate
from app.storage.models import TenantRow
from app.storage.tickets import (
    MAX_REPLIES,
    ConcurrentUpdate,
    EventAlreadyApplied,
    TargetState,
    TicketRecord,
    TicketStore,
)

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture
def sessions(engine: sa.Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def tenant(sessions: sessionmaker[Session]) -> str:
    key = f"tenant-{uuid.uuid4().hex[:12]}"
    with sessions.begin() as session:
        session.add(TenantRow(client_key=key, base_url="https://acme.atlassian.net", state="installed",
                              state_changed_at=T0, installed_at=T0, updated_at=T0))
    return key


@pytest.fixture
def tickets(sessions: sessionmaker[Session]) -> TicketStore:
    return TicketStore(sessions)


def full_record(tenant: str, issue_id: str = "10040") -> TicketRecord:
    return TicketRecord(
        tenant_key=tenant,
        issue_id=issue_id,
        issue_key=f"SUP-{issue_id}",
        created_at=T0,
        phase="active",
        policy_version_id=7,
        tier="premium",
        severity="sev1",
        tier_rule='organization "Acme Corp" -> premium',
        severity_rule='priority "Highest" -> sev1',
        promised_update_at=T0 + timedelta(hours=2),
        pauses=((T0 + timedelta(minutes=5), T0 + timedelta(minutes=20)), (T0 + timedelta(hours=1), None)),
        phase_changes=((T0, "active"), (T0 + timedelta(hours=1), "paused")),
        targets={
            "first_response": TargetState(due=T0 + timedelta(minutes=30), met_at=T0 + timedelta(minutes=10)),
            "next_update": TargetState(due=T0 + timedelta(hours=1), warned_at=T0 + timedelta(minutes=45)),
            "resolution": TargetState(due=None),
        },
        customer_account_ids=("reporter-1", "participant-1"),
        last_written_hash="abc123",
    ).with_reply(T0 + timedelta(minutes=10))


def test_migration_creates_and_drops_the_ticket_tables(engine: sa.Engine) -> None:
    mine = {"tickets", "applied_events", "audit_log"}
    assert mine <= set(sa.inspect(engine).get_table_names())
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    command.downgrade(config, "0001_tenants")
    assert current_revision(engine) == "0001_tenants"
    assert not mine & set(sa.inspect(engine).get_table_names())
    migrate(engine)
    assert mine <= set(sa.inspect(engine).get_table_names())


def test_round_trip(tickets: TicketStore, tenant: str) -> None:
    assert tickets.get(tenant, "10040") is None
    record = full_record(tenant)
    saved = tickets.save(record, 0, at=T0 + timedelta(minutes=11))
    assert saved.version == 1
    loaded = tickets.get(tenant, "10040")
    assert loaded == saved
    assert loaded is not None
    assert loaded.targets["first_response"].state == "met"
    assert loaded.targets["next_update"].state == "open"
    assert loaded.targets["resolution"].state == "none"
    assert loaded.pauses[1] == (T0 + timedelta(hours=1), None)
    assert loaded.first_reply_at == loaded.last_update_at == T0 + timedelta(minutes=10)
    assert loaded.updated_at == T0 + timedelta(minutes=11)
    assert loaded.created_at.tzinfo is not None


def test_other_tenant_sees_nothing(tickets: TicketStore, tenant: str) -> None:
    tickets.save(full_record(tenant), 0)
    assert tickets.get("someone-else", "10040") is None


def test_optimistic_concurrency_conflict(tickets: TicketStore, tenant: str) -> None:
    first = tickets.save(full_record(tenant), 0)
    worker_a = tickets.save(replace(first, severity="sev2"), first.version)
    assert worker_a.version == 2
    with pytest.raises(ConcurrentUpdate):
        tickets.save(replace(first, tier="standard"), first.version)  # worker B read version 1
    current = tickets.get(tenant, "10040")
    assert current is not None and (current.severity, current.tier, current.version) == ("sev2", "premium", 2)


def test_creating_twice_conflicts(tickets: TicketStore, tenant: str) -> None:
    tickets.save(full_record(tenant), 0)
    with pytest.raises(ConcurrentUpdate):
        tickets.save(full_record(tenant), 0)


def test_concurrent_savers_one_wins(tickets: TicketStore, tenant: str) -> None:
    base = tickets.save(full_record(tenant), 0)
    outcomes: list[str] = []
    barrier = threading.Barrier(6)

    def attempt(n: int) -> None:
        barrier.wait()
        try:
            tickets.save(replace(base, phase=f"phase-{n}"), base.version)
            outcomes.append("saved")
        except ConcurrentUpdate:
            outcomes.append("conflict")

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict"] * 5 + ["saved"]
    assert tickets.get(tenant, "10040").version == 2  # type: ignore[union-attr]


def test_mark_event_applied_once(tickets: TicketStore, tenant: str) -> None:
    assert tickets.mark_event_applied(tenant, "wh-1") is True
    assert tickets.mark_event_applied(tenant, "wh-1") is False
    assert tickets.is_event_applied(tenant, "wh-1")
    assert not tickets.is_event_applied(tenant, "wh-2")


def test_mark_event_applied_under_concurrent_threads(tickets: TicketStore, tenant: str) -> None:
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def mark() -> None:
        barrier.wait()
        results.append(tickets.mark_event_applied(tenant, "wh-race"))

    threads = [threading.Thread(target=mark) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]


def test_save_with_event_is_atomic(tickets: TicketStore, tenant: str) -> None:
    first = tickets.save(full_record(tenant), 0, event_id="wh-created")
    # A retried job (worker killed after commit) finds the event applied and changes nothing.
    with pytest.raises(EventAlreadyApplied):
        tickets.save(replace(first, severity="sev3"), first.version, event_id="wh-created")
    assert tickets.get(tenant, "10040").severity == "sev1"  # type: ignore[union-attr]
    # A conflicting save does not leave the event marked: the retry can still apply it.
    with pytest.raises(ConcurrentUpdate):
        tickets.save(replace(first, severity="sev2"), 99, event_id="wh-updated")
    assert not tickets.is_event_applied(tenant, "wh-updated")
    tickets.save(replace(first, severity="sev2"), first.version, event_id="wh-updated")
    assert tickets.is_event_applied(tenant, "wh-updated")


def test_forget_old_event_marks(tickets: TicketStore, tenant: str) -> None:
    tickets.mark_event_applied(tenant, "old", at=T0)
    tickets.mark_event_applied(tenant, "new", at=T0 + timedelta(days=3))
    assert tickets.forget_events_before(T0 + timedelta(days=1)) >= 1
    assert not tickets.is_event_applied(tenant, "old")
    assert tickets.is_event_applied(tenant, "new")


def test_list_open(tickets: TicketStore, tenant: str) -> None:
    tickets.save(replace(full_record(tenant, "2"), created_at=T0 + timedelta(hours=1)), 0)
    tickets.save(full_record(tenant, "1"), 0)
    tickets.save(replace(full_record(tenant, "3"), closed_at=T0 + timedelta(hours=2), phase="closed"), 0)
    assert [r.issue_id for r in tickets.list_open(tenant)] == ["1", "2"]


def test_replies_are_bounded_and_keep_the_first_reply(tenant: str) -> None:
    record = full_record(tenant)
    for n in range(MAX_REPLIES * 2):
        record = record.with_reply(T0 + timedelta(hours=n + 1))
    assert len(record.replies) == MAX_REPLIES
    assert record.first_reply_at == T0 + timedelta(minutes=10)
    assert record.last_update_at == T0 + timedelta(hours=MAX_REPLIES * 2)


def test_with_phase_records_changes_once(tenant: str) -> None:
    record = full_record(tenant)
    same = record.with_phase(T0 + timedelta(hours=2), "paused")
    assert same is record
    moved = record.with_phase(T0 + timedelta(hours=3), "active")
    assert moved.phase == "active" and moved.phase_changes[-1] == (T0 + timedelta(hours=3), "active")


def test_tenant_delete_cascades(sessions: sessionmaker[Session], tickets: TicketStore,
                                tenant: str) -> None:
    tickets.save(full_record(tenant), 0)
    tickets.mark_event_applied(tenant, "wh-1")
    with sessions.begin() as session:
        session.execute(sa.delete(TenantRow).where(TenantRow.client_key == tenant))
    assert tickets.get(tenant, "10040") is None
    assert not tickets.is_event_applied(tenant, "wh-1")


def test_ticket_needs_an_installed_tenant(tickets: TicketStore) -> None:
    with pytest.raises(sa.exc.IntegrityError):
        tickets.save(full_record("no-such-tenant"), 0)


def test_the_ordering_fields_and_the_next_deadline_round_trip(tickets: TicketStore, tenant: str) -> None:
    record = replace(full_record(tenant), issue_seen_at=T0 + timedelta(seconds=1, microseconds=321000),
                     issue_seen_changelog=10_222_000_001, next_deadline=T0 + timedelta(minutes=45))
    saved = tickets.save(record, 0, at=T0)
    loaded = tickets.get(tenant, "10040")
    assert loaded == saved
    assert (loaded.issue_seen_at, loaded.issue_seen_changelog, loaded.next_deadline) == (
        record.issue_seen_at, record.issue_seen_changelog, record.next_deadline)


def test_due_by_pages_the_open_tickets_by_next_deadline(tickets: TicketStore, tenant: str) -> None:
    deadlines = {"1": 30, "2": 10, "3": 20, "4": 10, "5": 90}  # issue id -> minutes after T0
    for issue_id, minutes in deadlines.items():
        tickets.save(replace(full_record(tenant, issue_id), next_deadline=T0 + timedelta(minutes=minutes)), 0)
    tickets.save(replace(full_record(tenant, "6"), next_deadline=T0, closed_at=T0), 0)  # closed: never swept
    tickets.save(full_record(tenant, "7"), 0)  # no deadline recorded

    until = T0 + timedelta(minutes=60)
    seen: list[str] = []
    after = None
    while page := tickets.due_by(until, after=after, limit=2):
        seen += [r.issue_id for r in page]
        last = page[-1]
        assert last.next_deadline is not None
        after = (last.next_deadline, last.tenant_key, last.issue_id)
    assert seen == ["2", "4", "3", "1"]
    assert [r.issue_id for r in tickets.open_without_deadline()] == ["7"]
