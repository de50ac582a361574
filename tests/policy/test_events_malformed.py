"""Malformed webhook bodies become the package's own `EventError` (issue #14, point 9).

Jira never sends these, but anyone holding a tenant's shared secret can: each must be dropped as
unreadable by the worker, not crash a job into rq's failed registry. The fuzz test mutates the real
Cloud payloads in ../shared/peers/webhooks at random places with random JSON (wrong types, lone
surrogates, deep nesting) and asserts that only `PolicyError`s escape `parse_webhook`.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.policy.errors import PolicyError
from app.policy.events import MAX_ID_CHARS, CommentEvent, EventError, comment_text, parse_webhook

#: As tests/conftest.py finds it (module level: hypothesis cannot take the fixture).
PEERS_DIR = Path(os.environ.get("TIERWISE_PEERS_DIR") or Path(__file__).resolve().parents[2].parent / "shared" / "peers")
PAYLOADS = {path.name: json.loads(path.read_text()) for path in sorted((PEERS_DIR / "webhooks").glob("*.json"))}
COMMENT = "mm_cloud_comment_created.json"


def _comment_with_body(body: Any) -> dict[str, Any]:
    payload = copy.deepcopy(PAYLOADS[COMMENT])
    payload["comment"]["body"] = body
    return payload


def _doc(*content: Any) -> dict[str, Any]:
    return {"type": "doc", "version": 1, "content": list(content)}


@pytest.mark.parametrize(
    "body",
    [
        _doc({"type": "paragraph", "content": 7}),
        _doc({"type": "paragraph", "content": "text, not nodes"}),
        _doc({"type": "paragraph", "content": {"type": "text", "text": "an object"}}),
        _doc({"type": "paragraph", "content": [{"type": "mention", "attrs": "not an object"}]}),
        _doc({"type": "paragraph", "content": [{"type": "mention", "attrs": ["id", "text"]}]}),
        _doc({"type": "paragraph", "content": [{"type": "text", "text": "lone \ud800 surrogate"}]}),
        "wiki text with a lone \udfff surrogate",
    ],
)
def test_malformed_comment_bodies_are_event_errors(body: Any) -> None:
    with pytest.raises(EventError) as caught:
        parse_webhook(_comment_with_body(body))
    assert caught.value.path == "comment.body"


def test_adf_nested_far_past_the_recursion_limit_is_read() -> None:
    node: dict[str, Any] = {"type": "text", "text": "next update by 15:00"}
    for _ in range(20_000):
        node = {"type": "blockquote", "content": [node]}
    assert comment_text(_doc(node)).strip() == "next update by 15:00"


def test_adf_text_keeps_block_order_and_line_breaks() -> None:
    doc = _doc(
        {"type": "paragraph", "content": [{"type": "text", "text": "Hi "},
                                          {"type": "mention", "attrs": {"id": "1", "text": "@Anna"}},
                                          {"type": "hardBreak"}, {"type": "text", "text": "ETA 15:00"}]},
        {"type": "codeBlock", "content": [{"type": "text", "text": "at 09:00"}]},
        {"type": "bulletList", "content": [{"type": "listItem", "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "one"}]}]}]},
    )
    assert comment_text(doc) == "Hi @Anna\nETA 15:00\n\none"


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("issue", "id"), "100\ud83d"),
        (("issue", "key"), "SUP-\udc00"),
        (("comment", "id"), "\ud800"),
        (("issue", "id"), "9" * (MAX_ID_CHARS + 1)),
        (("comment", "author", "accountId"), "5b10\ud800"),
    ],
)
def test_bad_ids_are_event_errors(where: tuple[str, ...], value: str) -> None:
    payload = copy.deepcopy(PAYLOADS[COMMENT])
    target = payload
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    with pytest.raises(EventError):
        parse_webhook(payload)


def test_the_real_comment_still_reads() -> None:
    event = parse_webhook(PAYLOADS[COMMENT])
    assert isinstance(event, CommentEvent) and event.body_text


# --- fuzz ----------------------------------------------------------------------------------------------

_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20),
    st.sampled_from(["\ud800", "x\udfff", "", "jira:issue_created", "comment_created", "doc", "mention", "text"]),
)
_JSON = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                     max_leaves=12)


def _paths(value: Any) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = [()]
    stack: list[tuple[tuple[Any, ...], Any]] = [((), value)]
    while stack:
        path, node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, child in items:
            found.append((*path, key))
            stack.append(((*path, key), child))
    return found


@st.composite
def mutated_payloads(draw: st.DrawFn) -> Any:
    payload = copy.deepcopy(PAYLOADS[draw(st.sampled_from(sorted(PAYLOADS)))])
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(payload)))
        replacement = draw(_JSON)
        if path == ():
            payload = replacement
            continue
        parent = payload
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = replacement
    return payload


@given(mutated_payloads())
@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
def test_parse_webhook_raises_only_policy_errors(payload: Any) -> None:
    try:
        event = parse_webhook(payload)
    except PolicyError as exc:
        assert isinstance(exc.message, str)
        return
    assert event is None or event.issue_id
