"""Connect security like Jira's: signed install with a served RSA key, HS256 + qsh on every REST call."""

from __future__ import annotations

import time

import jwt
import pytest
import requests
from atlassian_jwt import encode_token
from atlassian_jwt.url_utils import hash_url
from standin_fakeapp import FakeApp, signed

from standin import InstallError, JiraStandin


def _verify_install_token(standin: JiraStandin, app: FakeApp, token: str, path: str) -> dict:
    kid = jwt.get_unverified_header(token)["kid"]
    pem = requests.get(f"{standin.install_keys_url}/{kid}", timeout=5)
    assert pem.status_code == 200
    claims = jwt.decode(token, pem.text, algorithms=["RS256"], audience=app.base_url)
    assert claims["qsh"] == hash_url("POST", path)
    return claims


def test_signed_install_carries_an_rs256_token_verifiable_with_the_served_key(
        standin: JiraStandin, fake_app: FakeApp) -> None:
    app = standin.install_app(f"{fake_app.base_url}/atlassian-connect.json")
    (installed,) = fake_app.hits("/app/lifecycle/installed")
    token = installed.headers["Authorization"].removeprefix("JWT ")
    claims = _verify_install_token(standin, fake_app, token, "/lifecycle/installed")
    body = installed.body
    assert claims["iss"] == body["clientKey"] == app.client_key
    assert claims["exp"] > time.time() > claims["iat"] - 5
    assert body["eventType"] == "installed" and body["productType"] == "jira"
    assert body["baseUrl"] == standin.base_url and body["key"] == fake_app.key
    assert body["sharedSecret"] == app.shared_secret
    for name in ("displayUrl", "description", "serverVersion", "pluginsVersion", "oauthClientId"):
        assert body[name]
    with pytest.raises(jwt.InvalidTokenError):  # an RS256 token is not accepted as HS256
        jwt.decode(token, app.shared_secret, algorithms=["HS256"], audience=fake_app.base_url)
    assert requests.get(f"{standin.install_keys_url}/not-a-kid", timeout=5).status_code == 404


def test_uninstall_is_rs256_and_enable_disable_are_hs256(installed: tuple[JiraStandin, FakeApp]) -> None:
    standin, fake_app = installed
    app = standin.app()
    standin.disable_app()
    standin.enable_app()
    standin.uninstall_app()
    for event in ("disabled", "enabled"):
        (hit,) = fake_app.hits(f"/app/lifecycle/{event}")
        claims = jwt.decode(hit.headers["Authorization"][4:], app.shared_secret, algorithms=["HS256"])
        assert claims["iss"] == app.client_key and claims["qsh"] == hash_url("POST", f"/lifecycle/{event}")
        assert hit.body["eventType"] == event and "sharedSecret" not in hit.body
    (gone,) = fake_app.hits("/app/lifecycle/uninstalled")
    _verify_install_token(standin, fake_app, gone.headers["Authorization"][4:], "/lifecycle/uninstalled")
    assert signed(standin, "GET", "/rest/api/3/myself").status_code == 401


def test_an_app_that_refuses_the_install_is_not_installed(standin: JiraStandin, fake_app: FakeApp) -> None:
    with pytest.raises(InstallError):
        standin.install_app(f"{fake_app.base_url}/missing-descriptor.json")
    fake_app.lifecycle_status = 401
    with pytest.raises(InstallError):
        standin.install_app(f"{fake_app.base_url}/atlassian-connect.json")
    assert standin.apps == {}
    standin.create_issue()
    assert standin.wait_for_deliveries(5)
    assert standin.deliveries == []


def test_rest_call_with_valid_jwt_is_served_as_the_app_user(installed: tuple[JiraStandin, FakeApp]) -> None:
    standin, _ = installed
    me = signed(standin, "GET", "/rest/api/3/myself")
    assert me.status_code == 200
    assert me.json()["accountType"] == "app"
    assert me.json()["accountId"] == standin.app().user.account_id


