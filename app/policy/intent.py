"""An intent: one thing Tierwise means to do outside (in Jira, at a webhook) for a ticket.

`decide` returns intents; the worker stages them in the outbox with the ticket's record and
delivers them through the action registry (`app.policy.actions`), which knows each kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Intent:
    """One thing to do for a ticket. `kind` names an intent kind of the registry (`fields`,
    `public_reply`, `internal_note`, `transition`, `set_field`, `page`, `chat`); `payload` is what
    its delivery needs (JSON; never a secret); `why` goes to the audit log."""

    kind: str
    payload: Mapping[str, Any] = field(default_factory=dict, hash=False)
    why: Mapping[str, Any] = field(default_factory=dict, hash=False)
