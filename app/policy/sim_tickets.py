"""Ticket histories for `simulate`: the JSONL format (`docs/simulate-format.md`) read into `SimTicket`s.

A malformed line raises PolicyError naming the line and the place (`line 7: events.0.at`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from app.policy.custom_targets import LABEL_REMOVED
from app.policy.errors import PolicyError
from app.policy.history import CUSTOMER_COMMENT_EVENT, FIELD_EVENT, LABEL_EVENT, LINK_EVENT, TicketEvent
from app.policy.mapping import TicketFacts

#: Keys of an `events` entry in the JSONL input, and the `TicketEvent` kind each makes.
EVENT_KEYS = {
    "field": FIELD_EVENT,
    "customer_comment": CUSTOMER_COMMENT_EVENT,
    "linked_issue": LINK_EVENT,
    "label": LABEL_EVENT,
}


@dataclass(frozen=True)
class StatusChange:
    """A status change: either a phase id directly, or a Jira status (and category) the policy maps."""

    at: datetime
    phase: str | None = None
    status: str | None = None
    category: str | None = None


@dataclass(frozen=True)
class SimTicket:
    """One ticket history from the JSONL input."""

    key: str
    created: datetime
    tier: str | None = None
    severity: str | None = None
    changes: tuple[StatusChange, ...] = ()
    replies: tuple[datetime, ...] = ()
    closed: datetime | None = None
    facts: TicketFacts | None = None
    events: tuple[TicketEvent, ...] = ()  # fields, customer comments, linked issues, labels

    @property
    def last_instant(self) -> datetime:
        return max(
            [
                self.created,
                *self.replies,
                *(c.at for c in self.changes),
                *(e.at for e in self.events),
                *filter(None, [self.closed]),
            ]
        )


# --- reading ------------------------------------------------------------------------------------


def _instant(value: object, where: str) -> datetime:
    if isinstance(value, Mapping):
        value = value.get("at")
    if not isinstance(value, str):
        raise PolicyError(f"{value!r} is not an ISO 8601 time", where)
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise PolicyError(f'"{value}" is not an ISO 8601 time', where) from None
    if at.utcoffset() is None:
        raise PolicyError(f'"{value}" needs a time zone offset', where)
    return at


def _optional_str(obj: Mapping[str, object], key: str, where: str) -> str | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise PolicyError("must be a string", f"{where}.{key}")
    return value


def _event(raw: object, where: str) -> TicketEvent:
    """One `events` entry: `{"at", "field", "value"}`, `{"at", "customer_comment": true}`,
    `{"at", "linked_issue": type}` or `{"at", "label", "removed"?}`."""
    kinds = [k for k in EVENT_KEYS if isinstance(raw, Mapping) and k in raw]
    if not isinstance(raw, Mapping) or len(kinds) != 1:
        raise PolicyError('needs "at" and exactly one of: ' + ", ".join(EVENT_KEYS), where)
    at, key = _instant(raw.get("at"), f"{where}.at"), kinds[0]
    if key == "customer_comment":
        return TicketEvent(at, CUSTOMER_COMMENT_EVENT)
    name = _optional_str(raw, key, where)
    if not name:
        raise PolicyError("must be a non-empty string", f"{where}.{key}")
    if key == "field":
        value = raw.get("value")
        return TicketEvent(at, FIELD_EVENT, name, None if value is None else str(value))
    if key == "label":
        return TicketEvent(at, LABEL_EVENT, name, LABEL_REMOVED if raw.get("removed") else None)
    return TicketEvent(at, LINK_EVENT, name)


def parse_ticket(obj: object, where: str = "") -> SimTicket:
    """A ticket from its JSON object; PolicyError naming `where` (e.g. `line 7`) when malformed."""
    if not isinstance(obj, Mapping):
        raise PolicyError("a ticket must be a JSON object", where)
    prefix = f"{where}: " if where else ""
    created = _instant(obj.get("created"), f"{prefix}created")
    changes = []
    for n, raw in enumerate(obj.get("status_changes") or ()):
        at_where = f"{prefix}status_changes.{n}"
        if not isinstance(raw, Mapping) or not (raw.get("phase") or raw.get("status")):
            raise PolicyError('needs "at" and a "phase" or a "status"', at_where)
        changes.append(
            StatusChange(
                _instant(raw.get("at"), f"{at_where}.at"),
                _optional_str(raw, "phase", at_where),
                _optional_str(raw, "status", at_where),
                _optional_str(raw, "category", at_where),
            )
        )
    replies = sorted(_instant(r, f"{prefix}replies.{n}") for n, r in enumerate(obj.get("replies") or ()))
    closed = obj.get("closed")
    facts = None
    if any(k in obj for k in ("fields", "organizations", "reporter_email")):
        fields = obj.get("fields") or {}
        if not isinstance(fields, Mapping):
            raise PolicyError("must be an object", f"{prefix}fields")
        facts = TicketFacts(fields, tuple(obj.get("organizations") or ()), obj.get("reporter_email"))  # type: ignore[arg-type]
    events = [_event(raw, f"{prefix}events.{n}") for n, raw in enumerate(obj.get("events") or ())]
    return SimTicket(
        key=str(obj.get("key") or obj.get("id") or where),
        created=created,
        tier=_optional_str(obj, "tier", where),
        severity=_optional_str(obj, "severity", where),
        changes=tuple(sorted(changes, key=lambda c: c.at)),
        replies=tuple(replies),
        closed=_instant(closed, f"{prefix}closed") if closed is not None else None,
        facts=facts,
        events=tuple(sorted(events, key=lambda e: e.at)),
    )


def read_tickets(lines: Iterable[str]) -> Iterator[SimTicket]:
    """Tickets from JSONL lines (blank lines skipped); PolicyError names the line of a bad one."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise PolicyError(f"not JSON: {exc.msg}", f"line {number}") from None
        yield parse_ticket(obj, f"line {number}")
