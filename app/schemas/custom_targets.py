"""The `custom_targets` and `notes` sections of a policy document ↔ the model's CustomTarget / PolicyNote.

A condition is an object with exactly one key, its kind: `{"created": true}`,
`{"entered_status": "Acknowledged"}` or a list of names, `{"field_set": "customfield_10071"}`,
`{"linked_issue_created": "Post-incident review"}`, … (`docs/policy-format.md`, "Custom targets").
Cross-references (phases, tiers, severities, calendars) are checked in `app.schemas.crossref`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate

from app.policy.model import (
    CONDITION_KINDS,
    ENTERED_PHASE,
    FIELD_CHANGED,
    FIELD_SET,
    FLAG_CONDITIONS,
    NOTE_OCCASIONS,
    START_ONLY_CONDITIONS,
    Condition,
    CustomTarget,
    PolicyNote,
)
from app.schemas.fields import TargetField, dump_target

#: Condition kinds whose names are Jira ids or phase ids, kept as written (others are case-folded).
_EXACT_NAMES = (ENTERED_PHASE, FIELD_SET, FIELD_CHANGED)


class _Strict(Schema):
    class Meta:
        unknown = RAISE


def _names(kind: str, raw: Any) -> frozenset[str]:
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not items or not all(isinstance(i, str) and i.strip() for i in items):
        raise ValidationError({kind: ["must be a name or a non-empty list of names"]})
    return frozenset(i.strip() if kind in _EXACT_NAMES else i.strip().casefold() for i in items)


class ConditionField(fields.Field):
    """One start / stop condition: `{"<kind>": true | name | [names]}`."""

    def __init__(self, *, side: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.side = side

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Condition:
        kinds = list(value) if isinstance(value, Mapping) else []
        if len(kinds) != 1 or kinds[0] not in CONDITION_KINDS:
            raise ValidationError("a condition has exactly one of: " + ", ".join(CONDITION_KINDS))
        kind = kinds[0]
        if self.side == "stop" and kind in START_ONLY_CONDITIONS:
            raise ValidationError(f'"{kind}" can only start a target')
        if kind in FLAG_CONDITIONS:
            if value[kind] is not True:
                raise ValidationError({kind: ["must be true"]})
            return Condition(kind)
        return Condition(kind, _names(kind, value[kind]))


def _conditions(side: str) -> fields.List:
    return fields.List(
        ConditionField(side=side), required=True, validate=validate.Length(min=1, error="must not be empty")
    )


def _timed(target: Any) -> None:
    if target.duration is None:
        raise ValidationError('a custom target needs a duration (e.g. "15m on 24x7")')


class CustomTargetSchema(_Strict):
    name = fields.String(required=True)
    description = fields.String(load_default="")
    duration = TargetField(required=True, validate=_timed)
    start = _conditions("start")
    stop = _conditions("stop")
    pause_phases = fields.List(fields.String(), load_default=list)
    recurring = fields.Boolean(load_default=False)
    tiers = fields.List(fields.String(), load_default=list)
    severities = fields.List(fields.String(), load_default=list)

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return data


def custom_target(target_id: str, data: Mapping[str, Any]) -> CustomTarget:
    """The model of one loaded `custom_targets` entry."""
    return CustomTarget(
        id=target_id,
        name=data["name"],
        target=data["duration"],
        start=tuple(data["start"]),
        stop=tuple(data["stop"]),
        pause_phases=frozenset(data["pause_phases"]),
        recurring=data["recurring"],
        tiers=tuple(data["tiers"]),
        severities=tuple(data["severities"]),
        description=data["description"],
    )


def _dump_condition(condition: Condition) -> dict[str, Any]:
    if condition.kind in FLAG_CONDITIONS:
        return {condition.kind: True}
    names = sorted(condition.values)
    return {condition.kind: names[0] if len(names) == 1 else names}


def dump_custom_target(target: CustomTarget) -> dict[str, Any]:
    """The document form of a custom target (without its id, which is its key)."""
    doc: dict[str, Any] = {"name": target.name}
    if target.description:
        doc["description"] = target.description
    doc["duration"] = dump_target(target.target)
    doc["start"] = [_dump_condition(c) for c in target.start]
    doc["stop"] = [_dump_condition(c) for c in target.stop]
    for key in ("pause_phases", "tiers", "severities"):
        value = getattr(target, key)
        if value:
            doc[key] = sorted(value) if isinstance(value, frozenset) else list(value)
    if target.recurring:
        doc["recurring"] = True
    return doc


# --- notes --------------------------------------------------------------------------------------


class NoteSchema(_Strict):
    id = fields.String(required=True)
    text = fields.String(required=True, validate=validate.Length(min=1, error="must not be empty"))
    enforced = fields.Boolean(load_default=False)
    when = fields.String(load_default="always", validate=validate.OneOf(NOTE_OCCASIONS))
    calendar = fields.String(load_default=None, allow_none=True)
    tiers = fields.List(fields.String(), load_default=list)
    severities = fields.List(fields.String(), load_default=list)
    source = fields.String(load_default="")

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> PolicyNote:
        return PolicyNote(
            id=data["id"],
            text=data["text"],
            enforced=data["enforced"],
            when=data["when"],
            calendar=data["calendar"],
            tiers=tuple(data["tiers"]),
            severities=tuple(data["severities"]),
            source=data["source"],
        )


def dump_note(note: PolicyNote) -> dict[str, Any]:
    """The document form of a policy note (defaults left out)."""
    doc: dict[str, Any] = {"id": note.id, "text": note.text, "enforced": note.enforced}
    if note.when != "always":
        doc["when"] = note.when
    if note.calendar:
        doc["calendar"] = note.calendar
    if note.tiers:
        doc["tiers"] = list(note.tiers)
    if note.severities:
        doc["severities"] = list(note.severities)
    if note.source:
        doc["source"] = note.source
    return doc
