"""Which comments are customer-facing agent updates: built on the real comment_created body."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from app.policy.events import CommentEvent, IssueEvent, JsmFieldIds, parse_webhook
from app.policy.replies import (
    AGENT_INTERNAL,
    AGENT_PUBLIC,
    APP,
    CUSTOMER,
    caused_by_app,
    classify_comment,
    counts_as_agent_update,
)

AGENT = "5c5f880629be9642ba529340"  # the author in mm_cloud_comment_created.json
APP_ID = "557058:app-tierwise"
REPORTER = "reporter-1"
PARTICIPANT = "participant-1"


@pytest.fixture
def real_body(peers_dir: Path) -> dict[str, Any]:
    return json.loads((peers_dir / "webhooks" / "mm_cloud_comment_created.json").read_text())


def comment(real_body: dict[str, Any], *, author: dict[str, Any] | None = None, fields: dict[str, Any] | None = None,
            **changes: Any) -> CommentEvent:
    body = copy.deepcopy(real_body)
    if author is not None:
        body["comment"]["author"] = author
    body["comment"].update(changes)
    body["issue"]["fields"].update(fields or {})
    event = parse_webhook(body, jsm_fields=JsmFieldIds(request_participants="customfield_10010"))
    assert isinstance(event, CommentEvent)
    return event


def test_real_public_comment_by_an_agent_is_a_customer_facing_update(real_body: dict[str, Any]) -> None:
    kind = classify_comment(comment(real_body), app_account_id=APP_ID, customers={REPORTER})
    assert kind == AGENT_PUBLIC
    assert counts_as_agent_update(kind)


@pytest.mark.parametrize(
    ("author", "changes", "fields", "customers", "expected"),
    [
        # internal note by an agent (jsdPublic false)
        ({"accountId": AGENT, "accountType": "atlassian"}, {"jsdPublic": False}, {}, (), AGENT_INTERNAL),
        # role-restricted comment
        ({"accountId": AGENT}, {"visibility": {"type": "group", "value": "jira-servicedesk-users"}}, {}, (),
         AGENT_INTERNAL),
        # portal-only customer account
        ({"accountId": "qm:customer-1", "accountType": "customer"}, {}, {}, (), CUSTOMER),
        # the reporter, known from the stored ticket record
        ({"accountId": REPORTER, "accountType": "atlassian"}, {}, {}, (REPORTER,), CUSTOMER),
        # the reporter, carried in the body
        ({"accountId": REPORTER}, {}, {"reporter": {"accountId": REPORTER}}, (), CUSTOMER),
        # a request participant carried in the body
        ({"accountId": PARTICIPANT}, {}, {"customfield_10010": [{"accountId": PARTICIPANT}]}, (), CUSTOMER),
        # an organization member the worker looked up
        ({"accountId": "org-member"}, {}, {}, ("org-member",), CUSTOMER),
        # mailed in by someone outside the request
        ({"accountId": "emailer"}, {"jsdAuthorCanSeeRequest": False}, {}, (), CUSTOMER),
        # anonymous
        ({}, {}, {}, (), CUSTOMER),
        # our own follow-up
        ({"accountId": APP_ID, "accountType": "app"}, {}, {}, (), APP),
        # our own account even without accountType
        ({"accountId": APP_ID}, {}, {}, (), APP),
        # another app (e.g. an automation rule's reply)
        ({"accountId": "automation", "accountType": "app"}, {}, {}, (), APP),
        # an agent who is also a participant writing an internal note: internal, not a customer
        ({"accountId": PARTICIPANT}, {"jsdPublic": False}, {"customfield_10010": [{"accountId": PARTICIPANT}]}, (),
         AGENT_INTERNAL),
    ],
)
def test_classification(real_body: dict[str, Any], author: dict[str, Any], changes: dict[str, Any],
                        fields: dict[str, Any], customers: tuple[str, ...], expected: str) -> None:
    event = comment(real_body, author=author, fields=fields, **changes)
    kind = classify_comment(event, app_account_id=APP_ID, customers=customers)
    assert kind == expected
    assert counts_as_agent_update(kind) is (expected == AGENT_PUBLIC)


def test_no_app_account_id_still_recognises_app_accounts(real_body: dict[str, Any]) -> None:
    event = comment(real_body, author={"accountId": "x", "accountType": "app"})
    assert classify_comment(event, app_account_id=None) == APP
    assert classify_comment(comment(real_body), app_account_id=None) == AGENT_PUBLIC


def test_caused_by_app_only_for_our_own_account(peers_dir: Path, real_body: dict[str, Any]) -> None:
    issue = parse_webhook(json.loads((peers_dir / "webhooks" / "mm_cloud_issue_updated_custom_field.json").read_text()))
    assert isinstance(issue, IssueEvent)
    assert caused_by_app(issue, app_account_id=issue.actor_account_id)
    assert not caused_by_app(issue, app_account_id=APP_ID)
    assert not caused_by_app(issue, app_account_id=None)
    own = comment(real_body, author={"accountId": APP_ID, "accountType": "app"})
    other_app = comment(real_body, author={"accountId": "automation", "accountType": "app"})
    assert caused_by_app(own, app_account_id=APP_ID)
    assert not caused_by_app(other_app, app_account_id=APP_ID)  # still classified APP, but processed
