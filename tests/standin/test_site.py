"""The seeded site: service desk projects with their own workflows, SLA fields, people and permissions."""

from __future__ import annotations

from standin_fakeapp import FakeApp, signed

from standin import JiraStandin


def _transitions(standin: JiraStandin, key: str) -> dict[str, str]:
    body = signed(standin, "GET", f"/rest/api/3/issue/{key}/transitions").json()
    return {t["name"]: t["id"] for t in body["transitions"]}


def test_transition_ids_differ_per_workflow(installed: tuple[JiraStandin, FakeApp]) -> None:
    standin, _ = installed
    sup = standin.create_issue(project="SUP")["key"]
    ops = standin.create_issue(project="OPS")["key"]
    assert _transitions(standin, sup)["Resolve"] != _transitions(standin, ops)["Resolve"]
    wrong = signed(standin, "POST", f"/rest/api/3/issue/{sup}/transitions",
                   json={"transition": {"id": _transitions(standin, ops)["Resolve"]}})
    assert wrong.status_code == 400
    assert standin.issue(sup)["fields"]["status"]["name"] == "Open"


def test_waiting_for_customer_and_back(installed: tuple[JiraStandin, FakeApp]) -> None:
    standin, _ = installed
    key = standin.create_issue()["key"]
    standin.transition_issue(key, "Waiting for customer")
    assert "Wait for customer" not in _transitions(standin, key)
    standin.transition_issue(key, "Respond to support")
    status = standin.issue(key)["fields"]["status"]
    assert (status["name"], status["statusCategory"]["key"]) == ("In Progress", "indeterminate")


def test_sla_fields_and_options_are_discoverable(installed: tuple[JiraStandin, FakeApp]) -> None:
    standin, _ = installed
    fields = {f["name"]: f for f in signed(standin, "GET", "/rest/api/3/field").json()}
    for name in ("First response due", "Next update due", "Resolution due"):
        assert fields[name]["schema"]["type"] == "datetime"
    plan = fields["Plan"]
    contexts = signed(standin, "GET", f"/rest/api/3/field/{plan['id']}/context").json()["values"]
    options = signed(standin, "GET", f"/rest/api/3/field/{plan['id']}/context/{contexts[0]['id']}/option").json()
    assert {"Essentials", "Enterprise", "Regulated"} <= {o["value"] for o in options["values"]}
    assert plan["id"] == "customfield_10050"  # the id Tierwise's presets map the tier from
    assert fields["Organizations"]["schema"]["custom"] == "com.atlassian.servicedesk:sd-customer-organizations"


def test_organizations_participants_and_reporter_email(installed: tuple[JiraStandin, FakeApp]) -> None:
    standin, _ = installed
    key = standin.create_issue(fields={"Organizations": [{"id": 2}],
                                       "Request participants": [{"accountId": standin.agent.account_id}]})["key"]
    fields = signed(standin, "GET", f"/rest/api/3/issue/{key}").json()["fields"]
    assert fields["customfield_10002"][0]["name"] == "Globex Bank"
    assert fields["customfield_10003"][0]["accountId"] == standin.agent.account_id
    assert fields["reporter"]["emailAddress"] == "casey@acme.example"
    request = signed(standin, "GET", f"/rest/servicedeskapi/request/{key}").json()
    assert request["currentStatus"]["statusCategory"] == "NEW"
    assert request["reporter"]["accountId"] == standin.customer.account_id


def test_permissions_of_admin_agent_customer_and_app(installed: tuple[JiraStandin, FakeApp]) -> None:
    standin, _ = installed

    def check(account_id: str) -> tuple[list[str], list[int]]:
        body = signed(standin, "POST", "/rest/api/3/permissions/check", json={
            "accountId": account_id, "globalPermissions": ["ADMINISTER"],
            "projectPermissions": [{"permissions": ["EDIT_ISSUES"], "projects": [10000]}]}).json()
        return body["globalPermissions"], body["projectPermissions"][0]["projects"]

    assert check(standin.admin.account_id) == (["ADMINISTER"], [10000])
    assert check(standin.agent.account_id) == ([], [10000])
    assert check(standin.customer.account_id) == ([], [])
    mine = signed(standin, "GET", "/rest/api/3/mypermissions?permissions=EDIT_ISSUES,ADMINISTER").json()
    assert mine["permissions"]["EDIT_ISSUES"]["havePermission"] is True
    assert mine["permissions"]["ADMINISTER"]["havePermission"] is False
    user = signed(standin, "GET", f"/rest/api/3/user?accountId={standin.customer.account_id}").json()
    assert user["accountType"] == "customer"
    assert signed(standin, "GET", "/rest/api/3/user?accountId=nobody").status_code == 404


def test_entity_property_round_trip(installed: tuple[JiraStandin, FakeApp]) -> None:
    standin, _ = installed
    key = standin.create_issue()["key"]
    url = f"/rest/api/3/issue/{key}/properties/tierwise.sla"
    assert signed(standin, "GET", url).status_code == 404
    assert signed(standin, "PUT", url, json={"phase": "open"}).status_code == 201
    assert signed(standin, "PUT", url, json={"phase": "paused"}).status_code == 200
    assert signed(standin, "GET", url).json() == {"key": "tierwise.sla", "value": {"phase": "paused"}}
    assert signed(standin, "PUT", url, json={"blob": "x" * 40000}).status_code == 400
    assert signed(standin, "DELETE", url).status_code == 204
    assert signed(standin, "DELETE", url).status_code == 404


def test_seeded_people_are_the_ones_in_the_captured_payloads(peers_dir) -> None:  # type: ignore[no-untyped-def]
    import json

    from standin import ADMIN, AGENT

    created = json.loads((peers_dir / "webhooks" / "mm_cloud_issue_created.json").read_text())
    many = json.loads((peers_dir / "webhooks" / "mm_cloud_issue_created_many_fields.json").read_text())
    sample = many["issue"]["fields"]["customfield_10080"]
    for user, real in ((ADMIN, created["user"]), (AGENT, sample)):
        assert (user.account_id, user.display_name, user.email, user.time_zone) == \
            (real["accountId"], real["displayName"], real["emailAddress"], real["timeZone"])
