"""What Tierwise does about one fact: `on_issue`, `on_comment`, `on_timer`, `on_reapply`.

Each takes the policy in force (`InForce`), the ticket's record (None: never seen), the fact, `now`
and the tenant's settings as plain data, and returns an `Update`: the new record (None: nothing to
save), the intents to stage (write-back first), the audit entries, and the timers the ticket
should have — with the SLA state evaluated once. No I/O: the worker loads, prefetches (at most one
Jira read), calls one of these, saves the update in one transaction, delivers and moves timers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any

from app.policy.actions import Situation, action_intents
from app.policy.actions.page import page_intent
from app.policy.eta import eta_comment_text, find_next_update_promise, promise_too_late
from app.policy.events import CommentEvent, IssueEvent
from app.policy.intent import Intent
from app.policy.mapping import TicketFacts, derive
from app.policy.model import ACTIVE, CLOSED, PAUSED, TARGETS, Policy
from app.policy.phases import phase_of
from app.policy.record import TargetState, TicketRecord
from app.policy.replies import AGENT_PUBLIC, classify_comment
from app.policy.sla import SlaState, evaluate
from app.policy.timefmt import timer_instant, utc_iso
from app.policy.writeback import page_payload, with_state, write_back, zone_of

#: Timer kinds: the pre-breach warning and the breach.
WARN, BREACH = "warn", "breach"
KINDS = (WARN, BREACH)

#: One timer a ticket should have: (target, kind, instant).
Timer = tuple[str, str, datetime]


@dataclass(frozen=True)
class InForce:
    """The policy a ticket runs under, with the id and number of its stored version (id None: built-in)."""

    policy: Policy
    version_id: int | None
    version_number: int


@dataclass(frozen=True)
class Settings:
    """The tenant's settings as `decide` needs them. `field_types` (field id → Jira schema type) is
    needed only when tier or severity is bound to a field: the worker prefetches it then."""

    tenant_key: str = ""
    field_bindings: Mapping[str, str] = field(default_factory=dict, hash=False)
    field_types: Mapping[str, str] = field(default_factory=dict, hash=False)
    oncall_webhook_url: str | None = None


@dataclass(frozen=True)
class Update:
    """What one fact does to a ticket. `timers` None: leave them as they are (no record)."""

    record: TicketRecord | None
    intents: tuple[Intent, ...] = ()
    audits: tuple[tuple[str, Mapping[str, Any]], ...] = ()
    timers: tuple[Timer, ...] | None = None
    outcome: str = "applied"


def on_issue(force: InForce, record: TicketRecord | None, event: IssueEvent, now: datetime,
             settings: Settings) -> Update:
    """An issue was created or updated (or read from Jira because a comment came first)."""
    audits: list[tuple[str, Mapping[str, Any]]] = []
    new = record is None
    record = _apply_issue(force, settings, record, event, audits)
    return _finish(force, record, now, settings, audits=audits, new=new)


def on_comment(force: InForce, record: TicketRecord | None, event: CommentEvent, now: datetime,
               settings: Settings, *, seed: IssueEvent | None = None) -> Update:
    """A comment was added. An unseen ticket is first tracked from `seed` (its issue read from Jira)."""
    audits: list[tuple[str, Mapping[str, Any]]] = []
    new = record is None
    if record is None:
        if seed is None:
            return Update(None, outcome="unknown_ticket")
        record = _apply_issue(force, settings, None, seed, audits)
    policy = force.policy
    if classify_comment(event, app_account_id=None, customers=record.customer_account_ids) != AGENT_PUBLIC:
        if not new:
            return Update(None, timers=timers_for(record, _state(policy, record, now)), outcome="not_a_reply")
        return _finish(force, record, now, settings, audits=audits, new=True, with_intents=False)
    record = record.with_reply(event.at)
    promise = find_next_update_promise(event.body_text, now=event.at, tz=zone_of(policy, record))
    record = replace(record, promised_update_at=promise)
    return _finish(force, record, now, settings, audits=audits, new=new, reply=True, promise=promise)


def on_timer(force: InForce, record: TicketRecord, target: str, kind: str, deadline_ts: int, now: datetime,
             settings: Settings) -> Update:
    """A warn or breach timer fired: run the policy's actions once, unless the deadline moved (stale)."""
    policy = force.policy
    state = _state(policy, record, now)
    engine = getattr(state, target, None) if target in TARGETS else None
    if engine is None or state.phase in (CLOSED, PAUSED) or engine.met_at is not None:
        return Update(None, outcome="stale")
    instant = engine.warn_at if kind == WARN else engine.due
    if instant is None or timer_instant(instant) != deadline_ts:
        return Update(None, outcome="stale")
    updated = with_state(record, state)
    mark = updated.targets[target]
    mark = replace(mark, warned_at=now) if kind == WARN else replace(mark, breached_at=engine.due)
    updated = replace(updated, targets=MappingProxyType({**updated.targets, target: mark}))
    intents = _timer_intents(policy, updated, target, kind, engine.due, settings)
    write = write_back(policy, force.version_number, updated, settings.field_bindings, settings.field_types)
    if write is not None:
        updated = replace(updated, last_written_hash=write.payload["hash"])
        intents.insert(0, write)
    audit = ("breached" if kind == BREACH else "warned",
             {"target": target, "deadline": utc_iso(engine.due), "rule": f"{record.tier}/{record.severity}",
              "actions": [i.kind for i in intents if i.kind != "fields"]})
    return Update(updated, tuple(intents), (audit,), timers_for(updated, state), outcome="fired")