@pytest.mark.parametrize("case", ["missing", "wrong-secret", "wrong-qsh", "expired", "unknown-iss", "none-alg"])
def test_bad_jwt_is_401(installed: tuple[JiraStandin, FakeApp], case: str) -> None:
    standin, _ = installed
    app = standin.app()
    path = "/rest/api/3/myself"
    now = int(time.time())
    tokens = {
        "wrong-secret": encode_token("GET", path, app.key, "not-the-shared-secret-of-this-app-at-all"),
        "wrong-qsh": encode_token("GET", "/rest/api/3/serverInfo", app.key, app.shared_secret),
        "expired": jwt.encode({"iss": app.key, "iat": now - 900, "exp": now - 600, "qsh": hash_url("GET", path)},
                              app.shared_secret, algorithm="HS256"),
        "unknown-iss": encode_token("GET", path, "someone-else", app.shared_secret),
        "none-alg": jwt.encode({"iss": app.key, "iat": now, "exp": now + 60, "qsh": hash_url("GET", path)},
                               "", algorithm="none"),
    }
    headers = {"Authorization": f"JWT {tokens[case]}"} if case in tokens else {}
    resp = requests.get(standin.base_url + path, headers=headers, timeout=5)
    assert resp.status_code == 401
    assert resp.json()["errorMessages"]
    assert standin.calls(path=path)[-1].status == 401


def test_qsh_covers_the_query_string(installed: tuple[JiraStandin, FakeApp]) -> None:
    standin, _ = installed
    key = standin.create_issue()["key"]
    token = encode_token("GET", f"/rest/api/3/issue/{key}?fields=summary", standin.app().key,
                         standin.app().shared_secret)
    ok = requests.get(f"{standin.base_url}/rest/api/3/issue/{key}?fields=summary",
                      headers={"Authorization": f"JWT {token}"}, timeout=5)
    tampered = requests.get(f"{standin.base_url}/rest/api/3/issue/{key}?fields=status",
                            headers={"Authorization": f"JWT {token}"}, timeout=5)
    assert (ok.status_code, tampered.status_code) == (200, 401)


def test_qsh_is_relative_to_a_base_url_with_a_context_path(spec_load_seconds: dict, fake_app: FakeApp) -> None:
    with JiraStandin(context_path="/jira") as standin:
        standin.install_app(f"{fake_app.base_url}/atlassian-connect.json")
        assert standin.base_url.endswith("/jira")
        assert signed(standin, "GET", "/rest/api/3/serverInfo").status_code == 200
        app = standin.app()
        with_context = encode_token("GET", "/jira/rest/api/3/serverInfo", app.key, app.shared_secret)
        resp = requests.get(f"{standin.base_url}/rest/api/3/serverInfo",
                            headers={"Authorization": f"JWT {with_context}"}, timeout=5)
        assert resp.status_code == 401


def test_missing_scope_is_403(standin: JiraStandin, fake_app: FakeApp) -> None:
    fake_app.scopes = ["READ"]
    standin.install_app(f"{fake_app.base_url}/atlassian-connect.json")
    key = standin.create_issue()["key"]
    assert signed(standin, "GET", f"/rest/api/3/issue/{key}").status_code == 200
    resp = signed(standin, "PUT", f"/rest/api/3/issue/{key}", json={"fields": {"summary": "x"}})
    assert resp.status_code == 403


def test_notify_users_false_needs_project_admin(standin: JiraStandin, fake_app: FakeApp) -> None:
    fake_app.scopes = ["READ", "WRITE"]
    standin.install_app(f"{fake_app.base_url}/atlassian-connect.json")
    key = standin.create_issue()["key"]
    resp = signed(standin, "PUT", f"/rest/api/3/issue/{key}?notifyUsers=false", json={"fields": {"summary": "x"}})
    assert resp.status_code == 400
    assert "admin" in resp.json()["errorMessages"][0]
    assert signed(standin, "PUT", f"/rest/api/3/issue/{key}", json={"fields": {"summary": "x"}}).status_code == 204
