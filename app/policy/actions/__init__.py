"""The action registry: every action kind and intent kind, one module each in this package.

A kind module exports `INTENT_KINDS` (what it delivers) and `ACTION_KINDS` (what a policy may name);
this package finds the modules by itself, so adding a kind is one new module (plus its tests and
docs) — the policy schema's list of kinds, the builder `decide` uses and the worker's delivery all
read this registry. How to add one: `docs/extending.md`.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType

from app.policy.actions.base import (
    ActionKind,
    Delivery,
    DeliveryPort,
    IntentKind,
    JiraPort,
    Param,
    Situation,
)
from app.policy.intent import Intent
from app.policy.model import Action, Policy
from app.policy.triage import TRIAGE_EVENTS

__all__ = [
    "ACTION_EVENTS",
    "ACTION_KINDS",
    "INTENT_KINDS",
    "ActionKind",
    "Delivery",
    "DeliveryPort",
    "IntentKind",
    "JiraPort",
    "Param",
    "Situation",
    "action_intents",
    "intent_kind",
    "matching_actions",
]

#: When a policy action may run: on a new ticket, before a target breaches, at the breach, at triage.
ACTION_EVENTS = ("created", "pre_breach", "breach", *TRIAGE_EVENTS)

_SKIP = {"base"}


def _discover() -> tuple[Mapping[str, ActionKind], Mapping[str, IntentKind]]:
    actions: dict[str, ActionKind] = {}
    intents: dict[str, IntentKind] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name in _SKIP or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for kind in getattr(module, "INTENT_KINDS", ()):
            if kind.name in intents:
                raise RuntimeError(f"intent kind {kind.name!r} registered twice ({info.name})")
            intents[kind.name] = kind
        for action in getattr(module, "ACTION_KINDS", ()):
            if action.name in actions:
                raise RuntimeError(f"action kind {action.name!r} registered twice ({info.name})")
            actions[action.name] = action
    for action in actions.values():
        if intents.get(action.intent.name) is not action.intent:
            raise RuntimeError(f"action kind {action.name!r} builds unregistered intent {action.intent.name!r}")
    return MappingProxyType(actions), MappingProxyType(intents)


#: Action kind name → kind (what a policy's `actions[].kind` may say).
#: Intent kind name → kind (what the outbox may carry).
ACTION_KINDS, INTENT_KINDS = _discover()


def intent_kind(name: str) -> IntentKind:
    """The registered intent kind `name` (KeyError for an unknown one)."""
    return INTENT_KINDS[name]


def matching_actions(policy: Policy, on: str, *, tier: str | None, severity: str | None,
                     target: str | None = None) -> list[Action]:
    """The policy's actions for event `on` that apply to this tier, severity and target."""
    return [a for a in policy.actions
            if a.on == on and (not a.targets or target in a.targets)
            and (not a.severities or severity in a.severities) and (not a.tiers or tier in a.tiers)]


def action_intents(policy: Policy, situation: Situation) -> list[Intent]:
    """The intents the policy's matching actions build in `situation` (unknown kinds are skipped)."""
    record = situation.record
    intents: list[Intent] = []
    for action in matching_actions(policy, situation.on, tier=record.tier, severity=record.severity,
                                   target=situation.target):
        kind = ACTION_KINDS.get(action.kind)
        if kind is None:
            continue  # the schema refuses unknown kinds; a stored document from an older release may not
        why = {**situation.why, "rule": f"on {situation.on}: {action.kind}"}
        intent = kind.build(action, replace(situation, why=why))
        if intent is not None:
            intents.append(intent)
    return intents

