"""The policy document (JSON, or YAML on import) ↔ `app.policy.model.Policy`.

The format is described, with a full example, in `docs/policy-format.md`. `load_policy` reports
every problem at once, each with a dotted path (`tiers.premium.sev1.first_response.duration: "4x"
is not a duration`); list items are numbered from 0 (`severities.2.name`).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate, validates_schema

from app.policy.actions import ACTION_EVENTS
from app.policy.actions import ACTION_KINDS as REGISTERED_ACTION_KINDS
from app.policy.errors import PolicyError
from app.policy.model import (
    BEST_EFFORT,
    Action,
    CalendarSpec,
    EmailDomainRule,
    FieldRule,
    MappingRules,
    MatrixRule,
    OrganizationRule,
    PhaseRule,
    Policy,
    PreBreach,
    Severity,
    Tier,
    TierTargets,
)
from app.schemas import crossref, limits
from app.schemas.custom_targets import (
    CustomTargetSchema,
    NoteSchema,
    custom_target,
    dump_custom_target,
    dump_note,
)
from app.schemas.fields import (
    ID_RE,
    DateField,
    DurationField,
    KeyedMap,
    TargetField,
    WeeklyHoursField,
    dump_hours,
    dump_target,
)
from app.schemas.holidays_source import HOLIDAY_YEARS, HolidayRegionError, RegionHolidays, normalize_region

#: Jira status categories by key, and the display names that mean the same.
STATUS_CATEGORIES = {
    "new": "new",
    "to do": "new",
    "indeterminate": "indeterminate",
    "in progress": "indeterminate",
    "done": "done",
}
#: Action kind → the params it requires (derived from the action registry, `app.policy.actions`).
ACTION_KINDS = {name: kind.required_params for name, kind in REGISTERED_ACTION_KINDS.items()}
#: Marshmallow's stock messages, said the way the rest of our messages are.
_MESSAGES = {
    "Unknown field.": "unknown key",
    "Missing data for required field.": "required",
    "Field may not be null.": "may not be null",
    "Not a valid string.": "must be a string",
    "Not a valid boolean.": "must be true or false",
    "Not a valid list.": "must be a list",
    "Not a valid number.": "must be a number",
    "Invalid input type.": "must be an object",
}


class PolicyDocumentError(PolicyError):
    """A policy document that cannot be loaded: `errors` lists every (path, problem)."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(f"{path}: {msg}" if path else msg for path, msg in self.errors))

    def first_line(self) -> str:
        """One line for a terminal: the first problem, and how many more there are."""
        path, msg = self.errors[0]
        more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        return (f"{path}: {msg}" if path else msg) + more


class _Strict(Schema):
    class Meta:
        unknown = RAISE


def _id_field(**kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Regexp(ID_RE, error='"{input}" is not a valid id'), **kwargs)


# --- calendars ----------------------------------------------------------------------------------


