"""A ticket's history as the policy engine sees it: phase changes, replies and other events.

Built by the edges (the worker from Jira's webhooks, `simulate` from JSONL); read by
`app.policy.sla` and `app.policy.custom_targets`. All datetimes are aware.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.policy.model import ACTIVE

Span = tuple[datetime, datetime | None]
"""A span of time; an end of None means it is still going on."""

PhaseSpan = tuple[datetime, datetime | None, str]
"""(from, to, phase id): one phase of a ticket; the last one's end is None (still in it)."""


@dataclass(frozen=True)
class TicketEvent:
    """One fact custom targets can start, stop or restart on (`kind` is one of `EVENT_KINDS`).

    `status`: the ticket entered the Jira status `name`; `field`: field `name` got `value` (None
    or "" when cleared); `customer_comment`: a customer commented; `link`: an issue of type `name`
    was linked; `label`: label `name` was added (`value` "removed" when it was taken off).
    """

    at: datetime
    kind: str
    name: str = ""
    value: str | None = None


#: `TicketEvent.kind` values.
STATUS_EVENT = "status"
FIELD_EVENT = "field"
CUSTOMER_COMMENT_EVENT = "customer_comment"
LINK_EVENT = "link"
LABEL_EVENT = "label"
EVENT_KINDS = (STATUS_EVENT, FIELD_EVENT, CUSTOMER_COMMENT_EVENT, LINK_EVENT, LABEL_EVENT)


@dataclass(frozen=True)
class TicketHistory:
    """What happened to a ticket, as the SLA sees it (all datetimes aware)."""

    created: datetime
    tier: str
    severity: str
    phase_changes: tuple[
        tuple[datetime, str], ...
    ] = ()  # (at, phase id) ascending; "active" before the first
    replies: tuple[datetime, ...] = ()  # customer-facing agent updates, ascending
    promised_update: datetime | None = None  # explicit next-update promise of the last reply
    events: tuple[TicketEvent, ...] = ()  # statuses, fields, comments, links, labels (custom targets)


def phase_spans(history: TicketHistory, now: datetime) -> list[PhaseSpan]:
    """(from, to, phase) from creation on, the last one still going on at `now`."""
    spans: list[PhaseSpan] = []
    cur_at, cur_phase = history.created, ACTIVE
    for at, phase in history.phase_changes:
        if at > now:
            break
        at = max(at, history.created)
        if phase == cur_phase:
            continue
        spans.append((cur_at, at, cur_phase))
        cur_at, cur_phase = at, phase
    spans.append((cur_at, None, cur_phase))
    return [span for span in spans if span[1] is None or span[1] > span[0]]
