"""The worked examples of issues 3 and 10, computed through the presets (engine and command line)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner

from app.cli import main
from app.policy.sla import TicketEvent, TicketHistory, deadlines, evaluate
from app.policy.sla_property import targets_block
from app.policy.triage import Placement, triage_actions
from app.schemas.presets import load_preset


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _z(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def test_communardo_level_2_skips_the_saxon_holiday() -> None:
    # Tue 15:00 CET: 2 h on Tuesday; Wed 18 Nov is Buß- und Bettag (Saxony only); 2 h on Thursday.
    due = deadlines(load_preset("communardo"), "standard", "sev2", _at("2026-11-17T15:00:00+01:00"))
    assert due["first_response_due"] == _z("2026-11-19T10:00:00Z")
    assert due["next_update_due"] is None and due["resolution_due"] is None


def test_mulesight_sev1_counts_melbourne_cup_day() -> None:
    due = deadlines(
        load_preset("mulesight"),
        "standard",
        "sev1",
        _at("2026-11-02T16:00:00+11:00"),
        responded=_at("2026-11-04T10:00:00+11:00"),
        phase="stabilized",
    )
    assert due == {
        "first_response_due": _z("2026-11-03T05:00:00Z"),  # 8 business hours; the holiday is open
        "next_update_due": _z("2026-11-04T23:00:00Z"),  # 1 business day = 8 open hours
        "resolution_due": _z("2026-11-09T05:00:00Z"),  # 5 business days = 40 open hours
    }


def test_the_command_line_prints_the_same() -> None:
    runner = CliRunner()
    communardo = runner.invoke(
        main,
        [
            "due",
            "--preset",
            "communardo",
            "--tier",
            "standard",
            "--severity",
            "sev2",
            "--created",
            "2026-11-17T15:00:00+01:00",
        ],
    )
    assert communardo.exit_code == 0, communardo.output
    assert '"first_response_due": "2026-11-19T10:00:00Z"' in communardo.stdout
    mulesight = runner.invoke(
        main,
        [
            "due", "--preset", "mulesight", "--tier", "standard", "--severity", "sev1",
            "--created", "2026-11-02T16:00:00+11:00", "--responded", "2026-11-04T10:00:00+11:00", "--phase", "stabilized",
        ],
    )  # fmt: skip
    assert mulesight.exit_code == 0, mulesight.output
    for expected in (
        '"first_response_due": "2026-11-03T05:00:00Z"',
        '"next_update_due": "2026-11-04T23:00:00Z"',
        '"resolution_due": "2026-11-09T05:00:00Z"',
    ):
        assert expected in mulesight.stdout


# --- issue 10: a Sev-1 confluence-health-check ticket ----------------------------------------------

SEV1_CREATED = _z("2026-11-23T10:00:00Z")  # a Monday


def _sev1_history(*extra: TicketEvent, closed: bool = True) -> TicketHistory:
    events = (
        TicketEvent(_z("2026-11-23T10:20:00Z"), "status", "Acknowledged"),  # engineering acknowledges
        TicketEvent(_z("2026-11-23T10:30:00Z"), "field", "customfield_10071", "557058:ic-user"),
        *extra,
    )
    phases = ((_z("2026-11-23T12:00:00Z"), "mitigated"),)
    if closed:
        phases += ((_z("2026-11-23T14:00:00Z"), "closed"),)
    return TicketHistory(
        SEV1_CREATED, "standard", "sev1", phases, (_z("2026-11-23T10:05:00Z"),), events=events
    )


def test_a_sev1_ticket_pages_on_call_on_arrival() -> None:
    policy = load_preset("confluence-health-check")
    (page,) = triage_actions(policy, "10001", None, Placement("standard", "sev1"), SEV1_CREATED)
    assert (page.occasion, page.action.kind, page.key) == ("arrived", "page", "triage:10001:arrived:sev1:0")
    assert policy.targets_for("standard", "sev1").page_on_call  # and again at a breach


def test_the_incident_commander_target_runs_from_acknowledgement_until_the_field_is_set() -> None:
    policy = load_preset("confluence-health-check")
    history = _sev1_history()
    before = evaluate(policy, history, _z("2026-11-23T10:10:00Z")).custom["incident_commander"]
    assert (before.status, before.due) == ("none", None)  # not acknowledged yet
    running = evaluate(policy, history, _z("2026-11-23T10:25:00Z")).custom["incident_commander"]
    assert (running.status, running.due) == ("running", _z("2026-11-23T10:35:00Z"))  # 15 min round the clock
    met = evaluate(policy, history, _z("2026-11-23T11:00:00Z")).custom["incident_commander"]
    assert (met.status, met.met_at, met.late_by) == ("on_time", _z("2026-11-23T10:30:00Z"), None)


def test_the_review_target_starts_at_resolution() -> None:
    policy = load_preset("confluence-health-check")
    open_ticket = evaluate(policy, _sev1_history(closed=False), _z("2026-11-23T13:00:00Z"))
    assert open_ticket.custom["post_incident_review"].status == "none"
    resolved = evaluate(policy, _sev1_history(), _z("2026-11-23T15:00:00Z")).custom["post_incident_review"]
    # 2 business days on the Mon-Fri UTC calendar (a business day there is 24 hours).
    assert (resolved.status, resolved.due) == ("running", _z("2026-11-25T14:00:00Z"))
    linked = TicketEvent(_z("2026-11-24T09:00:00Z"), "link", "Post-incident review")
    opened = evaluate(policy, _sev1_history(linked), _z("2026-11-26T09:00:00Z")).custom[
        "post_incident_review"
    ]
    assert (opened.status, opened.met_at) == ("on_time", _z("2026-11-24T09:00:00Z"))
    missed = evaluate(policy, _sev1_history(), _z("2026-11-26T09:00:00Z")).custom["post_incident_review"]
    assert (missed.status, missed.late_by) == ("late", timedelta(hours=19))


def test_the_command_line_prints_the_custom_deadlines() -> None:
    result = CliRunner().invoke(
        main,
        [
            "due", "--preset", "confluence-health-check", "--tier", "standard", "--severity", "sev1",
            "--created", "2026-11-23T10:00:00Z", "--start", "incident_commander=2026-11-23T10:20:00Z",
            "--start", "post_incident_review=2026-11-23T14:00:00Z",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["custom_targets"] == {
        "incident_commander": "2026-11-23T10:35:00Z",
        "post_incident_review": "2026-11-25T14:00:00Z",
    }


def test_a_late_first_reply_reads_late_in_the_property() -> None:
    policy = load_preset("confluence-health-check")
    history = replace(_sev1_history(), replies=(_z("2026-11-24T11:00:00Z"),))
    block = targets_block(evaluate(policy, history, _z("2026-11-24T12:00:00Z")))
    assert (block["firstResponseState"], block["firstResponseLateMinutes"]) == ("late", 60)
    assert block["firstResponseMetAt"] == "2026-11-24T11:00:00Z" and block["breached"] is True
    on_time = targets_block(evaluate(policy, _sev1_history(), _z("2026-11-24T12:00:00Z")))
    assert (on_time["firstResponseState"], on_time["firstResponseLateMinutes"]) == ("on_time", None)
