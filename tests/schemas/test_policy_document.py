"""Loading, dumping and parsing policy documents: what the loaded Policy holds, round trips, YAML."""

from __future__ import annotations

from datetime import date

import pytest

from app.policy.durations import Duration
from app.policy.model import (
    BEST_EFFORT,
    EmailDomainRule,
    FieldRule,
    MatrixRule,
    OrganizationRule,
    PhaseRule,
    Target,
)
from app.schemas.policy import PolicyDocumentError, dump_policy, load_policy, parse_document_text
from app.schemas.presets import list_presets, load_preset


def test_targets_load_from_their_short_and_long_forms(document) -> None:
    policy = load_policy(document())
    premium = policy.targets_for("premium", "sev1")
    assert premium.first_response == Target(Duration(minutes=60), "dresden")
    assert premium.cadence_for("active") == Target(Duration(minutes=60), "24x7")
    assert premium.cadence_for("mitigated") == Target(Duration(at_closure=True))
    assert premium.resolution == Target(Duration(business_days=2), "dresden")
    assert premium.eta_required and not premium.page_on_call
    assert policy.targets_for("premium", "sev2").first_response == Target(Duration(minutes=240), "dresden")
    assert policy.targets_for("premium", "sev2").resolution == BEST_EFFORT
    best = policy.targets_for("standard", "sev2").first_response
    assert best.duration is None and best.note == "typically 2-3 business days"


def test_a_calendar_loads_with_its_holidays_resolved(document) -> None:
    doc = document()
    doc["calendars"]["dresden"].update(
        closed_dates=["2026-12-24"], open_dates=["2026-12-27"], day_length="7h"
    )
    spec = load_policy(doc).calendars["dresden"]
    assert spec.weekly == (((540, 1020),),) * 5 + ((), ())
    assert spec.holidays[date(2026, 11, 18)] == "Repentance and Prayer Day"  # Buß- und Bettag
    assert date(2025, 11, 19) in spec.holidays and spec.holidays_close
    assert spec.extra_closed == frozenset({date(2026, 12, 24)})
    assert spec.extra_open == frozenset({date(2026, 12, 27)})
    assert spec.day_length_minutes == 420
    assert (spec.holiday_country, spec.holiday_subdivision) == ("DE", "SN")


def test_a_subdivision_may_be_named(document) -> None:
    doc = document()
    doc["calendars"]["dresden"]["holidays"] = {
        "country": "de",
        "subdivision": "Sachsen",
        "closes_desk": False,
    }
    spec = load_policy(doc).calendars["dresden"]
    assert (spec.holiday_country, spec.holiday_subdivision, spec.holidays_close) == ("DE", "SN", False)


def test_weekly_hours_accept_day_words_and_several_intervals(document) -> None:
    doc = document()
    doc["calendars"]["dresden"]["hours"] = {"weekdays": ["08:00-12:00", "13:00-17:00"], "sat": "10:00-14:00"}
    spec = load_policy(doc).calendars["dresden"]
    assert spec.weekly[0] == ((480, 720), (780, 1020))
    assert spec.weekly[5] == ((600, 840),) and spec.weekly[6] == ()
    doc["calendars"]["dresden"]["hours"] = "24x7"
    assert load_policy(doc).calendars["dresden"].weekly == (((0, 1440),),) * 7


def test_every_mapping_rule_kind_loads(document) -> None:
    doc = document()
    doc["mapping"]["rules"] = [
        {"field": "customfield_10050", "sets": "tier", "values": {"Enterprise": "premium"}},
        {"organization": {"ACME GmbH": "premium"}},
        {"email_domain": {"@Acme.com": "premium"}},
        {
            "matrix": {
                "impact": "customfield_1",
                "urgency": "customfield_2",
                "cells": {"High": {"Low": "sev2"}},
            }
        },
    ]
    rules = load_policy(doc).mapping.rules
    assert rules == (
        FieldRule("tier", "customfield_10050", {"enterprise": "premium"}),
        OrganizationRule({"acme gmbh": "premium"}),
        EmailDomainRule({"acme.com": "premium"}),
        MatrixRule("customfield_1", "customfield_2", {("high", "low"): "sev2"}),
    )


