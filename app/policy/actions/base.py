"""What an action kind and an intent kind are, and the port their delivery talks through.

An **action kind** is what a policy's `actions` entry names (`kind: transition`): its params (plain
data, from which `app.schemas` builds the marshmallow check) and a pure builder that turns the
action, in a `Situation`, into an `Intent`. An **intent kind** is what the outbox carries: how to
deliver it and whether a repeat is harmless (`idempotent`: no in-flight mark, no duplicate check).

Delivery is written here, against `DeliveryPort`, so one module holds a kind whole; the worker
(`jobs.delivery`) implements the port with the tenant's Jira gateway and the one outbound-HTTP
function (`app.outbound`). Nothing here does I/O itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from app.policy.intent import Intent
from app.policy.model import Action
from app.policy.record import TicketRecord


@dataclass(frozen=True)
class Param:
    """One param of an action kind. `check(value)` returns a problem ("must be …") or None."""

    required: bool = True
    description: str = ""
    check: Callable[[str], str | None] | None = None


@dataclass(frozen=True)
class Situation:
    """Where an action runs: the event (`created`, `pre_breach`, `breach`), the ticket, the target."""

    on: str
    record: TicketRecord
    why: Mapping[str, Any]
    note_text: str
    page_body: Mapping[str, Any]
    oncall_url: str | None = None
    target: str | None = None
    due: datetime | None = None


class JiraPort(Protocol):
    """The Jira calls deliveries make (`app.jira.client.JiraGateway` has them)."""

    def update_issue(self, key: str, fields: dict[str, Any],
                     properties: Sequence[dict[str, Any]] = ...) -> None: ...
    def add_public_reply(self, key: str, text: str) -> Any: ...
    def add_internal_note(self, key: str, adf_body: dict[str, Any]) -> Any: ...
    def recent_comments(self, key: str, limit: int = 50) -> list[dict[str, Any]]: ...
    def get_transitions(self, key: str) -> list[dict[str, Any]]: ...
    def transition(self, key: str, transition_id: str) -> None: ...


class DeliveryPort(Protocol):
    """Everything outside that a delivery may touch, for one tenant."""

    @property
    def jira(self) -> JiraPort: ...

    #: Exception types meaning "the far end refused this request as malformed" (HTTP 400).
    rejected: tuple[type[BaseException], ...]

    def app_account_id(self) -> str | None: ...
    def issue_meta(self, issue_id: str) -> Mapping[str, str]: ...
    def post_json(self, url: str, body: Mapping[str, Any], *, what: str) -> int: ...
    def chat_webhook_url(self, name: str) -> str | None: ...


@dataclass(frozen=True)
class Delivery:
    """An intent read back from the outbox, as a delivery sees it."""

    kind: str
    tenant_key: str
    issue_id: str
    issue_key: str
    payload: Mapping[str, Any]
    why: Mapping[str, Any]
    was_in_flight: bool = False


#: A delivery returns the audit detail of what it did; its `action` key names the audit action.
Deliver = Callable[[DeliveryPort, Delivery], dict[str, Any]]
Build = Callable[[Action, Situation], Intent | None]


@dataclass(frozen=True)
class IntentKind:
    """How one kind of outbox intent is carried out."""

    name: str
    deliver: Deliver
    idempotent: bool = False
    description: str = ""


@dataclass(frozen=True)
class ActionKind:
    """A policy action kind: its params, and the intent (of `intent`'s kind) it builds."""

    name: str
    params: Mapping[str, Param]
    build: Build
    intent: IntentKind
    description: str = ""

    @property
    def required_params(self) -> tuple[str, ...]:
        return tuple(name for name, p in self.params.items() if p.required)