def on_reapply(force: InForce, record: TicketRecord, now: datetime, settings: Settings) -> Update:
    """Move an open ticket to the policy version in `force` (unknown tier/severity → the defaults)."""
    policy = force.policy
    tier = record.tier if record.tier in policy.tiers else policy.mapping.default_tier
    severity = record.severity if record.severity in {s.id for s in policy.severities} \
        else policy.mapping.default_severity
    moved = replace(record, policy_version_id=force.version_id, tier=tier, severity=severity)
    state = _state(policy, moved, now)
    moved = with_state(moved, state)
    write = write_back(policy, force.version_number, moved, settings.field_bindings, settings.field_types)
    if write is not None:
        moved = replace(moved, last_written_hash=write.payload["hash"])
    audit = ("policy_reapplied", {"policy_version": force.version_number,
                                  "deadlines": {name: utc_iso(t.due) for name, t in moved.targets.items()}})
    return Update(moved, (write,) if write is not None else (), (audit,), timers_for(moved, state))


def timers_for(record: TicketRecord, state: SlaState) -> tuple[Timer, ...]:
    """A breach timer per open target, and a warn timer before it when not warned yet (sorted)."""
    if record.tier is None or record.severity is None or state.phase in (CLOSED, PAUSED):
        return ()
    wanted: list[Timer] = []
    for name in TARGETS:
        engine = getattr(state, name)
        stored = record.targets.get(name, TargetState())
        if engine.due is None or engine.met_at is not None or stored.breached_at is not None:
            continue
        wanted.append((name, BREACH, engine.due))
        if engine.warn_at is not None and stored.warned_at is None and engine.warn_at < engine.due:
            wanted.append((name, WARN, engine.warn_at))
    return tuple(sorted(wanted))


def ticket_timers(policy: Policy, record: TicketRecord, now: datetime) -> tuple[Timer, ...]:
    """The timers a stored record should have (a re-run that only settles what was committed)."""
    if record.tier is None or record.severity is None or record.phase in (CLOSED, PAUSED):
        return ()
    return timers_for(record, _state(policy, record, now))


# --- the steps ------------------------------------------------------------------------------------


def _state(policy: Policy, record: TicketRecord, now: datetime) -> SlaState:
    return evaluate(policy, record.history(), now)


