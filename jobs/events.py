"""`process_event(tenant_key, event_id)`: apply one ingested webhook to the ticket's SLA record.

The data path of one event:

1. load by ids: the event body (stored by the web tier under `event_key(event_id)`), parsed;
   echoes of the app's own writes end here;
2. in ONE transaction: the tenant, its policy version and settings, the ticket's record and the
   event's applied mark; if `decide` lacks something from Jira (the whole issue for a reduced
   Forge event or a comment on an unseen ticket; field types), the transaction is dropped, the
   prefetch reads it (`jobs.prefetch`, at most one issue read) and the transaction starts again;
3. decide (`app.policy.decide`, pure): new record, intents, audit entries, timers;
4. in the same transaction: the applied mark, the record, the intents, the audit entries — and the
   ticket's open intents read back, so delivery needs no read of its own;
5. deliver the intents (`jobs.actions`), then move the ticket's timers (`jobs.sla.sync_timers`).

Idempotent: a re-run finds the event applied and only delivers and moves timers (step 5).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.jira.errors import JiraError
from app.keys import PROCESS_EVENT_JOB, issue_meta_key
from app.policy.decide import Timer, Update, on_comment, on_issue
from app.policy.errors import PolicyError
from app.policy.events import APP_ACCOUNT_TYPE, EventError, IssueEvent, TicketEvent, actor_of, parse_webhook
from app.policy.record import TicketRecord
from app.queueing.ingest import delete_event, load_event
from app.storage.outbox import StoredIntent
from app.storage.ticket_unit import UnitTx
from app.storage.tickets import EventAlreadyApplied
from jobs import prefetch
from jobs.bootstrap import services
from jobs.context import Stores, TenantContext, known_app_echo, load_context, stores
from jobs.retry import retry_delay, schedule_retry
from jobs.sla import settle
from jobs.unit import in_one_transaction, require

log = logging.getLogger(__name__)


@dataclass
class Applied:
    """How applying an event went: the context, the stored record, the open intents, the timers."""

    outcome: str
    ctx: TenantContext | None = None
    record: TicketRecord | None = None
    intents: list[StoredIntent] | None = None
    timers: tuple[Timer, ...] | None = None


def process_event(tenant_key: str, event_id: str, attempt: int = 0) -> str:
    """Apply the ingested event `event_id` of `tenant_key`; return what happened (for logs and tests)."""
    svc = services()
    body = load_event(svc.redis, event_id)
    if body is None:
        log.info("event %s is gone (expired or done)", event_id)
        return "gone"
    try:
        event = parse_webhook(body)
    except EventError as exc:
        log.warning("event %s unreadable: %s", event_id, exc)
        delete_event(svc.redis, event_id)
        return "unreadable"
    if event is None or (isinstance(event, IssueEvent) and event.is_comment_echo):
        delete_event(svc.redis, event_id)
        return "ignored"
    if known_app_echo(svc.redis, tenant_key, event):  # cheap: no database read for the app's own echoes
        delete_event(svc.redis, event_id)
        return "own"
    st = stores(svc)
    ctx: TenantContext | None = None
    try:
        if actor_of(event)[1] == APP_ACCOUNT_TYPE:  # an app's user, not known as ours yet: ask Jira once
            ctx = load_context(tenant_key, svc)
            if ctx is not None and ctx.caused_by_app(event):
                delete_event(svc.redis, event_id)
                return "own"
        applied = apply_event(st, tenant_key, event, event_id)
        ctx = applied.ctx
        if ctx is None or applied.outcome == "other_door":
            delete_event(svc.redis, event_id)
            return "no_tenant" if ctx is None else "other_door"
        if isinstance(event, IssueEvent):
            _remember_issue_meta(ctx, event)
        if applied.record is not None:
            settle(ctx, applied.record, intents=applied.intents, timers=applied.timers)
    except JiraError as exc:
        ctx = ctx or load_context(tenant_key, svc)
        delay = retry_delay(exc, attempt)
        if delay is None:
            if ctx is not None:
                abandoned = ctx.stores.outbox.abandon_open(ctx.key, event.issue_id, at=datetime.now(UTC))
                ctx.audit(event.issue_id, "gave_up", {"event": event_id, "error": str(exc), "status": exc.status,
                                                      "attempts": attempt + 1, "intents_abandoned": abandoned})
            delete_event(svc.redis, event_id)
            return "gave_up"
        schedule_retry(PROCESS_EVENT_JOB, (tenant_key, event_id), attempt, delay, fallback_queue=svc.queue)
        return "retry"
    delete_event(svc.redis, event_id)
    return "applied"


def _remember_issue_meta(ctx: TenantContext, event: IssueEvent) -> None:
    issuetype = event.fields.get("issuetype")
    assignee = event.fields.get("assignee")
    meta: dict[Any, Any] = {
        "type": str(issuetype.get("name") or issuetype.get("id") or "") if isinstance(issuetype, dict) else "",
        "assignee": str(assignee.get("accountId") or "") if isinstance(assignee, dict) else "",
    }
    ctx.redis.hset(issue_meta_key(ctx.key, event.issue_id), mapping=meta)


def apply_event(st: Stores, tenant_key: str, event: TicketEvent, event_id: str) -> Applied:
    """Apply `event` once, in one transaction (plus a prefetch and a retry when `decide` needs Jira)."""
    def step(tx: UnitTx, ctx: TenantContext, got: prefetch.Prefetched) -> Applied:
        if not ctx.tenant.takes_connect_events and not event.partial_issue:  # one door per site: Forge's
            return Applied("other_door", ctx)
        record = tx.record(ctx.key, event.issue_id)
        if tx.is_applied(ctx.key, event_id):
            return Applied("done_before", ctx, record, tx.open_intents(ctx.key, event.issue_id) if record else None)
        got = require(ctx, got, event=event, record_known=record is not None)
        now = datetime.now(UTC)
        try:
            update = decide(ctx, record, event, now, got)
        except PolicyError as exc:
            tx.audit(ctx.key, event.issue_id, "policy_error", {"event": event_id, "error": str(exc)}, now)
            tx.mark_applied(ctx.key, event_id, now)
            return Applied("policy_error", ctx, record, None)
        if update.record is None:
            tx.mark_applied(ctx.key, event_id, now)
            return Applied(update.outcome, ctx, record, None, update.timers)
        stored = tx.commit_update(update.record, record.version if record else 0, event_id=event_id,
                                  intents=update.intents, audits=update.audits, at=now)
        return Applied("applied", ctx, stored, tx.open_intents(ctx.key, event.issue_id), update.timers)

    try:
        return in_one_transaction(st, tenant_key, step, event=event) or Applied("no_tenant")
    except EventAlreadyApplied:
        return _done_before(st, tenant_key, event)


def _done_before(st: Stores, tenant_key: str, event: TicketEvent) -> Applied:
    ctx = load_context(tenant_key, st.services)
    return Applied("done_before", ctx, st.tickets.get(tenant_key, event.issue_id) if ctx else None)


def decide(ctx: TenantContext, record: TicketRecord | None, event: TicketEvent, now: datetime,
           got: prefetch.Prefetched) -> Update:
    """The pure decision for `event`, with the policy the ticket runs under and what was prefetched."""
    force = ctx.in_force(record)
    settings = ctx.decide_settings(prefetch.field_types(ctx, got))
    if isinstance(event, IssueEvent):
        fact = prefetch.whole_issue(event, got.issue) if event.partial_issue else event
        return on_issue(force, record, fact, now, settings)
    return on_comment(force, record, event, now, settings, seed=got.issue if record is None else None)

