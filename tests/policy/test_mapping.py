"""Mapping rules: ticket facts → tier and severity, with the reason."""

from __future__ import annotations

import pytest

from app.policy.errors import PolicyError
from app.policy.mapping import TicketFacts, derive, field_texts
from app.policy.model import (
    EmailDomainRule,
    FieldRule,
    MappingRules,
    MatrixRule,
    OrganizationRule,
    Policy,
    Severity,
    Tier,
    TierTargets,
)
from app.schemas.presets import load_preset

SEVERITIES = (
    Severity("sev1", "Critical", aliases=("P1", "Highest", "Sev 1")),
    Severity("sev2", "High", aliases=("P2",)),
    Severity("sev3", "Medium", aliases=("P3",)),
)


def _policy(*rules, default_tier: str | None = "standard", default_severity: str | None = "sev3") -> Policy:
    targets = {s.id: TierTargets() for s in SEVERITIES}
    return Policy(
        id="p",
        name="P",
        description="",
        calendars={},
        severities=SEVERITIES,
        tiers={t: Tier(t, t.title(), targets) for t in ("standard", "premium", "gold")},
        mapping=MappingRules(tuple(rules), default_tier, default_severity),
    )


PRIORITY_BY_NAME = FieldRule("severity", "priority")
PLAN = FieldRule("tier", "customfield_10050", {"enterprise": "premium", "regulated": "gold"})
ORGS = OrganizationRule({"acme gmbh": "gold"})
DOMAINS = EmailDomainRule({"acme.com": "premium"})
MATRIX = MatrixRule(
    "customfield_1",
    "customfield_2",
    {("extensive / widespread", "critical"): "sev1", ("minor / localized", "low"): "sev3"},
)

# (rules, facts, tier, tier_rule, severity, severity_rule)
CASES = [
    (
        [PRIORITY_BY_NAME],
        TicketFacts({"priority": {"name": "Highest", "id": "1"}}),
        "standard",
        "default tier",
        "sev1",
        "rule 1: field priority = 'Highest' → sev1",
    ),
    ([PRIORITY_BY_NAME], TicketFacts({"priority": "sev 1"}), "standard", "default tier", "sev1", None),
    ([PRIORITY_BY_NAME], TicketFacts({"priority": "P2"}), "standard", "default tier", "sev2", None),
    ([PRIORITY_BY_NAME], TicketFacts({"priority": "sev2"}), "standard", "default tier", "sev2", None),
    (
        [PRIORITY_BY_NAME],
        TicketFacts({"priority": {"name": "Lowest"}}),
        "standard",
        None,
        "sev3",
        "default severity",
    ),
    (
        [PLAN, PRIORITY_BY_NAME],
        TicketFacts(
            {"customfield_10050": {"value": "Enterprise", "id": "10021"}, "priority": {"name": "Medium"}}
        ),
        "premium",
        "rule 1: field customfield_10050 = 'Enterprise' → premium",
        "sev3",
        "rule 2: field priority = 'Medium' → sev3",
    ),
    (
        [PLAN],
        TicketFacts({"customfield_10050": [{"value": "Basic"}, {"value": "Regulated"}]}),
        "gold",
        "rule 1: field customfield_10050 = 'Regulated' → gold",
        "sev3",
        None,
    ),
    (
        [PLAN],
        TicketFacts({"customfield_10050": {"value": "Enterprise", "child": {"value": "EU"}}}),
        "premium",
        None,
        "sev3",
        None,
    ),
    (
        [ORGS, DOMAINS],
        TicketFacts({}, organizations=("Other", "ACME GmbH"), reporter_email="x@acme.com"),
        "gold",
        "rule 1: organization 'ACME GmbH' → gold",
        "sev3",
        None,
    ),
    (
        [ORGS, DOMAINS],
        TicketFacts({}, organizations=("Other",), reporter_email="Jane@EU.Acme.com"),
        "premium",
        "rule 2: reporter e-mail domain 'eu.acme.com' → premium",
        "sev3",
        None,
    ),
    ([DOMAINS], TicketFacts({}, reporter_email="x@notacme.com"), "standard", "default tier", "sev3", None),
    ([DOMAINS], TicketFacts({}, reporter_email=None), "standard", "default tier", "sev3", None),
    (
        [MATRIX, PRIORITY_BY_NAME],
        TicketFacts(
            {
                "customfield_1": {"value": "Extensive / Widespread"},
                "customfield_2": {"value": "Critical"},
                "priority": {"name": "Medium"},
            }
        ),
        "standard",
        None,
        "sev1",
        "rule 1: impact 'Extensive / Widespread' × urgency 'Critical' → sev1",
    ),
    (
        [MATRIX, PRIORITY_BY_NAME],
        TicketFacts({"customfield_1": {"value": "Extensive / Widespread"}, "priority": {"name": "High"}}),
        "standard",
        None,
        "sev2",
        "rule 2: field priority = 'High' → sev2",
    ),
    (
        [MATRIX],
        TicketFacts({"customfield_1": "Minor / Localized", "customfield_2": "High"}),
        "standard",
        None,
        "sev3",
        "default severity",
    ),
]


