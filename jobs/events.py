"""`process_event(tenant_key, event_id)`: apply one ingested webhook to the ticket's SLA record.

The job reloads everything from ids: the tenant, the event body (stored by the web handler under
`event_key(event_id)`), the ticket's record and the policy. It is idempotent: the event is marked
applied in the same transaction as the record change, and the Jira writes it implies are outbox
intents that take effect with that transaction (`app.storage.outbox`). After the change the job
*settles* the ticket: delivers open intents (one `PUT` for fields + the `tierwise.sla` property,
the ETA follow-up, notes) and moves its timers. A re-run after a crash finds the event applied and
only settles, so nothing is lost and nothing is done twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from app.jira.errors import JiraError
from app.policy.errors import PolicyError
from app.policy.eta import eta_comment_text, find_next_update_promise, promise_too_late
from app.policy.events import EventError, IssueEvent, TicketEvent, parse_webhook
from app.policy.mapping import TicketFacts, derive
from app.policy.model import ACTIVE, CLOSED, Policy
from app.policy.phases import phase_of
from app.policy.replies import ACCOUNT_TYPE_APP, AGENT_PUBLIC, classify_comment
from app.policy.sla import evaluate
from app.queueing.ingest import delete_event, load_event
from app.storage.outbox import Intent
from app.storage.policies import PolicyVersion
from app.storage.tickets import ConcurrentUpdate, EventAlreadyApplied, TicketRecord
from jobs.actions import action_intent, matching_actions
from jobs.bootstrap import services
from jobs.context import TenantContext, app_account_key, issue_meta_key, load_context
from jobs.issue_refresh import refresh_partial_issue
from jobs.retry import retry_delay, schedule_retry
from jobs.sla import settle
from jobs.ticket_sla import with_state, zone_of
from jobs.writeback import iso as _iso
from jobs.writeback import page_payload, write_back

log = logging.getLogger(__name__)

#: Times a job re-reads and re-applies after losing an optimistic-version race.
MAX_CONFLICT_RETRIES = 5


@dataclass
class TicketUpdate:
    """What one event does to a ticket: the new record, the Jira intents, the audit entries."""

    record: TicketRecord
    intents: list[Intent] = field(default_factory=list)
    audits: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


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
    if _known_echo(svc.redis, tenant_key, event):  # cheap: no database read for the app's own echoes
        delete_event(svc.redis, event_id)
        return "own"
    ctx = load_context(tenant_key, svc)
    if ctx is None or (not ctx.tenant.takes_connect_events and not event.partial_issue):  # one door per site
        delete_event(svc.redis, event_id)
        return "no_tenant" if ctx is None else "other_door"
    try:
        if _caused_by_app(ctx, event):
            delete_event(svc.redis, event_id)
            return "own"
        event = refresh_partial_issue(ctx, event, ctx.policy)  # Forge's reduced issue: one REST read
        if isinstance(event, IssueEvent):
            _remember_issue_meta(ctx, event)
        record = apply_event(ctx, event, event_id)
        if record is not None:
            settle(ctx, record)
    except JiraError as exc:
        delay = retry_delay(exc, attempt)
        if delay is None:
            abandoned = ctx.stores.outbox.abandon_open(ctx.key, event.issue_id, at=datetime.now(UTC))
            ctx.audit(event.issue_id, "gave_up", {"event": event_id, "error": str(exc), "status": exc.status,
                                                  "attempts": attempt + 1, "intents_abandoned": abandoned})
            delete_event(svc.redis, event_id)
            return "gave_up"
        schedule_retry("jobs.events.process_event", (tenant_key, event_id), attempt, delay,
                       fallback_queue=svc.queue)
        return "retry"
    delete_event(svc.redis, event_id)
    return "applied"


def _actor(event: TicketEvent) -> tuple[str | None, str | None]:
    if isinstance(event, IssueEvent):
        return event.actor_account_id, event.actor_account_type
    return event.author_account_id, event.author_account_type


def _known_echo(redis_client: Any, tenant_key: str, event: TicketEvent) -> bool:
    """True when the actor is the app user whose id is already known (no Jira or database call)."""
    actor, actor_type = _actor(event)
    if actor_type != ACCOUNT_TYPE_APP or not actor:
        return False
    known = redis_client.get(app_account_key(tenant_key))
    return known is not None and (known.decode() if isinstance(known, bytes) else str(known)) == actor


def _caused_by_app(ctx: TenantContext, event: TicketEvent) -> bool:
    """True for the echo of the app's own write (its user is an `app` account; other apps are followed)."""
    actor, actor_type = _actor(event)
    if actor_type != ACCOUNT_TYPE_APP or not actor:
        return False
    return actor == ctx.app_account_id()


