"""SLA timers and policy changes: settle a ticket, fire warnings and breaches, re-apply a policy.

- `settle(ctx, record)`: deliver the ticket's open outbox intents, then schedule (or move, or
  cancel) its warn and breach timers, one of each per open target.
- `on_timer(...)` (called by `jobs.timers.fire_timer`): a stale timer (deadline moved, target met,
  ticket paused or closed) does nothing; otherwise the policy's `pre_breach` / `breach` actions run
  (plus the on-call page of a `page_on_call` target) and the warning or breach is recorded, once:
  the timer's identity is marked applied with the record change.
- `reapply_policy(tenant_key, version_id)`: recompute open tickets under a new version, with
  progress in Redis (`tw:reapply:{tenant}:{version}` = JSON `{done, total}`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from app.jira.errors import JiraError
from app.policy.errors import PolicyError
from app.policy.model import CLOSED, PAUSED, TARGETS
from app.policy.sla import evaluate
from app.queueing.timers import timer_instant
from app.storage.outbox import Intent
from app.storage.tickets import ConcurrentUpdate, EventAlreadyApplied, TargetState, TicketRecord
from jobs.actions import action_intent, deliver, matching_actions
from jobs.bootstrap import services
from jobs.context import TenantContext, compiled_policy, load_context
from jobs.retry import retry_delay, schedule_retry
from jobs.ticket_sla import with_state
from jobs.writeback import iso, page_payload, write_back

log = logging.getLogger(__name__)

#: Seconds the re-apply progress key lives after the last update.
REAPPLY_PROGRESS_TTL = 24 * 3600


def reapply_key(tenant_key: str, version_id: int) -> str:
    """Redis key of a re-apply's progress, JSON `{done, total}`."""
    return f"tw:reapply:{tenant_key}:{version_id}"


def settle(ctx: TenantContext, record: TicketRecord) -> None:
    """Deliver the ticket's open intents, then bring its timers in line with its deadlines."""
    intents = ctx.stores.outbox.open_intents(ctx.key, record.issue_id)
    if intents:
        deliver(ctx, record.issue_key, intents)
    sync_timers(ctx, record)


def sync_timers(ctx: TenantContext, record: TicketRecord, now: datetime | None = None) -> list[tuple[str, str]]:
    """Schedule a breach and a warn timer for each open target, cancel the rest; return the scheduled ones."""
    timers = ctx.stores.timers
    wanted: list[tuple[str, str, datetime]] = []
    if record.tier is not None and record.severity is not None and record.phase not in (CLOSED, PAUSED):
        _, policy = ctx.policy_for(record.policy_version_id)
        state = evaluate(policy, record.history(), now or datetime.now(UTC))
        for name in TARGETS:
            engine = getattr(state, name)
            stored = record.targets.get(name, TargetState())
            if engine.due is None or engine.met_at is not None or stored.breached_at is not None:
                continue
            wanted.append((name, "breach", engine.due))
            if engine.warn_at is not None and stored.warned_at is None and engine.warn_at < engine.due:
                wanted.append((name, "warn", engine.warn_at))
    keep = {(name, kind) for name, kind, _ in wanted}
    drop = [timers.member(ctx.key, record.issue_id, name, kind)
            for name in TARGETS for kind in ("warn", "breach") if (name, kind) not in keep]
    pipe = ctx.redis.pipeline(transaction=True)
    if drop:
        pipe.zrem(timers.due_key, *drop)
        pipe.zrem(timers.lease_key, *drop)
        pipe.hdel(timers.claims_key, *drop)
    timers.schedule_many([(ctx.key, record.issue_id, name, kind, at) for name, kind, at in wanted], pipeline=pipe)
    pipe.execute()
    return sorted(keep)


def on_timer(tenant_key: str, issue_id: str, target: str, kind: str, deadline_ts: int, attempt: int = 0) -> str:
    """Run the warning or breach a timer stands for, unless it is stale; return what happened."""
    svc = services()
    ctx = load_context(tenant_key, svc)
    if ctx is None:
        return "no_tenant"
    record = ctx.stores.tickets.get(tenant_key, issue_id)
    if record is None or record.tier is None:
        return "stale"
    try:
        result = _fire(ctx, record, target, kind, deadline_ts)
    except JiraError as exc:
        delay = retry_delay(exc, attempt)
        if delay is None:
            abandoned = ctx.stores.outbox.abandon_open(ctx.key, issue_id, at=datetime.now(UTC))
            ctx.audit(issue_id, "gave_up", {"target": target, "kind": kind, "error": str(exc), "status": exc.status,
                                            "attempts": attempt + 1, "intents_abandoned": abandoned})
            return "gave_up"
        schedule_retry("jobs.sla.on_timer", (tenant_key, issue_id, target, kind, deadline_ts), attempt, delay,
                       fallback_queue=svc.queue)
        return "retry"
    return result


