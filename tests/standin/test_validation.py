"""Every request is checked against Atlassian's specs (and ADF), and our responses against them too."""

from __future__ import annotations

import json

import pytest
from standin_fakeapp import FakeApp, signed

from standin import JiraStandin, specs

ADF = {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "On it"}]}]}


@pytest.fixture
def key(installed: tuple[JiraStandin, FakeApp]) -> str:
    standin, _ = installed
    return standin.create_issue("Checkout down", fields={"Severity": {"value": "Sev-1"}})["key"]


def test_good_edit_sets_fields_and_property_in_one_call(installed: tuple[JiraStandin, FakeApp], key: str) -> None:
    standin, _ = installed
    resp = signed(standin, "PUT", f"/rest/api/3/issue/{key}?notifyUsers=false", json={
        "fields": {"customfield_10100": "2026-11-23T12:00:00.000+0000", "customfield_10103": {"value": "Premium"}},
        "properties": [{"key": "tierwise.sla", "value": {"nextUpdateDue": "2026-11-23T12:00:00Z"}}]})
    assert resp.status_code == 204, resp.text
    issue = standin.issue(key)
    assert issue["fields"]["customfield_10100"] == "2026-11-23T12:00:00.000+0000"
    assert issue["fields"]["customfield_10103"]["value"] == "Premium"
    assert issue["properties"]["tierwise.sla"] == {"nextUpdateDue": "2026-11-23T12:00:00Z"}
    assert not [n for n in standin.notifications if n.actor == standin.app().user.account_id]


@pytest.mark.parametrize(("body", "where"), [
    ({"fields": "not an object"}, "errorMessages"),  # caught by Atlassian's spec
    ({"properties": {"key": "x"}}, "errorMessages"),  # spec: properties is an array
    ({"fields": {"customfield_10100": 1700000000}}, "customfield_10100"),  # a date-time field needs a string
    ({"fields": {"customfield_10100": "2026-11-23T12:00:00"}}, "customfield_10100"),  # no UTC offset
    ({"fields": {"customfield_10104": "Sev-1"}}, "customfield_10104"),  # a select wants {"value": …}
    ({"fields": {"customfield_10104": {"value": "Sev-9"}}}, "customfield_10104"),  # not an option
    ({"fields": {"customfield_99999": "x"}}, "customfield_99999"),  # unknown field
])
def test_bad_edit_is_400_in_jiras_error_shape(installed: tuple[JiraStandin, FakeApp], key: str,
                                               body: dict, where: str) -> None:
    standin, _ = installed
    resp = signed(standin, "PUT", f"/rest/api/3/issue/{key}", json=body)
    assert resp.status_code == 400
    error = resp.json()
    assert set(error) == {"errorMessages", "errors"}
    assert error["errorMessages"] if where == "errorMessages" else where in error["errors"]
    assert standin.issue(key)["fields"]["customfield_10100"] is None


def test_query_parameter_of_wrong_type_is_400(installed: tuple[JiraStandin, FakeApp], key: str) -> None:
    standin, _ = installed
    resp = signed(standin, "PUT", f"/rest/api/3/issue/{key}?notifyUsers=maybe", json={"fields": {}})
    assert resp.status_code == 400
    assert "notifyUsers" in json.dumps(resp.json())


def test_jsm_comment_allows_only_body_and_public(installed: tuple[JiraStandin, FakeApp], key: str) -> None:
    standin, _ = installed
    bad = signed(standin, "POST", f"/rest/servicedeskapi/request/{key}/comment",
                 json={"body": "Next update by 15:00 CET", "public": True, "visibility": "all"})
    assert bad.status_code == 400
    assert "visibility" in " ".join(bad.json()["errorMessages"])
    good = signed(standin, "POST", f"/rest/servicedeskapi/request/{key}/comment",
                  json={"body": "Next update by 15:00 CET", "public": True})
    assert good.status_code == 201
    assert good.json()["public"] is True
    assert [c["jsdPublic"] for c in standin.comments(key)] == [True]


