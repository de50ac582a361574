"""Forge product events become the Connect webhook bodies `parse_webhook` reads.

The Forge payloads below are written from Atlassian's Forge "Jira events" reference
(events-reference/jira): `avi:jira:created:issue` / `avi:jira:updated:issue` carry `eventType`,
`issue` {id, key, fields: summary, issuetype, creator, created, project, reporter, assignee,
updated, status}, `atlassianId`, `associatedUsers`, and for updates `changelog.items`
[{field, fieldId, from, fromString, to, toString}] and `associatedStatuses`;
`avi:jira:commented:issue` carries `issue` and `comment` {id, author, body (ADF), updateAuthor,
created, updated, jsdPublic}. `selfGenerated` marks events the app caused itself.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from app.forge.events import ForgeEventError, delivery_id, event_payload, retry_count, to_connect_webhook
from app.policy.events import CommentEvent, IssueEvent, parse_webhook

RECEIVED = datetime(2026, 11, 23, 10, 0, 5, tzinfo=UTC)
AGENT = "5b10ac8d82e05b22cc7d4ef5"
CUSTOMER = "qm:1a2b3c4d-5e6f-4a5b-8c9d-0e1f2a3b4c5d:6f7e8d9c-0b1a-4c3d-9e8f-7a6b5c4d3e2f"


def _issue(**fields: Any) -> dict[str, Any]:
    base = {
        "summary": "Checkout returns 500 for every EU customer",
        "issuetype": {"id": "10004", "name": "Incident"},
        "creator": {"accountId": CUSTOMER},
        "reporter": {"accountId": CUSTOMER},
        "assignee": None,
        "created": "2026-11-23T09:58:12.345+0000",
        "updated": "2026-11-23T09:58:12.345+0000",
        "project": {"id": "10001", "key": "SUP", "name": "Support"},
        "status": {"id": "1", "name": "Open", "statusCategory": {"id": 2, "key": "new", "name": "To Do"}},
        "priority": {"id": "1", "name": "Highest"},
    }
    base.update(fields)
    return {"id": "10042", "key": "SUP-42", "fields": base}


def _adf(text: str) -> dict[str, Any]:
    return {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}]}


CREATED = {
    "eventType": "avi:jira:created:issue",
    "issue": _issue(),
    "atlassianId": CUSTOMER,
    "associatedUsers": [{"accountId": CUSTOMER}],
    "selfGenerated": False,
}
UPDATED = {
    "eventType": "avi:jira:updated:issue",
    "issue": _issue(
        updated="2026-11-23T10:01:00.000+0000",
        priority={"id": "2", "name": "High"},
        status={"id": "3", "name": "In Progress", "statusCategory": {"id": 4, "key": "indeterminate"}},
    ),
    "atlassianId": AGENT,
    "changelog": {
        "id": "10200",
        "items": [
            {"field": "priority", "fieldId": "priority", "from": "1", "fromString": "Highest",
             "to": "2", "toString": "High"},
            {"field": "status", "fieldId": "status", "from": "1", "fromString": "Open",
             "to": "3", "toString": "In Progress"},
        ],
    },
    "associatedStatuses": [{"id": "1", "name": "Open"}, {"id": "3", "name": "In Progress"}],
    "associatedUsers": [{"accountId": AGENT}],
    "selfGenerated": False,
}
COMMENTED = {
    "eventType": "avi:jira:commented:issue",
    "issue": _issue(),
    "atlassianId": AGENT,
    "associatedUsers": [{"accountId": AGENT}],
    "comment": {
        "id": "10300",
        "author": {"accountId": AGENT},
        "updateAuthor": {"accountId": AGENT},
        "body": _adf("We are on it. Next update by 15:00 CET."),
        "created": "2026-11-23T10:02:00.000+0000",
        "updated": "2026-11-23T10:02:00.000+0000",
        "jsdPublic": True,
    },
    "selfGenerated": False,
}


def _with(event: dict[str, Any], **changes: Any) -> dict[str, Any]:
    changed = copy.deepcopy(event)
    changed.update(changes)
    return changed


def _comment_with(**changes: Any) -> dict[str, Any]:
    event = copy.deepcopy(COMMENTED)
    event["comment"].update(changes)
    return event


MAPPED = [
    # (name, forge event, expected Connect fields)
    ("issue created", CREATED,
     {"webhookEvent": "jira:issue_created", "issue_event_type_name": "issue_created",
      "user": {"accountId": CUSTOMER}}),
    ("issue updated", UPDATED,
     {"webhookEvent": "jira:issue_updated", "issue_event_type_name": "issue_updated",
      "user": {"accountId": AGENT}, "changelog": UPDATED["changelog"]}),
    ("comment created", COMMENTED, {"webhookEvent": "comment_created", "comment": COMMENTED["comment"]}),
]


@pytest.mark.parametrize(("event", "expected"), [(e, x) for _, e, x in MAPPED], ids=[m[0] for m in MAPPED])
def test_forge_events_map_to_connect_webhook_bodies(event: dict[str, Any], expected: dict[str, Any]) -> None:
    body = to_connect_webhook(event, received_at=RECEIVED)
    assert body is not None
    for key, value in expected.items():
        assert body[key] == value, key
    assert body["issue"]["key"] == "SUP-42" and body["issue"]["id"] == "10042"
    assert "timestamp" not in body  # the payload's own times are used, never the receipt time


def test_issue_created_reads_as_the_connect_event() -> None:
    fact = parse_webhook(to_connect_webhook(CREATED, received_at=RECEIVED))
    assert isinstance(fact, IssueEvent)
    assert (fact.kind, fact.issue_key, fact.project_key) == ("issue_created", "SUP-42", "SUP")
    assert fact.actor_account_id == CUSTOMER
    assert fact.reporter_account_id == CUSTOMER
    assert fact.status_category == "new"
    assert fact.at == datetime(2026, 11, 23, 9, 58, 12, 345000, tzinfo=UTC)


def test_issue_updated_reads_with_its_changed_fields() -> None:
    fact = parse_webhook(to_connect_webhook(UPDATED, received_at=RECEIVED))
    assert isinstance(fact, IssueEvent)
    assert fact.kind == "issue_updated"
    assert fact.changed_fields == ("priority", "status")
    assert fact.status_name == "In Progress"
    assert fact.at == datetime(2026, 11, 23, 10, 1, tzinfo=UTC)
    assert not fact.is_comment_echo


def test_comment_reads_as_a_public_agent_reply() -> None:
    fact = parse_webhook(to_connect_webhook(COMMENTED, received_at=RECEIVED))
    assert isinstance(fact, CommentEvent)
    assert (fact.comment_id, fact.author_account_id, fact.public) == ("10300", AGENT, True)
    assert "Next update by 15:00 CET." in fact.body_text
    assert fact.at == datetime(2026, 11, 23, 10, 2, tzinfo=UTC)


def test_internal_comment_stays_internal() -> None:
    fact = parse_webhook(to_connect_webhook(_comment_with(jsdPublic=False), received_at=RECEIVED))
    assert isinstance(fact, CommentEvent) and fact.public is False


def test_comment_without_author_is_attributed_to_the_actor() -> None:
    event = copy.deepcopy(COMMENTED)
    del event["comment"]["author"]
    fact = parse_webhook(to_connect_webhook(event, received_at=RECEIVED))
    assert isinstance(fact, CommentEvent) and fact.author_account_id == AGENT


def test_issue_without_updated_time_uses_the_receipt_time() -> None:
    event = _with(CREATED, issue=_issue(updated=None))
    body = to_connect_webhook(event, received_at=RECEIVED)
    assert body is not None and body["timestamp"] == int(RECEIVED.timestamp() * 1000)
    fact = parse_webhook(body)
    assert fact is not None and fact.at == RECEIVED


def test_forge_issue_type_spelling_is_normalised() -> None:
    fields = _issue()["fields"]
    fields["issueType"] = fields.pop("issuetype")
    body = to_connect_webhook(_with(CREATED, issue={"id": 10042, "key": "SUP-42", "fields": fields}),
                              received_at=RECEIVED)
    assert body is not None
    assert body["issue"]["fields"]["issuetype"]["name"] == "Incident"
    assert body["issue"]["id"] == "10042"


IGNORED = [
    ("the app's own edit", _with(UPDATED, selfGenerated=True)),
    ("the app's own comment", _with(COMMENTED, selfGenerated=True)),
    ("a comment edit", _comment_with(updated="2026-11-23T10:30:00.000+0000")),
    ("issue viewed", {"eventType": "avi:jira:viewed:issue", "issue": _issue(), "atlassianId": AGENT}),
    ("issue deleted", {"eventType": "avi:jira:deleted:issue", "issue": _issue()}),
    ("worklog", {"eventType": "avi:jira:created:worklog", "worklog": {"id": "1"}}),
]


@pytest.mark.parametrize("event", [e for _, e in IGNORED], ids=[n for n, _ in IGNORED])
def test_events_tierwise_does_not_act_on_map_to_nothing(event: dict[str, Any]) -> None:
    assert to_connect_webhook(event, received_at=RECEIVED) is None


MALFORMED = [
    ("no issue", {"eventType": "avi:jira:created:issue"}),
    ("issue without key", {"eventType": "avi:jira:created:issue", "issue": {"id": "1", "fields": {}}}),
    ("fields not an object", {"eventType": "avi:jira:updated:issue", "issue": {"id": "1", "key": "A-1", "fields": []}}),
    ("comment without id", _comment_with(id=None)),
]


@pytest.mark.parametrize("event", [e for _, e in MALFORMED], ids=[n for n, _ in MALFORMED])
def test_malformed_events_are_refused(event: dict[str, Any]) -> None:
    with pytest.raises(ForgeEventError) as caught:
        to_connect_webhook(event, received_at=RECEIVED)
    assert caught.value.as_json()["error"] == "malformed_event"


def test_event_payload_accepts_bare_and_wrapped_bodies() -> None:
    assert event_payload(CREATED) == CREATED
    wrapped = {"payload": CREATED, "context": {"cloudId": "x"}}
    assert event_payload(wrapped) == CREATED
    retried = {"payload": CREATED, "context": {"cloudId": "x"}, "retryContext": {"retryCount": 1}}
    assert event_payload(retried) == CREATED and retry_count(retried) == 1
    assert retry_count(wrapped) == 0 and retry_count(_with(CREATED, retryContext={"retryCount": 3})) == 3
    for bad in ([], "x", {"payload": {"issue": {}}}, {}):
        with pytest.raises(ForgeEventError):
            event_payload(bad)


def test_redelivery_keeps_the_delivery_id_and_other_events_differ() -> None:
    retried = _with(UPDATED, retryContext={"retryCount": 2, "retryReason": "TIMEOUT_ERROR", "retryData": None})
    assert delivery_id(retried) == delivery_id(UPDATED)
    ids = {delivery_id(e) for e in (CREATED, UPDATED, COMMENTED, _comment_with(id="10301"))}
    assert len(ids) == 4


#: `avi:jira:created:issue` as Forge sends it: the reduced issue of the Jira events reference, no more.
REDUCED = {
    "eventType": "avi:jira:created:issue",
    "issue": {"id": "10042", "key": "SUP-42", "fields": {
        k: v for k, v in _issue()["fields"].items()
        if k in ("summary", "issuetype", "creator", "created", "project", "reporter", "assignee", "updated", "status")}},
    "atlassianId": CUSTOMER,
}


def test_every_forge_event_is_marked_as_carrying_a_reduced_issue() -> None:
    for event in (REDUCED, UPDATED, COMMENTED):
        body = to_connect_webhook(event, received_at=RECEIVED)
        assert body is not None
        parsed = parse_webhook(body)
        assert parsed is not None and parsed.partial_issue is True, event["eventType"]
    connect = parse_webhook({"webhookEvent": "jira:issue_created", "issue": _issue(), "timestamp": 1})
    assert connect is not None and connect.partial_issue is False


def test_the_events_own_timestamp_wins_over_the_issue_fields_and_the_receipt() -> None:
    stamped = _with(REDUCED, timestamp=1795425600123)  # 2026-11-23T09:20:00.123Z
    parsed = parse_webhook(to_connect_webhook(stamped, received_at=RECEIVED) or {})
    assert parsed is not None and parsed.at == datetime(2026, 11, 23, 9, 20, 0, 123000, tzinfo=UTC)
    iso = _with(REDUCED, timestamp="2026-11-23T09:21:00Z")
    parsed = parse_webhook(to_connect_webhook(iso, received_at=RECEIVED) or {})
    assert parsed is not None and parsed.at == datetime(2026, 11, 23, 9, 21, tzinfo=UTC)
    plain = parse_webhook(to_connect_webhook(REDUCED, received_at=RECEIVED) or {})
    assert plain is not None and plain.at == datetime(2026, 11, 23, 9, 58, 12, 345000, tzinfo=UTC)
