"""One status per target (on_time / late / running / paused / none) and the property blocks rendered from it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from app.policy.sla import STATUSES, TicketHistory, evaluate
from app.policy.sla_property import JQL_ALIASES, late_minutes, target_block, targets_block
from app.schemas.presets import load_preset

from .test_sla import POLICY, berlin, ticket

REPO_ROOT = Path(__file__).resolve().parents[2]

# First response is due Mon 16 Nov 12:00 Dresden time (4 open hours from 09:00), warned from 11:00.
# (what it shows, replies, phase changes, now, status, met_at, late_by)
FIRST_RESPONSE = [
    ("running before the deadline", (), (), "16T10:00", "running", None, None),
    ("running while due soon", (), (), "16T12:30", "running", None, None),
    ("on time at the deadline", ("16T13:00",), (), "16T15:00", "on_time", "16T13:00", None),
    ("a late answer is late, never met", ("16T13:30",), (), "16T15:00", "late", "16T13:30", timedelta(minutes=30)),
    ("unmet past the deadline is late by now", (), (), "16T14:00", "late", None, timedelta(hours=1)),
    ("paused", (), (("16T10:00", "paused"),), "16T11:00", "paused", None, None),
    ("closed before it was due: none", (), (("16T10:00", "closed"),), "16T15:00", "none", None, None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("replies", "changes", "now", "status", "met_at", "late_by"),
    [c[1:] for c in FIRST_RESPONSE],
    ids=[c[0] for c in FIRST_RESPONSE],
)
def test_first_response_status(
    replies: tuple[str, ...],
    changes: tuple[tuple[str, str], ...],
    now: str,
    status: str,
    met_at: str | None,
    late_by: timedelta | None,
) -> None:
    history = ticket(
        replies=tuple(berlin(r) for r in replies), phase_changes=tuple((berlin(a), p) for a, p in changes)
    )
    fr = evaluate(POLICY, history, berlin(now)).first_response
    assert fr.status == status
    assert fr.met_at == (berlin(met_at) if met_at else None)
    assert fr.late_by == late_by
    assert fr.breached == (status == "late")  # breached and late are the same fact


def test_a_late_resolution_and_a_late_update_are_late() -> None:
    history = ticket(replies=(berlin("16T10:00"),), phase_changes=((berlin("24T10:00"), "closed"),))
    sla = evaluate(POLICY, history, berlin("25T09:00"))
    assert (sla.resolution.status, sla.resolution.met_at) == ("late", berlin("24T10:00"))
    assert sla.resolution.late_by is not None and sla.resolution.late_by > timedelta(0)
    update = evaluate(POLICY, ticket(replies=(berlin("16T10:00"),)), berlin("16T15:00")).next_update
    assert (update.status, update.late_by) == ("late", timedelta(hours=1))  # due at 14:00


def test_a_best_effort_target_has_no_status_but_none() -> None:
    sla = evaluate(POLICY, ticket(severity="sev2"), berlin("20T10:00"))
    assert sla.first_response.status == "none" and sla.resolution.status == "none"
    assert {t.status for t in sla.targets().values()} <= set(STATUSES)


# --- the property blocks ----------------------------------------------------------------------------


def test_the_late_answer_reads_late_in_the_property() -> None:
    history = ticket(replies=(berlin("16T13:30"),))
    block = targets_block(evaluate(POLICY, history, berlin("16T15:00")))
    assert block["firstResponseState"] == "late"
    assert block["firstResponseMetAt"] == "2026-11-16T12:30:00Z"
    assert block["firstResponseLateMinutes"] == 30
    assert block["firstResponseDue"] == "2026-11-16T12:00:00Z"
    assert block["breached"] is True and block["lateTargets"] == ["first_response"]


def test_an_on_time_answer_is_not_breached() -> None:
    block = targets_block(evaluate(POLICY, ticket(replies=(berlin("16T11:00"),)), berlin("16T11:30")))
    assert (block["firstResponseState"], block["firstResponseLateMinutes"]) == ("on_time", None)
    assert block["breached"] is False and block["lateTargets"] == []
    assert "resolution" in block["runningTargets"] and "next_update" in block["runningTargets"]


def test_late_minutes_round_up_and_only_once_met() -> None:
    late = evaluate(POLICY, ticket(replies=(berlin("16T13:00:01"),)), berlin("16T15:00")).first_response
    assert late_minutes(late) == 1
    unmet = evaluate(POLICY, ticket(), berlin("16T15:00")).first_response
    assert unmet.status == "late" and late_minutes(unmet) is None


def test_custom_targets_sit_under_custom() -> None:
    policy = load_preset("confluence-health-check")
    created = datetime.fromisoformat("2026-11-23T10:00:00+00:00")
    history = TicketHistory(created, "standard", "sev1")
    block = targets_block(evaluate(policy, history, created + timedelta(hours=1)))
    assert block["custom"]["incident_commander"] == {
        "due": None,
        "state": "none",
        "metAt": None,
        "lateMinutes": None,
    }
    assert set(block["custom"]) == {"incident_commander", "post_incident_review"}
    plain = target_block(evaluate(policy, history, created).first_response)
    assert set(plain) == {"due", "state", "metAt", "lateMinutes"}


def test_every_jql_alias_names_a_key_the_block_writes() -> None:
    block = targets_block(evaluate(POLICY, ticket(), berlin("16T10:00")))
    pipeline_keys = {"tier", "severity", "phase"}  # written by the pipeline around the block
    for object_name, kind, alias in JQL_ALIASES:
        assert object_name in block or object_name in pipeline_keys, object_name
        assert kind in {"date", "string", "number"} and alias.startswith("tierwise")
    assert len(JQL_ALIASES) <= 30  # Forge indexes 30 values at most


def test_the_descriptor_declares_a_subset_of_the_aliases() -> None:
    descriptor = json.loads((REPO_ROOT / "atlassian-connect.json").read_text(encoding="utf-8"))
    extractions = descriptor["modules"]["jiraEntityProperties"][0]["keyConfigurations"][0]["extractions"]
    declared = {(e["objectName"], e["type"], e["alias"]) for e in extractions}
    assert declared <= set(JQL_ALIASES)
