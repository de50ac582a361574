"""The view decorators: page loads (jwt in the query), context tokens from our own pages, JSON errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from connect_testkit import new_client_key, now
from flask.testing import FlaskClient

from app.connect.qsh import CONTEXT_QSH, query_string_hash
from app.connect.tokens import mint_token

SECRET = "page-secret-0123456789-0123456789-abcdef"


@pytest.fixture
def tenant_key(install: Callable[..., Any]) -> str:
    key = new_client_key()
    assert install(key, SECRET).status_code == 204
    return key


def test_page_load_with_jwt_in_the_query(client: FlaskClient, tenant_key: str) -> None:
    query = "xdm_e=https%3A%2F%2Facme.atlassian.net&cp=&lic=none&issueKey=SUP-7"
    token = mint_token(issuer=tenant_key, secret=SECRET, qsh=query_string_hash("GET", "/test/page", query), now=now())
    resp = client.get(f"/test/page?{query}&jwt={token}")
    assert resp.status_code == 200
    assert resp.get_json() == {"tenant": tenant_key}


def test_page_load_with_a_tampered_query_is_refused(client: FlaskClient, tenant_key: str) -> None:
    token = mint_token(issuer=tenant_key, secret=SECRET, qsh=query_string_hash("GET", "/test/page", "issueKey=SUP-7"),
                       now=now())
    resp = client.get(f"/test/page?issueKey=SUP-8&jwt={token}")
    assert (resp.status_code, resp.get_json()["error"]) == (401, "qsh_mismatch")


def test_context_token_on_a_page_route_is_refused(client: FlaskClient, tenant_key: str) -> None:
    token = mint_token(issuer=tenant_key, secret=SECRET, qsh=CONTEXT_QSH, now=now())
    resp = client.get("/test/page", headers={"Authorization": f"JWT {token}"})
    assert (resp.status_code, resp.get_json()["error"]) == (401, "context_qsh_refused")


def test_context_call_exposes_tenant_and_user(client: FlaskClient, tenant_key: str) -> None:
    token = mint_token(issuer=tenant_key, secret=SECRET, qsh=CONTEXT_QSH, now=now(), subject="557058:abc")
    resp = client.post("/test/context", headers={"Authorization": f"JWT {token}"})
    assert resp.status_code == 200
    assert resp.get_json() == {"tenant": tenant_key, "user": "557058:abc"}


def test_context_call_with_a_request_bound_token_is_refused(client: FlaskClient, tenant_key: str) -> None:
    token = mint_token(issuer=tenant_key, secret=SECRET, qsh=query_string_hash("POST", "/test/context", ""), now=now())
    resp = client.post("/test/context", headers={"Authorization": f"JWT {token}"})
    assert (resp.status_code, resp.get_json()["error"]) == (401, "qsh_mismatch")


def test_unknown_issuer_is_refused(client: FlaskClient) -> None:
    token = mint_token(issuer=new_client_key(), secret=SECRET, qsh=CONTEXT_QSH, now=now())
    resp = client.post("/test/context", headers={"Authorization": f"JWT {token}"})
    assert (resp.status_code, resp.get_json()["error"]) == (401, "unknown_tenant")


def test_not_found_and_wrong_method_are_json(client: FlaskClient) -> None:
    missing = client.get("/no/such/page")
    assert (missing.status_code, missing.get_json()["error"]) == (404, "not_found")
    wrong = client.get("/lifecycle/installed")
    assert (wrong.status_code, wrong.get_json()["error"]) == (405, "method_not_allowed")
    assert "POST" in wrong.headers["Allow"]
    assert wrong.get_json()["message"]
