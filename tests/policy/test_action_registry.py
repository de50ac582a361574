"""The action registry: kinds found by module, the schema's list derived from it, builders and deliveries.

Deliveries are exercised through a recording `DeliveryPort` (the worker's real port, with the Jira
stand-in and a local webhook receiver, is exercised in tests/jobs).
"""

from __future__ import annotations

import pkgutil
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

import app.policy.actions as registry
from app.policy.actions import ACTION_KINDS, INTENT_KINDS, Delivery, Situation, action_intents, intent_kind
from app.policy.actions.chat import masked_host
from app.policy.model import Action
from app.policy.record import TicketRecord
from app.schemas import policy as policy_schema
from app.schemas.policy import load_policy
from app.schemas.presets import preset_document


class Rejected(Exception):
    """What the recording Jira raises for a 400."""


class RecordingJira:
    def __init__(self, *, reject_plain_values: bool = False, offered: list[dict[str, str]] | None = None) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.reject_plain_values = reject_plain_values
        self.offered = offered or []
        self.comments: list[dict[str, Any]] = []

    def update_issue(self, key: str, fields: dict[str, Any], properties: Any = ()) -> None:
        if self.reject_plain_values and any(isinstance(v, str) for v in fields.values()):
            raise Rejected("400")
        self.calls.append(("update_issue", (key, fields, list(properties))))

    def add_public_reply(self, key: str, text: str) -> None:
        self.calls.append(("add_public_reply", (key, text)))

    def add_internal_note(self, key: str, adf_body: dict[str, Any]) -> None:
        self.calls.append(("add_internal_note", (key, adf_body)))

    def recent_comments(self, key: str, limit: int = 50) -> list[dict[str, Any]]:
        return self.comments

    def get_transitions(self, key: str) -> list[dict[str, Any]]:
        self.calls.append(("get_transitions", key))
        return self.offered

    def transition(self, key: str, transition_id: str) -> None:
        self.calls.append(("transition", (key, transition_id)))


class RecordingPort:
    rejected = (Rejected,)

    def __init__(self, jira: RecordingJira, *, webhooks: Mapping[str, str] | None = None, status: int = 200) -> None:
        self._jira = jira
        self.webhooks = dict(webhooks or {})
        self.status = status
        self.posts: list[tuple[str, dict[str, Any], str]] = []

    @property
    def jira(self) -> RecordingJira:
        return self._jira

    def app_account_id(self) -> str | None:
        return "app-1"

    def issue_meta(self, issue_id: str) -> Mapping[str, str]:
        return {"type": "Incident", "assignee": "agent-7"}

    def post_json(self, url: str, body: Mapping[str, Any], *, what: str) -> int:
        self.posts.append((url, dict(body), what))
        return self.status

    def chat_webhook_url(self, name: str) -> str | None:
        return self.webhooks.get(name)


RECORD = TicketRecord("tenant-a", "10001", "SUP-7", datetime(2026, 11, 19, tzinfo=UTC), tier="premium",
                      severity="sev1")
SITUATION = Situation("breach", RECORD, {"target": "first_response"}, note_text="first response breached",
                      page_body={"ticket": "SUP-7"}, oncall_url="https://pager.example/x", target="first_response")


def delivery(kind: str, payload: Mapping[str, Any], **why: Any) -> Delivery:
    return Delivery(kind, "tenant-a", "10001", "SUP-7", payload, why)


def test_every_kind_module_registers_and_the_schema_accepts_exactly_the_registered_kinds() -> None:
    modules = {m.name for m in pkgutil.iter_modules(registry.__path__)} - {"base"}
    assert modules == {"chat", "comments", "fields", "page", "set_field", "transition"}
    assert set(ACTION_KINDS) == {"chat", "note", "page", "set_field", "transition"}
    assert set(policy_schema.ACTION_KINDS) == set(ACTION_KINDS)
    assert policy_schema.ACTION_KINDS["set_field"] == ("field", "value")
    assert {a.intent.name for a in ACTION_KINDS.values()} <= set(INTENT_KINDS)
    assert {k for k, v in INTENT_KINDS.items() if v.idempotent} == {"fields", "set_field"}


def test_an_unregistered_kind_is_refused_by_the_schema_with_its_path() -> None:
    doc = preset_document("communardo")
    doc["actions"] = [{"on": "breach", "kind": "fax", "params": {}}]
    with pytest.raises(Exception, match=r"actions\.0\.kind"):
        load_policy(doc)


def test_a_kind_checks_its_params_through_the_schema() -> None:
    doc = preset_document("communardo")
    doc["actions"] = [{"on": "breach", "kind": "chat", "params": {"webhook": "https://hooks.slack.com/x"}}]
    with pytest.raises(Exception, match=r"actions\.0\.params\.webhook: .* is not a webhook name"):
        load_policy(doc)


