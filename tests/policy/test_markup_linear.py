"""Comment markup cleaning and promise reading stay linear in the reply (issue #14, point 4).

The adversarial shapes are those that made the old patterns backtrack for seconds per reply: long
runs of emphasis markers, unclosed brackets, `[~`, newlines, `{code:`. Each is timed against a
normal reply of the same length (the best of several runs of each, so a busy machine slows both);
the old code took 100–1,300× as long on them, linear code about as long as the normal reply.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.policy import markup
from app.policy.errors import PolicyError
from app.policy.eta import find_next_update_promise

#: Jira Cloud's largest comment body.
MAX_COMMENT = 32_767
#: How many times a normal reply's cost an adversarial one may take (measured: about 1–2×).
GENEROUS_FACTOR = 10
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


def _fill(unit: str) -> str:
    return (unit * (MAX_COMMENT // len(unit) + 1))[:MAX_COMMENT]


NORMAL_REPLY = _fill(
    "Hi Anna, thanks for the logs. We reproduced the timeout on the staging cluster and the fix is in "
    "review; *please* keep the workaround from [the KB article|https://support.example.com/kb/12] for now "
    "and we will update you as soon as we know more. [~accountid:5b10ac8d82e05b22cc7d4ef5] is on it.\n"
)

ADVERSARIAL = {
    "stars": "*" * MAX_COMMENT,
    "stars between words": "a" + "*" * (MAX_COMMENT - 2) + "b",
    "mixed emphasis": _fill("*_+^ "),
    "open brackets": "[" * MAX_COMMENT,
    "brackets and pipes": _fill("[|"),
    "open mentions": _fill("[~"),
    "newlines": "\n" * MAX_COMMENT,
    "blank lines": _fill(" \n"),
    "open code macros": _fill("{code:"),
    "open macros": _fill("{a:"),
    "dense cues": _fill("ETA "),
    "cues with colons": _fill("next update 1:"),
    "cues with offsets": _fill("ETA utc+"),
}


def _best_of(runs: int, text: str) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        find_next_update_promise(text, now=NOW, tz=BERLIN)
        best = min(best, time.perf_counter() - start)
    return best


@pytest.mark.parametrize("shape", sorted(ADVERSARIAL))
def test_adversarial_reply_costs_about_a_normal_reply(shape: str) -> None:
    text = ADVERSARIAL[shape]
    assert len(text) == MAX_COMMENT
    normal = _best_of(3, NORMAL_REPLY)
    assert _best_of(3, text) <= GENEROUS_FACTOR * normal


# --- the old patterns, as the reference for what cleaning does -----------------------------------------
# They are exact on short text; only their cost on long text was wrong.

_OLD_DROP_BLOCKS = re.compile(r"\{(code|noformat|quote)(?::[^}]*)?\}.*?(?:\{\1\}|$)", re.I | re.S)
_OLD_MENTION = re.compile(r"\[~[^\]]*\]")
_OLD_LINK = re.compile(r"\[([^\]|]*)\|[^\]]*\]")
_OLD_BARE_LINK = re.compile(r"\[[^\]]*\]|https?://\S+", re.I)
_OLD_MACRO = re.compile(r"\{[a-z]+(?::[^}]*)?\}", re.I)

_MARKUP_PIECES = st.sampled_from(
    ["[", "]", "|", "~", "{", "}", ":", "code", "CODE", "quote", "noformat", "a", " ", "\n", "http://x", "https://",
     "x", "{code}", "[~", "b"]
)
_MARKUP = st.lists(_MARKUP_PIECES, max_size=30).map("".join)


@given(_MARKUP)
@settings(max_examples=400, deadline=None)
def test_blocks_dropped_as_the_plain_pattern_does(text: str) -> None:
    expected = _OLD_DROP_BLOCKS.sub("\n", text)
    assert markup.drop_blocks(text) == expected


@given(_MARKUP)
@settings(max_examples=400, deadline=None)
def test_mentions_links_and_macros_as_the_plain_patterns_do(text: str) -> None:
    mentions = _OLD_MENTION.sub("@user", text)
    assert markup._before_last(text, "]", markup._replace_mentions) == mentions
    links = _OLD_LINK.sub(r"\1", mentions)
    assert markup.replace_links(mentions) == links
    assert markup.drop_bare_links(links) == _OLD_BARE_LINK.sub(" ", links)
    assert markup._before_last(text, "}", lambda head: _OLD_MACRO.sub(" ", head)) == _OLD_MACRO.sub(" ", text)


@pytest.mark.parametrize(
    ("text", "cleaned"),
    [
        ("**bold** and _it_ and +under+ ^sup^", "bold and it and under sup"),
        ("snake_case_name stays", "snake_case_name stays"),
        ("* a bullet", "* a bullet"),
        ("> quoted 15:00\nours", "\nours"),
        ("ours\n   bq. quoted\nmore", "ours\n\nmore"),
        ("{code:java}x = 1{code} after", "\n after"),
        ("{quote}by 15:00 {quote}", "\n"),
        ("{noformat}never closed\n", "\n\n"),
    ],
)
def test_cleaning_keeps_its_meaning(text: str, cleaned: str) -> None:
    assert markup.clean_comment_text(text) == cleaned


# --- fuzz: only the package's own errors may escape ------------------------------------------------------

_REPLY_PIECES = st.sampled_from(
    ["ETA", "next update", " in ", "by ", "at ", "tomorrow", "monday", "15:00", "9am", "12.30", "2026-11-24",
     "T10:00", "+14:00", "-14:00", "Z", "CET", "(Europe/Berlin)", "Mars/Olympus", "utc+", "99", "9999-12-31",
     "0001-01-01 00:00", " hours", " days", " minutes", "half an hour", "31 dec", "feb 30", " ", "\n", ".", "*",
     "[~x]", "{code}", "|", "["]
)


@given(st.one_of(st.text(max_size=200), st.lists(_REPLY_PIECES, max_size=25).map("".join)),
       st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)))
@settings(max_examples=600, deadline=None)
def test_reading_any_reply_raises_only_policy_errors(text: str, now: datetime) -> None:
    try:
        promise = find_next_update_promise(text, now=now, tz=ZoneInfo("Pacific/Kiritimati"))
    except PolicyError:
        return
    assert promise is None or (promise.tzinfo is UTC and promise > now)


def test_only_the_first_cues_are_read() -> None:
    from app.policy.eta import MAX_CUES_READ

    promise = "next update in 2 hours."
    within = "ETA unknown. " * (MAX_CUES_READ - 1) + promise
    beyond = "ETA unknown. " * MAX_CUES_READ + promise
    assert find_next_update_promise(within, now=NOW, tz=BERLIN) == datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
    assert find_next_update_promise(beyond, now=NOW, tz=BERLIN) is None


@pytest.mark.parametrize("text", ["ETA in 99999999999 hours", "next update 9999-12-31T23:59-14:00",
                                  "next update in 61 days"])
def test_out_of_range_times_promise_nothing(text: str) -> None:
    assert find_next_update_promise(text, now=NOW, tz=BERLIN) is None
