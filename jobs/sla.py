"""SLA timers and policy changes: settle a ticket, fire warnings and breaches, re-apply a policy.

- `settle(ctx, record)`: deliver the ticket's open outbox intents, then schedule (or move, or
  cancel) its warn and breach timers, one of each per open target.
- `on_timer(...)` (called by `jobs.timers.fire_timer`): `decide.on_timer` says whether the timer is
  stale (deadline moved, target met, ticket paused or closed: nothing happens) or which actions
  run; the warning or breach is recorded once, the timer's identity marked applied with the record
  change, in one transaction.
- `reapply_policy(tenant_key, version_id)`: recompute open tickets under a new version, with
  progress in Redis (`app.keys.reapply_key`: JSON `{done, total}`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.jira.errors import JiraError
from app.keys import FIRE_TIMER_JOB, reapply_key
from app.policy.decide import KINDS, Timer, on_reapply, ticket_timers
from app.policy.decide import on_timer as decide_timer
from app.policy.errors import PolicyError
from app.policy.model import TARGETS
from app.policy.record import TicketRecord
from app.storage.outbox import StoredIntent
from app.storage.ticket_unit import UnitTx
from app.storage.tickets import ConcurrentUpdate, EventAlreadyApplied
from jobs import prefetch
from jobs.actions import deliver
from jobs.bootstrap import services
from jobs.context import Stores, TenantContext, load_context, stores, version_policy
from jobs.retry import retry_delay, schedule_retry
from jobs.unit import in_one_transaction, require

log = logging.getLogger(__name__)

#: Seconds the re-apply progress key lives after the last update.
REAPPLY_PROGRESS_TTL = 24 * 3600

__all__ = ["on_timer", "reapply_key", "reapply_policy", "settle", "sync_timers"]


def settle(ctx: TenantContext, record: TicketRecord, *, intents: Sequence[StoredIntent] | None = None,
           timers: Sequence[Timer] | None = None) -> None:
    """Deliver the ticket's open intents, then bring its timers in line with its deadlines.

    `intents` and `timers` come from the transaction and the decision that just ran; without
    them (a re-run that only finishes what was committed) they are read and computed here.
    """
    if intents is None:
        intents = ctx.stores.outbox.open_intents(ctx.key, record.issue_id)
    if intents:
        deliver(ctx, record.issue_key, intents)
    if timers is None:
        timers = ticket_timers(ctx.policy_for(record)[1], record, datetime.now(UTC))
    sync_timers(ctx, record.issue_id, timers)


def sync_timers(ctx: TenantContext, issue_id: str, timers: Sequence[Timer]) -> list[tuple[str, str]]:
    """Schedule (or move) `timers` and cancel the ticket's others, in one pipeline; return the kept ones."""
    store = ctx.stores.timers
    keep = {(name, kind) for name, kind, _ in timers}
    drop = [(ctx.key, issue_id, name, kind) for name in TARGETS for kind in KINDS if (name, kind) not in keep]
    pipe = ctx.redis.pipeline(transaction=True)
    store.cancel_many(drop, pipeline=pipe)
    store.schedule_many([(ctx.key, issue_id, name, kind, at) for name, kind, at in timers], pipeline=pipe)
    pipe.execute()
    return sorted(keep)


def on_timer(tenant_key: str, issue_id: str, target: str, kind: str, deadline_ts: int, attempt: int = 0) -> str:
    """Run the warning or breach a timer stands for, unless it is stale; return what happened."""
    svc = services()
    st = stores(svc)
    try:
        return _fire(st, tenant_key, issue_id, target, kind, deadline_ts)
    except JiraError as exc:
        delay = retry_delay(exc, attempt)
        if delay is None:
            ctx = load_context(tenant_key, svc)
            if ctx is not None:
                abandoned = ctx.stores.outbox.abandon_open(ctx.key, issue_id, at=datetime.now(UTC))
                ctx.audit(issue_id, "gave_up", {"target": target, "kind": kind, "error": str(exc),
                                                "status": exc.status, "attempts": attempt + 1,
                                                "intents_abandoned": abandoned})
            return "gave_up"
        # Through the trampoline, like the first run: the timer job's path is the one the pump uses.
        schedule_retry(FIRE_TIMER_JOB, (tenant_key, issue_id, target, kind, deadline_ts), attempt, delay,
                       fallback_queue=svc.queue)
        return "retry"


