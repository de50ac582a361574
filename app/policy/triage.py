"""Triage actions: what the policy does when a ticket arrives as X or its severity is raised to X.

`triage_actions(policy, ticket_id, before, after, at)` is pure: given where the ticket stood
before an event (None: it has just arrived) and where it stands after, it returns the actions
that fire, each with an idempotency key. The key is the same for the same ticket and the same
arrival or severity rise, however often the event is retried and on whichever worker, so the
pipeline delivers each firing exactly once by recording the key with the intent.

- `arrived`: the first time Tierwise places the ticket (before is None). An action with
  `severities` / `tiers` fires only when the ticket arrived as one of them.
- `severity_raised`: the severity became MORE severe (earlier in `Policy.severities`), or was
  set where there was none. It fires when the new severity is one of `severities` (empty: any
  rise) and the tier one of `tiers`. A drop (Sev-1 → Sev-2) or a tier change fires nothing.
  Each rise fires again: Sev-3 → Sev-2 pages, a later Sev-2 → Sev-1 pages once more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.policy.instants import utc_iso
from app.policy.model import Action, Policy

#: Action `on` values that triage fires (the SLA events are `created`, `pre_breach`, `breach`).
ARRIVED = "arrived"
SEVERITY_RAISED = "severity_raised"
TRIAGE_EVENTS = (ARRIVED, SEVERITY_RAISED)


@dataclass(frozen=True)
class Placement:
    """Where a ticket stands: its tier and severity ids (None where the mapping gave none)."""

    tier: str | None
    severity: str | None


@dataclass(frozen=True)
class TriageFiring:
    """One triage action to carry out, once: `key` identifies this ticket × occasion × action."""

    action: Action
    occasion: str  # ARRIVED | SEVERITY_RAISED
    key: str


def _rank(policy: Policy, severity: str | None) -> int | None:
    """0 for the most severe; None for none or an id the policy does not know."""
    for n, s in enumerate(policy.severities):
        if s.id == severity:
            return n
    return None


def severity_rose(policy: Policy, before: str | None, after: str | None) -> bool:
    """True when `after` is more severe than `before` (or `before` had none and `after` has one)."""
    new = _rank(policy, after)
    if new is None:
        return False
    old = _rank(policy, before)
    return old is None or new < old


def _applies(action: Action, placement: Placement) -> bool:
    if action.severities and placement.severity not in action.severities:
        return False
    return not action.tiers or placement.tier in action.tiers


def triage_actions(
    policy: Policy, ticket_id: str, before: Placement | None, after: Placement, at: datetime
) -> tuple[TriageFiring, ...]:
    """The triage actions an event fires; `at` is when the event happened (its changelog time).

    Keys: `triage:<ticket>:arrived:<severity>:<action index>` for an arrival (a ticket arrives
    once) and `triage:<ticket>:raised:<from>><to>@<at, UTC>:<action index>` for a rise.
    """
    if before is None:
        occasion, stem = ARRIVED, f"triage:{ticket_id}:arrived:{after.severity or '-'}"
    elif severity_rose(policy, before.severity, after.severity):
        occasion = SEVERITY_RAISED
        stem = f"triage:{ticket_id}:raised:{before.severity or '-'}>{after.severity}@{utc_iso(at)}"
    else:
        return ()
    return tuple(
        TriageFiring(action, occasion, f"{stem}:{n}")
        for n, action in enumerate(policy.actions)
        if action.on == occasion and _applies(action, after)
    )
