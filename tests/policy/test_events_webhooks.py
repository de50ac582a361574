"""Webhook bodies -> ticket facts, against the real Jira Cloud payloads in ../shared/peers/webhooks."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app.policy.errors import PolicyError
from app.policy.events import (
    ISSUE_CREATED,
    ISSUE_UPDATED,
    CommentEvent,
    EventError,
    IssueEvent,
    JsmFieldIds,
    comment_text,
    parse_webhook,
)


def load(peers_dir: Path, name: str) -> dict[str, Any]:
    return json.loads((peers_dir / "webhooks" / name).read_text())


def test_issue_created_real_body(peers_dir: Path) -> None:
    event = parse_webhook(load(peers_dir, "mm_cloud_issue_created.json"))
    assert isinstance(event, IssueEvent)
    assert (event.kind, event.issue_id, event.issue_key, event.project_key) == (ISSUE_CREATED, "10040", "TES-41", "TES")
    assert event.at == datetime(2019, 2, 16, 3, 1, 53, 23000, tzinfo=UTC)  # timestamp 1550286113023 ms
    assert event.actor_account_id == "5c5f880629be9642ba529340"
    assert event.actor_account_type is None  # this 2019 capture has no accountType
    assert (event.status_name, event.status_category) == ("To Do", "new")
    assert event.changed_fields == ("description", "priority", "reporter", "status", "summary")
    assert event.reporter_account_id == "5c5f880629be9642ba529340"
    assert event.reporter_email == "some-instance-test@gmail.com"
    assert event.fields["priority"]["name"] == "High"
    assert event.created_at == datetime(2019, 2, 16, 3, 1, 52, 971000, tzinfo=UTC)
    assert (event.organizations, event.request_participants) == ((), ())


def test_issue_fields_are_read_only(peers_dir: Path) -> None:
    event = parse_webhook(load(peers_dir, "mm_cloud_issue_created.json"))
    assert isinstance(event, IssueEvent)
    with pytest.raises(TypeError):
        event.fields["priority"] = "Low"  # type: ignore[index]


def test_custom_field_change_names_the_field_id(peers_dir: Path) -> None:
    event = parse_webhook(load(peers_dir, "mm_cloud_issue_updated_custom_field.json"))
    assert isinstance(event, IssueEvent)
    assert event.kind == ISSUE_UPDATED
    assert event.changed_fields == ("customfield_10072",)
    assert event.actor_account_type == "atlassian"


def test_resolution_and_status_change(peers_dir: Path) -> None:
    event = parse_webhook(load(peers_dir, "mm_cloud_issue_updated_resolved_status.json"))
    assert isinstance(event, IssueEvent)
    assert event.changed_fields == ("resolution", "status")
    assert event.status_category == "done"


def test_many_custom_fields_on_create(peers_dir: Path) -> None:
    event = parse_webhook(load(peers_dir, "mm_cloud_issue_created_many_fields.json"))
    assert isinstance(event, IssueEvent)
    assert "customfield_10073" in event.changed_fields
    assert "customfield_10076" in event.changed_fields
    assert event.changed_fields[0] == "assignee"


def test_empty_changelog_is_an_update_with_no_changed_fields(peers_dir: Path) -> None:
    event = parse_webhook(load(peers_dir, "mm_cloud_issue_assigned_empty_changelog.json"))
    assert isinstance(event, IssueEvent)
    assert event.changed_fields == ()
    assert event.actor_account_id == "123456"
    assert event.event_type_name == "issue_assigned"
    assert not event.is_comment_echo


def test_missing_changelog_is_empty() -> None:
    body = {"webhookEvent": "jira:issue_updated", "timestamp": 0, "issue": {"id": "1", "key": "A-1", "fields": {}}}
    event = parse_webhook(body)
    assert isinstance(event, IssueEvent)
    assert event.changed_fields == ()
    assert event.at == datetime(1970, 1, 1, tzinfo=UTC)


def test_server_comment_arrives_as_issue_update_echo(peers_dir: Path) -> None:
    event = parse_webhook(load(peers_dir, "mm_server_issue_updated_commented.json"))
    assert isinstance(event, IssueEvent)  # not a CommentEvent: comments come from comment_created only
    assert event.is_comment_echo
    assert event.actor_account_id is None  # Server identifies users by name/key, not accountId
    assert event.reporter_account_id is None
    assert event.reporter_email == "creator.user@mattermost.com"


def test_comment_created_real_body(peers_dir: Path) -> None:
    event = parse_webhook(load(peers_dir, "mm_cloud_comment_created.json"))
    assert isinstance(event, CommentEvent)
    assert (event.issue_id, event.issue_key, event.comment_id) == ("10040", "TES-41", "10019")
    assert event.at == datetime(2019, 2, 16, 3, 11, 18, 321000, tzinfo=UTC)  # comment.created, -0800
    assert event.author_account_id == "5c5f880629be9642ba529340"
    assert event.body_text == "Added a comment"
    assert event.public is True
    assert event.reporter_account_id is None  # comment_created carries no reporter
    assert event.status_category == "new"


def test_comment_with_mention_keeps_wiki_text(peers_dir: Path) -> None:
    event = parse_webhook(load(peers_dir, "mm_cloud_comment_created_mention_user.json"))
    assert isinstance(event, CommentEvent)
    assert event.body_text == "Added a comment with mentioned user [~user]"


def _comment_body(peers_dir: Path, **comment: Any) -> dict[str, Any]:
    body = copy.deepcopy(load(peers_dir, "mm_cloud_comment_created.json"))
    body["comment"].update(comment)
    return body


@pytest.mark.parametrize(
    ("changes", "public"),
    [
        ({"jsdPublic": True}, True),
        ({"jsdPublic": False}, False),
        ({"jsdPublic": True, "visibility": {"type": "role", "value": "Administrators"}}, False),
    ],
)
def test_comment_visibility(peers_dir: Path, changes: dict[str, Any], public: bool) -> None:
    event = parse_webhook(_comment_body(peers_dir, **changes))
    assert isinstance(event, CommentEvent)
    assert event.public is public


def test_comment_without_jsd_public_is_public_as_jira_defaults(peers_dir: Path) -> None:
    body = _comment_body(peers_dir)
    del body["comment"]["jsdPublic"]
    event = parse_webhook(body)
    assert isinstance(event, CommentEvent) and event.public


def test_comment_external_email_author(peers_dir: Path) -> None:
    event = parse_webhook(_comment_body(peers_dir, jsdAuthorCanSeeRequest=False))
    assert isinstance(event, CommentEvent) and event.author_is_external_email


def test_adf_comment_body_is_flattened_without_code() -> None:
    adf = {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "paragraph", "content": [
                {"type": "mention", "attrs": {"id": "abc", "text": "@Ann"}},
                {"type": "text", "text": " next update by 15:00"},
            ]},
            {"type": "codeBlock", "content": [{"type": "text", "text": "restarted at 14:00"}]},
        ],
    }
    text = comment_text(adf)
    assert "@Ann next update by 15:00" in text
    assert "14:00" not in text


def test_jsm_organizations_and_participants(peers_dir: Path) -> None:
    body = copy.deepcopy(load(peers_dir, "mm_cloud_issue_created.json"))
    fields = body["issue"]["fields"]
    fields["customfield_10002"] = [
        {"id": "1", "name": "Acme Corp", "_links": {"self": "https://x.atlassian.net/rest/servicedeskapi/organization/1"}},
        {"id": "2", "name": "Globex", "_links": {"self": "https://x.atlassian.net/rest/servicedeskapi/organization/2"}},
    ]
    fields["customfield_10003"] = [{"accountId": "p-1"}, {"accountId": "p-2"}]
    fields["customfield_10004"] = [{"name": "not an org", "id": "9"}]  # a plain multi-select
    event = parse_webhook(body, jsm_fields=JsmFieldIds(request_participants="customfield_10003"))
    assert isinstance(event, IssueEvent)
    assert event.organizations == ("Acme Corp", "Globex")
    assert event.request_participants == ("p-1", "p-2")
    named = parse_webhook(body, jsm_fields=JsmFieldIds(organizations="customfield_10004"))
    assert isinstance(named, IssueEvent) and named.organizations == ("not an org",)


@pytest.mark.parametrize("name", ["jira:issue_deleted", "worklog_updated", "comment_updated"])
def test_events_tierwise_does_not_act_on(peers_dir: Path, name: str) -> None:
    body = load(peers_dir, "mm_cloud_issue_created.json")
    body["webhookEvent"] = name
    assert parse_webhook(body) is None


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda b: b.pop("webhookEvent"), "webhookEvent"),
        (lambda b: b.pop("issue"), "issue"),
        (lambda b: b["issue"].pop("id"), "issue.id"),
        (lambda b: b["issue"].pop("key"), "issue.key"),
        (lambda b: b["issue"].update(fields=[]), "issue.fields"),
        (lambda b: b.update(timestamp="yesterday"), "timestamp"),
        (lambda b: b["issue"]["fields"].update(created="15/02/2019"), "issue.fields.created"),
    ],
)
def test_malformed_issue_bodies_say_where(peers_dir: Path, mutate: Any, where: str) -> None:
    body = load(peers_dir, "mm_cloud_issue_created.json")
    mutate(body)
    with pytest.raises(EventError) as info:
        parse_webhook(body)
    assert info.value.path == where
    assert isinstance(info.value, PolicyError)


def test_malformed_comment_bodies(peers_dir: Path) -> None:
    body = load(peers_dir, "mm_cloud_comment_created.json")
    del body["comment"]["id"]
    with pytest.raises(EventError, match="comment.id"):
        parse_webhook(body)
    body = load(peers_dir, "mm_cloud_comment_created.json")
    body["comment"]["body"] = 42
    with pytest.raises(EventError, match="comment.body"):
        parse_webhook(body)


def test_not_an_object() -> None:
    with pytest.raises(EventError):
        parse_webhook([])  # type: ignore[arg-type]


def test_timestamp_falls_back_to_updated(peers_dir: Path) -> None:
    body = load(peers_dir, "mm_cloud_issue_created.json")
    del body["timestamp"]
    event = parse_webhook(body)
    assert isinstance(event, IssueEvent)
    assert event.at == datetime(2019, 2, 16, 3, 1, 52, 971000, tzinfo=UTC)
