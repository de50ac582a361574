"""Helpers for the admin page and panel API tests: a real app on SQLite with an installed tenant,
context tokens signed with its shared secret, and a site directory that knows who is an admin."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from app.connect.qsh import CONTEXT_QSH
from app.connect.tokens import mint_token

CLIENT_KEY = "tenant-pages-1"
SECRET = "pages-shared-secret-" + "x" * 24
ADMIN_ID = "557058:admin"
AGENT_ID = "557058:agent"


@dataclass
class FakeDirectory:
    """`SiteDirectory` with answers given by the test (the real one is exercised in the browser suite)."""

    admins: set[str] = field(default_factory=lambda: {ADMIN_ID})
    asked: list[str] = field(default_factory=list)
    #: Who holds Browse Projects on every issue (agents and admins); `issue_asks` records the checks.
    browsers: set[str] = field(default_factory=lambda: {ADMIN_ID, AGENT_ID})
    issue_asks: list[tuple[str, str]] = field(default_factory=list)

    def can_browse_issue(self, tenant: Any, account_id: str | None, issue_id: str) -> bool:
        self.issue_asks.append((str(account_id), issue_id))
        return account_id in self.browsers

    def is_admin(self, tenant: Any, account_id: str | None) -> bool:
        self.asked.append(str(account_id))
        return account_id in self.admins

    def fields(self, tenant: Any) -> list[dict[str, Any]]:
        return [{"id": "customfield_10100", "name": "First response due", "custom": True, "type": "datetime"},
                {"id": "priority", "name": "Priority", "custom": False, "type": "priority"}]

    def field_options(self, tenant: Any, field_id: str) -> list[dict[str, Any]]:
        if field_id == "customfield_10050":
            return [{"id": "10500", "value": "Essentials", "disabled": False},
                    {"id": "10501", "value": "Enterprise", "disabled": False}]
        return []

    def statuses(self, tenant: Any) -> list[dict[str, Any]]:
        return [{"id": "1", "name": "Open", "category": "new"},
                {"id": "5", "name": "Waiting for customer", "category": "indeterminate"}]


def context_token(user: str | None = ADMIN_ID, *, issuer: str = CLIENT_KEY, secret: str = SECRET) -> str:
    """What `AP.context.getToken()` hands the page."""
    return mint_token(issuer=issuer, secret=secret, qsh=CONTEXT_QSH, now=datetime.now(UTC), subject=user)


class Api:
    """Calls to the app's JSON API as a given user."""

    def __init__(self, client: FlaskClient, user: str | None = ADMIN_ID) -> None:
        self.client, self.user = client, user

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"JWT {context_token(self.user)}"}

    def get(self, path: str) -> Any:
        return self.client.get(path, headers=self._headers())

    def post(self, path: str, body: Any = None) -> Any:
        return self.client.post(path, json=body if body is not None else {}, headers=self._headers())

    def put(self, path: str, body: Any) -> Any:
        return self.client.put(path, json=body, headers=self._headers())


def install_tenant(flask_app: Flask, client_key: str = CLIENT_KEY, secret: str = SECRET) -> None:
    services = flask_app.extensions["tierwise"]
    services.tenants.install(client_key, shared_secret=secret, base_url="https://acme.atlassian.net",
                             at=datetime.now(UTC))
