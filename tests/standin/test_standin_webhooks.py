"""Webhooks like Jira's: real payload shapes, signed HS256 with a verifiable qsh, retried, redeliverable."""

from __future__ import annotations

import json

import jwt
from atlassian_jwt.url_utils import hash_url
from standin_fakeapp import FakeApp, Received, signed

from standin import JiraStandin


def _verify(standin: JiraStandin, hit: Received) -> dict:
    app = standin.app()
    claims = jwt.decode(hit.headers["Authorization"].removeprefix("JWT "), app.shared_secret, algorithms=["HS256"])
    assert claims["iss"] == app.client_key
    assert claims["qsh"] == hash_url("POST", hit.path.removeprefix("/app") + (f"?{hit.query}" if hit.query else ""))
    return claims


def _keys(peers_dir, name: str) -> dict:  # type: ignore[no-untyped-def]
    return json.loads((peers_dir / "webhooks" / name).read_text())


def test_issue_created_is_signed_and_shaped_like_the_real_payload(installed: tuple[JiraStandin, FakeApp],
                                                                   peers_dir) -> None:  # type: ignore[no-untyped-def]
    standin, fake_app = installed
    standin.create_issue("Checkout down", fields={"Severity": {"value": "Sev-1"}, "Plan": {"value": "Regulated"}},
                         description="Payments fail for everyone")
    assert standin.wait_for_deliveries(5)
    (hit,) = fake_app.hits("/app/hooks/created")
    claims = _verify(standin, hit)
    assert claims["sub"] == standin.customer.account_id
    assert hit.headers["X-Atlassian-Webhook-Identifier"]
    body = hit.body
    real = _keys(peers_dir, "mm_cloud_issue_created.json")
    assert set(real) <= set(body)
    assert set(real["user"]) - {"name", "key"} <= set(body["user"])
    assert set(real["changelog"]["items"][0]) == set(body["changelog"]["items"][0])
    assert body["webhookEvent"] == "jira:issue_created" and body["issue_event_type_name"] == "issue_created"
    fields = body["issue"]["fields"]
    assert fields["customfield_10104"]["value"] == "Sev-1"
    assert fields["status"]["name"] == "Open" and fields["status"]["statusCategory"]["key"] == "new"
    assert fields["reporter"]["emailAddress"] == standin.customer.email
    assert fields["description"] == "Payments fail for everyone"  # wiki text, as API v2 bodies carry it
    assert {"Severity", "Plan"} <= {i["field"] for i in body["changelog"]["items"]}


def test_comment_created_has_wiki_body_and_jsd_public(installed: tuple[JiraStandin, FakeApp], peers_dir) -> None:  # type: ignore[no-untyped-def]
    standin, fake_app = installed
    key = standin.create_issue()["key"]
    standin.add_comment(key, "We are on it.\nNext update in 2 hours", public=True, author=standin.agent)
    standin.add_comment(key, "internal: paging DBA", public=False, author=standin.agent)
    assert standin.wait_for_deliveries(5)
    public, internal = fake_app.hits("/app/hooks/comment")
    _verify(standin, public)
    real = _keys(peers_dir, "mm_cloud_comment_created.json")
    assert set(real["comment"]) <= set(public.body["comment"])
    assert public.body["comment"]["body"] == "We are on it.\nNext update in 2 hours"
    assert public.body["comment"]["jsdPublic"] is True and internal.body["comment"]["jsdPublic"] is False
    assert public.body["comment"]["author"]["accountId"] == standin.agent.account_id


def test_webhook_filter_limits_to_the_project(installed: tuple[JiraStandin, FakeApp]) -> None:
    standin, fake_app = installed
    ops = standin.create_issue(project="OPS")["key"]
    standin.add_comment(ops, "ops comment")
    assert standin.wait_for_deliveries(5)
    assert fake_app.hits("/app/hooks/comment") == []
    assert len(fake_app.hits("/app/hooks/created")) == 1  # no filter on that one


