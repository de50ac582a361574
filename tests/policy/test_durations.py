"""Policy durations: what a policy author may write, and what it means."""

from __future__ import annotations

import pytest

from app.policy.durations import Duration, parse_duration
from app.policy.errors import PolicyError

# (text, parsed, canonical text)
DURATIONS = [
    ("15m", Duration(minutes=15), "15m"),
    ("90 min", Duration(minutes=90), "90m"),
    ("4h", Duration(minutes=240), "4h"),
    ("24 hours", Duration(minutes=1440), "24h"),
    ("1bd", Duration(business_days=1), "1bd"),
    ("3 business days", Duration(business_days=3), "3bd"),
    ("1w", Duration(business_days=5), "1w"),
    ("10bd", Duration(business_days=10), "2w"),
    ("at_closure", Duration(at_closure=True), "at_closure"),
    ("At Closure", Duration(at_closure=True), "at_closure"),
]


@pytest.mark.parametrize(("text", "parsed", "canonical"), DURATIONS)
def test_parse_duration(text: str, parsed: Duration, canonical: str) -> None:
    assert parse_duration(text) == parsed
    assert str(parsed) == canonical
    assert parse_duration(str(parsed)) == parsed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("4x", '"4x" is not a duration'),
        ("0h", "longer than zero"),
        ("h", "is not a duration"),
        ("", "is not a duration"),
    ],
)
def test_bad_durations_name_the_path(text: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message) as excinfo:
        parse_duration(text, "tiers.premium.sev1.first_response.duration")
    assert excinfo.value.path == "tiers.premium.sev1.first_response.duration"
    assert str(excinfo.value).startswith("tiers.premium.sev1.first_response.duration: ")
