"""Which SLA phase a Jira status means.

A status name listed by a phase rule wins over a status category listed by another (the name is
more specific); otherwise the first rule listing the category decides; otherwise `active`.
Categories are Jira's keys `new`, `indeterminate`, `done` (the display names `To Do`,
`In Progress` and `Done` are understood too).
"""

from __future__ import annotations

from app.policy.model import ACTIVE, BUILTIN_PHASES, Policy

#: Jira status category display names → keys.
CATEGORY_KEYS = {"to do": "new", "in progress": "indeterminate", "done": "done"}


def phase_of(policy: Policy, status_name: str, status_category: str | None = None) -> str:
    """The phase `status_name` (in `status_category`) means under `policy`; `active` by default."""
    name = status_name.strip().casefold()
    for rule in policy.phases:
        if name in rule.statuses:
            return rule.phase
    if status_category:
        category = status_category.strip().casefold()
        category = CATEGORY_KEYS.get(category, category)
        for rule in policy.phases:
            if category in rule.categories:
                return rule.phase
    return ACTIVE


def known_phases(policy: Policy) -> tuple[str, ...]:
    """Every phase id the policy can be in: the built-in ones and those its rules declare."""
    return tuple(dict.fromkeys((*BUILTIN_PHASES, *(rule.phase for rule in policy.phases))))
