"""Lifecycle callbacks over Flask's test client: signed-install, shared-secret events, ordering."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from connect_testkit import (
    KID,
    KeyServer,
    install_token,
    lifecycle_body,
    new_client_key,
    now,
)
from cryptography.hazmat.primitives.asymmetric import rsa
from flask.testing import FlaskClient

from app.connect.qsh import CONTEXT_QSH, query_string_hash
from app.connect.tokens import mint_token
from app.settings import Settings
from app.storage.tenants import TenantStore

SECRET = "first-shared-secret-0123456789abcdef-XYZ"


def state_event(client: FlaskClient, client_key: str, secret: str, event: str, *, at: Any = None,
                qsh: str | None = None, body_key: str | None = None) -> Any:
    path = f"/lifecycle/{event}"
    token = mint_token(issuer=client_key, secret=secret, qsh=qsh or query_string_hash("POST", path, ""),
                       now=at or now())
    return client.post(path, json=lifecycle_body(body_key or client_key, event),
                       headers={"Authorization": f"JWT {token}"})


def refused(resp: Any, status: int, code: str) -> None:
    assert resp.status_code == status, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["error"] == code
    assert isinstance(body["message"], str) and body["message"]


def test_install_stores_the_tenant(install: Callable[..., Any], store: TenantStore) -> None:
    key = new_client_key()
    resp = install(key, SECRET)
    assert resp.status_code == 204
    tenant = store.get(key)
    assert tenant is not None
    assert (tenant.shared_secret, tenant.base_url, tenant.state) == (SECRET, "https://acme.atlassian.net", "installed")
    assert tenant.product_type == "jira"


def test_install_then_shared_secret_events(install: Callable[..., Any], client: FlaskClient,
                                           store: TenantStore) -> None:
    key = new_client_key()
    install(key, SECRET)
    assert state_event(client, key, SECRET, "enabled").status_code == 204
    assert store.get(key).state == "enabled"  # type: ignore[union-attr]
    assert state_event(client, key, SECRET, "disabled", at=now() + timedelta(seconds=1)).status_code == 204
    assert store.get(key).state == "disabled"  # type: ignore[union-attr]


def test_reinstall_replaces_the_secret(install: Callable[..., Any], client: FlaskClient,
                                       store: TenantStore) -> None:
    key = new_client_key()
    install(key, SECRET)
    assert install(key, "second-secret-" + "x" * 30).status_code == 204
    assert store.list_keys() == [key]
    refused(state_event(client, key, SECRET, "enabled"), 401, "bad_signature")
    assert state_event(client, key, "second-secret-" + "x" * 30, "enabled").status_code == 204


def test_uninstall_marks_the_tenant_and_its_tokens_stop_working(install: Callable[..., Any], client: FlaskClient,
                                                                store: TenantStore) -> None:
    key = new_client_key()
    install(key, SECRET)
    assert install(key, event="uninstalled").status_code == 204
    assert store.get(key).state == "uninstalled"  # type: ignore[union-attr]
    path = "/test/page"
    token = mint_token(issuer=key, secret=SECRET, qsh=query_string_hash("GET", path, ""), now=now())
    refused(client.get(path, headers={"Authorization": f"JWT {token}"}), 401, "unknown_tenant")


def test_uninstalled_and_disabled_for_unknown_tenant_answer_204(install: Callable[..., Any], client: FlaskClient,
                                                                store: TenantStore) -> None:
    assert install(new_client_key(), event="uninstalled").status_code == 204
    assert state_event(client, new_client_key(), SECRET, "disabled").status_code == 204
    assert store.list_keys() == []


def test_enabled_for_unknown_tenant_is_refused(client: FlaskClient) -> None:
    refused(state_event(client, new_client_key(), SECRET, "enabled"), 401, "unknown_tenant")


@pytest.mark.parametrize("order", [("enabled", "disabled"), ("disabled", "enabled")])
def test_enabled_disabled_final_state_follows_issue_time_not_arrival(install: Callable[..., Any], client: FlaskClient,
                                                                      store: TenantStore,
                                                                      order: tuple[str, str]) -> None:
    key = new_client_key()
    install(key, SECRET, at=now() - timedelta(seconds=20))
    issued = {"enabled": now() - timedelta(seconds=10), "disabled": now() - timedelta(seconds=5)}
    for event in order:  # arrival order varies; disabled was issued last
        assert state_event(client, key, SECRET, event, at=issued[event]).status_code == 204
    assert store.get(key).state == "disabled"  # type: ignore[union-attr]


def test_late_enabled_after_uninstalled_changes_nothing(install: Callable[..., Any], client: FlaskClient,
                                                        store: TenantStore) -> None:
    key = new_client_key()
    install(key, SECRET, at=now() - timedelta(seconds=30))
    assert install(key, event="uninstalled", at=now() - timedelta(seconds=5)).status_code == 204
    assert state_event(client, key, SECRET, "enabled", at=now() - timedelta(seconds=10)).status_code == 204
    assert state_event(client, key, SECRET, "disabled", at=now() - timedelta(seconds=8)).status_code == 204
    assert store.get(key).state == "uninstalled"  # type: ignore[union-attr]


# --- refused install tokens ----------------------------------------------------------------------

def post_install(client: FlaskClient, key: str, token: str | None, body: Any = None) -> Any:
    headers = {"Authorization": f"JWT {token}"} if token is not None else {}
    return client.post("/lifecycle/installed", json=body if body is not None else lifecycle_body(key, "installed", SECRET),
                       headers=headers)


def test_missing_token(client: FlaskClient, store: TenantStore) -> None:
    refused(post_install(client, new_client_key(), None), 401, "missing_token")
    assert store.list_keys() == []


@pytest.mark.parametrize("header", ["Bearer abc", "JWT ", "JWT not.a.jwt", "JWT abc"])
def test_malformed_token(client: FlaskClient, header: str) -> None:
    resp = client.post("/lifecycle/installed", json=lifecycle_body(new_client_key(), "installed", SECRET),
                       headers={"Authorization": header})
    refused(resp, 401, "malformed_token")


def test_expired_token(client: FlaskClient, signing_key: rsa.RSAPrivateKey, connect_settings: Settings) -> None:
    key = new_client_key()
    token = install_token(signing_key, client_key=key, aud=connect_settings.app_base_url,
                          at=now() - timedelta(minutes=10), ttl=60)
    refused(post_install(client, key, token), 401, "token_expired")


def test_forged_token(client: FlaskClient, other_key: rsa.RSAPrivateKey, connect_settings: Settings,
                      store: TenantStore) -> None:
    key = new_client_key()
    token = install_token(other_key, client_key=key, aud=connect_settings.app_base_url)
    refused(post_install(client, key, token), 401, "bad_signature")
    assert store.list_keys() == []


def test_hs256_install_token_is_algorithm_confusion(client: FlaskClient, signing_key: rsa.RSAPrivateKey,
                                                    connect_settings: Settings) -> None:
    """An HS256 token keyed with the (public) PEM must not pass for RS256."""
    key = new_client_key()
    token = mint_token(issuer=key, secret=SECRET, qsh=query_string_hash("POST", "/lifecycle/installed", ""),
                       now=now(), extra={"aud": connect_settings.app_base_url})
    refused(post_install(client, key, token), 401, "bad_algorithm")


def test_alg_none(client: FlaskClient, connect_settings: Settings) -> None:
    key = new_client_key()
    token = install_token(None, client_key=key, aud=connect_settings.app_base_url, alg="none")
    refused(post_install(client, key, token), 401, "bad_algorithm")


def test_wrong_audience(client: FlaskClient, signing_key: rsa.RSAPrivateKey) -> None:
    key = new_client_key()
    token = install_token(signing_key, client_key=key, aud="https://evil.example")
    refused(post_install(client, key, token), 401, "wrong_audience")


def test_audience_trailing_slash_is_ignored(client: FlaskClient, signing_key: rsa.RSAPrivateKey,
                                            connect_settings: Settings) -> None:
    key = new_client_key()
    token = install_token(signing_key, client_key=key, aud=connect_settings.app_base_url + "/")
    assert post_install(client, key, token).status_code == 204


def test_qsh_mismatch(client: FlaskClient, signing_key: rsa.RSAPrivateKey, connect_settings: Settings) -> None:
    key = new_client_key()
    token = install_token(signing_key, client_key=key, aud=connect_settings.app_base_url, path="/lifecycle/uninstalled")
    refused(post_install(client, key, token), 401, "qsh_mismatch")


def test_client_key_differs_from_issuer(client: FlaskClient, signing_key: rsa.RSAPrivateKey,
                                        connect_settings: Settings, store: TenantStore) -> None:
    victim, attacker = new_client_key(), new_client_key()
    token = install_token(signing_key, client_key=attacker, aud=connect_settings.app_base_url)
    refused(post_install(client, victim, token), 401, "client_key_mismatch")
    assert store.list_keys() == []


@pytest.mark.parametrize("kid", ["../x", "..%2Fx", "a/b", "a?b", "", "x" * 200])
def test_bad_kid_never_reaches_the_key_server(client: FlaskClient, signing_key: rsa.RSAPrivateKey,
                                              connect_settings: Settings, key_server: KeyServer, kid: str) -> None:
    key = new_client_key()
    token = install_token(signing_key, client_key=key, aud=connect_settings.app_base_url, kid=kid)
    refused(post_install(client, key, token), 401, "bad_kid")
    assert key_server.requests == []


def test_unpublished_kid(client: FlaskClient, signing_key: rsa.RSAPrivateKey, connect_settings: Settings) -> None:
    key = new_client_key()
    token = install_token(signing_key, client_key=key, aud=connect_settings.app_base_url, kid="not-" + KID)
    refused(post_install(client, key, token), 401, "key_unavailable")


def test_context_qsh_is_refused_on_a_request_bound_route(install: Callable[..., Any], client: FlaskClient,
                                                         store: TenantStore) -> None:
    key = new_client_key()
    install(key, SECRET)
    refused(state_event(client, key, SECRET, "enabled", qsh=CONTEXT_QSH), 401, "context_qsh_refused")
    assert store.get(key).state == "installed"  # type: ignore[union-attr]


def test_enabled_body_must_name_the_token_issuer(install: Callable[..., Any], client: FlaskClient) -> None:
    key = new_client_key()
    install(key, SECRET)
    refused(state_event(client, key, SECRET, "enabled", body_key=new_client_key()), 401, "client_key_mismatch")


# --- bodies -------------------------------------------------------------------------------------

def test_body_over_one_mebibyte_is_413(client: FlaskClient, signing_key: rsa.RSAPrivateKey,
                                       connect_settings: Settings) -> None:
    key = new_client_key()
    token = install_token(signing_key, client_key=key, aud=connect_settings.app_base_url)
    body = lifecycle_body(key, "installed", SECRET) | {"padding": "x" * (1024 * 1024)}
    refused(post_install(client, key, token, body), 413, "body_too_large")


def test_malformed_json_is_400(client: FlaskClient, signing_key: rsa.RSAPrivateKey, connect_settings: Settings) -> None:
    key = new_client_key()
    token = install_token(signing_key, client_key=key, aud=connect_settings.app_base_url)
    resp = client.post("/lifecycle/installed", data=b'{"clientKey": ', content_type="application/json",
                       headers={"Authorization": f"JWT {token}"})
    refused(resp, 400, "bad_body")


@pytest.mark.parametrize("drop", ["sharedSecret", "baseUrl", "clientKey"])
def test_installed_without_a_required_field_is_400_naming_it(client: FlaskClient, signing_key: rsa.RSAPrivateKey,
                                                              connect_settings: Settings, drop: str) -> None:
    key = new_client_key()
    token = install_token(signing_key, client_key=key, aud=connect_settings.app_base_url)
    body = lifecycle_body(key, "installed", SECRET)
    del body[drop]
    resp = post_install(client, key, token, body)
    refused(resp, 400, "bad_body")
    assert drop in resp.get_json()["message"]