def test_platform_comment_needs_adf(installed: tuple[JiraStandin, FakeApp], key: str) -> None:
    standin, _ = installed
    plain = signed(standin, "POST", f"/rest/api/3/issue/{key}/comment", json={"body": "plain text"})
    assert plain.status_code == 400
    assert plain.json()["errorMessages"] == ["Comment body is not valid!"]
    unknown_node = {"type": "doc", "version": 1, "content": [{"type": "shout", "content": []}]}
    assert signed(standin, "POST", f"/rest/api/3/issue/{key}/comment", json={"body": unknown_node}).status_code == 400
    internal = signed(standin, "POST", f"/rest/api/3/issue/{key}/comment", json={
        "body": ADF, "properties": [{"key": "sd.public.comment", "value": {"internal": True}}]})
    assert internal.status_code == 201
    assert standin.comments(key)[-1]["jsdPublic"] is False


def test_unknown_path_is_404_and_unimplemented_documented_path_is_501(installed: tuple[JiraStandin, FakeApp]) -> None:
    standin, _ = installed
    assert signed(standin, "GET", "/rest/api/3/issue/SUP-1/nonsense").status_code == 404
    assert signed(standin, "GET", "/rest/api/2/issue/SUP-1").status_code == 404
    assert signed(standin, "GET", "/rest/api/3/dashboard").status_code == 501
    assert signed(standin, "GET", "/rest/api/3/issue/NOPE-1").status_code == 404


def test_every_request_is_recorded(installed: tuple[JiraStandin, FakeApp], key: str) -> None:
    standin, _ = installed
    signed(standin, "GET", f"/rest/api/3/issue/{key}?fields=status,customfield_10104")
    signed(standin, "PUT", f"/rest/api/3/issue/{key}", json={"fields": "bad"})
    get, put = standin.calls(path=f"/rest/api/3/issue/{key}")
    assert (get.method, get.status, get.query) == ("GET", 200, {"fields": ["status,customfield_10104"]})
    assert (put.method, put.status, put.body) == ("PUT", 400, {"fields": "bad"})


def test_generated_responses_validate_against_the_specs(installed: tuple[JiraStandin, FakeApp], key: str) -> None:
    standin, _ = installed
    signed(standin, "PUT", f"/rest/api/3/issue/{key}", json={
        "fields": {"customfield_10002": [{"id": 1}], "customfield_10003": [{"accountId": standin.agent.account_id}],
                   "customfield_10101": "2026-11-23T12:00:00+01:00"},
        "properties": [{"key": "tierwise.sla", "value": {"phase": "open"}}]})
    standin.add_comment(key, "Internal note", public=False)
    paths = [f"/rest/api/3/issue/{key}", f"/rest/api/3/issue/{key}?properties=tierwise.sla&expand=names",
             f"/rest/api/3/issue/{key}/transitions", f"/rest/api/3/issue/{key}/comment",
             f"/rest/api/3/issue/{key}/properties", f"/rest/api/3/issue/{key}/properties/tierwise.sla",
             "/rest/api/3/field", "/rest/api/3/field/customfield_10104/context",
             "/rest/api/3/field/customfield_10104/context/110104/option", "/rest/api/3/status",
             "/rest/api/3/myself", f"/rest/api/3/user?accountId={standin.agent.account_id}",
             "/rest/api/3/serverInfo", f"/rest/api/3/mypermissions?permissions=EDIT_ISSUES&issueKey={key}",
             f"/rest/servicedeskapi/request/{key}", f"/rest/servicedeskapi/request/{key}/comment"]
    for path in paths:
        assert signed(standin, "GET", path).status_code == 200, path
    assert signed(standin, "POST", f"/rest/servicedeskapi/request/{key}/comment", json={"body": "x"}).status_code == 201
    assert signed(standin, "POST", f"/rest/api/3/issue/{key}/comment", json={"body": ADF}).status_code == 201
    assert signed(standin, "POST", "/rest/api/3/permissions/check",
                  json={"projectPermissions": [{"permissions": ["EDIT_ISSUES"], "issues": [1]}]}).status_code == 200
    assert standin.response_errors == []


def test_response_validation_catches_a_wrong_shape(spec_load_seconds: dict[str, float]) -> None:
    wrong = json.dumps({"startAt": "zero", "comments": [{"id": 5}]}).encode()
    assert specs.response_errors("GET", "/rest/api/3/issue/X-1/comment", {}, 200, wrong)
    not_jira_time = json.dumps({"comments": [{"created": "yesterday"}]}).encode()
    assert specs.response_errors("GET", "/rest/api/3/issue/X-1/comment", {}, 200, not_jira_time)
    jira_time = json.dumps({"comments": [{"created": "2019-02-15T19:01:52.971-0800"}]}).encode()
    assert specs.response_errors("GET", "/rest/api/3/issue/X-1/comment", {}, 200, jira_time) == []
