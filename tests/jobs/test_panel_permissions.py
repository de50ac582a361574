"""The panel's permission check against the stand-in's `POST /rest/api/3/permissions/check` (issue #14, point 1).

Real HTTP all the way: the app on 127.0.0.1, the real `SiteDirectory` and gateway, and the
stand-in validating the request and its answer against Atlassian's spec. Tokens carry no issue
context, so Jira is asked every time (and the answer cached).
"""

from __future__ import annotations

from datetime import UTC, datetime

import requests
from pipeline_kit import short_policy

from app.connect.qsh import CONTEXT_QSH
from app.connect.tokens import mint_token
from standin import ADMIN, AGENT, CUSTOMER


def _panel(pipeline, issue_id: str, user: str | None) -> requests.Response:
    app = pipeline.jira.app()
    token = mint_token(issuer=app.client_key, secret=app.shared_secret, qsh=CONTEXT_QSH, now=datetime.now(UTC),
                       subject=user)
    return requests.get(f"{pipeline.settings.app_base_url}/api/panel/{issue_id}", timeout=10,
                        headers={"Authorization": f"JWT {token}"})


def _permission_checks(pipeline) -> list:
    return [c for c in pipeline.jira.requests if c.path.endswith("/permissions/check")]


def test_agents_see_the_panel_customers_strangers_and_missing_issues_do_not(pipeline) -> None:
    pipeline.save_policy(short_policy(first_response="30m"))
    issue = pipeline.jira.create_issue("Checkout down", fields={"priority": {"name": "Highest"}})
    pipeline.run_jobs()

    for agent in (AGENT, ADMIN):
        seen = _panel(pipeline, issue["id"], agent.account_id)
        assert seen.status_code == 200 and seen.json()["tracked"] is True
    for user in (CUSTOMER.account_id, "557058:nobody-at-all"):
        refused = _panel(pipeline, issue["id"], user)
        assert refused.status_code == 403 and set(refused.json()) == {"error", "message"}
    assert _panel(pipeline, str(int(issue["id"]) + 999), AGENT.account_id).status_code == 403  # no such issue
    assert _panel(pipeline, issue["id"], None).status_code == 403

    checks = _permission_checks(pipeline)
    assert len(checks) == 5  # agent, admin, customer, stranger, missing issue; the sub-less token asks nothing
    before = len(checks)
    assert _panel(pipeline, issue["id"], AGENT.account_id).status_code == 200
    assert len(_permission_checks(pipeline)) == before  # cached
