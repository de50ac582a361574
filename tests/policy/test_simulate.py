"""Back-testing a policy on ticket histories (the JSONL format of docs/simulate-format.md)."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from app.policy import simulate as sim
from app.policy.errors import PolicyError
from app.schemas.policy import load_policy
from app.schemas.presets import load_preset, preset_document

AS_OF = datetime.fromisoformat("2026-11-04T12:00:00+11:00")

TICKETS = [
    {  # first response met; the 4 h update after the first reply is late; closed before resolution is due
        "key": "A",
        "created": "2026-11-02T16:00:00+11:00",
        "tier": "standard",
        "severity": "sev1",
        "replies": ["2026-11-03T10:00:00+11:00", "2026-11-03T15:00:00+11:00"],
        "status_changes": [
            {"at": "2026-11-03T15:30:00+11:00", "status": "Monitoring", "category": "indeterminate"}
        ],
        "closed": "2026-11-04T11:00:00+11:00",
    },
    {  # never answered: first response breached, resolution still running
        "key": "B",
        "created": "2026-11-02T09:00:00+11:00",
        "tier": "standard",
        "severity": "sev2",
    },
    {  # waiting for the customer since 09:30: the clock is stopped
        "key": "C",
        "created": "2026-11-02T09:00:00+11:00",
        "tier": "standard",
        "severity": "sev3",
        "status_changes": [{"at": "2026-11-02T09:30:00+11:00", "status": "Waiting for customer"}],
    },
    {  # tier and severity derived by the mapping; answered in 30 minutes, then updated in time
        "key": "D",
        "created": "2026-11-03T09:00:00+11:00",
        "fields": {"priority": {"name": "Highest"}},
        "replies": [
            {"at": "2026-11-03T09:30:00+11:00"},
            "2026-11-03T13:00:00+11:00",
            "2026-11-03T16:30:00+11:00",
        ],
    },
    {"key": "E", "created": "2026-11-03T09:00:00+11:00", "tier": "gold", "severity": "sev1"},
]


def _tickets() -> list[sim.SimTicket]:
    return list(sim.read_tickets(json.dumps(t) for t in TICKETS))


def test_outcomes_per_tier_and_severity() -> None:
    report = sim.report_json(sim.simulate(load_preset("mulesight"), _tickets(), AS_OF))
    cells = {(r["severity"]): r for r in report["results"]}
    assert report["tickets"] == 4 and report["skipped"] == 1
    assert (
        report["skipped_examples"][0]["ticket"] == "E" and "gold" in report["skipped_examples"][0]["reason"]
    )
    sev1 = cells["sev1"]
    assert sev1["tickets"] == 2
    assert sev1["first_response"] == {"met": 2, "breached": 0, "pending": 0, "none": 0}
    # A: 10:00 → 15:00 breaches the 4 h cadence, then closed. D: 09:30 → 13:00 and 13:00 → 16:30
    # met; the update owed after 16:30 is due Wed 12:30 (30 min Tue + 3.5 h Wed): pending at 12:00.
    assert sev1["next_update"] == {"met": 2, "breached": 1, "pending": 1, "none": 0}
    assert sev1["resolution"] == {"met": 1, "breached": 0, "pending": 1, "none": 0}
    assert cells["sev2"]["first_response"]["breached"] == 1 and cells["sev2"]["resolution"]["pending"] == 1
    assert cells["sev3"]["first_response"]["pending"] == 1  # paused, not breached
    assert report["totals"]["first_response"] == {"met": 2, "breached": 1, "pending": 1, "none": 0}
    assert report["as_of"] == "2026-11-04T01:00:00Z"


def test_best_effort_targets_count_as_none() -> None:
    ticket = sim.parse_ticket({"created": "2026-11-02T09:00:00Z", "tier": "basic", "severity": "sev4"})
    report = sim.report_json(sim.simulate(load_preset("connectsoft"), [ticket], AS_OF))
    assert report["results"][0]["first_response"] == {"met": 0, "breached": 0, "pending": 0, "none": 1}


def test_two_policies_are_compared() -> None:
    doc = preset_document("mulesight")
    doc["id"] = "mulesight-strict"
    for sev in ("sev1", "sev2", "sev3", "sev4"):
        doc["tiers"]["standard"][sev]["first_response"] = "1h on melbourne"
    strict = load_policy(doc)
    result = sim.comparison_json(sim.compare(load_preset("mulesight"), strict, _tickets(), AS_OF))
    assert result["policy"]["policy"] == "mulesight" and result["against"]["policy"] == "mulesight-strict"
    # A was answered after 18 h elapsed (1 business hour on Monday + 1 on Tuesday): met at 8 h, late at 1 h.
    assert result["changed_tickets"]["first_response"] == {"breached→met": 1}
    assert {
        "tier": "standard",
        "severity": "sev1",
        "target": "first_response",
        "met": 1,
        "breached": -1,
        "pending": 0,
        "none": 0,
    } in result["diff"]
    assert result["diff_totals"]["first_response"]["met"] == 1


def test_as_of_defaults_to_the_latest_time_in_the_input() -> None:
    assert sim.default_as_of(_tickets()) == datetime.fromisoformat("2026-11-04T11:00:00+11:00")


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("{not json", "line 1: not JSON"),
        (
            '{"created": "2026-11-02T09:00:00"}',
            'line 1: created: "2026-11-02T09:00:00" needs a time zone offset',
        ),
        ('{"created": "yesterday"}', "is not an ISO 8601 time"),
        (
            '{"created": "2026-11-02T09:00:00Z", "status_changes": [{"at": "2026-11-02T10:00:00Z"}]}',
            "status_changes.0",
        ),
        ("[1, 2]", "a ticket must be a JSON object"),
    ],
)
def test_bad_lines_are_named(line: str, words: str) -> None:
    with pytest.raises(PolicyError) as caught:
        list(sim.read_tickets([line]))
    assert words in str(caught.value)


def test_a_ticket_without_tier_or_facts_is_skipped() -> None:
    ticket = sim.parse_ticket({"key": "X", "created": "2026-11-02T09:00:00Z"})
    report = sim.simulate(load_preset("mulesight"), [ticket], AS_OF)
    assert report.skipped == 1 and "no tier/severity" in report.skipped_examples[0][1]
