"""Policy document limits (issue #14, point 5): each limit refused with its error at its path.

Also: the documented limits table in docs/policy-format.md names every limit with its value.
"""

from __future__ import annotations

import copy
import re
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.schemas import limits
from app.schemas.policy import PolicyDocumentError, load_policy, parse_document_text
from app.schemas.presets import preset_document

REPO_ROOT = Path(__file__).resolve().parents[2]


def _errors(document: Any) -> list[tuple[str, str]]:
    with pytest.raises(PolicyDocumentError) as caught:
        load_policy(document)
    return caught.value.errors


def _base() -> dict[str, Any]:
    return copy.deepcopy(preset_document("communardo"))


def _many_calendars(doc: dict[str, Any], n: int) -> None:
    calendar = doc["calendars"]["dresden"]
    doc["calendars"].update({f"extra{i}": copy.deepcopy(calendar) for i in range(n - len(doc["calendars"]))})


def _many_regions(doc: dict[str, Any], n: int) -> None:
    regions = [("DE", sub) for sub in ("BB", "BE", "BW", "BY", "HB", "HE", "HH", "MV", "NI", "NW", "RP", "SH")]
    calendar = doc["calendars"]["dresden"]
    for i, (country, sub) in enumerate(regions[:n]):
        doc["calendars"][f"region{i}"] = {**copy.deepcopy(calendar), "holidays": {"country": country,
                                                                                 "subdivision": sub}}


def _over(doc: dict[str, Any], what: str) -> None:
    if what == "calendars":
        _many_calendars(doc, limits.MAX_CALENDARS + 1)
    elif what == "severities":
        doc["severities"] = [{"id": f"s{i}", "name": f"S{i}"} for i in range(limits.MAX_SEVERITIES + 1)]
    elif what == "tiers":
        tier = next(iter(doc["tiers"].values()))
        doc["tiers"] = {f"t{i}": tier for i in range(limits.MAX_TIERS + 1)}
    elif what == "mapping rules":
        rule = {"field": "priority", "map": {"Highest": {"severity": "sev1"}}}
        doc["mapping"]["rules"] = [rule] * (limits.MAX_RULES + 1)
    elif what == "actions":
        doc["actions"] = [{"on": "breach", "kind": "note"}] * (limits.MAX_ACTIONS + 1)


@pytest.mark.parametrize(
    ("what", "path", "limit"),
    [("calendars", "calendars", limits.MAX_CALENDARS), ("severities", "severities", limits.MAX_SEVERITIES),
     ("tiers", "tiers", limits.MAX_TIERS), ("mapping rules", "mapping.rules", limits.MAX_RULES),
     ("actions", "actions", limits.MAX_ACTIONS)],
)
def test_each_count_has_a_limit_with_its_path(what: str, path: str, limit: int) -> None:
    doc = _base()
    _over(doc, what)
    assert _errors(doc) == [(path, f"{limit + 1} {what}; at most {limit} are allowed")]


def test_holiday_regions_are_limited() -> None:
    doc = _base()
    _many_regions(doc, limits.MAX_HOLIDAY_REGIONS + 1)
    (error,) = _errors(doc)
    assert error[0] == "calendars" and "holiday regions" in error[1]


def test_extra_dates_are_limited_per_calendar() -> None:
    doc = _base()
    doc["calendars"]["dresden"]["closed_dates"] = [f"2030-01-{d:02d}" for d in range(1, 29)] * 40
    assert _errors(doc) == [("calendars.dresden", "1120 closed and open dates; at most 1000 are allowed")]


def test_nesting_is_limited_without_recursion() -> None:
    doc = _base()
    deep: Any = "x"
    for _ in range(100_000):
        deep = [deep]
    doc["description"] = deep
    assert _errors(doc) == limits.too_deep()


def test_document_text_size_is_limited_before_parsing() -> None:
    text = '{"id": "x", "description": "' + "a" * limits.MAX_DOCUMENT_BYTES + '"}'
    with pytest.raises(PolicyDocumentError) as caught:
        parse_document_text(text, "policy.json")
    assert "at most 262,144" in caught.value.errors[0][1]


@pytest.mark.parametrize("text", ["a: &x 1\nb: *x\n", "<<: &m {a: 1}\n", "a: !!timestamp 2026-01-01\n",
                                  "a: !!python/name:os.system\n", "a: !!omap [{b: 1}]\n"])
def test_yaml_beyond_plain_data_is_refused(text: str) -> None:
    with pytest.raises(PolicyDocumentError) as caught:
        parse_document_text(text, "policy.yaml")
    assert "not accepted" in caught.value.errors[0][1]


def test_an_alias_bomb_is_refused_at_once() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    started = time.perf_counter()
    with pytest.raises(PolicyDocumentError) as caught:
        parse_document_text("\n".join(lines), "bomb.yaml")
    assert "aliases" in caught.value.errors[0][1]
    assert time.perf_counter() - started < 5  # expanded, it would be 10^9 strings


def test_the_presets_are_within_every_limit() -> None:
    for preset in ("communardo", "confluence-health-check", "connectsoft", "mulesight", "opencenter"):
        assert limits.document_errors(preset_document(preset)) == []
        text = yaml.safe_dump(preset_document(preset))
        assert parse_document_text(text, "p.yaml") == preset_document(preset)


def test_every_limit_is_documented_with_its_value() -> None:
    text = (REPO_ROOT / "docs" / "policy-format.md").read_text(encoding="utf-8")
    section = text.split("## Limits", 1)[1]
    for name in ("MAX_DOCUMENT_BYTES", "MAX_DEPTH", "MAX_CALENDARS", "MAX_HOLIDAY_REGIONS", "MAX_SEVERITIES",
                 "MAX_TIERS", "MAX_RULES", "MAX_ACTIONS", "MAX_EXTRA_DATES"):
        value = getattr(limits, name)
        assert re.search(rf"\b{value:,}\b|\b{value}\b", section), f"{name} = {value} is not in docs/policy-format.md"