BUILD_CASES = [
    ({"kind": "note"}, "internal_note", {"text": "first response breached", "mention_assignee": True}),
    ({"kind": "transition", "params": {"name": "Escalate"}}, "transition", {"name": "Escalate"}),
    ({"kind": "set_field", "params": {"field": "labels", "value": "x"}}, "set_field", {"field": "labels", "value": "x"}),
    ({"kind": "page", "params": {"url": "https://own.example/p"}}, "page",
     {"url": "https://own.example/p", "body": {"ticket": "SUP-7"}}),
    ({"kind": "chat", "params": {"webhook": "war-room"}}, "chat",
     {"webhook": "war-room", "text": "SUP-7: first response breached"}),
]


@pytest.mark.parametrize(("action", "intent", "payload"), BUILD_CASES, ids=[c[1] for c in BUILD_CASES])
def test_each_kind_builds_its_intent(action: dict[str, Any], intent: str, payload: dict[str, Any]) -> None:
    built = ACTION_KINDS[action["kind"]].build(Action("breach", action["kind"], action.get("params", {})), SITUATION)
    assert built is not None and (built.kind, dict(built.payload)) == (intent, payload)


def test_matching_actions_filter_by_event_target_severity_and_tier() -> None:
    doc = preset_document("communardo")
    doc["actions"] = [
        {"on": "breach", "kind": "note", "targets": ["resolution"]},
        {"on": "breach", "kind": "transition", "params": {"name": "Escalate"}, "severities": ["sev1"]},
        {"on": "breach", "kind": "set_field", "params": {"field": "f", "value": "v"}, "tiers": ["partner"]},
        {"on": "pre_breach", "kind": "note"},
    ]
    intents = action_intents(load_policy(doc), SITUATION)
    assert [(i.kind, i.why["rule"]) for i in intents] == [("transition", "on breach: transition")]
    assert intents[0].why["target"] == "first_response"


def test_the_chat_delivery_posts_slack_text_and_audits_the_host_only() -> None:
    url = "https://hooks.slack.com/services/T000/B000/SECRETTOKEN"
    port = RecordingPort(RecordingJira(), webhooks={"war-room": url})
    result = intent_kind("chat").deliver(port, delivery("chat", {"webhook": "war-room", "text": "SUP-7: breached"}))
    assert port.posts == [(url, {"text": "SUP-7: breached"}, "chat webhook")]
    assert result == {"action": "chat", "webhook": "war-room", "host": "hooks.slack.com", "status": 200}
    assert "SECRETTOKEN" not in repr(result)


def test_a_chat_webhook_that_is_gone_or_refuses_is_audited_not_retried() -> None:
    missing = intent_kind("chat").deliver(RecordingPort(RecordingJira()), delivery("chat", {"webhook": "x", "text": "t"}))
    assert missing == {"action": "chat_missing", "webhook": "x"}
    port = RecordingPort(RecordingJira(), webhooks={"x": "https://chat.example/h/abc"}, status=404)
    refused = intent_kind("chat").deliver(port, delivery("chat", {"webhook": "x", "text": "t"}))
    assert refused["action"] == "chat_refused" and refused["host"] == "chat.example"
    assert masked_host("https://user:pw@chat.example:8443/h/abc?t=1") == "chat.example"


def test_set_field_retries_a_refused_text_as_a_select_option() -> None:
    jira = RecordingJira(reject_plain_values=True)
    intent_kind("set_field").deliver(RecordingPort(jira), delivery("set_field", {"field": "f", "value": "Gold"}))
    assert jira.calls == [("update_issue", ("SUP-7", {"f": {"value": "Gold"}}, []))]


def test_a_transition_is_found_by_name_and_a_missing_one_is_audited() -> None:
    jira = RecordingJira(offered=[{"id": "31", "name": "Escalate"}])
    done = intent_kind("transition").deliver(RecordingPort(jira), delivery("transition", {"name": "escalate"}))
    assert done == {"action": "transition", "transition": "escalate", "transition_id": "31"}
    missing = intent_kind("transition").deliver(RecordingPort(RecordingJira(offered=[{"id": "1", "name": "Close"}])),
                                                delivery("transition", {"name": "Reopen"}))
    assert missing == {"action": "transition_missing", "transition": "Reopen", "offered": ["Close"]}


def test_a_comment_in_flight_is_looked_for_before_it_is_posted_again() -> None:
    jira = RecordingJira()
    jira.comments = [{"author": {"accountId": "app-1"}, "body": "Next update by 10:00."}]
    port = RecordingPort(jira)
    again = Delivery("public_reply", "tenant-a", "10001", "SUP-7", {"text": "Next update by 10:00."},
                     {"action": "eta_comment"}, was_in_flight=True)
    assert intent_kind("public_reply").deliver(port, again) == {"action": "eta_comment", "found_in_jira": True}
    assert jira.calls == []
    note = intent_kind("internal_note").deliver(port, delivery("internal_note", {"text": "hi", "mention_assignee": True}))
    assert note == {"action": "note"}
    body = jira.calls[0][1][1]
    assert body["content"][0]["content"][0] == {"type": "mention", "attrs": {"id": "agent-7"}}
