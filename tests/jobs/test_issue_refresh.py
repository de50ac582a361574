"""The REST re-read of a Forge event's reduced issue: which fields, how many calls, what the event becomes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from pipeline_kit import short_policy

from app.policy.events import PARTIAL_ISSUE_KEY, IssueEvent, parse_webhook
from app.policy.mapping import TicketFacts, derive
from app.schemas.policy import load_policy
from app.schemas.presets import list_presets, load_preset
from jobs import prefetch
from jobs.issue_refresh import ALL_NAVIGABLE, BASE_FIELDS, complete, fields_needed, read_reduced

AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@dataclass
class RecordingJira:
    """Answers get_issue with a full issue and records each call (stands in for the gateway's one method)."""

    issue: dict[str, Any]
    calls: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    def get_issue(self, key: str, fields: Any = None, expand: Any = None) -> dict[str, Any]:
        self.calls.append((key, tuple(fields or ())))
        return self.issue


@dataclass
class Ctx:
    jira: RecordingJira
    settings: Any = None


def _policy(rules: list[dict[str, Any]]) -> Any:
    doc = short_policy()
    doc["mapping"]["rules"] = rules
    return load_policy(doc)


FIELD_CASES = [
    ("priority only", [{"field": "priority", "sets": "severity"}], ("priority",)),
    ("custom fields", [{"field": "customfield_10104", "sets": "severity"},
                       {"field": "customfield_10050", "sets": "tier", "values": {"premium": "standard"}}],
     ("customfield_10104", "customfield_10050")),
    ("e-mail domain needs only the reporter", [{"email_domain": {"acme.com": "standard"}}], ()),
]


@pytest.mark.parametrize("rules,extra", [c[1:] for c in FIELD_CASES], ids=[c[0] for c in FIELD_CASES])
def test_fields_are_the_base_ones_and_those_the_mapping_reads(rules: list[dict[str, Any]],
                                                              extra: tuple[str, ...]) -> None:
    assert fields_needed(_policy(rules)) == BASE_FIELDS + extra


@pytest.mark.parametrize("preset", [p["id"] for p in list_presets()])
def test_every_preset_gets_a_field_list_naming_what_its_rules_read(preset: str) -> None:
    policy = load_preset(preset)
    wanted = fields_needed(policy)
    assert len(wanted) == len(set(wanted)) and set(BASE_FIELDS) <= set(wanted)
    for rule in policy.mapping.rules:
        for name in ("field", "impact_field", "urgency_field"):
            if hasattr(rule, name):
                assert getattr(rule, name) in wanted
        if type(rule).__name__ == "OrganizationRule":
            assert ALL_NAVIGABLE in wanted


def _event(**extra: Any) -> IssueEvent:
    body = {"webhookEvent": "jira:issue_created", PARTIAL_ISSUE_KEY: True, "timestamp": int(AT.timestamp() * 1000),
            "user": {"accountId": "agent-1"},
            "issue": {"id": "10042", "key": "SUP-42", "fields": {
                "summary": "Checkout down", "status": {"name": "Open", "statusCategory": {"key": "new"}},
                "project": {"key": "SUP"}, "created": "2026-11-23T09:58:00.000+0000"}}, **extra}
    event = parse_webhook(body)
    assert isinstance(event, IssueEvent)
    return event


FULL = {"id": "10042", "key": "SUP-42", "fields": {
    "status": {"name": "In Progress", "statusCategory": {"key": "indeterminate"}}, "project": {"key": "SUP"},
    "created": "2026-11-23T09:58:00.000+0000", "customfield_10104": {"value": "Sev-1"},
    "reporter": {"accountId": "customer-1", "emailAddress": "ops@acme.com"}}}


def test_a_reduced_issue_is_read_once_and_the_event_keeps_its_own_time_and_actor() -> None:
    policy = _policy([{"field": "customfield_10104", "sets": "severity"}])
    jira = RecordingJira(FULL)
    event = _event()
    assert derive(policy, TicketFacts(fields=event.fields)).severity == "sev3"  # the default: nothing to map
    refreshed = complete(event, read_reduced(Ctx(jira), event, policy))  # type: ignore[arg-type]
    assert jira.calls == [("SUP-42", fields_needed(policy))]
    assert isinstance(refreshed, IssueEvent) and not refreshed.partial_issue
    assert derive(policy, TicketFacts(fields=refreshed.fields)).severity == "sev1"
    assert (refreshed.at, refreshed.actor_account_id, refreshed.kind) == (AT, "agent-1", "issue_created")
    assert (refreshed.status_name, refreshed.reporter_account_id, refreshed.reporter_email) == (
        "In Progress", "customer-1", "ops@acme.com")


def test_complete_events_and_comments_are_not_read_again() -> None:
    jira = RecordingJira(FULL)
    connect = parse_webhook({"webhookEvent": "jira:issue_created", "timestamp": 1,
                             "issue": {"id": "1", "key": "SUP-1", "fields": {"project": {"key": "SUP"}}}})
    comment = parse_webhook({"webhookEvent": "comment_created", PARTIAL_ISSUE_KEY: True,
                             "issue": {"id": "1", "key": "SUP-1", "fields": {}},
                             "comment": {"id": "5", "body": "hi", "created": "2026-11-23T09:58:00.000+0000"}})
    ctx = Ctx(jira, SimpleNamespace(field_bindings={}))  # what the prefetch step reads of the tenant
    for event in (connect, comment):
        assert event is not None
        want, got = prefetch.needs(ctx, prefetch.Prefetched(), event=event)  # type: ignore[arg-type]
        assert not want.issue
        prefetch.fetch(ctx, want, got, event)  # type: ignore[arg-type]
    assert jira.calls == []
