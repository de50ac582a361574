"""The one home of each shared helper: TTL cache, compiled-policy cache, UTC ISO, field ids, the echo predicate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.policy.events import body_actor, is_app_echo
from app.policy.field_ids import is_field_id
from app.policy.timefmt import jira_time, timer_instant, utc_iso
from app.schemas import compiled
from app.schemas.presets import preset_document
from app.ttl_cache import TtlCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_ttl_cache_expires_entries_and_per_entry_ttls() -> None:
    clock = Clock()
    cache = TtlCache(10, clock, max_entries=3)
    cache.put("a", 1)
    cache.put("b", None, ttl=2)
    assert cache.get("a") == (True, 1) and cache.get("b") == (True, None)
    clock.now += 5
    assert cache.get("a") == (True, 1) and cache.get("b") == (False, None)
    loads: list[str] = []
    assert cache.get_or_load("c", lambda: loads.append("c") or 3) == 3
    assert cache.get_or_load("c", lambda: loads.append("c") or 4) == 3 and loads == ["c"]
    clock.now += 11
    assert cache.get("a") == (False, None)
    cache.put("d", 1)
    cache.put("e", 1)  # over max_entries: starts afresh
    assert cache.get("c") == (False, None) and cache.get("e") == (True, 1)


def test_one_compiled_policy_per_key() -> None:
    document = preset_document("communardo")
    first = compiled.compiled_policy(document, ("tenant-x", 1))
    assert compiled.compiled_policy(document, ("tenant-x", 1)) is first
    assert compiled.compiled_policy(dict(document)) is compiled.compiled_policy(dict(document))


def test_utc_iso_and_jira_time() -> None:
    at = datetime(2026, 11, 19, 11, 0, 30, tzinfo=timezone(timedelta(hours=1)))
    assert utc_iso(at) == "2026-11-19T10:00:30Z" and utc_iso(None) is None
    assert jira_time(at) == "2026-11-19T10:00:30.000+0000"
    assert timer_instant(datetime(2026, 11, 19, 10, 0, 0, 1, tzinfo=UTC)) == timer_instant(
        datetime(2026, 11, 19, 10, 0, 1, tzinfo=UTC))
    with pytest.raises(ValueError):
        timer_instant(datetime(2026, 11, 19))


@pytest.mark.parametrize(("value", "ok"), [("customfield_10050", True), ("priority", True), ("duedate", True),
                                           ("a b", False), ("customfield_x", False), ("Tier field", False),
                                           ("../etc", False), (42, False)])
def test_field_ids(value: object, ok: bool) -> None:
    assert is_field_id(value) is ok


ECHO_CASES = [
    # (actor in the body, app account known, echo?)
    ({"user": {"accountId": "app-1", "accountType": "app"}}, "app-1", True),
    ({"user": {"accountId": "app-2", "accountType": "app"}}, "app-1", False),  # another app: followed
    ({"user": {"accountId": "app-1", "accountType": "atlassian"}}, "app-1", False),
    ({"comment": {"author": {"accountId": "app-1", "accountType": "app"}}, "user": {"accountId": "x"}}, "app-1", True),
    ({"user": {"accountId": "app-1", "accountType": "app"}}, None, False),  # not known (yet)
    ({}, "app-1", False),
]


@pytest.mark.parametrize(("body", "known", "echo"), ECHO_CASES)
def test_the_one_echo_predicate(body: dict[str, object], known: str | None, echo: bool) -> None:
    asked: list[bool] = []

    def app_account() -> str | None:
        asked.append(True)
        return known

    assert is_app_echo(body_actor(body), app_account) is echo
    actor_type = body_actor(body)[1]
    assert bool(asked) == (actor_type == "app")  # people cost no lookup
