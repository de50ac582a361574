"""SLA timers: schedule, move, cancel, claim exactly once, and nothing lost when a poller dies."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import redis
from rq import Queue
from rq.job import Job

from app.queueing.timers import Timer, TimerStore, timer_instant

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
S = timedelta(seconds=1)
TENANT = "6a1c5b2e-0f4d-4b8e-9a57-3d2c1b0a9f8e"  # a Connect clientKey


def _key(t: Timer) -> tuple[str, str, str, str, int]:
    return (t.tenant_key, t.issue_id, t.target, t.kind, t.deadline_ts)


@pytest.fixture
def store(r: redis.Redis) -> TimerStore:
    return TimerStore(r, lease_seconds=30)


def test_a_timer_fires_at_its_instant_and_not_before(store: TimerStore) -> None:
    store.schedule(TENANT, "10001", "first_response", "breach", T0 + 60 * S)
    assert store.claim_due(T0 + 59 * S) == []
    peeked = [(TENANT, "10001", "first_response", "breach", timer_instant(T0 + 60 * S))]
    assert store.due(T0 + 60 * S) == store.due(T0 + 60 * S) == peeked  # peeking claims nothing
    [timer] = store.claim_due(T0 + 60 * S)
    assert _key(timer) == (TENANT, "10001", "first_response", "breach", timer_instant(T0 + 60 * S))
    assert timer.at == T0 + 60 * S
    assert store.ack(timer)
    assert store.claim_due(T0 + 3600 * S) == []


def test_rescheduling_moves_the_timer(store: TimerStore) -> None:
    store.schedule(TENANT, 10001, "resolution", "warn", T0 + 60 * S)
    store.schedule(TENANT, 10001, "resolution", "warn", T0 + 120 * S)
    assert store.count() == 1
    assert store.scheduled_at(TENANT, 10001, "resolution", "warn") == T0 + 120 * S
    assert store.claim_due(T0 + 90 * S) == []
    [timer] = store.claim_due(T0 + 120 * S)
    assert timer.deadline_ts == timer_instant(T0 + 120 * S)
    # Moving earlier works too, and a sub-second instant is rounded up, never fired early.
    store.schedule(TENANT, 10001, "resolution", "warn", T0 + 300 * S)
    store.schedule(TENANT, 10001, "resolution", "warn", T0 + timedelta(seconds=200, milliseconds=1))
    assert store.claim_due(T0 + 200 * S) == []
    assert len(store.claim_due(T0 + 201 * S)) == 1


def test_cancel_one_timer_one_target_or_the_whole_issue(store: TimerStore) -> None:
    for issue in ("10001", "10002"):
        for target in ("first_response", "next_update", "resolution"):
            for kind in ("warn", "breach"):
                store.schedule(TENANT, issue, target, kind, T0)
    store.schedule("other-tenant", "10001", "resolution", "breach", T0)
    assert store.count() == 13

    store.cancel(TENANT, "10001", "next_update", "warn")
    assert store.scheduled_at(TENANT, "10001", "next_update", "warn") is None
    assert store.scheduled_at(TENANT, "10001", "next_update", "breach") == T0
    store.cancel(TENANT, "10001", "first_response")
    assert store.count() == 10
    store.cancel_issue(TENANT, "10001")
    assert store.count() == 7
    left = {(t.tenant_key, t.issue_id) for t in store.claim_due(T0, 100)}
    assert left == {(TENANT, "10002"), ("other-tenant", "10001")}


def test_cancel_and_schedule_in_one_transaction(store: TimerStore, r: redis.Redis) -> None:
    store.schedule(TENANT, "10001", "first_response", "breach", T0)
    store.schedule(TENANT, "10001", "first_response", "warn", T0)
    pipe = r.pipeline(transaction=True)
    store.cancel_many([(TENANT, "10001", "first_response", "warn")], pipeline=pipe)
    store.schedule_many([(TENANT, "10001", "resolution", "breach", T0 + 60 * S)], pipeline=pipe)
    assert store.count() == 2  # nothing happens before the transaction runs
    pipe.execute()
    assert store.scheduled_at(TENANT, "10001", "first_response", "warn") is None
    assert store.scheduled_at(TENANT, "10001", "first_response", "breach") == T0
    assert store.scheduled_at(TENANT, "10001", "resolution", "breach") == T0 + 60 * S


def test_two_concurrent_claimers_never_get_the_same_timer(r: redis.Redis) -> None:
    stores = [TimerStore(redis.Redis(connection_pool=r.connection_pool)) for _ in range(4)]
    stores[0].schedule_many((TENANT, i, "resolution", "breach", T0 + i * S) for i in range(600))
    claimed: list[list[Timer]] = [[] for _ in stores]
    barrier = threading.Barrier(len(stores))

    def claim(n: int) -> None:
        barrier.wait()
        while batch := stores[n].claim_due(T0 + 600 * S, limit=7):
            claimed[n].extend(batch)

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    issues = [t.issue_id for batch in claimed for t in batch]
    assert sorted(issues, key=int) == [str(i) for i in range(600)]  # each exactly once
    assert sum(1 for batch in claimed if batch) > 1  # they really competed


def test_an_unacknowledged_claim_comes_back_after_its_lease(store: TimerStore, r: redis.Redis) -> None:
    store.schedule(TENANT, "10001", "first_response", "breach", T0)
    [first] = store.claim_due(T0)  # ... and the poller dies here
    assert store.claim_due(T0 + 29 * S) == []  # still leased
    other_machine = TimerStore(redis.Redis(connection_pool=r.connection_pool), lease_seconds=30)
    [again] = other_machine.claim_due(T0 + 31 * S)
    assert _key(again) == _key(first)  # same timer, same instant
    # The dead poller's claim is void: it can neither ack nor fire it any more.
    assert not store.ack(first)
    assert store.fire([first], "tierwise") == [False]
    assert other_machine.fire([again], "tierwise") == [True]
    assert Queue("tierwise", connection=r).count == 1
    assert store.claim_due(T0 + 3600 * S) == []


def test_fire_enqueues_the_timer_job_once_with_its_deadline(store: TimerStore, r: redis.Redis) -> None:
    store.schedule(TENANT, "10001", "next_update", "warn", T0)
    timers = store.claim_due(T0)
    assert store.fire(timers, "tierwise", "jobs.timers.fire_timer") == [True]
    assert store.fire(timers, "tierwise", "jobs.timers.fire_timer") == [False]  # already fired
    queue = Queue("tierwise", connection=r)
    [job_id] = queue.job_ids
    job = Job.fetch(job_id, connection=r)
    assert job.func_name == "jobs.timers.fire_timer"
    assert job.args == (TENANT, "10001", "next_update", "warn", timer_instant(T0))
    assert job.get_status() == "queued"


def test_a_timer_moved_while_claimed_fires_only_at_its_new_instant(store: TimerStore, r: redis.Redis) -> None:
    store.schedule(TENANT, "10001", "resolution", "breach", T0)
    [old] = store.claim_due(T0)
    store.schedule(TENANT, "10001", "resolution", "breach", T0 + 600 * S)  # deadline moved meanwhile
    assert store.fire([old], "tierwise") == [False]
    assert store.claim_due(T0 + 599 * S) == []
    [new] = store.claim_due(T0 + 600 * S)
    assert new.deadline_ts == timer_instant(T0 + 600 * S)
    assert store.fire([new], "tierwise") == [True]
    assert Queue("tierwise", connection=r).count == 1


def test_rescheduling_the_same_instant_while_claimed_does_not_fire_twice(store: TimerStore) -> None:
    store.schedule(TENANT, "10001", "resolution", "breach", T0)
    [claimed] = store.claim_due(T0)
    store.schedule(TENANT, "10001", "resolution", "breach", T0)  # a recompute found the same deadline
    assert store.claim_due(T0 + 1 * S) == []
    assert store.fire([claimed], "tierwise") == [True]
    assert store.claim_due(T0 + 3600 * S) == []


def test_a_timer_cancelled_while_claimed_never_fires(store: TimerStore) -> None:
    store.schedule(TENANT, "10001", "resolution", "breach", T0)
    [claimed] = store.claim_due(T0)
    store.cancel_issue(TENANT, "10001")
    assert store.fire([claimed], "tierwise") == [False]
    assert store.claim_due(T0 + 3600 * S) == []  # and no lease brings it back


def test_tenant_ids_are_shared_between_processes(r: redis.Redis) -> None:
    forge = "ari:cloud:ecosystem::installation/0d5b7a3c-4b0e-4c51-8b0d-2f3e9d7c1a55"
    here, there = TimerStore(r), TimerStore(redis.Redis(connection_pool=r.connection_pool))
    here.schedule(forge, "10001", "resolution", "breach", T0)
    here.schedule(TENANT, "10001", "resolution", "breach", T0)
    assert len(here.member(forge, "10001", "resolution", "breach")) < 16  # compact members
    assert there.member(forge, "10001", "resolution", "breach") == here.member(
        forge, "10001", "resolution", "breach"
    )
    assert {t.tenant_key for t in there.claim_due(T0)} == {forge, TENANT}


@pytest.mark.parametrize(
    ("tenant", "issue", "target", "kind"),
    [
        ("a|b", "1", "resolution", "breach"),
        ("t", "1|2", "resolution", "breach"),
        ("t", "1", "resolution", "late"),
        ("t", "1", "f", "warn"),
        ("t", "", "resolution", "warn"),
    ],
)
def test_malformed_timers_are_refused(
    store: TimerStore, tenant: str, issue: str, target: str, kind: str
) -> None:
    with pytest.raises(ValueError):
        store.schedule(tenant, issue, target, kind, T0)


def test_naive_instants_are_refused(store: TimerStore) -> None:
    with pytest.raises(ValueError, match="time zone"):
        store.schedule(TENANT, "1", "resolution", "warn", datetime(2026, 11, 23, 10, 0))


def test_other_targets_keep_their_name(store: TimerStore) -> None:
    store.schedule(TENANT, "1", "custom_target", "warn", T0)
    [timer] = store.claim_due(T0)
    assert timer.target == "custom_target"
