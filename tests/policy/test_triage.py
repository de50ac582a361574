"""Triage actions: on arrival as X and on a severity raised to X, once per ticket and rise."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.policy.model import Action
from app.policy.triage import ARRIVED, SEVERITY_RAISED, Placement, severity_rose, triage_actions
from app.schemas.presets import load_preset

CHC = load_preset("confluence-health-check")
SEVERITIES = [s.id for s in CHC.severities]  # sev1 (most severe) … sev4
AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def fired(before: Placement | None, after: Placement, policy=CHC) -> list[tuple[str, str]]:  # noqa: ANN001
    return [(f.occasion, f.action.kind) for f in triage_actions(policy, "10001", before, after, AT)]


# (what it shows, before (None: arrival; "": placed without a severity), after, what fires)
CASES = [
    ("a Sev-1 arrival pages", None, "sev1", [(ARRIVED, "page")]),
    ("a Sev-2 arrival pages", None, "sev2", [(ARRIVED, "page")]),
    ("a Sev-3 arrival does not", None, "sev3", []),
    ("an arrival without severity does not", None, None, []),
    ("raised Sev-3 to Sev-2 pages", "sev3", "sev2", [(SEVERITY_RAISED, "page")]),
    ("raised Sev-2 to Sev-1 pages again", "sev2", "sev1", [(SEVERITY_RAISED, "page")]),
    ("raised from none to Sev-1 pages", "", "sev1", [(SEVERITY_RAISED, "page")]),
    ("raised Sev-4 to Sev-3 does not (not in the list)", "sev4", "sev3", []),
    ("lowered Sev-1 to Sev-2 does not", "sev1", "sev2", []),
    ("unchanged Sev-1 does not", "sev1", "sev1", []),
]  # fmt: skip


@pytest.mark.parametrize(("before", "after", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_the_preset_pages_at_triage(before: str | None, after: str | None, expected: list) -> None:
    previous = None if before is None else Placement("standard", before or None)  # "" → no severity
    assert fired(previous, Placement("standard", after)) == expected


def test_keys_are_the_same_on_a_retry_and_differ_per_rise() -> None:
    arrival = triage_actions(CHC, "10001", None, Placement("standard", "sev1"), AT)
    assert arrival == triage_actions(CHC, "10001", None, Placement("standard", "sev1"), AT)
    assert [f.key for f in arrival] == ["triage:10001:arrived:sev1:0"]
    first = triage_actions(CHC, "10001", Placement("standard", "sev3"), Placement("standard", "sev1"), AT)
    later = AT.replace(hour=15)
    second = triage_actions(CHC, "10001", Placement("standard", "sev3"), Placement("standard", "sev1"), later)
    assert first[0].key == "triage:10001:raised:sev3>sev1@2026-11-23T10:00:00Z:1"
    assert first[0].key != second[0].key  # a second rise (after a drop) is a new occasion
    other_ticket = triage_actions(CHC, "10002", None, Placement("standard", "sev1"), AT)
    assert other_ticket[0].key != arrival[0].key


def test_tier_filters_and_other_events_are_respected() -> None:
    policy = replace(
        CHC,
        actions=(
            Action("arrived", "note", tiers=("gold",)),
            Action("breach", "page"),
            Action("arrived", "transition", {"name": "Triage"}),
        ),
    )
    assert fired(None, Placement("standard", "sev1"), policy) == [(ARRIVED, "transition")]
    assert fired(None, Placement("gold", "sev1"), policy) == [(ARRIVED, "note"), (ARRIVED, "transition")]
    keys = [f.key for f in triage_actions(policy, "7", None, Placement("gold", "sev4"), AT)]
    assert keys == ["triage:7:arrived:sev4:0", "triage:7:arrived:sev4:2"]  # the action's place in the policy


@given(
    before=st.sampled_from([None, *SEVERITIES, "unknown"]),
    after=st.sampled_from([None, *SEVERITIES, "unknown"]),
)
def test_a_rise_is_a_move_towards_the_top_of_the_list(before: str | None, after: str | None) -> None:
    known = after in SEVERITIES
    expected = known and (before not in SEVERITIES or SEVERITIES.index(after) < SEVERITIES.index(before))
    assert severity_rose(CHC, before, after) == expected
