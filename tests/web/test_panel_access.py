"""Panel data only for people who may browse the issue (issue #14, point 1, Connect door).

The attack: any valid context token of the tenant (a portal customer's, one without `sub`, one made
for another issue) asking `GET /api/panel/<id>` for sequential ids. Each is refused with 403 and a
body that says nothing about the ticket; the directory (Jira's permission API) is asked only when
the token names no issue.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from pages_kit import ADMIN_ID, AGENT_ID, CLIENT_KEY, SECRET, FakeDirectory, install_tenant
from test_panel_api import seed

from app import create_app
from app.connect.qsh import CONTEXT_QSH
from app.connect.tokens import mint_token
from app.settings import Settings
from app.site_directory import SiteDirectoryError

CUSTOMER_ID = "qm:4c1e6d2a:customer"
ISSUE, OTHER = "10001", "10002"


@pytest.fixture
def directory() -> FakeDirectory:
    return FakeDirectory()


@pytest.fixture
def client(settings: Settings, directory: FakeDirectory) -> Iterator[FlaskClient]:
    flask_app = create_app(settings)
    flask_app.extensions["tierwise.site_directory"] = directory
    install_tenant(flask_app)
    seed(flask_app, ISSUE, timedelta(hours=1))
    seed(flask_app, OTHER, timedelta(hours=1))
    yield flask_app.test_client()
    flask_app.extensions["tierwise"].close()


def _get(client: FlaskClient, issue_id: str, user: str | None, context_issue: Any = None) -> Any:
    extra = {"context": {"jira": {"issue": {"id": context_issue, "key": "SUP-1"}}}} if context_issue else None
    token = mint_token(issuer=CLIENT_KEY, secret=SECRET, qsh=CONTEXT_QSH, now=datetime.now(UTC), subject=user,
                       extra=extra)
    return client.get(f"/api/panel/{issue_id}", headers={"Authorization": f"JWT {token}"})


def _refused_without_data(response: Any, status: int = 403) -> None:
    assert response.status_code == status
    body = response.get_json()
    assert set(body) == {"error", "message"}
    text = response.get_data(as_text=True)
    for leak in ("sev1", "standard", "rule", "audit", ISSUE, OTHER):
        assert leak not in text


def test_the_issue_in_the_tokens_context_is_enough(client: FlaskClient, directory: FakeDirectory) -> None:
    response = _get(client, ISSUE, AGENT_ID, context_issue=ISSUE)
    assert response.status_code == 200 and response.get_json()["tracked"] is True
    assert directory.issue_asks == []  # Jira rendered the panel for this issue: no extra call


def test_a_token_for_another_issue_gets_nothing(client: FlaskClient, directory: FakeDirectory) -> None:
    _refused_without_data(_get(client, OTHER, AGENT_ID, context_issue=ISSUE))
    _refused_without_data(_get(client, ISSUE, AGENT_ID, context_issue=int(OTHER)))  # ids may come as numbers
    assert directory.issue_asks == []


def test_without_issue_context_jira_is_asked_and_agents_pass(client: FlaskClient, directory: FakeDirectory) -> None:
    assert _get(client, ISSUE, AGENT_ID).status_code == 200
    assert _get(client, OTHER, ADMIN_ID).status_code == 200
    assert directory.issue_asks == [(AGENT_ID, ISSUE), (ADMIN_ID, OTHER)]


@pytest.mark.parametrize("user", [CUSTOMER_ID, "557058:does-not-exist"])
def test_users_jira_refuses_get_nothing_for_any_id(client: FlaskClient, user: str) -> None:
    for issue_id in (ISSUE, OTHER, "10003", "abc"):
        _refused_without_data(_get(client, issue_id, user))


def test_a_token_without_a_user_gets_nothing_and_jira_is_not_asked(client: FlaskClient,
                                                                    directory: FakeDirectory) -> None:
    _refused_without_data(_get(client, ISSUE, None))
    _refused_without_data(_get(client, ISSUE, None, context_issue=ISSUE))
    assert directory.issue_asks == []


def test_jira_unreachable_is_a_503_without_data(client: FlaskClient, directory: FakeDirectory,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    def down(*_: Any) -> bool:
        raise SiteDirectoryError("Jira unavailable", 503)

    monkeypatch.setattr(directory, "can_browse_issue", down)
    _refused_without_data(_get(client, ISSUE, AGENT_ID), 503)
