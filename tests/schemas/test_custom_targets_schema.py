"""The custom_targets, notes and triage parts of the policy document: loading, errors by path, round trip."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from app.policy.model import CREATED, ENTERED_STATUS, FIELD_SET, LINKED_ISSUE, Condition
from app.schemas.policy import PolicyDocumentError, dump_policy, load_policy

IC_TARGET: dict[str, Any] = {
    "name": "Incident Commander assigned",
    "duration": "15m on 24x7",
    "start": [{"entered_status": ["Acknowledged", "Engineering acknowledged"]}],
    "stop": [{"field_set": "customfield_10071"}],
    "pause_phases": ["paused"],
    "severities": ["sev1"],
}


@pytest.fixture
def extended(document: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    def make() -> dict[str, Any]:
        doc = document()
        doc["custom_targets"] = {"incident_commander": copy.deepcopy(IC_TARGET)}
        doc["notes"] = [
            {"id": "holidays", "text": "Slower on holidays.", "when": "holidays", "calendar": "dresden"}
        ]
        doc["actions"] = [
            {"on": "arrived", "kind": "page", "severities": ["sev1"]},
            {"on": "breach", "kind": "note", "targets": ["incident_commander"]},
        ]
        return doc

    return make


def test_a_custom_target_loads_into_the_model(extended: Callable[[], dict[str, Any]]) -> None:
    policy = load_policy(extended())
    (target,) = policy.custom_targets
    assert target.id == "incident_commander" and target.severities == ("sev1",)
    assert target.start == (
        Condition(ENTERED_STATUS, frozenset({"acknowledged", "engineering acknowledged"})),
    )
    assert target.stop == (Condition(FIELD_SET, frozenset({"customfield_10071"})),)
    assert target.pause_phases == frozenset({"paused"}) and not target.recurring
    assert str(target.target.duration) == "15m" and target.target.calendar == "24x7"
    assert policy.notes[0].when == "holidays" and policy.actions[0].on == "arrived"
    assert load_policy(dump_policy(policy)) == policy


def test_flags_and_lists_load(extended: Callable[[], dict[str, Any]]) -> None:
    doc = extended()
    doc["custom_targets"]["incident_commander"]["start"] = [{"created": True}]
    doc["custom_targets"]["incident_commander"]["stop"] = [{"linked_issue_created": "Post-incident review"}]
    doc["custom_targets"]["incident_commander"]["recurring"] = True
    target = load_policy(doc).custom_targets[0]
    assert target.start == (Condition(CREATED),)
    assert target.stop == (Condition(LINKED_ISSUE, frozenset({"post-incident review"})),)
    assert target.recurring


def _custom(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(doc: dict[str, Any]) -> None:
        doc["custom_targets"]["incident_commander"][key] = value

    return mutate


def _top(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(doc: dict[str, Any]) -> None:
        doc[key] = value

    return mutate


IC = "custom_targets.incident_commander"
# (what is broken, expected path, words in the message)
CASES = [
    (_custom("start", [{"entered_state": "x"}]), f"{IC}.start.0", "a condition has exactly one of: created"),
    (_custom("start", [{"created": True, "field_set": "x"}]), f"{IC}.start.0", "exactly one of"),
    (_custom("stop", [{"created": True}]), f"{IC}.stop.0", '"created" can only start a target'),
    (_custom("start", [{"created": "yes"}]), f"{IC}.start.0.created", "must be true"),
    (_custom("stop", [{"field_set": []}]), f"{IC}.stop.0.field_set", "non-empty list of names"),
    (_custom("start", []), f"{IC}.start", "must not be empty"),
    (_custom("start", [{"entered_phase": "stabilised"}]), f"{IC}.start.0.entered_phase", 'unknown phase "stabilised"'),
    (_custom("pause_phases", ["waiting"]), f"{IC}.pause_phases", 'unknown phase "waiting"'),
    (_custom("duration", "best_effort"), f"{IC}.duration", "needs a duration"),
    (_custom("duration", "15x on 24x7"), f"{IC}.duration.duration", '"15x" is not a duration'),
    (_custom("duration", "15m on mars"), f"{IC}.duration.calendar", 'unknown calendar "mars"'),
    (_custom("severities", ["sev9"]), f"{IC}.severities", 'unknown severity "sev9"'),
    (_custom("tiers", ["gold"]), f"{IC}.tiers", 'unknown tier "gold"'),
    (_custom("colour", "red"), f"{IC}.colour", "unknown key"),
    (_top("custom_targets", {"resolution": IC_TARGET}), "custom_targets.resolution", "is a built-in target"),
    (_top("custom_targets", {"bad id!": IC_TARGET}), "custom_targets.bad id!", "is not a valid target id"),
    (_top("actions", [{"on": "breach", "kind": "note", "targets": ["nope"]}]), "actions.0.targets", 'unknown target "nope"'),
    (_top("actions", [{"on": "arrived", "kind": "page", "targets": ["resolution"]}]), "actions.0.targets", "has no target"),
    (_top("actions", [{"on": "severity_lowered", "kind": "page"}]), "actions.0.on", "Must be one of"),
    (_top("notes", [{"id": "x", "text": "y", "when": "holidays"}]), "notes.0.calendar", "has holidays"),
    (_top("notes", [{"id": "x", "text": "y", "calendar": "mars"}]), "notes.0.calendar", 'unknown calendar "mars"'),
    (_top("notes", [{"id": "x", "text": "y", "when": "weekends"}]), "notes.0.when", "Must be one of"),
    (_top("notes", [{"id": "x", "text": "", "tiers": ["gold"]}]), "notes.0.text", "must not be empty"),
    (_top("notes", [{"id": "x", "text": "y", "tiers": ["gold"]}]), "notes.0.tiers", 'unknown tier "gold"'),
]  # fmt: skip


@pytest.mark.parametrize(("mutate", "path", "words"), CASES, ids=[c[1] + ": " + c[2] for c in CASES])
def test_an_error_names_its_path(
    extended: Callable[[], dict[str, Any]], mutate: Callable[[dict[str, Any]], None], path: str, words: str
) -> None:
    doc = extended()
    mutate(doc)
    with pytest.raises(PolicyDocumentError) as caught:
        load_policy(doc)
    assert any(p == path and words in message for p, message in caught.value.errors), caught.value.errors


def test_a_page_needs_no_url_any_more(extended: Callable[[], dict[str, Any]]) -> None:
    # Without one the worker pages the tenant's on-call URL (as page_on_call does).
    policy = load_policy(extended())
    assert policy.actions[0].kind == "page" and dict(policy.actions[0].params) == {}