def _remember_issue_meta(ctx: TenantContext, event: IssueEvent) -> None:
    issuetype = event.fields.get("issuetype")
    assignee = event.fields.get("assignee")
    meta: dict[Any, Any] = {
        "type": str(issuetype.get("name") or issuetype.get("id") or "") if isinstance(issuetype, dict) else "",
        "assignee": str(assignee.get("accountId") or "") if isinstance(assignee, dict) else "",
    }
    ctx.redis.hset(issue_meta_key(ctx.key, event.issue_id), mapping=meta)


def apply_event(ctx: TenantContext, event: TicketEvent, event_id: str) -> TicketRecord | None:
    """Apply `event` once: stage its intents, then save the record with the event marked applied."""
    tickets = ctx.stores.tickets
    for conflict in range(MAX_CONFLICT_RETRIES):
        record = tickets.get(ctx.key, event.issue_id)
        if tickets.is_event_applied(ctx.key, event_id):
            return record
        now = datetime.now(UTC)
        try:
            update = compute_update(ctx, record, event, now)
        except PolicyError as exc:
            ctx.audit(event.issue_id, "policy_error", {"event": event_id, "error": str(exc)})
            tickets.mark_event_applied(ctx.key, event_id)
            return record
        if update is None:
            tickets.mark_event_applied(ctx.key, event_id)
            return record
        if update.intents or conflict:
            ctx.stores.outbox.stage(ctx.key, event.issue_id, event_id, update.intents, at=now)
        try:
            stored = tickets.save(update.record, record.version if record else 0, event_id=event_id, at=now)
        except EventAlreadyApplied:
            return tickets.get(ctx.key, event.issue_id)
        except ConcurrentUpdate:
            continue
        for action, detail in update.audits:
            ctx.audit(event.issue_id, action, {**detail, "event": event_id}, now)
        return stored
    raise ConcurrentUpdate(f"{ctx.key}/{event.issue_id}: gave up after {MAX_CONFLICT_RETRIES} races")


