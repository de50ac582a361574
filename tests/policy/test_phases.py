"""Which phase a Jira status means."""

from __future__ import annotations

import pytest

from app.policy.model import PhaseRule, Policy
from app.policy.phases import known_phases, phase_of
from app.schemas.presets import load_preset

POLICY = Policy(
    id="p",
    name="P",
    description="",
    calendars={},
    severities=(),
    tiers={},
    phases=(
        PhaseRule("paused", statuses=frozenset({"waiting for customer"})),
        PhaseRule("stabilized", statuses=frozenset({"monitoring"}), categories=frozenset({"indeterminate"})),
        PhaseRule(
            "closed", statuses=frozenset({"resolved awaiting confirmation"}), categories=frozenset({"done"})
        ),
    ),
)


@pytest.mark.parametrize(
    ("status", "category", "phase"),
    [
        ("Waiting for customer", "indeterminate", "paused"),  # the name beats the category
        ("WAITING FOR CUSTOMER ", None, "paused"),
        ("Monitoring", None, "stabilized"),
        ("In Progress", "indeterminate", "stabilized"),
        ("In Progress", "In Progress", "stabilized"),
        ("Resolved awaiting confirmation", "indeterminate", "closed"),
        ("Closed", "done", "closed"),
        ("Canceled", "Done", "closed"),
        ("Open", "new", "active"),
        ("Open", None, "active"),
        ("Something", "To Do", "active"),
    ],
)
def test_phase_of(status: str, category: str | None, phase: str) -> None:
    assert phase_of(POLICY, status, category) == phase


def test_a_policy_without_phase_rules_is_always_active() -> None:
    bare = Policy(id="p", name="P", description="", calendars={}, severities=(), tiers={})
    assert phase_of(bare, "Waiting for customer", "done") == "active"


def test_presets_pause_while_waiting_for_the_customer() -> None:
    policy = load_preset("mulesight")
    assert phase_of(policy, "Waiting for customer", "indeterminate") == "paused"
    assert phase_of(policy, "Monitoring", "indeterminate") == "stabilized"
    assert phase_of(policy, "Resolved", "done") == "closed"
    assert phase_of(policy, "Work in progress", "indeterminate") == "active"


def test_known_phases_include_declared_ones() -> None:
    custom = Policy(
        id="p", name="P", description="", calendars={}, severities=(), tiers={}, phases=(PhaseRule("triage"),)
    )
    assert known_phases(custom) == ("active", "mitigated", "stabilized", "paused", "closed", "triage")
