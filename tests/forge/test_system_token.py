"""System tokens: kept per installation with their expiry, handed to jobs only while fresh."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from forge_fixtures import API_BASE_URL, INSTALLATION_ID, system_token

from app.forge.errors import ForgeTokenExpired
from app.forge.fit import ForgeContext
from app.forge.system_token import (
    FALLBACK_LIFETIME,
    TOKEN_RETRY_DELAYS,
    InMemorySystemTokenStore,
    SystemToken,
    fresh_system_token,
    keep_invocation_token,
    remember_system_token,
    token_expiry,
    token_retry_delay,
)
from jobs.retry import MAX_ATTEMPTS, retry_delay

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
CONTEXT = ForgeContext(
    installation_id=INSTALLATION_ID, app_id="ari:cloud:ecosystem::app/x", api_base_url=API_BASE_URL,
    environment_id=None, environment_type=None, module_key=None, module_type=None, cloud_id=None,
    site_url=None, account_id=None, app_version=None, token_id=None, expires_at=0,
)


def _at(seconds: int) -> int:
    return int((NOW + timedelta(seconds=seconds)).timestamp())


def test_expiry_is_the_tokens_exp_or_a_short_fallback() -> None:
    assert token_expiry(system_token(_at(900)), NOW) == NOW + timedelta(seconds=900)
    assert token_expiry("opaque-not-a-jwt", NOW) == NOW + FALLBACK_LIFETIME


def test_job_gets_the_stored_token_while_fresh_then_token_expired() -> None:
    store = InMemorySystemTokenStore()
    remember_system_token(store, CONTEXT, system_token(_at(900)), now=NOW)

    token = fresh_system_token(store, INSTALLATION_ID, now=NOW + timedelta(minutes=10))
    assert token.api_base_url == API_BASE_URL
    assert token.authorization == f"Bearer {system_token(_at(900))}"
    # Within a minute of expiry a job would run out mid-way: treat as stale.
    with pytest.raises(ForgeTokenExpired) as caught:
        fresh_system_token(store, INSTALLATION_ID, now=NOW + timedelta(seconds=870))
    assert caught.value.expired_at == NOW + timedelta(seconds=900)


def test_no_token_ever_received_is_token_expired() -> None:
    with pytest.raises(ForgeTokenExpired) as caught:
        fresh_system_token(InMemorySystemTokenStore(), INSTALLATION_ID, now=NOW)
    assert caught.value.expired_at is None and "none was ever received" in str(caught.value)


def test_next_invocation_refreshes_and_an_older_token_never_replaces_a_newer() -> None:
    store = InMemorySystemTokenStore()
    newer, older = system_token(_at(1800)), system_token(_at(600))
    remember_system_token(store, CONTEXT, newer, now=NOW)
    remember_system_token(store, CONTEXT, older, now=NOW)  # an invocation that arrived late
    assert fresh_system_token(store, INSTALLATION_ID, now=NOW).token == newer


@pytest.mark.parametrize("header", [None, "", "two words", system_token(_at(-5))])
def test_absent_malformed_or_already_expired_headers_are_not_stored(header: str | None) -> None:
    store = InMemorySystemTokenStore()
    assert remember_system_token(store, CONTEXT, header, now=NOW) is None
    assert store.load_system_token(INSTALLATION_ID) is None


def test_the_token_never_shows_in_its_repr() -> None:
    token = SystemToken(INSTALLATION_ID, "s3cr3t-token-value", NOW, API_BASE_URL)
    assert "s3cr3t" not in repr(token)


def test_a_stale_token_is_a_transient_failure_for_the_jobs() -> None:
    store = InMemorySystemTokenStore()
    remember_system_token(store, CONTEXT, system_token(_at(30)), now=NOW)  # inside the freshness margin
    with pytest.raises(ForgeTokenExpired) as caught:
        fresh_system_token(store, INSTALLATION_ID, now=NOW)
    assert retry_delay(caught.value, 0) is not None  # retried ...
    last = next(n for n in range(100) if retry_delay(caught.value, n) is None)  # ... a bounded number of times
    assert last in (MAX_ATTEMPTS - 1, len(TOKEN_RETRY_DELAYS))  # by the jobs' rule for 5xx, or the token schedule


def test_token_wait_schedule_outlasts_missed_hourly_triggers_then_gives_up() -> None:
    waits = [token_retry_delay(n) or 0.0 for n in range(len(TOKEN_RETRY_DELAYS))]
    assert waits == sorted(waits) and waits[0] == 60 and max(waits) == 3600
    assert sum(waits) >= 3 * 3600  # three hourly triggers can be missed
    assert token_retry_delay(len(TOKEN_RETRY_DELAYS)) is None


def test_a_token_revives_only_an_installation_without_a_fresh_one() -> None:
    store = InMemorySystemTokenStore()
    assert keep_invocation_token(store, CONTEXT, system_token(_at(30)), now=NOW).revived is False  # stale itself
    assert keep_invocation_token(store, CONTEXT, system_token(_at(3600)), now=NOW).revived is True
    assert keep_invocation_token(store, CONTEXT, system_token(_at(7200)), now=NOW).revived is False
