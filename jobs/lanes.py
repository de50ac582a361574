"""Lanes: run work items on a few threads, one at a time per ordering key, in submission order.

A worker process hands each dequeued job to `Lanes.submit(key, item)`. Items with the same key form
a lane: the lane's items run one after the other on one thread, in the order they were submitted;
items of different keys (or with no key) run side by side on up to `threads` threads. A *slot* is
taken for every item from before it is dequeued until it has run (`acquire` / automatic release),
so a process never holds more than `threads` jobs, running or waiting in a lane — the rest stay in
Redis for other processes.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import deque
from collections.abc import Callable, Hashable
from typing import Any

log = logging.getLogger(__name__)


class Lanes:
    """A fixed pool of daemon threads that keeps each key's items in order and never overlaps them."""

    def __init__(self, threads: int, run: Callable[[Any], None], *, name: str = "tierwise-job") -> None:
        if threads < 1:
            raise ValueError("a worker needs at least one job thread")
        self.threads = threads
        self._run = run
        self._slots = threading.Semaphore(threads)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._lanes: dict[Hashable, deque[Any]] = {}
        self._in_flight = 0
        self._ready: queue.SimpleQueue[tuple[Hashable, Any] | None] = queue.SimpleQueue()
        # Daemon threads: a cold shutdown must not wait for a job stuck in Jira; its job is re-run
        # by the recovery sweep of another worker (jobs are idempotent).
        self._pool = [threading.Thread(target=self._loop, name=f"{name}-{i}", daemon=True) for i in range(threads)]
        for thread in self._pool:
            thread.start()

    @property
    def in_flight(self) -> int:
        """Items submitted and not yet finished (running or waiting behind their key)."""
        with self._lock:
            return self._in_flight

    def acquire(self, timeout: float | None = None) -> bool:
        """Take a slot for one more item; False when none was free within `timeout` seconds."""
        return self._slots.acquire(timeout=timeout)

    def release(self) -> None:
        """Give back a slot taken by `acquire` that was not used (nothing was dequeued)."""
        self._slots.release()

    def submit(self, key: Hashable | None, item: Any) -> None:
        """Run `item` after every earlier item of `key` (None: an item of its own). Needs a slot."""
        lane_key: Hashable = object() if key is None else key
        with self._lock:
            self._in_flight += 1
            lane = self._lanes.get(lane_key)
            if lane is not None:  # that key is running: wait behind it, on its thread
                lane.append(item)
                return
            self._lanes[lane_key] = deque()
        self._ready.put((lane_key, item))

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until nothing is in flight; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    def close(self) -> None:
        """Stop the threads once they finish what they are running (no wait)."""
        for _ in self._pool:
            self._ready.put(None)

    def _loop(self) -> None:
        while (entry := self._ready.get()) is not None:
            key, item = entry
            while True:
                try:
                    self._run(item)
                except BaseException:  # noqa: BLE001 - one job's failure must not kill its thread
                    log.exception("job thread: unhandled error")
                finally:
                    self._slots.release()
                with self._lock:
                    self._in_flight -= 1
                    if self._in_flight == 0:
                        self._idle.notify_all()
                    lane = self._lanes[key]
                    if not lane:
                        del self._lanes[key]
                        break
                    item = lane.popleft()
