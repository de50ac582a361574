"""`simulate` with custom targets: JSONL events, outcomes per cycle, the same status words as the engine."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime

import pytest

from app.policy import simulate as sim
from app.policy.durations import parse_duration
from app.policy.errors import PolicyError
from app.policy.model import AGENT_REPLY, CUSTOMER_COMMENT, Condition, CustomTarget, Target
from app.schemas.presets import load_preset

AS_OF = datetime.fromisoformat("2026-11-27T12:00:00+00:00")
ACK = {"at": "2026-11-23T10:20:00Z", "status": "Acknowledged", "category": "indeterminate"}
RESOLVED = {"at": "2026-11-23T14:00:00Z", "status": "Resolved", "category": "done"}

TICKETS = [
    {  # IC named in 10 minutes; review linked the next day: both on time
        "key": "A", "created": "2026-11-23T10:00:00Z", "tier": "standard", "severity": "sev1",
        "replies": ["2026-11-23T10:05:00Z"], "status_changes": [ACK, RESOLVED],
        "events": [{"at": "2026-11-23T10:30:00Z", "field": "customfield_10071", "value": "557058:u1"},
                   {"at": "2026-11-24T09:00:00Z", "linked_issue": "Post-incident review"}],
    },
    {  # IC named 25 minutes after acknowledgement: late; no review: late
        "key": "B", "created": "2026-11-23T10:00:00Z", "tier": "standard", "severity": "sev2",
        "replies": ["2026-11-23T10:05:00Z"], "status_changes": [ACK, RESOLVED],
        "events": [{"at": "2026-11-23T10:45:00Z", "field": "customfield_10071", "value": "557058:u1"}],
    },
    {  # acknowledged, no IC yet at as_of: late; never resolved: the review never started
        "key": "C", "created": "2026-11-27T11:00:00Z", "tier": "standard", "severity": "sev1",
        "status_changes": [{"at": "2026-11-27T11:30:00Z", "status": "acknowledged"}],
    },
    {  # a Sev-3: no custom targets at all
        "key": "D", "created": "2026-11-23T10:00:00Z", "tier": "standard", "severity": "sev3",
        "events": [{"at": "2026-11-23T11:00:00Z", "label": "pir-opened"}],
    },
]  # fmt: skip


def _tickets(items: list[dict] = TICKETS) -> list[sim.SimTicket]:  # noqa: B006 - read only
    return list(sim.read_tickets(json.dumps(t) for t in items))


def test_custom_targets_are_counted_per_cell_and_in_totals() -> None:
    report = sim.report_json(sim.simulate(load_preset("confluence-health-check"), _tickets(), AS_OF))
    cells = {(r["tier"], r["severity"]): r for r in report["results"]}
    assert cells[("standard", "sev1")]["custom_targets"] == {
        "incident_commander": {"met": 1, "breached": 1, "pending": 0, "none": 0},
        "post_incident_review": {"met": 1, "breached": 0, "pending": 0, "none": 0},
    }
    assert cells[("standard", "sev2")]["custom_targets"]["post_incident_review"]["breached"] == 1
    assert cells[("standard", "sev3")]["custom_targets"] == {
        "incident_commander": {"met": 0, "breached": 0, "pending": 0, "none": 0},
        "post_incident_review": {"met": 0, "breached": 0, "pending": 0, "none": 0},
    }
    assert report["totals"]["custom_targets"]["incident_commander"] == {
        "met": 1, "breached": 2, "pending": 0, "none": 0,
    }  # fmt: skip


def test_a_policy_without_custom_targets_reports_as_before() -> None:
    report = sim.report_json(sim.simulate(load_preset("mulesight"), _tickets(TICKETS[3:]), AS_OF))
    assert "custom_targets" not in report["results"][0] and "custom_targets" not in report["totals"]


def test_a_recurring_target_counts_every_cycle() -> None:
    reply_target = CustomTarget(
        "reply", "Answer every customer comment", Target(parse_duration("1h"), "24x7"),
        (Condition(CUSTOMER_COMMENT),), (Condition(AGENT_REPLY),), recurring=True,
    )  # fmt: skip
    policy = replace(load_preset("confluence-health-check"), custom_targets=(reply_target,))
    ticket = {
        "key": "R", "created": "2026-11-23T10:00:00Z", "tier": "standard", "severity": "sev4",
        "events": [{"at": t, "customer_comment": True} for t in
                   ("2026-11-23T10:00:00Z", "2026-11-23T12:00:00Z", "2026-11-23T15:00:00Z")],
        "replies": ["2026-11-23T10:30:00Z", "2026-11-23T13:30:00Z"],
    }  # fmt: skip
    at = datetime.fromisoformat("2026-11-23T15:30:00+00:00")
    counts = sim.report_json(sim.simulate(policy, _tickets([ticket]), at))["totals"]["custom_targets"][
        "reply"
    ]
    assert counts == {"met": 1, "breached": 1, "pending": 1, "none": 0}


def test_the_outcome_is_the_engine_status_word() -> None:
    assert sim.OUTCOME_OF_STATUS == {
        "on_time": "met", "late": "breached", "running": "pending", "paused": "pending", "none": "none",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("event", "where"),
    [
        ({"at": "2026-11-23T10:00:00Z"}, "line 1: events.0"),
        ({"at": "2026-11-23T10:00:00Z", "field": "x", "label": "y"}, "line 1: events.0"),
        ({"at": "2026-11-23T10:00:00", "label": "y"}, "line 1: events.0.at"),
        ({"at": "2026-11-23T10:00:00Z", "linked_issue": ""}, "line 1: events.0.linked_issue"),
    ],
)
def test_a_bad_event_names_its_line_and_place(event: dict, where: str) -> None:
    line = json.dumps(
        {"created": "2026-11-23T10:00:00Z", "tier": "standard", "severity": "sev1", "events": [event]}
    )
    with pytest.raises(PolicyError) as caught:
        list(sim.read_tickets([line]))
    assert caught.value.path == where


def test_removed_labels_and_events_set_the_end_of_the_data() -> None:
    (ticket,) = _tickets(
        [
            {
                "created": "2026-11-23T10:00:00Z",
                "events": [{"at": "2026-11-25T10:00:00Z", "label": "x", "removed": True}],
            }
        ]
    )
    assert ticket.events[0].value == "removed"
    assert sim.default_as_of([ticket]) == datetime.fromisoformat("2026-11-25T10:00:00+00:00")
