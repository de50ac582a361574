"""A ticket's SLA record as plain data: what the panel shows and what `decide` turns into the next one.

Frozen dataclasses only (the policy core's rules); `app.storage.tickets` stores them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from app.policy.sla import TicketHistory

#: Most reply instants kept per ticket (the newest); the panel shows a handful, the SLA needs the first.
MAX_REPLIES = 50
#: Most phase changes kept per ticket (the newest; the first is always kept: it is the opening phase).
MAX_PHASE_CHANGES = 200


@dataclass(frozen=True)
class TargetState:
    """One SLA target of a ticket: its deadline (None: best effort or not started) and outcome."""

    due: datetime | None = None
    warned_at: datetime | None = None
    met_at: datetime | None = None
    breached_at: datetime | None = None

    @property
    def state(self) -> str:
        """`met`, `breached`, `open` (a deadline ahead) or `none` (nothing timed)."""
        if self.met_at is not None:
            return "met"
        if self.breached_at is not None:
            return "breached"
        return "open" if self.due is not None else "none"


@dataclass(frozen=True)
class TicketRecord:
    """A ticket's SLA record. `version` 0 means not stored yet.

    `tier_rule` / `severity_rule` say why (e.g. `organization "Acme" -> premium`). `pauses` are
    (start, end) with end None while paused; `phase_changes` are (instant, phase); `replies` the
    instants of customer-facing agent updates; `targets` maps a target id (`first_response`,
    `next_update`, `resolution`) to its state. `customer_account_ids` are the reporter and request
    participants seen on the issue's events (comment bodies do not carry them).
    """

    tenant_key: str
    issue_id: str
    issue_key: str
    created_at: datetime
    phase: str = "active"
    policy_version_id: int | None = None
    tier: str | None = None
    severity: str | None = None
    tier_rule: str | None = None
    severity_rule: str | None = None
    first_reply_at: datetime | None = None
    last_update_at: datetime | None = None
    promised_update_at: datetime | None = None
    closed_at: datetime | None = None
    pauses: tuple[tuple[datetime, datetime | None], ...] = ()
    phase_changes: tuple[tuple[datetime, str], ...] = ()
    replies: tuple[datetime, ...] = ()
    targets: Mapping[str, TargetState] = field(default_factory=dict, hash=False)
    customer_account_ids: tuple[str, ...] = ()
    last_written_hash: str | None = None
    version: int = 0
    updated_at: datetime | None = None

    def history(self) -> TicketHistory:
        """The engine's view of this record (tier and severity must be set), facts in time order."""
        assert self.tier is not None and self.severity is not None
        return TicketHistory(
            created=self.created_at,
            tier=self.tier,
            severity=self.severity,
            phase_changes=tuple(sorted(self.phase_changes)),
            replies=tuple(sorted(self.replies)),
            promised_update=self.promised_update_at,
        )

    def with_reply(self, at: datetime) -> TicketRecord:
        """This record with one more customer-facing reply (first reply and last update set)."""
        replies = tuple(sorted({*self.replies, at}))[-MAX_REPLIES:]
        first = self.first_reply_at if self.first_reply_at and self.first_reply_at <= at else at
        last = self.last_update_at if self.last_update_at and self.last_update_at >= at else at
        return replace(self, replies=replies, first_reply_at=first, last_update_at=last)

    def with_phase(self, at: datetime, phase: str) -> TicketRecord:
        """This record entering `phase` at `at` (no change when already in it)."""
        if self.phase_changes and self.phase_changes[-1][1] == phase:
            return self
        changes = (*self.phase_changes, (at, phase))
        if len(changes) > MAX_PHASE_CHANGES:
            changes = (changes[0], *changes[-(MAX_PHASE_CHANGES - 1):])
        return replace(self, phase=phase, phase_changes=changes)
