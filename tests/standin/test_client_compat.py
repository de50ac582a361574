"""The client Tierwise builds on (atlassian-python-api over a requests session) works against the stand-in."""

from __future__ import annotations

import requests
from atlassian import Jira
from atlassian_jwt import encode_token
from standin_fakeapp import FakeApp

from standin import JiraStandin


class ConnectAuth(requests.auth.AuthBase):
    """Sign every request with a fresh Connect JWT (qsh relative to the site's base URL)."""

    def __init__(self, standin: JiraStandin) -> None:
        self.standin = standin

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        app = self.standin.app()
        relative = str(r.url)[len(self.standin.base_url):]
        r.headers["Authorization"] = f"JWT {encode_token(str(r.method), relative, app.key, app.shared_secret)}"
        return r


def test_atlassian_python_api_round_trip(installed: tuple[JiraStandin, FakeApp]) -> None:
    standin, fake_app = installed
    key = standin.create_issue("Login broken", fields={"Severity": {"value": "Sev-2"}})["key"]
    session = requests.Session()
    session.auth = ConnectAuth(standin)
    jira = Jira(url=standin.base_url, session=session, cloud=True, api_version="3", retry_with_header=False)
    issue = jira.get(f"rest/api/3/issue/{key}", params={"fields": "status,customfield_10104"})
    assert issue["fields"]["customfield_10104"]["value"] == "Sev-2"
    jira.put(f"rest/api/3/issue/{key}", params={"notifyUsers": "false"}, data={
        "fields": {"customfield_10101": "2026-11-23T15:00:00.000+0000"},
        "properties": [{"key": "tierwise.sla", "value": {"nextUpdateDue": "2026-11-23T15:00:00Z"}}]})
    jira.post(f"rest/servicedeskapi/request/{key}/comment", data={"body": "Next update by 15:00 UTC", "public": True})
    assert standin.issue(key)["properties"]["tierwise.sla"]["nextUpdateDue"] == "2026-11-23T15:00:00Z"
    assert [c.status for c in standin.calls()] == [200, 204, 201]
    assert standin.response_errors == []
