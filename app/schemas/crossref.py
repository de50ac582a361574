"""Cross-reference checks of a raw policy document: ids used in one place must exist in another.

Run on the raw document (not the loaded one) so that they are reported together with every
structural error; anything of the wrong shape is skipped here (the schema reports it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError

from app.policy.model import (
    BUILTIN_PHASES,
    CALENDAR_24X7,
    CLOSED,
    ENTERED_PHASE,
    ON_HOLIDAYS,
    PAUSED,
    TARGETS,
)
from app.policy.triage import TRIAGE_EVENTS
from app.schemas.fields import parse_target

Error = tuple[str, str]


def _ids(items: Any) -> list[str]:
    if not isinstance(items, list):
        return []
    return [item["id"] for item in items if isinstance(item, Mapping) and isinstance(item.get("id"), str)]


def _keys(value: Any) -> list[str]:
    return [k for k in value if isinstance(k, str)] if isinstance(value, Mapping) else []


def _known(kind: str, value: str, known: list[str]) -> str:
    return f'unknown {kind} "{value}" (known: {", ".join(known) or "none"})'


def check(doc: Mapping[str, Any]) -> list[Error]:
    """Every broken reference in `doc`, as (path, problem)."""
    severities = _ids(doc.get("severities"))
    tiers = _keys(doc.get("tiers"))
    calendars = [CALENDAR_24X7, *_keys(doc.get("calendars"))]
    phases = list(dict.fromkeys([*BUILTIN_PHASES, *_keys(doc.get("phases"))]))
    ids = {"severity": severities, "tier": tiers}
    errors: list[Error] = []
    errors += _check_severities(doc.get("severities"))
    if CALENDAR_24X7 in _keys(doc.get("calendars")):
        errors.append((f"calendars.{CALENDAR_24X7}", "24x7 is built in; give your calendar another id"))
    if isinstance(doc.get("tiers"), Mapping):
        for tier_id, tier in doc["tiers"].items():
            if isinstance(tier, Mapping):
                errors += _check_tier(f"tiers.{tier_id}", tier, severities, calendars, phases)
    errors += _check_mapping(doc.get("mapping"), ids)
    errors += _check_phases(doc.get("phases"))
    custom = doc.get("custom_targets")
    for target_id, target in custom.items() if isinstance(custom, Mapping) else ():
        if isinstance(target, Mapping):
            errors += _check_custom_target(f"custom_targets.{target_id}", target, ids, calendars, phases)
        if target_id in TARGETS:
            errors.append(
                (f"custom_targets.{target_id}", f'"{target_id}" is a built-in target; choose another id')
            )
    ids["target"] = [*TARGETS, *_keys(custom)]
    actions = doc.get("actions")
    for n, action in enumerate(actions if isinstance(actions, list) else []):
        if isinstance(action, Mapping):
            errors += _check_listed(f"actions.{n}", action, ids, ("severities", "tiers", "targets"))
            if action.get("on") in TRIAGE_EVENTS and action.get("targets"):
                errors.append((f"actions.{n}.targets", f'a triage action ("{action["on"]}") has no target'))
    notes = doc.get("notes")
    for n, note in enumerate(notes if isinstance(notes, list) else []):
        if isinstance(note, Mapping):
            errors += _check_note(f"notes.{n}", note, ids, doc.get("calendars"))
    return errors


_LISTS = {"severities": "severity", "tiers": "tier", "targets": "target", "pause_phases": "phase"}


def _check_listed(
    path: str, item: Mapping[str, Any], ids: dict[str, list[str]], keys: tuple[str, ...]
) -> list[Error]:
    """Unknown ids in the lists `keys` of `item` (severities, tiers, targets, pause phases)."""
    errors: list[Error] = []
    for key in keys:
        kind = _LISTS[key]
        listed = item.get(key)
        for value in listed if isinstance(listed, list) else []:
            if isinstance(value, str) and value not in ids[kind]:
                errors.append((f"{path}.{key}", _known(kind, value, ids[kind])))
    return errors


def _check_custom_target(
    path: str, target: Mapping[str, Any], ids: dict[str, list[str]], calendars: list[str], phases: list[str]
) -> list[Error]:
    errors = _check_listed(path, target, {**ids, "phase": phases}, ("severities", "tiers", "pause_phases"))
    calendar = _target_calendar(target.get("duration"))
    if calendar is not None and calendar not in calendars:
        errors.append((f"{path}.duration.calendar", _known("calendar", calendar, calendars)))
    for side in ("start", "stop"):
        conditions = target.get(side)
        for n, condition in enumerate(conditions if isinstance(conditions, list) else []):
            named = condition.get(ENTERED_PHASE) if isinstance(condition, Mapping) else None
            for phase in [named] if isinstance(named, str) else named if isinstance(named, list) else []:
                if isinstance(phase, str) and phase not in phases:
                    errors.append((f"{path}.{side}.{n}.{ENTERED_PHASE}", _known("phase", phase, phases)))
    return errors


def _check_note(path: str, note: Mapping[str, Any], ids: dict[str, list[str]], calendars: Any) -> list[Error]:
    errors = _check_listed(path, note, ids, ("severities", "tiers"))
    calendar = note.get("calendar")
    known = _keys(calendars)
    if isinstance(calendar, str) and calendar not in known:
        errors.append((f"{path}.calendar", _known("calendar", calendar, known)))
    elif note.get("when") == ON_HOLIDAYS and not isinstance(calendar, str):
        # A named calendar without holidays is no error: the note just never shows (an admin editing the
        # calendar's holidays passes through that state).
        errors.append((f"{path}.calendar", "a holiday note names the calendar whose holidays it shows on "
                                           "(one that has holidays)"))
    return errors


def _check_severities(items: Any) -> list[Error]:
    errors: list[Error] = []
    if not isinstance(items, list):
        return errors
    seen_ids: set[str] = set()
    seen_words: dict[str, str] = {}
    for n, item in enumerate(items):
        if not isinstance(item, Mapping):
            continue
        sev_id = item.get("id")
        if isinstance(sev_id, str):
            if sev_id in seen_ids:
                errors.append((f"severities.{n}.id", f'"{sev_id}" is given twice'))
            if sev_id == "name":
                errors.append((f"severities.{n}.id", '"name" cannot be a severity id (tiers use it)'))
            seen_ids.add(sev_id)
        aliases: list[Any] = item["aliases"] if isinstance(item.get("aliases"), list) else []
        for word in [item.get("name"), *aliases]:
            if not isinstance(word, str):
                continue
            owner = seen_words.setdefault(word.casefold(), str(sev_id))
            if owner != str(sev_id):
                errors.append((f"severities.{n}.aliases", f'"{word}" already names severity "{owner}"'))
    return errors


def _target_calendar(raw: Any) -> str | None:
    try:
        return parse_target(raw, allow_at_closure=True).calendar
    except ValidationError:
        return None


def _check_tier(
    path: str, tier: Mapping[str, Any], severities: list[str], calendars: list[str], phases: list[str]
) -> list[Error]:
    errors: list[Error] = []
    for sev in severities:
        if sev not in tier:
            errors.append((f"{path}.{sev}", "missing: every tier defines every severity"))
    for sev, targets in tier.items():
        if sev == "name":
            continue
        if sev not in severities:
            errors.append((f"{path}.{sev}", _known("severity", str(sev), severities)))
        if not isinstance(targets, Mapping):
            continue
        slots = [(f"{path}.{sev}.{name}", targets.get(name)) for name in ("first_response", "resolution")]
        cadence = targets.get("update_cadence")
        for phase, raw in cadence.items() if isinstance(cadence, Mapping) else ():
            where = f"{path}.{sev}.update_cadence.{phase}"
            if phase not in phases:
                errors.append((where, _known("phase", str(phase), phases)))
            elif phase in (PAUSED, CLOSED):
                errors.append((where, f"no updates are due while {phase}"))
            slots.append((where, raw))
        for where, raw in slots:
            calendar = _target_calendar(raw)
            if calendar is not None and calendar not in calendars:
                errors.append((f"{where}.calendar", _known("calendar", calendar, calendars)))
    return errors


def _check_mapping(mapping: Any, ids: dict[str, list[str]]) -> list[Error]:
    errors: list[Error] = []
    if not isinstance(mapping, Mapping):
        return errors
    for kind in ("tier", "severity"):
        default = mapping.get(f"default_{kind}")
        if isinstance(default, str) and default not in ids[kind]:
            errors.append((f"mapping.default_{kind}", _known(kind, default, ids[kind])))
    rules = mapping.get("rules")
    for n, rule in enumerate(rules if isinstance(rules, list) else []):
        if not isinstance(rule, Mapping):
            continue
        path = f"mapping.rules.{n}"
        sets = rule.get("sets", "severity" if "matrix" in rule else "tier")
        if sets not in ids:
            continue
        for key in ("values", "organization", "email_domain"):
            table = rule.get(key)
            for word, target in table.items() if isinstance(table, Mapping) else ():
                if isinstance(target, str) and target not in ids[sets]:
                    errors.append((f"{path}.{key}.{word}", _known(sets, target, ids[sets])))
        matrix = rule.get("matrix")
        cells = matrix.get("cells") if isinstance(matrix, Mapping) else None
        for impact, row in cells.items() if isinstance(cells, Mapping) else ():
            for urgency, target in row.items() if isinstance(row, Mapping) else ():
                if isinstance(target, str) and target not in ids["severity"]:
                    errors.append(
                        (
                            f"{path}.matrix.cells.{impact}.{urgency}",
                            _known("severity", target, ids["severity"]),
                        )
                    )
    return errors


def _check_phases(phases: Any) -> list[Error]:
    errors: list[Error] = []
    owner: dict[str, str] = {}
    for phase, rule in phases.items() if isinstance(phases, Mapping) else ():
        statuses = rule.get("statuses") if isinstance(rule, Mapping) else None
        for status in statuses if isinstance(statuses, list) else []:
            if not isinstance(status, str):
                continue
            first = owner.setdefault(status.casefold(), str(phase))
            if first != phase:
                errors.append((f"phases.{phase}.statuses", f'"{status}" is already in phase "{first}"'))
    return errors