def test_phases_accept_jira_category_names(document) -> None:
    doc = document()
    doc["phases"] = {"closed": {"categories": ["Done"]}, "paused": {"statuses": ["Waiting for Customer"]}}
    assert load_policy(doc).phases == (
        PhaseRule("closed", categories=frozenset({"done"})),
        PhaseRule("paused", statuses=frozenset({"waiting for customer"})),
    )


def test_pre_breach_and_actions_load(document) -> None:
    doc = document()
    doc["pre_breach"] = {"lead": "30m", "share": 0.75}
    doc["actions"] = [
        {"on": "pre_breach", "kind": "note", "targets": ["first_response"]},
        {"on": "breach", "kind": "transition", "params": {"name": "Escalate"}, "severities": ["sev1"]},
        {
            "on": "breach",
            "kind": "page",
            "params": {"url": "https://oncall.example/hook"},
            "tiers": ["premium"],
        },
    ]
    policy = load_policy(doc)
    assert policy.pre_breach.lead == Duration(minutes=30) and policy.pre_breach.share == 0.75
    assert [(a.on, a.kind) for a in policy.actions] == [
        ("pre_breach", "note"),
        ("breach", "transition"),
        ("breach", "page"),
    ]
    assert policy.actions[1].params == {"name": "Escalate"} and policy.actions[1].severities == ("sev1",)
    assert load_policy(dump_policy(policy)) == policy


def test_the_base_document_round_trips(document) -> None:
    policy = load_policy(document())
    dumped = dump_policy(policy)
    assert load_policy(dumped) == policy
    assert dumped["tiers"]["premium"]["sev1"]["first_response"] == "1h on dresden"
    assert dumped["tiers"]["standard"]["sev2"]["first_response"] == {
        "best_effort": True,
        "note": "typically 2-3 business days",
    }
    assert dumped["calendars"]["dresden"]["hours"] == {"mon-fri": "09:00-17:00"}


@pytest.mark.parametrize("preset_id", [p["id"] for p in list_presets()])
def test_every_preset_round_trips(preset_id: str) -> None:
    policy = load_preset(preset_id)
    assert load_policy(dump_policy(policy)) == policy


YAML_DOCUMENT = """
id: acme
name: Acme Support
calendars:
  dresden:
    timezone: Europe/Berlin
    hours:
      mon-fri: "09:00-17:00"
    holidays: {country: DE, subdivision: SN}
    closed_dates: [2026-12-24]
severities:
  - {id: sev1, name: Critical, aliases: [P1]}
tiers:
  standard:
    name: Standard
    sev1:
      first_response: 4h on dresden
      update_cadence: {active: 1bd on dresden}
actions:
  - on: breach
    kind: note
"""


def test_yaml_is_accepted_on_import() -> None:
    policy = load_policy(parse_document_text(YAML_DOCUMENT, "acme.yaml"))
    assert policy.targets_for("standard", "sev1").first_response == Target(Duration(minutes=240), "dresden")
    assert policy.calendars["dresden"].extra_closed == frozenset({date(2026, 12, 24)})
    assert policy.actions[0].on == "breach"  # YAML 1.1 would have read the key `on` as true


def test_yaml_without_a_name_is_recognised() -> None:
    assert parse_document_text(YAML_DOCUMENT)["id"] == "acme"


def test_json_is_parsed() -> None:
    assert parse_document_text('{"id": "x"}', "p.json") == {"id": "x"}


@pytest.mark.parametrize(
    ("text", "filename", "words"),
    [
        ('{"id": ', "p.json", "not valid JSON"),
        ("id: [unclosed", "p.yaml", "not valid JSON or YAML"),
        ("- a list", "p.yaml", "must be an object"),
    ],
)
def test_unparseable_text_is_a_document_error(text: str, filename: str, words: str) -> None:
    with pytest.raises(PolicyDocumentError) as caught:
        parse_document_text(text, filename)
    assert words in caught.value.errors[0][1]
