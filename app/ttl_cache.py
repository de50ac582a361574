"""The one in-process cache with expiry: thread-safe, monotonic clock, bounded.

Used for tenant secrets and the app's account id in the web tier and for site lists in the
admin pages. A value is trusted for `ttl` seconds (per entry when `put` says so); at `max_entries`
the cache starts afresh rather than tracking recency (entries are cheap to reload).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

#: Entries one cache holds before it is cleared.
DEFAULT_MAX_ENTRIES = 10_000


class TtlCache:
    """Values with an expiry, keyed by anything hashable."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic, *,
                 max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self.ttl = ttl
        self._clock = clock
        self._max = max_entries
        self._items: dict[Hashable, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> tuple[bool, Any]:
        """(True, value) for a live entry, else (False, None)."""
        with self._lock:
            hit = self._items.get(key)
        if hit is None or hit[0] <= self._clock():
            return False, None
        return True, hit[1]

    def put(self, key: Hashable, value: Any, ttl: float | None = None) -> None:
        """Keep `value` for `ttl` seconds (the cache's own ttl by default)."""
        with self._lock:
            if len(self._items) >= self._max and key not in self._items:
                self._items.clear()
            self._items[key] = (self._clock() + (self.ttl if ttl is None else ttl), value)

    def get_or_load(self, key: Hashable, load: Callable[[], T]) -> T:
        """The live value, else `load()` (called outside the lock: a slow load holds up no one else)."""
        found, value = self.get(key)
        if found:
            return value  # type: ignore[no-any-return]
        loaded = load()
        self.put(key, loaded)
        return loaded

    def forget(self, key: Hashable) -> None:
        with self._lock:
            self._items.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
