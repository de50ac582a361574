"""The target blocks of the `tierwise.sla` issue property, rendered from the engine's `SlaState`.

One source of truth: every value here comes from `TargetState.status` / `met_at` / `late_by`, so
the property can never say "met" for a late answer. Keys are flat for the built-in targets
(`firstResponseDue`, `firstResponseState`, …) so Jira can index them; custom targets sit under
`custom.<id>`; `lateTargets` / `runningTargets` list target names (an array property is indexed
element by element). `JQL_ALIASES` is what the Connect descriptor's `jiraEntityProperties` and
the Forge manifest's `jira:entityProperty` should declare (Forge allows 30 values in all).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from app.policy.clocks import LATE, RUNNING, TargetState
from app.policy.instants import utc_iso
from app.policy.model import FIRST_RESPONSE, NEXT_UPDATE, RESOLUTION
from app.policy.sla import SlaState

#: Version of the property's shape: 2 adds met-at, late-by, the status words and custom targets.
PROPERTY_SHAPE = 2
#: Flat key prefix of each built-in target.
TARGET_KEYS = {FIRST_RESPONSE: "firstResponse", NEXT_UPDATE: "nextUpdate", RESOLUTION: "resolution"}
#: Where custom targets' blocks live in the property (`custom.<target id>.due`, …).
CUSTOM_KEY = "custom"

#: (objectName, type, JQL alias) for the property's searchable values.
JQL_ALIASES: tuple[tuple[str, str, str], ...] = (
    ("firstResponseDue", "date", "tierwiseFirstResponseDue"),
    ("nextUpdateDue", "date", "tierwiseNextUpdateDue"),
    ("resolutionDue", "date", "tierwiseResolutionDue"),
    ("tier", "string", "tierwiseTier"),
    ("severity", "string", "tierwiseSeverity"),
    ("phase", "string", "tierwisePhase"),
    ("firstResponseState", "string", "tierwiseFirstResponseState"),
    ("firstResponseMetAt", "date", "tierwiseFirstResponseMetAt"),
    ("firstResponseLateMinutes", "number", "tierwiseFirstResponseLateMinutes"),
    ("nextUpdateState", "string", "tierwiseNextUpdateState"),
    ("resolutionState", "string", "tierwiseResolutionState"),
    ("resolutionMetAt", "date", "tierwiseResolutionMetAt"),
    ("resolutionLateMinutes", "number", "tierwiseResolutionLateMinutes"),
    ("lateTargets", "string", "tierwiseLateTargets"),
    ("runningTargets", "string", "tierwiseRunningTargets"),
)


def late_minutes(state: TargetState) -> int | None:
    """Whole minutes (rounded up) a met target was late by; None when on time or not met yet.

    An unmet late target has no figure here: it grows every minute (search its deadline instead).
    """
    if state.met_at is None or state.late_by is None:
        return None
    return math.ceil(state.late_by.total_seconds() / 60)


def _iso(at: datetime | None) -> str | None:
    return None if at is None else utc_iso(at)


def target_block(state: TargetState, prefix: str = "") -> dict[str, Any]:
    """One target's keys: deadline, status word, when it was met and how many minutes late.

    With a `prefix` the keys are flat (`firstResponseDue`); without, plain (`due`).
    """

    def key(name: str) -> str:
        return f"{prefix}{name[0].upper()}{name[1:]}" if prefix else name

    return {
        key("due"): _iso(state.due),
        key("state"): state.status,
        key("metAt"): _iso(state.met_at),
        key("lateMinutes"): late_minutes(state),
    }


def targets_block(state: SlaState) -> dict[str, Any]:
    """Every target's keys for the `tierwise.sla` property (the pipeline adds tier, severity, phase…)."""
    value: dict[str, Any] = {}
    for name, prefix in TARGET_KEYS.items():
        value.update(target_block(getattr(state, name), prefix))
    if state.custom:
        value[CUSTOM_KEY] = {name: target_block(t) for name, t in state.custom.items()}
    every = state.targets()
    value["lateTargets"] = [name for name, t in every.items() if t.status == LATE]
    value["runningTargets"] = [name for name, t in every.items() if t.status == RUNNING]
    value["breached"] = bool(value["lateTargets"])
    return value