@dataclass
class _Fired:
    """How a timer's transaction went, and what to settle after it (record None: nothing)."""

    outcome: str
    ctx: TenantContext
    record: TicketRecord | None = None
    intents: list[StoredIntent] | None = None
    timers: tuple[Timer, ...] | None = None


def _fire(st: Stores, tenant_key: str, issue_id: str, target: str, kind: str, deadline_ts: int) -> str:
    event_id = f"timer:{issue_id}:{target}:{kind}:{deadline_ts}"

    def step(tx: UnitTx, ctx: TenantContext, got: prefetch.Prefetched) -> _Fired:
        record = tx.record(tenant_key, issue_id)
        if record is None or record.tier is None:
            return _Fired("stale", ctx)
        if tx.is_applied(tenant_key, event_id):
            return _Fired("done_before", ctx, record)  # a re-run: finish what the first run committed
        got = require(ctx, got)
        now = datetime.now(UTC)
        update = decide_timer(ctx.in_force(record), record, target, kind, deadline_ts, now,
                              ctx.decide_settings(prefetch.field_types(ctx, got)))
        if update.record is None:
            return _Fired(update.outcome, ctx)
        stored = tx.commit_update(update.record, record.version, event_id=event_id, intents=update.intents,
                                  audits=update.audits, at=now, audit_event=False)
        return _Fired(update.outcome, ctx, stored, tx.open_intents(tenant_key, issue_id), update.timers)

    try:
        done = in_one_transaction(st, tenant_key, step)
    except EventAlreadyApplied:
        ctx, fresh = load_context(tenant_key, st.services), st.tickets.get(tenant_key, issue_id)
        if ctx is not None and fresh is not None:
            settle(ctx, fresh)
        return "done_before"
    if done is None:
        return "no_tenant"
    if done.record is not None:
        settle(done.ctx, done.record, intents=done.intents, timers=done.timers)
    return done.outcome


def reapply_policy(tenant_key: str, version_id: int) -> dict[str, Any]:
    """Recompute every open ticket of the tenant under policy version `version_id`."""
    svc = services()
    ctx = load_context(tenant_key, svc)
    progress_key = reapply_key(tenant_key, version_id)
    if ctx is None:
        return {"done": 0, "total": 0}
    version = ctx.stores.policies.get(tenant_key, version_id)
    if version is None:
        return {"done": 0, "total": 0}
    force_policy = version_policy(version)
    open_tickets = ctx.stores.tickets.list_open(tenant_key)
    total, done = len(open_tickets), 0
    svc.redis.set(progress_key, json.dumps({"done": 0, "total": total}), ex=REAPPLY_PROGRESS_TTL)
    got = prefetch.Prefetched()
    for record in open_tickets:
        try:
            want, got = prefetch.needs(ctx, got)
            if want:
                got = prefetch.fetch(ctx, want, got)
            _reapply_one(ctx, record, version_id, force_policy, version.number, got)
        except (JiraError, ConcurrentUpdate, EventAlreadyApplied, PolicyError) as exc:
            # The ticket's next event or timer finishes it; one bad ticket must not stop the rest.
            log.warning("re-apply of %s to %s: %s", version_id, record.issue_key, exc)
        done += 1
        svc.redis.set(progress_key, json.dumps({"done": done, "total": total}), ex=REAPPLY_PROGRESS_TTL)
    return {"done": done, "total": total}


def _reapply_one(ctx: TenantContext, record: TicketRecord, version_id: int, policy: Any, number: int,
                 got: prefetch.Prefetched) -> None:
    from app.policy.decide import InForce

    event_id = f"reapply:{version_id}:{record.issue_id}"
    intents: list[StoredIntent] | None = None
    timers: tuple[Timer, ...] | None = None
    with ctx.stores.units.begin() as tx:
        current = tx.record(ctx.key, record.issue_id) or record
        if not tx.is_applied(ctx.key, event_id):
            now = datetime.now(UTC)
            update = on_reapply(InForce(policy, version_id, number), current, now,
                                ctx.decide_settings(prefetch.field_types(ctx, got)))
            assert update.record is not None
            current = tx.commit_update(update.record, current.version, event_id=event_id, intents=update.intents,
                                       audits=update.audits, at=now, audit_event=False)
            intents, timers = tx.open_intents(ctx.key, record.issue_id), update.timers
    settle(ctx, current, intents=intents, timers=timers)
