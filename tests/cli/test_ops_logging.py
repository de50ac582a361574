"""Logs: JSON lines in production, the tenant on each record, tokens and secrets never written."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import jwt
import pytest

from app.logging_setup import MASK, configure_logging, redact, register_secret, tenant_context
from app.settings import Settings

SECRET_KEY = "q6aYb4V2o2Yq3wqzq7sM2s6WJ9yq1Yx0c1Jt0a0v1pQ="


@pytest.fixture
def capture() -> Iterator[tuple[io.StringIO, logging.Logger]]:
    stream = io.StringIO()
    handler = configure_logging(Settings.from_env({"TIERWISE_SECRET_KEY": SECRET_KEY, "LOG_LEVEL": "DEBUG"}), stream)
    yield stream, logging.getLogger("tierwise.test")
    logging.getLogger().removeHandler(handler)


def _records(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_carry_level_logger_message_and_tenant(capture) -> None:
    stream, log = capture
    with tenant_context("client-key-1"):
        log.info("installed %s", "acme", extra={"issue": "SUP-1"})
    log.warning("no tenant here")
    first, second = _records(stream)
    assert first["message"] == "installed acme" and first["level"] == "INFO"
    assert first["logger"] == "tierwise.test" and first["tenant"] == "client-key-1" and first["issue"] == "SUP-1"
    assert "tenant" not in second


def test_tokens_authorization_headers_and_secrets_are_masked(capture) -> None:
    stream, log = capture
    token = jwt.encode({"iss": "tierwise", "qsh": "x"}, "shh-a-key-long-enough-for-hs256-0123", algorithm="HS256")
    register_secret("tenant-shared-secret-123")
    log.info("calling with %s", {"Authorization": f"JWT {token}"})
    log.info("header Authorization: Bearer abc.def-ghi")
    log.info("body %s", '{"sharedSecret": "tenant-shared-secret-123", "clientKey": "ck"}')
    log.info("key is %s", SECRET_KEY)
    try:
        raise ValueError(f"bad token {token}")
    except ValueError:
        log.exception("failed")
    out = stream.getvalue()
    for leaked in (token, "abc.def-ghi", "tenant-shared-secret-123", SECRET_KEY):
        assert leaked not in out
    assert out.count(MASK) >= 5
    assert '"clientKey": "ck"' in _records(stream)[2]["message"]  # the rest of the line survives


def test_text_format_in_development() -> None:
    stream = io.StringIO()
    handler = configure_logging(Settings.from_env({"LOG_FORMAT": "text"}), stream)
    try:
        with tenant_context("ck-7"):
            logging.getLogger("tierwise.test").warning("hello %s", "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln")
    finally:
        logging.getLogger().removeHandler(handler)
    line = stream.getvalue().strip()
    assert line.endswith(f"WARNING tierwise.test [ck-7]: hello {MASK}")
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


def test_redact_leaves_ordinary_text_alone() -> None:
    text = "issue SUP-12 breached first response at 2026-11-02T10:00:00+00:00 (tier gold.sev1)"
    assert redact(text) == text