def test_status_change_has_changelog_and_resolution(installed: tuple[JiraStandin, FakeApp]) -> None:
    standin, fake_app = installed
    key = standin.create_issue()["key"]
    standin.update_issue(key, status="Waiting for customer", fields={"Urgency": {"value": "High"}})
    standin.transition_issue(key, "Resolve")
    assert standin.wait_for_deliveries(5)
    edit, waiting, resolved = (h.body for h in fake_app.hits("/app/hooks/updated"))
    assert edit["changelog"]["items"][0]["toString"] == "High"
    status_item = waiting["changelog"]["items"][-1]
    assert (status_item["fieldId"], status_item["fromString"], status_item["toString"]) == \
        ("status", "Open", "Waiting for customer")
    assert {i["fieldId"] for i in resolved["changelog"]["items"]} == {"status", "resolution"}
    assert resolved["issue"]["fields"]["status"]["statusCategory"]["key"] == "done"


def test_changes_made_by_the_app_fire_webhooks_as_the_app_user(installed: tuple[JiraStandin, FakeApp]) -> None:
    standin, fake_app = installed
    key = standin.create_issue()["key"]
    signed(standin, "PUT", f"/rest/api/3/issue/{key}", json={"fields": {"customfield_10101": "2026-11-23T15:00:00Z"}})
    signed(standin, "PUT", f"/rest/api/3/issue/{key}", json={"properties": [{"key": "tierwise.sla", "value": {}}]})
    signed(standin, "POST", f"/rest/servicedeskapi/request/{key}/comment", json={"body": "Next update 15:00 UTC"})
    transitions = signed(standin, "GET", f"/rest/api/3/issue/{key}/transitions").json()["transitions"]
    resolve = next(t["id"] for t in transitions if t["name"] == "Resolve")
    assert signed(standin, "POST", f"/rest/api/3/issue/{key}/transitions",
                  json={"transition": {"id": resolve}}).status_code == 204
    assert standin.wait_for_deliveries(5)
    updates = fake_app.hits("/app/hooks/updated")
    assert len(updates) == 2  # the field edit and the transition; a property-only edit fires none
    for hit in updates:
        assert hit.body["user"]["accountType"] == "app"
        assert hit.body["user"]["accountId"] == standin.app().user.account_id
    (comment,) = fake_app.hits("/app/hooks/comment")
    assert comment.body["comment"]["author"]["accountType"] == "app"


def test_retry_on_503_keeps_the_identifier_with_fresh_tokens(installed: tuple[JiraStandin, FakeApp]) -> None:
    standin, fake_app = installed
    fake_app.statuses = [503, 429]
    standin.create_issue()
    assert standin.wait_for_deliveries(5)
    hits = fake_app.hits("/app/hooks/created")
    assert len(hits) == 3
    assert len({h.headers["X-Atlassian-Webhook-Identifier"] for h in hits}) == 1
    assert [h.headers.get("X-Atlassian-Webhook-Retry") for h in hits] == [None, "1", "2"]
    for hit in hits:
        _verify(standin, hit)
    (delivery,) = standin.deliveries
    assert delivery.attempts == [503, 429, 204] and delivery.delivered


def test_a_4xx_answer_is_not_retried(installed: tuple[JiraStandin, FakeApp]) -> None:
    standin, fake_app = installed
    fake_app.statuses = [401]
    standin.create_issue()
    assert standin.wait_for_deliveries(5)
    assert len(fake_app.hits("/app/hooks/created")) == 1
    assert standin.deliveries[0].attempts == [401] and not standin.deliveries[0].delivered


def test_redelivery_sends_the_identical_webhook(installed: tuple[JiraStandin, FakeApp]) -> None:
    standin, fake_app = installed
    standin.create_issue()
    assert standin.wait_for_deliveries(5)
    standin.redeliver(standin.deliveries[0])
    standin.redeliver(standin.deliveries[0].identifier)
    assert standin.wait_for_deliveries(5)
    hits = fake_app.hits("/app/hooks/created")
    assert len(hits) == 3
    assert len({h.headers["X-Atlassian-Webhook-Identifier"] for h in hits}) == 1
    assert hits[0].body == hits[1].body == hits[2].body


def test_disabled_app_gets_no_webhooks(installed: tuple[JiraStandin, FakeApp]) -> None:
    standin, fake_app = installed
    standin.disable_app()
    standin.create_issue()
    assert standin.wait_for_deliveries(5)
    assert fake_app.hits("/app/hooks") == []
