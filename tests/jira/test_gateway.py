"""The Jira door against a tiny local Jira: signing, origin rules, errors, domain calls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import jwt
import pytest
from atlassian_jwt.url_utils import hash_url
from tiny_jira import Answer, TinyJira

from app.jira.auth import ConnectJwtAuth
from app.jira.client import JiraGateway, client_for, forget_gateways, parse_retry_after
from app.jira.errors import (
    JiraAuthError,
    JiraBadRequest,
    JiraError,
    JiraNotFound,
    JiraRateLimited,
    JiraRefused,
    JiraUnavailable,
)
from app.settings import Settings
from app.storage.tenants import Tenant

SECRET = "jira-door-shared-secret-0123456789"
CONTEXT = "/jira"  # a site with a context path: qsh paths are relative to it


def _gateway(site: TinyJira, clock=None) -> JiraGateway:
    base = site.origin + CONTEXT
    kwargs = {"clock": clock} if clock else {}
    return JiraGateway(base, ConnectJwtAuth(app_key="tierwise", shared_secret=SECRET, base_url=base, **kwargs))


def _claims(seen, verify_exp: bool = True) -> dict:
    scheme, token = seen.headers["Authorization"].split(" ", 1)
    assert scheme == "JWT"
    return jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": verify_exp})


def _expected_qsh(seen) -> str:
    relative = seen.path[len(CONTEXT):]
    return hash_url(seen.method, relative + (f"?{seen.query}" if seen.query else ""))


def test_every_request_carries_a_verifiable_token_whose_qsh_matches_it(tiny_jira: TinyJira) -> None:
    gateway = _gateway(tiny_jira)
    gateway.get_issue("SUP-1", fields=["status", "priority"], expand=["changelog"])
    gateway.update_issue("SUP-1", {"customfield_10050": "x"}, [{"key": "tierwise.sla", "value": {"v": 1}}])
    gateway.has_permission("acc-1", "ADMINISTER")
    assert len(tiny_jira.seen) == 3
    for seen in tiny_jira.seen:
        claims = _claims(seen)
        assert claims["iss"] == "tierwise"
        assert claims["exp"] - claims["iat"] == 180
        assert claims["qsh"] == _expected_qsh(seen)  # checked by Atlassian's own atlassian-jwt


def test_each_request_gets_a_fresh_token(tiny_jira: TinyJira) -> None:
    times = iter([datetime(2026, 11, 2, 9, 0, tzinfo=UTC), datetime(2026, 11, 2, 9, 5, tzinfo=UTC)])
    gateway = _gateway(tiny_jira, clock=lambda: next(times))
    gateway.myself()
    gateway.myself()
    first, second = (_claims(s, verify_exp=False) for s in tiny_jira.seen)  # 2026 clock: not expired-checked
    assert second["iat"] - first["iat"] == 300
    assert second["exp"] - second["iat"] == 180
    assert tiny_jira.seen[0].headers["Authorization"] != tiny_jira.seen[1].headers["Authorization"]


def test_refuses_to_sign_for_another_origin(tiny_jira: TinyJira, other_site: TinyJira) -> None:
    gateway = _gateway(tiny_jira)
    with pytest.raises(JiraRefused):
        gateway.session.get(other_site.origin + CONTEXT + "/rest/api/3/myself")
    with pytest.raises(JiraRefused):  # same host, outside the site's context path
        gateway.session.get(tiny_jira.origin + "/other/rest/api/3/myself")
    assert other_site.seen == [] and tiny_jira.seen == []


def test_does_not_follow_a_redirect_to_another_origin(tiny_jira: TinyJira, other_site: TinyJira) -> None:
    tiny_jira.answers[("GET", CONTEXT + "/rest/api/3/myself")] = Answer(
        302, None, {"Location": other_site.origin + "/steal"})
    with pytest.raises(JiraRefused):
        _gateway(tiny_jira).myself()
    assert other_site.seen == []


def test_follows_a_same_site_redirect_with_a_token_for_the_new_path(tiny_jira: TinyJira) -> None:
    tiny_jira.answers[("GET", CONTEXT + "/rest/api/3/myself")] = Answer(
        307, None, {"Location": CONTEXT + "/rest/api/3/myself/moved"})
    tiny_jira.answers[("GET", CONTEXT + "/rest/api/3/myself/moved")] = Answer(200, {"accountId": "app"})
    assert _gateway(tiny_jira).myself() == {"accountId": "app"}
    moved = tiny_jira.seen[1]
    assert _claims(moved)["qsh"] == _expected_qsh(moved)


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, JiraBadRequest), (401, JiraAuthError), (403, JiraAuthError), (404, JiraNotFound),
     (429, JiraRateLimited), (500, JiraUnavailable), (502, JiraUnavailable), (503, JiraUnavailable),
     (409, JiraError)],
)
def test_each_status_becomes_its_named_error_without_retrying(tiny_jira: TinyJira, status: int, error: type) -> None:
    tiny_jira.answers[("GET", CONTEXT + "/rest/api/3/issue/SUP-9")] = Answer(
        status, {"errorMessages": ["Issue does not exist"], "errors": {}}, {"Retry-After": "7"})
    with pytest.raises(error) as caught:
        _gateway(tiny_jira).get_issue("SUP-9")
    assert caught.value.status == status
    assert len(tiny_jira.seen) == 1  # atlassian-python-api's own retry is off


def test_bad_request_carries_jiras_messages(tiny_jira: TinyJira) -> None:
    tiny_jira.answers[("PUT", CONTEXT + "/rest/api/3/issue/SUP-1")] = Answer(
        400, {"errorMessages": ["Field cannot be set"], "errors": {"customfield_1": "not on screen"}})
    with pytest.raises(JiraBadRequest) as caught:
        _gateway(tiny_jira).update_issue("SUP-1", {"customfield_1": 1})
    assert caught.value.error_messages == ["Field cannot be set"]
    assert caught.value.errors == {"customfield_1": "not on screen"}
    assert "not on screen" in str(caught.value)


def test_rate_limit_reports_retry_after(tiny_jira: TinyJira) -> None:
    tiny_jira.answers[("GET", CONTEXT + "/rest/api/3/myself")] = Answer(429, {}, {"Retry-After": "12"})
    with pytest.raises(JiraRateLimited) as caught:
        _gateway(tiny_jira).myself()
    assert caught.value.retry_after == 12.0


def test_retry_after_parsing() -> None:
    now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    assert parse_retry_after({"Retry-After": "30"}, now) == 30.0
    assert parse_retry_after({"Retry-After": format_datetime(now + timedelta(seconds=90), usegmt=True)}, now) == 90.0
    assert parse_retry_after({"X-RateLimit-Reset": "2026-11-02T09:02Z"}, now) == 120.0
    assert parse_retry_after({"X-RateLimit-Reset": str(now.timestamp() + 5)}, now) == 5.0
    assert parse_retry_after({"Retry-After": "soon"}, now) is None
    assert parse_retry_after({}, now) is None


def test_connection_refused_is_unavailable() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    gateway = JiraGateway(base, ConnectJwtAuth(app_key="tierwise", shared_secret=SECRET, base_url=base))
    with pytest.raises(JiraUnavailable):
        gateway.myself()


def test_domain_calls_send_what_the_platform_and_jsm_apis_expect(tiny_jira: TinyJira) -> None:
    g = _gateway(tiny_jira)
    tiny_jira.answers[("GET", CONTEXT + "/rest/api/3/issue/SUP-1/transitions")] = Answer(
        200, {"transitions": [{"id": "31", "name": "Escalate"}]})
    tiny_jira.answers[("POST", CONTEXT + "/rest/api/3/permissions/check")] = Answer(
        200, {"globalPermissions": ["ADMINISTER"], "projectPermissions": []})
    tiny_jira.answers[("GET", CONTEXT + "/rest/api/3/field")] = Answer(200, [{"id": "summary"}])
    tiny_jira.answers[("GET", CONTEXT + "/rest/api/3/status")] = Answer(200, [{"id": "1"}])

    g.update_issue("SUP-1", {"customfield_10050": "2026-11-02T10:00:00.000+0000"},
                   [{"key": "tierwise.sla", "value": {"breached": False}}])
    assert g.get_transitions("SUP-1") == [{"id": "31", "name": "Escalate"}]
    g.transition("SUP-1", "31")
    adf = {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "hi"}]}]}
    g.add_internal_note("SUP-1", adf)
    g.add_public_reply("SUP-1", "We are on it.")
    assert g.has_permission("acc-1", "ADMINISTER") is True
    assert g.get_fields() == [{"id": "summary"}] and g.get_statuses() == [{"id": "1"}]

    put, _, transition, note, reply, check, *_ = tiny_jira.seen
    assert (put.method, put.path, put.query) == ("PUT", CONTEXT + "/rest/api/3/issue/SUP-1", "notifyUsers=false")
    assert put.body == {"fields": {"customfield_10050": "2026-11-02T10:00:00.000+0000"},
                        "properties": [{"key": "tierwise.sla", "value": {"breached": False}}]}
    assert transition.body == {"transition": {"id": "31"}}
    assert note.path == CONTEXT + "/rest/api/3/issue/SUP-1/comment"
    assert note.body == {"body": adf, "properties": [{"key": "sd.public.comment", "value": {"internal": True}}]}
    assert (reply.path, reply.body) == (CONTEXT + "/rest/servicedeskapi/request/SUP-1/comment",
                                        {"body": "We are on it.", "public": True})
    assert check.body == {"accountId": "acc-1", "globalPermissions": ["ADMINISTER"]}


def test_has_permission_is_false_when_not_granted(tiny_jira: TinyJira) -> None:
    tiny_jira.answers[("POST", CONTEXT + "/rest/api/3/permissions/check")] = Answer(
        200, {"globalPermissions": [], "projectPermissions": []})
    assert _gateway(tiny_jira).has_permission("acc-2", "ADMINISTER") is False


def _tenant(base_url: str, secret: str | None, platform: str = "connect") -> Tenant:
    now = datetime(2026, 11, 2, tzinfo=UTC)
    return Tenant("ck", base_url, None, "jira", None, None, None, None, None, "enabled", secret, platform,
                  now, now, None)


def test_client_for_signs_as_the_configured_app_key(tiny_jira: TinyJira) -> None:
    settings = Settings.from_env({"APP_KEY": "tierwise-staging"})
    client_for(_tenant(tiny_jira.origin, SECRET), settings).myself()
    assert _claims(tiny_jira.seen[0])["iss"] == "tierwise-staging"
    with pytest.raises(JiraAuthError):
        client_for(_tenant(tiny_jira.origin, None, "forge"), settings)


def test_forge_tenants_use_the_system_token_on_its_api_base_only(tiny_jira: TinyJira) -> None:
    from app.forge.system_token import SystemToken

    token = SystemToken("ari:cloud:ecosystem::installation/x", "sys-token", datetime(2030, 1, 1, tzinfo=UTC),
                        tiny_jira.origin + "/ex/jira/cloud-1")
    gateway = client_for(_tenant(tiny_jira.origin, None, "forge"), Settings(), system_token=token)
    gateway.myself()
    assert tiny_jira.seen[0].headers["Authorization"] == "Bearer sys-token"
    assert tiny_jira.seen[0].path == "/ex/jira/cloud-1/rest/api/3/myself"
    with pytest.raises(JiraRefused):
        gateway.session.get(tiny_jira.origin + "/elsewhere")


def test_one_gateway_per_tenant_keeps_its_connection_and_signs_each_request_afresh() -> None:
    site = TinyJira(keep_alive=True)
    try:
        tenant, settings = _tenant(site.origin, SECRET), Settings()
        first = client_for(tenant, settings)
        assert client_for(tenant, settings) is first  # the next job gets the same gateway
        for _ in range(3):
            client_for(tenant, settings).myself()
        assert len({seen.client_port for seen in site.seen}) == 1  # one TCP connection for all three
        assert all(_claims(seen)["qsh"] for seen in site.seen)  # each one signed (and verifying)
        # A reinstall's new shared secret is a new gateway, signing with the new secret.
        reinstalled = _tenant(site.origin, "another-shared-secret-0123456789")
        assert client_for(reinstalled, settings) is not first
    finally:
        forget_gateways()
        site.close()


def test_a_forge_gateway_sends_the_newest_system_token(tiny_jira: TinyJira) -> None:
    from app.forge.system_token import SystemToken

    base = tiny_jira.origin + "/ex/jira/cloud-1"
    tenant = _tenant(tiny_jira.origin, None, "forge")
    old = SystemToken("ari:cloud:ecosystem::installation/x", "old-token", datetime(2030, 1, 1, tzinfo=UTC), base)
    new = SystemToken("ari:cloud:ecosystem::installation/x", "new-token", datetime(2030, 1, 2, tzinfo=UTC), base)
    client_for(tenant, Settings(), system_token=old).myself()
    client_for(tenant, Settings(), system_token=new).myself()
    assert [s.headers["Authorization"] for s in tiny_jira.seen] == ["Bearer old-token", "Bearer new-token"]
    forget_gateways()
