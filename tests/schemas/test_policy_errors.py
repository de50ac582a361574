"""Schema errors name the path and the problem; every problem is reported at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from app.policy.errors import PolicyError
from app.schemas.policy import PolicyDocumentError, load_policy


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = doc
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


def _delete(path: str) -> Callable[[dict[str, Any]], None]:
    def mutate(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = doc
        for key in parents:
            node = node[key]
        del node[last]

    return mutate


# (what is broken, expected path, expected words in the message)
CASES = [
    (
        _set("tiers.premium.sev1.first_response", {"duration": "4x"}),
        "tiers.premium.sev1.first_response.duration",
        '"4x" is not a duration',
    ),
    (
        _set("tiers.premium.sev1.first_response", "4x on dresden"),
        "tiers.premium.sev1.first_response.duration",
        '"4x" is not a duration',
    ),
    (
        _set("tiers.premium.sev1.first_response", "1h on nowhere"),
        "tiers.premium.sev1.first_response.calendar",
        'unknown calendar "nowhere"',
    ),
    (
        _set("tiers.premium.sev1.resolution", "at_closure"),
        "tiers.premium.sev1.resolution.duration",
        "only allowed in an update_cadence",
    ),
    (_set("tiers.premium.sev1.first_response", 42), "tiers.premium.sev1.first_response", "is not a target"),
    (
        _set("tiers.premium.sev1.first_response", {"best_effort": True, "duration": "1h"}),
        "tiers.premium.sev1.first_response.duration",
        "not allowed on a best-effort target",
    ),
    (
        _set("tiers.premium.sev1.first_response", {"calendar": "dresden"}),
        "tiers.premium.sev1.first_response.duration",
        "required",
    ),
    (
        _set("tiers.premium.sev1.update_cadence", {"stabilised": "1bd"}),
        "tiers.premium.sev1.update_cadence.stabilised",
        'unknown phase "stabilised"',
    ),
    (
        _set("tiers.premium.sev1.update_cadence", {"paused": "1bd"}),
        "tiers.premium.sev1.update_cadence.paused",
        "no updates are due while paused",
    ),
    (
        _set("tiers.premium.sev1.eta_required", "yes please"),
        "tiers.premium.sev1.eta_required",
        "must be true or false",
    ),
    (_set("tiers.premium.sev1.sla", "1h"), "tiers.premium.sev1.sla", "unknown key"),
    (_delete("tiers.standard.sev2"), "tiers.standard.sev2", "every tier defines every severity"),
    (_set("tiers.standard.sev9", {}), "tiers.standard.sev9", 'unknown severity "sev9"'),
    (_delete("tiers.standard.name"), "tiers.standard.name", "required"),
    (_set("tiers", {}), "tiers", "must not be empty"),
    (
        _set("calendars.dresden.timezone", "Europe/Dresden"),
        "calendars.dresden.timezone",
        "is not an IANA time zone",
    ),
    (
        _set("calendars.dresden.hours", {"mon-fri": "09:00-17:61"}),
        "calendars.dresden.hours.mon-fri",
        "is not an interval",
    ),
    (
        _set("calendars.dresden.hours", {"mon-fri": "17:00-09:00"}),
        "calendars.dresden.hours.mon-fri",
        "ends before it starts",
    ),
    (
        _set("calendars.dresden.hours", {"mon-fri": ["09:00-13:00", "12:00-17:00"]}),
        "calendars.dresden.hours.mon-fri",
        "intervals overlap",
    ),
    (
        _set("calendars.dresden.hours", {"mon-fri": "09:00-17:00", "fri": "09:00-12:00"}),
        "calendars.dresden.hours.fri",
        "fri is given twice",
    ),
    (
        _set("calendars.dresden.hours", {"funday": "09:00-17:00"}),
        "calendars.dresden.hours.funday",
        "is not a day",
    ),
    (_set("calendars.dresden.hours", {"sat": "closed"}), "calendars.dresden.hours", "never open"),
    (
        _set("calendars.dresden.holidays", {"country": "XX"}),
        "calendars.dresden.holidays.country",
        '"XX" is not a country',
    ),
    (
        _set("calendars.dresden.holidays", {"country": "DE", "subdivision": "ZZ"}),
        "calendars.dresden.holidays.subdivision",
        '"ZZ" is not a subdivision of DE',
    ),
    (
        _set("calendars.dresden.closed_dates", ["2026-02-30"]),
        "calendars.dresden.closed_dates.0",
        "is not a date",
    ),
    (
        _set("calendars.dresden.day_length", "1bd"),
        "calendars.dresden.day_length",
        "must be in minutes or hours",
    ),
    (_set("calendars.24x7", {"timezone": "UTC", "hours": "24x7"}), "calendars.24x7", "24x7 is built in"),
    (_set("severities.1.id", "sev1"), "severities.1.id", '"sev1" is given twice'),
    (_set("severities.1.aliases", ["p1"]), "severities.1.aliases", '"p1" already names severity "sev1"'),
    (_set("severities.0.id", "sev 1"), "severities.0.id", "is not a valid id"),
    (_set("severities.0", {"id": "sev1"}), "severities.0.name", "required"),
    (_set("mapping.default_tier", "gold"), "mapping.default_tier", 'unknown tier "gold"'),
    (_set("mapping.default_severity", "sev7"), "mapping.default_severity", 'unknown severity "sev7"'),
    (
        _set("mapping.rules", [{"field": "priority", "sets": "colour"}]),
        "mapping.rules.0.sets",
        "Must be one of",
    ),
    (
        _set("mapping.rules", [{"field": "priority", "sets": "tier", "values": {"Gold": "gold"}}]),
        "mapping.rules.0.values.Gold",
        'unknown tier "gold"',
    ),
    (_set("mapping.rules", [{"priority": "x"}]), "mapping.rules.0", "a rule has exactly one of"),
    (
        _set("mapping.rules", [{"organization": {"Acme": "premium"}, "colour": "red"}]),
        "mapping.rules.0.colour",
        "unknown key",
    ),
    (
        _set(
            "mapping.rules",
            [{"matrix": {"impact": "i", "urgency": "u", "cells": {"High": {"High": "sev0"}}}}],
        ),
        "mapping.rules.0.matrix.cells.High.High",
        'unknown severity "sev0"',
    ),
    (
        _set("phases", {"paused": {"categories": ["finished"]}}),
        "phases.paused.categories.0",
        '"finished" is not a status category',
    ),
    (
        _set("phases", {"paused": {"statuses": ["Hold"]}, "closed": {"statuses": ["hold"]}}),
        "phases.closed.statuses",
        'already in phase "paused"',
    ),
    (_set("pre_breach", {"share": 1.5}), "pre_breach.share", "between 0 and 1"),
    (_set("pre_breach", {"lead": "soon"}), "pre_breach.lead", '"soon" is not a duration'),
    (_set("actions", [{"on": "breach", "kind": "transition"}]), "actions.0.params", "needs params: name"),
    (_set("actions", [{"on": "whenever", "kind": "note"}]), "actions.0.on", "Must be one of"),
    (
        _set("actions", [{"on": "breach", "kind": "note", "tiers": ["gold"]}]),
        "actions.0.tiers",
        'unknown tier "gold"',
    ),
    (_set("colour", "red"), "colour", "unknown key"),
    (_delete("id"), "id", "required"),
]


@pytest.mark.parametrize(("mutate", "path", "words"), CASES, ids=[c[1] + ":" + c[2] for c in CASES])
def test_an_error_names_its_path_and_problem(document, mutate, path, words) -> None:
    doc = document()
    mutate(doc)
    with pytest.raises(PolicyDocumentError) as caught:
        load_policy(doc)
    assert any(p == path and words in m for p, m in caught.value.errors), caught.value.errors


def test_every_error_is_reported_at_once(document) -> None:
    doc = document()
    doc["tiers"]["premium"]["sev1"]["first_response"] = "4x"
    doc["tiers"]["standard"]["sev1"]["first_response"] = "1h on mars"
    doc["calendars"]["dresden"]["timezone"] = "Mars/Olympus"
    doc["unknown"] = True
    with pytest.raises(PolicyDocumentError) as caught:
        load_policy(doc)
    paths = [p for p, _ in caught.value.errors]
    assert paths == [
        "calendars.dresden.timezone",
        "tiers.premium.sev1.first_response.duration",
        "tiers.standard.sev1.first_response.calendar",
        "unknown",
    ]
    assert (
        str(caught.value).splitlines()[1]
        == 'tiers.premium.sev1.first_response.duration: "4x" is not a duration'
    )
    assert caught.value.first_line().endswith("(and 3 more)")


def test_the_document_error_is_a_policy_error(document) -> None:
    with pytest.raises(PolicyError):
        load_policy({"id": "x"})


def test_a_document_must_be_an_object() -> None:
    with pytest.raises(PolicyDocumentError) as caught:
        load_policy(["not", "a", "policy"])  # type: ignore[arg-type]
    assert caught.value.errors == [("", "a policy document must be an object")]


def test_the_base_document_is_valid(document) -> None:
    policy = load_policy(document())
    assert list(policy.tiers) == ["premium", "standard"]
    assert [s.id for s in policy.severities] == ["sev1", "sev2"]
