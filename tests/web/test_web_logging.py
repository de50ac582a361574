"""No token, secret or Authorization header reaches the log, whatever the outcome."""

from __future__ import annotations

import logging

import pytest
from connect_testkit import SITE_URL, install_token, lifecycle_body, new_client_key, now
from cryptography.hazmat.primitives.asymmetric import rsa
from flask.testing import FlaskClient

from app.connect.qsh import query_string_hash
from app.connect.tokens import mint_token
from app.settings import Settings

SECRET = "log-me-never-0123456789-0123456789-abcdef"


def test_install_and_signed_requests_log_no_token_or_secret(
    client: FlaskClient, signing_key: rsa.RSAPrivateKey, other_key: rsa.RSAPrivateKey,
    connect_settings: Settings, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    key = new_client_key()
    aud = connect_settings.app_base_url
    sent: list[str] = []

    def post(path: str, token: str, body: dict[str, object]) -> int:
        sent.append(token)
        return client.post(path, json=body, headers={"Authorization": f"JWT {token}"}).status_code

    install = install_token(signing_key, client_key=key, aud=aud)
    assert post("/lifecycle/installed", install, lifecycle_body(key, "installed", SECRET, SITE_URL)) == 204
    enabled = mint_token(issuer=key, secret=SECRET, qsh=query_string_hash("POST", "/lifecycle/enabled", ""), now=now())
    assert post("/lifecycle/enabled", enabled, lifecycle_body(key, "enabled")) == 204
    page = mint_token(issuer=key, secret=SECRET, qsh=query_string_hash("GET", "/test/page", "a=1"), now=now())
    sent.append(page)
    assert client.get(f"/test/page?a=1&jwt={page}").status_code == 200
    forged = install_token(other_key, client_key=key, aud=aud)
    assert post("/lifecycle/installed", forged, lifecycle_body(key, "installed", SECRET, SITE_URL)) == 401
    wrong = mint_token(issuer=key, secret="x" * 40, qsh="0" * 64, now=now())
    assert post("/lifecycle/disabled", wrong, lifecycle_body(key, "disabled")) == 401

    assert caplog.records, "the lifecycle should have logged something"
    logged = caplog.text + "".join(repr(r.args) for r in caplog.records)
    assert key in logged  # the clientKey is logged: that is what operators need
    assert SECRET not in logged
    for token in sent:
        assert token not in logged
        assert token.split(".")[2] not in logged  # not even the signature part
    assert "Authorization" not in logged