def _fire(ctx: TenantContext, record: TicketRecord, target: str, kind: str, deadline_ts: int) -> str:
    tickets = ctx.stores.tickets
    event_id = f"timer:{record.issue_id}:{target}:{kind}:{deadline_ts}"
    if tickets.is_event_applied(ctx.key, event_id):
        settle(ctx, record)  # a re-run after a crash: finish what the first run committed
        return "done_before"
    for _ in range(5):
        version, policy = ctx.policy_for(record.policy_version_id)
        now = datetime.now(UTC)
        state = evaluate(policy, record.history(), now)
        engine = getattr(state, target, None)
        if engine is None or state.phase in (CLOSED, PAUSED) or engine.met_at is not None:
            return "stale"
        instant = engine.warn_at if kind == "warn" else engine.due
        if instant is None or timer_instant(instant) != deadline_ts:
            return "stale"
        stored = record.targets.get(target, TargetState())
        marked = replace(stored, warned_at=now) if kind == "warn" else replace(stored, breached_at=engine.due)
        updated = with_state(record, state)
        updated = replace(updated, targets={**updated.targets, target: replace(
            updated.targets[target], warned_at=marked.warned_at, breached_at=marked.breached_at)})
        intents = _timer_intents(ctx, updated, target, kind, engine.due)
        write = write_back(ctx, policy, version, updated)
        if write is not None:
            updated = replace(updated, last_written_hash=write.payload["hash"])
            intents.insert(0, write)
        ctx.stores.outbox.stage(ctx.key, record.issue_id, event_id, intents, at=now)
        try:
            stored_record = tickets.save(updated, record.version, event_id=event_id, at=now)
        except EventAlreadyApplied:
            return "done_before"
        except ConcurrentUpdate:
            fresh = tickets.get(ctx.key, record.issue_id)
            if fresh is None:
                return "stale"
            record = fresh
            continue
        ctx.audit(record.issue_id, "breached" if kind == "breach" else "warned",
                  {"target": target, "deadline": iso(engine.due), "rule": f"{record.tier}/{record.severity}",
                   "actions": [i.kind for i in intents if i.kind != "fields"]}, now)
        settle(ctx, stored_record)
        return "fired"
    raise ConcurrentUpdate(f"{ctx.key}/{record.issue_id}: timer lost every race")


def _timer_intents(ctx: TenantContext, record: TicketRecord, target: str, kind: str, due: datetime | None) -> list[Intent]:
    _, policy = ctx.policy_for(record.policy_version_id)
    on = "breach" if kind == "breach" else "pre_breach"
    body = page_payload(record, kind, target, due)
    words = "breached" if kind == "breach" else "is about to breach"
    note = f"Tierwise: {target.replace('_', ' ')} {words} (due {iso(due)}, {record.severity} on tier {record.tier})."
    intents: list[Intent] = []
    paged = False
    for action in matching_actions(policy, on, tier=record.tier, severity=record.severity, target=target):
        why = {"rule": f"on {on}: {action.kind}", "target": target, "deadline": iso(due)}
        intent = action_intent(action, why=why, page_body=body, oncall_url=ctx.settings.oncall_webhook_url,
                               note_text=note)
        if intent is not None:
            paged = paged or intent.kind == "page"
            intents.append(intent)
    assert record.tier is not None and record.severity is not None
    flags = policy.targets_for(record.tier, record.severity)
    if kind == "breach" and flags.page_on_call and not paged and ctx.settings.oncall_webhook_url:
        intents.append(Intent("page", {"url": ctx.settings.oncall_webhook_url, "body": body},
                              {"rule": f"{record.tier}/{record.severity} page_on_call", "target": target,
                               "deadline": iso(due)}))
    return intents


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
    policy = compiled_policy(version)
    tickets = ctx.stores.tickets
    open_tickets = tickets.list_open(tenant_key)
    total, done = len(open_tickets), 0
    svc.redis.set(progress_key, json.dumps({"done": 0, "total": total}), ex=REAPPLY_PROGRESS_TTL)
    for record in open_tickets:
        event_id = f"reapply:{version_id}:{record.issue_id}"
        try:
            if not tickets.is_event_applied(tenant_key, event_id):
                tier = record.tier if record.tier in policy.tiers else policy.mapping.default_tier
                severities = {s.id for s in policy.severities}
                severity = record.severity if record.severity in severities else policy.mapping.default_severity
                moved = replace(record, policy_version_id=version.id, tier=tier, severity=severity)
                now = datetime.now(UTC)
                moved = with_state(moved, evaluate(policy, moved.history(), now))
                write = write_back(ctx, policy, version, moved)
                intents = [write] if write is not None else []
                if write is not None:
                    moved = replace(moved, last_written_hash=write.payload["hash"])
                ctx.stores.outbox.stage(tenant_key, record.issue_id, event_id, intents, at=now)
                record = tickets.save(moved, record.version, event_id=event_id, at=now)
                ctx.audit(record.issue_id, "policy_reapplied", {"policy_version": version.number, "deadlines": {
                    name: iso(t.due) for name, t in record.targets.items()}}, now)
            settle(ctx, record)
        except (JiraError, ConcurrentUpdate, EventAlreadyApplied, PolicyError) as exc:
            # The ticket's next event or timer finishes it; one bad ticket must not stop the rest.
            log.warning("re-apply of %s to %s: %s", version_id, record.issue_key, exc)
        done += 1
        svc.redis.set(progress_key, json.dumps({"done": done, "total": total}), ex=REAPPLY_PROGRESS_TTL)
    return {"done": done, "total": total}
