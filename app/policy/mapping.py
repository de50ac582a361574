"""Derive a ticket's tier and severity from its facts by the policy's mapping rules.

Rules are tried in order; the first rule that sets the tier and matches decides the tier, the
first that sets the severity and matches decides the severity (one rule list, two answers).
Matching is case-insensitive. A field value may be a raw Jira shape: a string or number, an
option or priority object (`{"value": …}`, `{"name": …}`; a cascading option's parent value), or
a list of those (the first item that matches wins). A field rule without `values` matches a
severity by its id, name or aliases (a tier by its id or name). An e-mail domain rule matches
the reporter's domain or any of its subdomains (`eu.acme.com` matches `acme.com`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from app.policy.errors import PolicyError
from app.policy.model import (
    EmailDomainRule,
    FieldRule,
    MappingRule,
    MatrixRule,
    OrganizationRule,
    Policy,
)

#: Keys of Jira option-like objects that carry the displayed value, in order of preference.
_OPTION_KEYS = ("value", "name", "displayName", "key", "id")


@dataclass(frozen=True)
class TicketFacts:
    """What the mapping may look at: field values by field id, JSM organizations, the reporter."""

    fields: Mapping[str, object]
    organizations: tuple[str, ...] = ()
    reporter_email: str | None = None


@dataclass(frozen=True)
class Derivation:
    """The tier and severity of a ticket, and why (`rule 2: field priority = 'Highest' → sev1`)."""

    tier: str
    severity: str
    tier_rule: str
    severity_rule: str


def field_texts(value: object) -> Iterator[str]:
    """The texts a raw Jira field value can be matched by, most specific first."""
    if value is None:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, bool):
        yield "true" if value else "false"
    elif isinstance(value, int | float):
        yield str(value)
    elif isinstance(value, Mapping):
        for key in _OPTION_KEYS:
            inner = value.get(key)
            if isinstance(inner, str | int) and not isinstance(inner, bool):
                yield str(inner)
                return
    elif isinstance(value, list | tuple):
        for item in value:
            yield from field_texts(item)


def _first_text(value: object) -> str | None:
    return next(field_texts(value), None)


def _names(policy: Policy, sets: str) -> dict[str, str]:
    """Case-folded id, name and aliases → id, for a field rule without `values`."""
    if sets == "severity":
        found: dict[str, str] = {}
        for s in policy.severities:
            for word in (s.id, s.name, *s.aliases):
                found.setdefault(word.casefold(), s.id)
        return found
    return {word.casefold(): t.id for t in policy.tiers.values() for word in (t.id, t.name)}


def _match(policy: Policy, rule: MappingRule, facts: TicketFacts) -> tuple[str, str] | None:
    """(decided id, why) when `rule` matches `facts`."""
    if isinstance(rule, FieldRule):
        table = rule.values or _names(policy, rule.sets)
        for text in field_texts(facts.fields.get(rule.field)):
            hit = table.get(text.strip().casefold())
            if hit is not None:
                return hit, f"field {rule.field} = {text!r}"
        return None
    if isinstance(rule, OrganizationRule):
        for org in facts.organizations:
            hit = rule.values.get(org.strip().casefold())
            if hit is not None:
                return hit, f"organization {org!r}"
        return None
    if isinstance(rule, EmailDomainRule):
        if not facts.reporter_email or "@" not in facts.reporter_email:
            return None
        domain = facts.reporter_email.rpartition("@")[2].strip().casefold()
        labels = domain.split(".")
        for n in range(len(labels) - 1):
            candidate = ".".join(labels[n:])
            hit = rule.values.get(candidate)
            if hit is not None:
                return hit, f"reporter e-mail domain {domain!r}"
        return None
    if isinstance(rule, MatrixRule):
        impact = _first_text(facts.fields.get(rule.impact_field))
        urgency = _first_text(facts.fields.get(rule.urgency_field))
        if impact is None or urgency is None:
            return None
        hit = rule.matrix.get((impact.strip().casefold(), urgency.strip().casefold()))
        if hit is not None:
            return hit, f"impact {impact!r} × urgency {urgency!r}"
        return None
    raise PolicyError(f"unknown mapping rule {rule!r}")


def _decide(policy: Policy, facts: TicketFacts, sets: str, default: str | None) -> tuple[str, str]:
    for number, rule in enumerate(policy.mapping.rules, start=1):
        if rule.sets != sets:
            continue
        found = _match(policy, rule, facts)
        if found is not None:
            decided, why = found
            return decided, f"rule {number}: {why} → {decided}"
    if default is None:
        raise PolicyError(f"no mapping rule decides the {sets} and the policy has no default_{sets}")
    return default, f"default {sets}"


def derive(policy: Policy, facts: TicketFacts) -> Derivation:
    """The tier and severity of a ticket with `facts`; PolicyError when a rule or default is missing."""
    tier, tier_rule = _decide(policy, facts, "tier", policy.mapping.default_tier)
    if tier not in policy.tiers:
        raise PolicyError(f'{tier_rule}, but the policy has no tier "{tier}"')
    severity, severity_rule = _decide(policy, facts, "severity", policy.mapping.default_severity)
    if severity not in {s.id for s in policy.severities}:
        raise PolicyError(f'{severity_rule}, but the policy has no severity "{severity}"')
    return Derivation(tier, severity, tier_rule, severity_rule)
