"""Cross-reference checks of a raw policy document: ids used in one place must exist in another.

Run on the raw document (not the loaded one) so that they are reported together with every
structural error; anything of the wrong shape is skipped here (the schema reports it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError

from app.policy.model import BUILTIN_PHASES, CALENDAR_24X7, CLOSED, PAUSED
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
    actions = doc.get("actions")
    for n, action in enumerate(actions if isinstance(actions, list) else []):
        for key, kind in (("severities", "severity"), ("tiers", "tier")):
            listed = action.get(key) if isinstance(action, Mapping) else None
            for value in listed if isinstance(listed, list) else []:
                if isinstance(value, str) and value not in ids[kind]:
                    errors.append((f"actions.{n}.{key}", _known(kind, value, ids[kind])))
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
