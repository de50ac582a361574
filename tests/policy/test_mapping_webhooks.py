"""Mapping and phases read real Jira Cloud webhook bodies (../shared/peers/webhooks)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from app.policy.mapping import TicketFacts, derive
from app.policy.model import FieldRule, MappingRules
from app.policy.phases import phase_of
from app.schemas.presets import load_preset


def _issue(peers_dir: Path, name: str) -> dict:
    return json.loads((peers_dir / "webhooks" / name).read_text())["issue"]


@pytest.mark.parametrize(
    ("name", "severity"),
    [("mm_cloud_issue_created.json", "sev2"), ("mm_cloud_issue_created_many_fields.json", "sev3")],
)
def test_priority_objects_map_to_severities(peers_dir: Path, name: str, severity: str) -> None:
    fields = _issue(peers_dir, name)["fields"]
    derived = derive(
        load_preset("mulesight"), TicketFacts(fields, reporter_email=fields["reporter"].get("emailAddress"))
    )
    assert derived.severity == severity
    assert derived.severity_rule == f"rule 1: field priority = {fields['priority']['name']!r} → {severity}"


def test_option_and_multi_option_custom_fields_decide_tiers(peers_dir: Path) -> None:
    fields = _issue(peers_dir, "mm_cloud_issue_created_many_fields.json")["fields"]
    preset = load_preset("opencenter")
    single = dataclasses.replace(
        preset,
        mapping=MappingRules((FieldRule("tier", "customfield_10074", {"a": "premium"}),), None, "sev3"),
    )
    assert derive(single, TicketFacts(fields)).tier_rule == "rule 1: field customfield_10074 = 'A' → premium"
    multi = dataclasses.replace(
        preset,
        mapping=MappingRules((FieldRule("tier", "customfield_10075", {"2": "standard"}),), None, "sev3"),
    )
    assert derive(multi, TicketFacts(fields)).tier == "standard"  # the second of the two options matches


def test_status_objects_map_to_phases(peers_dir: Path) -> None:
    policy = load_preset("mulesight")
    done = _issue(peers_dir, "mm_cloud_issue_updated_resolved_status.json")["fields"]["status"]
    todo = _issue(peers_dir, "mm_cloud_issue_created.json")["fields"]["status"]
    assert phase_of(policy, done["name"], done["statusCategory"]["key"]) == "closed"
    assert phase_of(policy, todo["name"], todo["statusCategory"]["key"]) == "active"
