"""The one compiled-policy cache of a process: a stored policy document is compiled once.

Versions are immutable, so an entry never goes stale; the cache is an LRU bounded by
`POLICY_CACHE_SIZE`. The worker keys entries by (tenant, version id); the web tier, which holds
only the document, by the document's digest.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from typing import Any

from app.policy.model import Policy
from app.schemas.policy import load_policy

#: Compiled policies kept per process (least recently used dropped first).
POLICY_CACHE_SIZE = 256

_policies: OrderedDict[Hashable, Policy] = OrderedDict()
_lock = threading.Lock()


def document_digest(document: Mapping[str, Any]) -> str:
    """A key for a document by content."""
    return hashlib.sha256(json.dumps(document, sort_keys=True, default=dict).encode()).hexdigest()


def compiled_policy(document: Mapping[str, Any], key: Hashable | None = None) -> Policy:
    """The Policy of `document`, compiled at most once per `key` (default: the document's digest)."""
    cache_key = key if key is not None else document_digest(document)
    with _lock:
        hit = _policies.get(cache_key)
        if hit is not None:
            _policies.move_to_end(cache_key)
            return hit
    policy = load_policy(dict(document))  # outside the lock: compiling takes milliseconds
    with _lock:
        _policies[cache_key] = policy
        while len(_policies) > POLICY_CACHE_SIZE:
            _policies.popitem(last=False)
    return policy


def cached_count() -> int:
    """How many compiled policies the process holds (tests, diagnostics)."""
    with _lock:
        return len(_policies)