class HolidaysSchema(_Strict):
    country = fields.String(required=True)
    subdivision = fields.String(load_default=None, allow_none=True)
    closes_desk = fields.Boolean(load_default=True)

    @post_load
    def _resolve(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        try:
            country, subdivision = normalize_region(data["country"], data["subdivision"])
        except HolidayRegionError as exc:
            raise ValidationError(str(exc), field_name=exc.field) from None
        data.update(country=country, subdivision=subdivision, dates=RegionHolidays(country, subdivision))
        return data


class CalendarSchema(_Strict):
    timezone = fields.String(required=True)
    hours = WeeklyHoursField(required=True)
    holidays = fields.Nested(HolidaysSchema, load_default=None)
    closed_dates = fields.List(DateField(), load_default=list)
    open_dates = fields.List(DateField(), load_default=list)
    day_length = DurationField(minutes_only=True, load_default=None)

    @validates_schema
    def _zone(self, data: dict[str, Any], **_: Any) -> None:
        try:
            ZoneInfo(data["timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError(f'"{data["timezone"]}" is not an IANA time zone', "timezone") from None


def _calendar(cal_id: str, data: Mapping[str, Any]) -> CalendarSpec:
    hol = data["holidays"]
    return CalendarSpec(
        id=cal_id,
        timezone=data["timezone"],
        weekly=data["hours"],
        holidays=hol["dates"] if hol else {},
        holidays_close=hol["closes_desk"] if hol else True,
        extra_closed=frozenset(data["closed_dates"]),
        extra_open=frozenset(data["open_dates"]),
        day_length_minutes=data["day_length"].minutes if data["day_length"] else None,
        holiday_country=hol["country"] if hol else None,
        holiday_subdivision=hol["subdivision"] if hol else None,
        holiday_years=HOLIDAY_YEARS if hol else None,
    )


# --- severities and tiers -----------------------------------------------------------------------


class SeveritySchema(_Strict):
    id = _id_field(required=True)
    name = fields.String(required=True)
    definition = fields.String(load_default="")
    aliases = fields.List(fields.String(), load_default=list)

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Severity:
        return Severity(data["id"], data["name"], data["definition"], tuple(data["aliases"]))


class TierTargetsSchema(_Strict):
    first_response = TargetField(load_default=None)
    update_cadence = KeyedMap(TargetField(allow_at_closure=True), key_kind="phase id", load_default=dict)
    resolution = TargetField(load_default=None)
    eta_required = fields.Boolean(load_default=False)
    page_on_call = fields.Boolean(load_default=False)

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> TierTargets:
        return TierTargets(
            first_response=data["first_response"] or BEST_EFFORT,
            update_cadence=data["update_cadence"],
            resolution=data["resolution"] or BEST_EFFORT,
            eta_required=data["eta_required"],
            page_on_call=data["page_on_call"],
        )


class TierField(fields.Field):
    """`{"name": "Premium", "sev1": {…targets…}, "sev2": {…}}`: loads to (name, {severity: TierTargets})."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> tuple[str, dict]:
        if not isinstance(value, Mapping):
            raise ValidationError("must be an object with a name and one entry per severity")
        errors: dict[str, Any] = {}
        name = value.get("name")
        if not isinstance(name, str):
            errors["name"] = ["required" if name is None else "must be a string"]
        targets: dict[str, TierTargets] = {}
        for key, item in value.items():
            if key == "name":
                continue
            if not isinstance(key, str) or not ID_RE.match(key):
                errors[str(key)] = [f'"{key}" is not a severity id']
                continue
            try:
                targets[key] = TierTargetsSchema().load(item if item is not None else {})
            except ValidationError as exc:
                errors[key] = exc.messages
        if errors:
            raise ValidationError(errors)
        return str(name), targets


# --- mapping ------------------------------------------------------------------------------------


class FieldRuleSchema(_Strict):
    field = fields.String(required=True, validate=validate.Length(min=1, error="must not be empty"))
    sets = fields.String(required=True, validate=validate.OneOf(("severity", "tier")))
    values = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> FieldRule:
        return FieldRule(data["sets"], data["field"], {k.casefold(): v for k, v in data["values"].items()})


class OrganizationRuleSchema(_Strict):
    organization = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    sets = fields.String(load_default="tier", validate=validate.OneOf(("severity", "tier")))

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> OrganizationRule:
        return OrganizationRule({k.casefold(): v for k, v in data["organization"].items()}, data["sets"])


class EmailDomainRuleSchema(_Strict):
    email_domain = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    sets = fields.String(load_default="tier", validate=validate.OneOf(("severity", "tier")))

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> EmailDomainRule:
        values = {k.casefold().lstrip("@"): v for k, v in data["email_domain"].items()}
        return EmailDomainRule(values, data["sets"])


class MatrixSchema(_Strict):
    impact = fields.String(required=True)
    urgency = fields.String(required=True)
    cells = fields.Dict(
        keys=fields.String(), values=fields.Dict(keys=fields.String(), values=fields.String()), required=True
    )


class MatrixRuleSchema(_Strict):
    matrix = fields.Nested(MatrixSchema, required=True)

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> MatrixRule:
        m = data["matrix"]
        cells = {
            (impact.casefold(), urgency.casefold()): severity
            for impact, row in m["cells"].items()
            for urgency, severity in row.items()
        }
        return MatrixRule(m["impact"], m["urgency"], cells)


_RULE_KINDS: dict[str, type[Schema]] = {
    "field": FieldRuleSchema,
    "organization": OrganizationRuleSchema,
    "email_domain": EmailDomainRuleSchema,
    "matrix": MatrixRuleSchema,
}


class RuleField(fields.Field):
    """One mapping rule; its kind is the key it has: field, organization, email_domain or matrix."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, Mapping):
            raise ValidationError("a rule must be an object")
        kinds = [kind for kind in _RULE_KINDS if kind in value]
        if len(kinds) != 1:
            raise ValidationError("a rule has exactly one of: " + ", ".join(_RULE_KINDS))
        return _RULE_KINDS[kinds[0]]().load(value)


class MappingSchema(_Strict):
    rules = fields.List(RuleField(), load_default=list)
    default_tier = fields.String(load_default=None, allow_none=True)
    default_severity = fields.String(load_default=None, allow_none=True)

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> MappingRules:
        return MappingRules(tuple(data["rules"]), data["default_tier"], data["default_severity"])


# --- phases, warnings, actions ------------------------------------------------------------------


def _status_category(category: str) -> None:
    if category.casefold() not in STATUS_CATEGORIES:
        raise ValidationError(f'"{category}" is not a status category (new, indeterminate, done)')


class PhaseSchema(_Strict):
    statuses = fields.List(fields.String(), load_default=list)
    categories = fields.List(fields.String(validate=_status_category), load_default=list)


class PreBreachSchema(_Strict):
    lead = DurationField(load_default=None)
    share = fields.Float(
        load_default=None,
        validate=validate.Range(
            min=0, max=1, min_inclusive=False, max_inclusive=False, error="must be between 0 and 1"
        ),
    )

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> PreBreach:
        return PreBreach(data["lead"], data["share"])


class ActionSchema(_Strict):
    on = fields.String(required=True, validate=validate.OneOf(ACTION_EVENTS))
    kind = fields.String(required=True, validate=validate.OneOf(tuple(ACTION_KINDS)))
    params = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    targets = fields.List(fields.String(), load_default=list)  # built-in or custom ids: crossref checks
    severities = fields.List(fields.String(), load_default=list)
    tiers = fields.List(fields.String(), load_default=list)

    @validates_schema
    def _params(self, data: dict[str, Any], **_: Any) -> None:
        kind = REGISTERED_ACTION_KINDS.get(data.get("kind", ""))
        if kind is None:
            return
        params = data.get("params", {})
        missing = [p for p in kind.required_params if p not in params]
        if missing:
            raise ValidationError(f"a {data['kind']} action needs params: {', '.join(missing)}", "params")
        problems = {name: [problem] for name, spec in kind.params.items()
                    if spec.check is not None and name in params and (problem := spec.check(params[name]))}
        if problems:
            raise ValidationError({"params": problems})

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Action:
        return Action(
            data["on"],
            data["kind"],
            data["params"],
            tuple(data["targets"]),
            tuple(data["severities"]),
            tuple(data["tiers"]),
        )


# --- the document -------------------------------------------------------------------------------


class PolicySchema(_Strict):
    id = _id_field(required=True)
    name = fields.String(required=True)
    description = fields.String(load_default="")
    source = fields.String(load_default="")
    calendars = KeyedMap(CalendarSchema, key_kind="calendar id", load_default=dict)
    severities = fields.List(
        fields.Nested(SeveritySchema),
        required=True,
        validate=validate.Length(min=1, error="must not be empty"),
    )
    tiers = KeyedMap(
        TierField(),
        key_kind="tier id",
        required=True,
        validate=validate.Length(min=1, error="must not be empty"),
    )
    mapping = fields.Nested(MappingSchema, load_default=lambda: MappingRules())
    phases = KeyedMap(PhaseSchema, key_kind="phase id", load_default=dict)
    pre_breach = fields.Nested(PreBreachSchema, load_default=lambda: PreBreach())
    actions = fields.List(fields.Nested(ActionSchema), load_default=list)
    custom_targets = KeyedMap(CustomTargetSchema, key_kind="target id", load_default=dict)
    notes = fields.List(fields.Nested(NoteSchema), load_default=list)

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Policy:
        return Policy(
            id=data["id"],
            name=data["name"],
            description=data["description"],
            source=data["source"],
            calendars={cal_id: _calendar(cal_id, cal) for cal_id, cal in data["calendars"].items()},
            severities=tuple(data["severities"]),
            tiers={
                tier_id: Tier(tier_id, name, targets) for tier_id, (name, targets) in data["tiers"].items()
            },
            mapping=data["mapping"],
            phases=tuple(
                PhaseRule(
                    phase,
                    frozenset(s.casefold() for s in rule["statuses"]),
                    frozenset(STATUS_CATEGORIES[c.casefold()] for c in rule["categories"]),
                )
                for phase, rule in data["phases"].items()
            ),
            pre_breach=data["pre_breach"],
            actions=tuple(data["actions"]),
            custom_targets=tuple(custom_target(tid, t) for tid, t in data["custom_targets"].items()),
            notes=tuple(data["notes"]),
        )


def _flatten(messages: Any, path: str = "") -> list[tuple[str, str]]:
    if isinstance(messages, Mapping):
        found: list[tuple[str, str]] = []
        for key, sub in messages.items():
            child = path if key == "_schema" else (f"{path}.{key}" if path else str(key))
            found += _flatten(sub, child)
        return found
    if isinstance(messages, list | tuple):
        return [pair for item in messages for pair in _flatten(item, path)]
    return [(path, _MESSAGES.get(str(messages), str(messages)))]


def load_policy(document: Mapping[str, Any]) -> Policy:
    """Load a policy document; raise PolicyDocumentError listing every problem with its path."""
    if not isinstance(document, Mapping):
        raise PolicyDocumentError([("", "a policy document must be an object")])
    if over := limits.document_errors(document):
        raise PolicyDocumentError(over)
    errors: list[tuple[str, str]] = []
    policy: Policy | None = None
    try:
        policy = PolicySchema().load(dict(document))
    except ValidationError as exc:
        errors += _flatten(exc.messages)
    errors += crossref.check(document)
    if errors:
        unique = list(dict.fromkeys(errors))
        raise PolicyDocumentError(sorted(unique, key=lambda e: e[0]))
    assert policy is not None
    return policy


# --- dumping ------------------------------------------------------------------------------------


def _dump_calendar(spec: CalendarSpec) -> dict[str, Any]:
    doc: dict[str, Any] = {"timezone": spec.timezone, "hours": dump_hours(spec.weekly)}
    if spec.holiday_country:
        hol: dict[str, Any] = {"country": spec.holiday_country}
        if spec.holiday_subdivision:
            hol["subdivision"] = spec.holiday_subdivision
        hol["closes_desk"] = spec.holidays_close
        doc["holidays"] = hol
    if spec.extra_closed:
        doc["closed_dates"] = sorted(d.isoformat() for d in spec.extra_closed)
    if spec.extra_open:
        doc["open_dates"] = sorted(d.isoformat() for d in spec.extra_open)
    if spec.day_length_minutes:
        doc["day_length"] = _dump_minutes(spec.day_length_minutes)
    return doc


def _dump_minutes(minutes: int) -> str:
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


def _dump_targets(t: TierTargets) -> dict[str, Any]:
    doc: dict[str, Any] = {"first_response": dump_target(t.first_response)}
    if t.update_cadence:
        doc["update_cadence"] = {phase: dump_target(c) for phase, c in t.update_cadence.items()}
    doc["resolution"] = dump_target(t.resolution)
    if t.eta_required:
        doc["eta_required"] = True
    if t.page_on_call:
        doc["page_on_call"] = True
    return doc


def _dump_rule(rule: Any) -> dict[str, Any]:
    if isinstance(rule, FieldRule):
        doc: dict[str, Any] = {"field": rule.field, "sets": rule.sets}
        if rule.values:
            doc["values"] = dict(rule.values)
        return doc
    if isinstance(rule, OrganizationRule):
        return {"organization": dict(rule.values), "sets": rule.sets}
    if isinstance(rule, EmailDomainRule):
        return {"email_domain": dict(rule.values), "sets": rule.sets}
    cells: dict[str, dict[str, str]] = {}
    for (impact, urgency), severity in rule.matrix.items():
        cells.setdefault(impact, {})[urgency] = severity
    return {"matrix": {"impact": rule.impact_field, "urgency": rule.urgency_field, "cells": cells}}


def dump_policy(policy: Policy) -> dict[str, Any]:
    """The policy as a JSON-ready document; `load_policy(dump_policy(p)) == p`."""
    doc: dict[str, Any] = {"id": policy.id, "name": policy.name, "description": policy.description}
    if policy.source:
        doc["source"] = policy.source
    doc["calendars"] = {cal_id: _dump_calendar(spec) for cal_id, spec in policy.calendars.items()}
    doc["severities"] = [
        {"id": s.id, "name": s.name, "definition": s.definition, "aliases": list(s.aliases)}
        for s in policy.severities
    ]
    doc["tiers"] = {
        tier.id: {"name": tier.name, **{sev: _dump_targets(t) for sev, t in tier.targets.items()}}
        for tier in policy.tiers.values()
    }
    m = policy.mapping
    if m.rules or m.default_tier or m.default_severity:
        mapping: dict[str, Any] = {"rules": [_dump_rule(r) for r in m.rules]}
        if m.default_tier:
            mapping["default_tier"] = m.default_tier
        if m.default_severity:
            mapping["default_severity"] = m.default_severity
        doc["mapping"] = mapping
    if policy.phases:
        doc["phases"] = {
            rule.phase: {
                **({"statuses": sorted(rule.statuses)} if rule.statuses else {}),
                **({"categories": sorted(rule.categories)} if rule.categories else {}),
            }
            for rule in policy.phases
        }
    pre = policy.pre_breach
    if pre.lead is not None or pre.share is not None:
        doc["pre_breach"] = {
            **({"lead": str(pre.lead)} if pre.lead is not None else {}),
            **({"share": pre.share} if pre.share is not None else {}),
        }
    if policy.actions:
        doc["actions"] = [
            {
                "on": a.on,
                "kind": a.kind,
                **({"params": dict(a.params)} if a.params else {}),
                **({"targets": list(a.targets)} if a.targets else {}),
                **({"severities": list(a.severities)} if a.severities else {}),
                **({"tiers": list(a.tiers)} if a.tiers else {}),
            }
            for a in policy.actions
        ]
    if policy.custom_targets:
        doc["custom_targets"] = {t.id: dump_custom_target(t) for t in policy.custom_targets}
    if policy.notes:
        doc["notes"] = [dump_note(n) for n in policy.notes]
    return doc


# --- text ---------------------------------------------------------------------------------------


class _YamlLoader(limits.LimitedSafeLoader):
    """YAML 1.2 booleans: only true/false, so a key `on:` stays the string "on"."""


_YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in limits.LimitedSafeLoader.yaml_implicit_resolvers.items()
}
_YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _named(text: str, filename: str) -> io.StringIO:
    """`text` as a stream YAML's error marks name by `filename` (not "<unicode string>")."""
    stream = io.StringIO(text)
    stream.name = filename or "the document"  # type: ignore[misc]
    return stream


def parse_document_text(text: str, filename: str = "") -> dict[str, Any]:
    """Parse a policy document from JSON, or YAML (by `.yaml`/`.yml` name, or when it is not JSON)."""
    name = filename.lower()
    is_yaml = name.endswith((".yaml", ".yml"))
    if too_large := limits.size_errors(text):
        raise PolicyDocumentError(too_large)
    if not is_yaml:
        try:
            data = json.loads(text)
        except RecursionError:
            raise PolicyDocumentError(limits.too_deep()) from None
        except json.JSONDecodeError as exc:
            if name.endswith(".json"):
                raise PolicyDocumentError([("", f"not valid JSON: {exc}")]) from None
            is_yaml = True
    if is_yaml:
        try:
            data = yaml.load(_named(text, filename), Loader=_YamlLoader)  # noqa: S506 - a SafeLoader subclass
        except limits.YamlLimitError as exc:
            raise PolicyDocumentError([("", str(exc))]) from None
        except yaml.YAMLError as exc:
            raise PolicyDocumentError(
                [("", f"not valid JSON or YAML: {' '.join(str(exc).split())}")]
            ) from None
    if not isinstance(data, dict):
        raise PolicyDocumentError([("", "a policy document must be an object")])
    return data