def _finish(force: InForce, record: TicketRecord, now: datetime, settings: Settings, *,
            audits: list[tuple[str, Mapping[str, Any]]], new: bool, reply: bool = False,
            promise: datetime | None = None, with_intents: bool = True) -> Update:
    """Evaluate once; then the ETA/promise intents, the `created` actions and the write-back."""
    policy = force.policy
    tier, severity = record.tier, record.severity
    assert tier is not None and severity is not None
    history = record.history()
    state = evaluate(policy, history, now)
    record = with_state(record, state)
    if not with_intents:
        return Update(record, (), tuple(audits), timers_for(record, state))
    intents: list[Intent] = []
    targets = policy.targets_for(tier, severity)
    if reply and state.phase != CLOSED:
        due = state.next_update.due
        if promise is None and targets.eta_required and due is not None:
            text = eta_comment_text(due, zone_of(policy, record), severity_name=policy.severity(severity).name,
                                    phase=state.phase)
            intents.append(Intent("public_reply", {"text": text}, {
                "action": "eta_comment", "rule": f"{tier}/{severity} eta_required",
                "target": "next_update", "deadline": utc_iso(due)}))
        if promise is not None:
            policy_due = evaluate(policy, replace(history, promised_update=None), now).next_update.due
            audits.append(("promise_honoured", {"target": "next_update", "deadline": utc_iso(promise)}))
            if promise_too_late(promise, policy_due):
                text = (f"Tierwise: the next update was promised for {utc_iso(promise)}, later than the policy "
                        f"allows ({utc_iso(policy_due)}, {severity} cadence in phase {state.phase}).")
                intents.append(Intent("internal_note", {"text": text, "mention_assignee": True}, {
                    "action": "promise_too_late", "target": "next_update", "deadline": utc_iso(policy_due),
                    "promised": utc_iso(promise)}))
    first_due = state.first_response.due
    if new and not reply and targets.eta_required and first_due is not None and state.phase != CLOSED:
        # An eta_required request is acknowledged at once with the time of the first response.
        text = eta_comment_text(first_due, zone_of(policy, record), severity_name=policy.severity(severity).name,
                                phase=state.phase)
        intents.append(Intent("public_reply", {"text": text}, {
            "action": "eta_comment", "rule": f"{tier}/{severity} eta_required", "target": "first_response",
            "deadline": utc_iso(first_due)}))
    if new:
        situation = Situation("created", record, {}, note_text=f"Tierwise: {severity} ticket on tier {tier}.",
                              page_body=page_payload(record, "created", None, None),
                              oncall_url=settings.oncall_webhook_url)
        intents += action_intents(policy, situation)
    write = write_back(policy, force.version_number, record, settings.field_bindings, settings.field_types)
    if write is not None:
        record = replace(record, last_written_hash=write.payload["hash"])
        intents.insert(0, write)
    return Update(record, tuple(intents), tuple(audits), timers_for(record, state))


def _apply_issue(force: InForce, settings: Settings, record: TicketRecord | None, event: IssueEvent,
                 audits: list[tuple[str, Mapping[str, Any]]]) -> TicketRecord:
    """The record with the issue's tier, severity, customers and phase (a new record for an unseen one)."""
    policy = force.policy
    facts = TicketFacts(fields=event.fields, organizations=event.organizations, reporter_email=event.reporter_email)
    derived = derive(policy, facts)
    if record is None:
        record = TicketRecord(tenant_key=settings.tenant_key, issue_id=event.issue_id, issue_key=event.issue_key,
                              created_at=event.created_at or event.at, policy_version_id=force.version_id)
        audits.append(("tracked", {"tier": derived.tier, "severity": derived.severity,
                                   "tier_rule": derived.tier_rule, "severity_rule": derived.severity_rule,
                                   "policy": policy.id, "policy_version": force.version_number}))
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


def _timer_intents(policy: Policy, record: TicketRecord, target: str, kind: str, due: datetime | None,
                   settings: Settings) -> list[Intent]:
    """The policy's pre_breach/breach actions, plus the page of a breached `page_on_call` target."""
    on = BREACH if kind == BREACH else "pre_breach"
    words = "breached" if kind == BREACH else "is about to breach"
    situation = Situation(
        on, record, {"target": target, "deadline": utc_iso(due)},
        note_text=f"Tierwise: {target.replace('_', ' ')} {words} (due {utc_iso(due)}, {record.severity} "
                  f"on tier {record.tier}).",
        page_body=page_payload(record, kind, target, due), oncall_url=settings.oncall_webhook_url,
        target=target, due=due)
    intents = action_intents(policy, situation)
    assert record.tier is not None and record.severity is not None
    flags = policy.targets_for(record.tier, record.severity)
    if kind == BREACH and flags.page_on_call and not any(i.kind == "page" for i in intents):
        page = page_intent(settings.oncall_webhook_url, replace(situation, why={
            "rule": f"{record.tier}/{record.severity} page_on_call", "target": target, "deadline": utc_iso(due)}))
        if page is not None:
            intents.append(page)
    return intents
