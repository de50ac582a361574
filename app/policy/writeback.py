"""A ticket's SLA record seen through the policy engine, and the write-back it needs in Jira.

Pure functions over `TicketRecord`, `Policy` and the tenant's field bindings: the per-target record
state, the `tierwise.sla` entity property, the mapped field values and their hash (an unchanged
hash means no Jira call), and the one `fields` intent (fields + property in one `PUT`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from app.policy.intent import Intent
from app.policy.model import CLOSED, PAUSED, TARGETS, Policy
from app.policy.record import TargetState, TicketRecord
from app.policy.sla import SlaState, calendar_for
from app.policy.sla import TargetState as EngineTarget
from app.policy.timefmt import jira_time, utc_iso

#: The issue entity property Tierwise writes (declared in the descriptor's jiraEntityProperties).
SLA_PROPERTY = "tierwise.sla"
#: Version of the `tierwise.sla` property's shape (JQL aliases read its keys).
PROPERTY_SHAPE = 1
#: Property keys of each target's deadline (flat, so jiraEntityProperties can extract them).
DUE_KEYS = {"first_response": "firstResponseDue", "next_update": "nextUpdateDue", "resolution": "resolutionDue"}
#: Field binding keys (tenant settings) of each target's deadline.
DUE_BINDINGS = {"first_response": "first_response_due", "next_update": "next_update_due",
                "resolution": "resolution_due"}


def pauses_of(phase_changes: tuple[tuple[datetime, str], ...]) -> tuple[tuple[datetime, datetime | None], ...]:
    """The paused spans a list of phase changes makes (end None while still paused)."""
    spans: list[tuple[datetime, datetime | None]] = []
    start: datetime | None = None
    for at, phase in phase_changes:
        if phase == PAUSED and start is None:
            start = at
        elif phase != PAUSED and start is not None:
            spans.append((start, at))
            start = None
    if start is not None:
        spans.append((start, None))
    return tuple(spans)


def with_state(record: TicketRecord, state: SlaState) -> TicketRecord:
    """The record with each target's deadline and outcome from `state` (warn/breach marks kept per deadline)."""
    targets: dict[str, TargetState] = {}
    for name in TARGETS:
        engine: EngineTarget = getattr(state, name)
        old = record.targets.get(name, TargetState())
        same_deadline = old.due == engine.due
        targets[name] = TargetState(
            due=engine.due,
            warned_at=old.warned_at if same_deadline else None,
            met_at=engine.met_at,
            breached_at=(old.breached_at if same_deadline else None)
            or (engine.due if engine.breached and engine.met_at is not None else None),
        )
    closed_at = next((at for at, p in reversed(record.phase_changes) if p == CLOSED), None) \
        if state.phase == CLOSED else None
    return replace(
        record,
        phase=state.phase,
        targets=targets,
        pauses=pauses_of(record.phase_changes),
        closed_at=closed_at,
    )


def target_word(record: TicketRecord, name: str) -> str:
    """A target's state for the property: met, breached, paused, open or none (no clock reading)."""
    t = record.targets.get(name, TargetState())
    if t.met_at is not None:
        return "met"
    if t.breached_at is not None:
        return "breached"
    if t.due is None:
        return "paused" if record.phase == PAUSED and name != "next_update" else "none"
    return "open"


def sla_property(record: TicketRecord, policy: Policy, version_number: int) -> dict[str, Any]:
    """The `tierwise.sla` entity property: deadlines and state, flat keys for JQL aliases."""
    value: dict[str, Any] = {
        "shape": PROPERTY_SHAPE,
        "policy": policy.id,
        "policyVersion": version_number,
        "tier": record.tier,
        "severity": record.severity,
        "phase": record.phase,
    }
    for name, key in DUE_KEYS.items():
        value[key] = utc_iso(record.targets.get(name, TargetState()).due)
        value[key.replace("Due", "State")] = target_word(record, name)
    value["breached"] = any(target_word(record, n) == "breached" for n in TARGETS)
    return value


def field_values(
    record: TicketRecord, policy: Policy, bindings: Mapping[str, str], field_types: Mapping[str, str]
) -> dict[str, Any]:
    """Jira field id → value for the tenant's bound SLA fields (select fields as `{"value": name}`)."""
    values: dict[str, Any] = {}
    for name, binding in DUE_BINDINGS.items():
        field_id = bindings.get(binding)
        if field_id:
            values[field_id] = jira_time(record.targets.get(name, TargetState()).due)
    labels = {
        "tier": policy.tiers[record.tier].name if record.tier and record.tier in policy.tiers else record.tier,
        "severity": _severity_name(policy, record.severity),
    }
    for binding, text in labels.items():
        field_id = bindings.get(binding)
        if field_id and text:
            values[field_id] = {"value": text} if field_types.get(field_id) == "option" else text
    return values


def _severity_name(policy: Policy, severity: str | None) -> str | None:
    if severity is None:
        return None
    try:
        return policy.severity(severity).name
    except KeyError:
        return severity


def write_hash(fields: Mapping[str, Any], prop: Mapping[str, Any]) -> str:
    """A digest of one write-back: equal digests mean the PUT would change nothing."""
    blob = json.dumps({"f": fields, "p": prop}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def zone_of(policy: Policy, record: TicketRecord) -> Any:
    """The time zone of the ticket's next-update cadence (else first response's calendar)."""
    assert record.tier is not None and record.severity is not None
    targets = policy.targets_for(record.tier, record.severity)
    cadence = targets.cadence_for(record.phase if record.phase != PAUSED else "active") or \
        next(iter(targets.update_cadence.values()), None)
    return calendar_for(policy, cadence or targets.first_response).tz



def binds_labels(bindings: Mapping[str, str]) -> bool:
    """True when tier or severity is bound to a field (then the field types must be known)."""
    return bool(bindings.get("tier") or bindings.get("severity"))


def write_back(policy: Policy, version_number: int, record: TicketRecord, bindings: Mapping[str, str],
               field_types: Mapping[str, str]) -> Intent | None:
    """The one PUT (bound fields + `tierwise.sla`) the record needs, or None when Jira already has it."""
    fields = field_values(record, policy, bindings, field_types)
    prop = sla_property(record, policy, version_number)
    digest = write_hash(fields, prop)
    if digest == record.last_written_hash:
        return None
    why = {"rule": f"{record.tier}/{record.severity}", "tier_rule": record.tier_rule,
           "severity_rule": record.severity_rule,
           "deadlines": {name: utc_iso(t.due) for name, t in record.targets.items()}}
    return Intent("fields", {"fields": fields, "properties": [{"key": SLA_PROPERTY, "value": prop}],
                             "hash": digest}, why)


def page_payload(record: TicketRecord, kind: str, target: str | None, due: datetime | None) -> dict[str, Any]:
    """The JSON an on-call page carries."""
    return {"ticket": record.issue_key, "tier": record.tier, "severity": record.severity,
            "target": target, "due": utc_iso(due), "kind": kind}
