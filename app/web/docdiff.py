"""A readable structural diff of two policy documents: `tiers.premium.sev1.first_response: 1h → 30m`."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

#: Marks a side that has no value at that path.
ABSENT = object()


@dataclass(frozen=True)
class Change:
    """One difference: `kind` is `added`, `removed` or `changed`."""

    path: str
    kind: str
    before: Any
    after: Any

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "before": None if self.before is ABSENT else self.before,
            "after": None if self.after is ABSENT else self.after,
            "text": self.text,
        }

    @property
    def text(self) -> str:
        if self.kind == "added":
            return f"{self.path}: added {_show(self.after)}"
        if self.kind == "removed":
            return f"{self.path}: removed (was {_show(self.before)})"
        return f"{self.path}: {_show(self.before)} → {_show(self.after)}"


def _show(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _list_key(items: list[Any]) -> str | None:
    """Lists of objects with unique ids (severities) are compared by id, not by position."""
    if items and all(isinstance(i, Mapping) and isinstance(i.get("id"), str) for i in items):
        ids = [i["id"] for i in items]
        if len(set(ids)) == len(ids):
            return "id"
    return None


def _walk(before: Any, after: Any, path: str) -> Iterator[Change]:
    if before is ABSENT:
        yield Change(path, "added", before, after)
    elif after is ABSENT:
        yield Change(path, "removed", before, after)
    elif isinstance(before, Mapping) and isinstance(after, Mapping):
        for key in [*before, *(k for k in after if k not in before)]:
            yield from _walk(before.get(key, ABSENT), after.get(key, ABSENT), f"{path}.{key}" if path else str(key))
    elif isinstance(before, list) and isinstance(after, list) and _list_key(before) and _list_key(after):
        old = {i["id"]: i for i in before}
        new = {i["id"]: i for i in after}
        for key in [*old, *(k for k in new if k not in old)]:
            yield from _walk(old.get(key, ABSENT), new.get(key, ABSENT), f"{path}[{key}]")
        if [k for k in old if k in new] != [k for k in new if k in old]:
            yield Change(f"{path} order", "changed", list(old), list(new))
    elif before != after:
        yield Change(path, "changed", before, after)


def diff_documents(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Change]:
    """Every difference from `before` to `after`, in document order."""
    return list(_walk(before, after, ""))