def compute_update(
    ctx: TenantContext, record: TicketRecord | None, event: TicketEvent, now: datetime
) -> TicketUpdate | None:
    """The ticket's next record and the intents and audit entries that go with it (None: nothing to do)."""
    audits: list[tuple[str, dict[str, Any]]] = []
    new = record is None
    if isinstance(event, IssueEvent):
        version, policy = ctx.policy_for(record.policy_version_id) if record else (ctx.version, ctx.policy)
        record = _apply_issue(ctx.key, policy, version, record, event, audits)
    else:
        if record is None:
            seed = _seed_from_jira(ctx, event.issue_key, event.at)
            if seed is None:
                return None
            version, policy = ctx.version, ctx.policy
            record = _apply_issue(ctx.key, policy, version, None, seed, audits)
        else:
            version, policy = ctx.policy_for(record.policy_version_id)
    tier, severity = record.tier, record.severity
    assert tier is not None and severity is not None

    promise = None
    reply = False
    if not isinstance(event, IssueEvent):
        kind = classify_comment(event, app_account_id=None, customers=record.customer_account_ids)
        if kind != AGENT_PUBLIC:
            return TicketUpdate(record) if new else None
        reply = True
        record = record.with_reply(event.at)
        promise = find_next_update_promise(event.body_text, now=event.at, tz=zone_of(policy, record))
        record = replace(record, promised_update_at=promise)

    history = record.history()
    state = evaluate(policy, history, now)
    record = with_state(record, state)
    intents: list[Intent] = []
    targets = policy.targets_for(tier, severity)
    due = state.next_update.due
    if reply and state.phase != CLOSED:
        if promise is None and targets.eta_required and due is not None:
            text = eta_comment_text(due, zone_of(policy, record), severity_name=policy.severity(severity).name,
                                    phase=state.phase)
            intents.append(Intent("public_reply", {"text": text}, {
                "action": "eta_comment", "rule": f"{record.tier}/{record.severity} eta_required",
                "target": "next_update", "deadline": _iso(due)}))
        if promise is not None:
            policy_due = evaluate(policy, replace(history, promised_update=None), now).next_update.due
            audits.append(("promise_honoured", {"target": "next_update", "deadline": _iso(promise)}))
            if promise_too_late(promise, policy_due):
                text = (f"Tierwise: the next update was promised for {_iso(promise)}, later than the policy "
                        f"allows ({_iso(policy_due)}, {record.severity} cadence in phase {state.phase}).")
                intents.append(Intent("internal_note", {"text": text, "mention_assignee": True}, {
                    "action": "promise_too_late", "target": "next_update", "deadline": _iso(policy_due),
                    "promised": _iso(promise)}))
    first_due = state.first_response.due
    if new and not reply and targets.eta_required and first_due is not None and state.phase != CLOSED:
        # An eta_required request is acknowledged at once with the time of the first response.
        text = eta_comment_text(first_due, zone_of(policy, record), severity_name=policy.severity(severity).name,
                                phase=state.phase)
        intents.append(Intent("public_reply", {"text": text}, {
            "action": "eta_comment", "rule": f"{tier}/{severity} eta_required", "target": "first_response",
            "deadline": _iso(first_due)}))
    if new:
        page_body = page_payload(record, "created", None, None)
        for action in matching_actions(policy, "created", tier=record.tier, severity=record.severity):
            intent = action_intent(action, why={"rule": f"on created: {action.kind}"}, page_body=page_body,
                                   oncall_url=ctx.settings.oncall_webhook_url,
                                   note_text=f"Tierwise: {record.severity} ticket on tier {record.tier}.")
            if intent is not None:
                intents.append(intent)
    write = write_back(ctx, policy, version, record)
    if write is not None:
        record = replace(record, last_written_hash=write.payload["hash"])
        intents.insert(0, write)
    return TicketUpdate(record, intents, audits)


def _apply_issue(tenant_key: str, policy: Policy, version: PolicyVersion, record: TicketRecord | None, event: IssueEvent,
                 audits: list[tuple[str, dict[str, Any]]]) -> TicketRecord:
    facts = TicketFacts(fields=event.fields, organizations=event.organizations, reporter_email=event.reporter_email)
    derived = derive(policy, facts)
    if record is None:
        record = TicketRecord(tenant_key=tenant_key, issue_id=event.issue_id, issue_key=event.issue_key,
                              created_at=event.created_at or event.at, policy_version_id=version.id)
        audits.append(("tracked", {"tier": derived.tier, "severity": derived.severity,
                                   "tier_rule": derived.tier_rule, "severity_rule": derived.severity_rule,
                                   "policy": policy.id, "policy_version": version.number}))
    elif (record.tier, record.severity) != (derived.tier, derived.severity):
        audits.append(("recomputed", {"from": [record.tier, record.severity], "to": [derived.tier, derived.severity],
                                      "tier_rule": derived.tier_rule, "severity_rule": derived.severity_rule}))
    customers = list(record.customer_account_ids)
    for account in (event.reporter_account_id, *event.request_participants):
        if account and account not in customers:
            customers.append(account)
    record = replace(record, issue_key=event.issue_key, tier=derived.tier, severity=derived.severity,
                     tier_rule=derived.tier_rule, severity_rule=derived.severity_rule,
                     customer_account_ids=tuple(customers))
    if event.status_name:
        phase = phase_of(policy, event.status_name, event.status_category)
        if phase != record.phase:
            at = record.created_at if not record.phase_changes and phase != ACTIVE and event.kind == "issue_created" \
                else event.at
            record = record.with_phase(max(at, record.created_at), phase)
    return record


def _seed_from_jira(ctx: TenantContext, issue_key: str, at: datetime) -> IssueEvent | None:
    """An issue Tierwise never saw (a comment came first): read it once from Jira as a created event."""
    issue = ctx.jira.get_issue(issue_key)
    parsed = parse_webhook({"webhookEvent": "jira:issue_created", "issue": issue,
                            "timestamp": int(at.timestamp() * 1000)})
    return parsed if isinstance(parsed, IssueEvent) else None
