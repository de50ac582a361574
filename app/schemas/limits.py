"""Limits on policy documents, checked before anything costly: size, nesting, and how many of each part.

A policy comes from a tenant admin (the admin page, an uploaded file) or a file given to the CLI,
so it is bounded the way any untrusted input is: the text's size; YAML without aliases (a few
hundred bytes of aliases expand to hundreds of megabytes) or tags beyond plain JSON data; a
nesting depth; and counts of calendars, holiday regions, tiers, severities, mapping rules, actions
and extra dates, so that validating or previewing the largest allowed document stays well under a
second. Each limit, and the error it gives, is listed in `docs/policy-format.md` ("Limits").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml

#: Largest document text (JSON or YAML), in UTF-8 bytes; the presets are 3–9 KB.
MAX_DOCUMENT_BYTES = 256 * 1024
#: Deepest nesting of objects and lists (a policy document needs 7).
MAX_DEPTH = 20
#: Most calendars a policy defines.
MAX_CALENDARS = 20
#: Most distinct holiday regions (country, subdivision) over all calendars.
MAX_HOLIDAY_REGIONS = 10
#: Most severities.
MAX_SEVERITIES = 10
#: Most tiers.
MAX_TIERS = 20
#: Most mapping rules.
MAX_RULES = 100
#: Most actions.
MAX_ACTIONS = 50
#: Most extra closed plus extra open dates in one calendar (ten years of one-off closures).
MAX_EXTRA_DATES = 1000

#: (path of a list or object, its limit, what it counts) checked by `count_errors`.
_COUNTED: tuple[tuple[tuple[str, ...], int, str], ...] = (
    (("calendars",), MAX_CALENDARS, "calendars"),
    (("severities",), MAX_SEVERITIES, "severities"),
    (("tiers",), MAX_TIERS, "tiers"),
    (("mapping", "rules"), MAX_RULES, "mapping rules"),
    (("actions",), MAX_ACTIONS, "actions"),
)


def size_errors(text: str) -> list[tuple[str, str]]:
    """The document text's size problem, if any (checked before it is parsed)."""
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size > MAX_DOCUMENT_BYTES:
        return [("", f"the document is {size:,} bytes; at most {MAX_DOCUMENT_BYTES:,} are accepted")]
    return []


def document_errors(document: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every limit `document` (already parsed) exceeds, as (path, problem); empty when none."""
    deep = depth_errors(document)
    return deep or count_errors(document)


def depth_errors(value: Any) -> list[tuple[str, str]]:
    """A problem when `value` nests objects and lists deeper than MAX_DEPTH (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children: Any
        if isinstance(node, Mapping):
            children = node.values()
        elif isinstance(node, list | tuple):
            children = node
        else:
            continue
        if depth > MAX_DEPTH:
            return too_deep()
        stack.extend((child, depth + 1) for child in children)
    return []


def too_deep() -> list[tuple[str, str]]:
    """The problem of a document nested deeper than MAX_DEPTH (also when a parser gave up on it)."""
    return [("", f"the document nests objects and lists more than {MAX_DEPTH} levels deep")]


def count_errors(document: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The counts over their limits, each at its path."""
    errors: list[tuple[str, str]] = []
    for path, limit, what in _COUNTED:
        part = _at(document, path)
        if isinstance(part, Mapping | list) and len(part) > limit:
            errors.append((".".join(path), f"{len(part)} {what}; at most {limit} are allowed"))
    calendars = document.get("calendars")
    if isinstance(calendars, Mapping):
        regions = set()
        for cal_id, calendar in calendars.items():
            if not isinstance(calendar, Mapping):
                continue
            holidays = calendar.get("holidays")
            if isinstance(holidays, Mapping):
                regions.add((str(holidays.get("country")).upper(), str(holidays.get("subdivision")).casefold()))
            extra = sum(len(calendar.get(key) or ()) for key in ("closed_dates", "open_dates")
                        if isinstance(calendar.get(key), list))
            if extra > MAX_EXTRA_DATES:
                errors.append((f"calendars.{cal_id}",
                               f"{extra} closed and open dates; at most {MAX_EXTRA_DATES} are allowed"))
        if len(regions) > MAX_HOLIDAY_REGIONS:
            errors.append(("calendars", f"{len(regions)} holiday regions (country and subdivision); "
                                        f"at most {MAX_HOLIDAY_REGIONS} are allowed"))
    return errors


def _at(document: Mapping[str, Any], path: Sequence[str]) -> Any:
    node: Any = document
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


# --- YAML ----------------------------------------------------------------------------------------------


class YamlLimitError(yaml.YAMLError):
    """YAML that a policy document may not use (aliases, tags beyond JSON data, deep nesting)."""


#: Tags a policy document may carry: those of plain JSON data.
JSON_TAGS = frozenset(
    "tag:yaml.org,2002:" + name for name in ("str", "int", "float", "bool", "null", "seq", "map")
)


class LimitedSafeLoader(yaml.SafeLoader):
    """A SafeLoader without aliases, without `!!binary`, `!!set`, `!!timestamp` and other non-JSON tags,
    and with a nesting limit checked as nodes are composed (before any recursion can run deep)."""

    # Dates stay strings ("2026-12-24"), as in JSON: the schema reads them, and documents stay JSON data.
    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise YamlLimitError(f"aliases (*{event.anchor}) are not accepted in a policy document")
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise YamlLimitError(f"the document nests more than {MAX_DEPTH} levels deep")
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if node.tag not in JSON_TAGS:
            raise YamlLimitError(f"the tag {node.tag} is not accepted in a policy document (plain data only)")
        return node