@pytest.mark.parametrize(("rules", "facts", "tier", "tier_rule", "severity", "severity_rule"), CASES)
def test_rules_decide_tier_and_severity(rules, facts, tier, tier_rule, severity, severity_rule) -> None:
    derived = derive(_policy(*rules), facts)
    assert (derived.tier, derived.severity) == (tier, severity)
    if tier_rule is not None:
        assert derived.tier_rule == tier_rule
    if severity_rule is not None:
        assert derived.severity_rule == severity_rule


def test_the_first_matching_rule_wins() -> None:
    facts = TicketFacts({"customfield_10050": {"value": "Enterprise"}}, organizations=("ACME GmbH",))
    assert derive(_policy(ORGS, PLAN), facts).tier == "gold"
    assert derive(_policy(PLAN, ORGS), facts).tier == "premium"


def test_without_a_match_or_default_the_policy_cannot_decide() -> None:
    with pytest.raises(PolicyError, match="no mapping rule decides the tier"):
        derive(_policy(PRIORITY_BY_NAME, default_tier=None), TicketFacts({}))
    with pytest.raises(PolicyError, match="no mapping rule decides the severity"):
        derive(_policy(default_severity=None), TicketFacts({"priority": "Whatever"}))


def test_a_rule_naming_an_unknown_tier_is_refused() -> None:
    with pytest.raises(PolicyError, match='no tier "platinum"'):
        derive(_policy(OrganizationRule({"acme": "platinum"})), TicketFacts({}, organizations=("Acme",)))


@pytest.mark.parametrize(
    ("raw", "texts"),
    [
        ("High", ["High"]),
        (3, ["3"]),
        ({"name": "High", "id": "2"}, ["High"]),
        ({"value": "Gold", "id": "10001"}, ["Gold"]),
        ([{"value": "A"}, {"value": "B"}], ["A", "B"]),
        (None, []),
        ({}, []),
    ],
)
def test_raw_jira_shapes_are_read(raw, texts) -> None:
    assert list(field_texts(raw)) == texts


def test_opencenter_plan_field_maps_to_tiers() -> None:
    policy = load_preset("opencenter")
    for plan, tier in [
        ("Essentials", "standard"),
        ("Enterprise", "premium"),
        ("Regulated", "mission-critical"),
    ]:
        derived = derive(
            policy, TicketFacts({"customfield_10050": {"value": plan}, "priority": {"name": "High"}})
        )
        assert (derived.tier, derived.severity) == (tier, "sev2")
    assert derive(policy, TicketFacts({})).tier_rule == "default tier"


def test_communardo_priorities_map_to_levels() -> None:
    policy = load_preset("communardo")
    levels = {
        name: derive(policy, TicketFacts({"priority": {"name": name}})).severity
        for name in ("Blocker", "Critical", "Major", "Minor", "Level 2")
    }
    assert levels == {
        "Blocker": "sev1",
        "Critical": "sev2",
        "Major": "sev3",
        "Minor": "sev4",
        "Level 2": "sev2",
    }
    partner = derive(policy, TicketFacts({}, organizations=("Solution Partners",)))
    assert partner.tier == "partner"
