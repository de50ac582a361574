"""Lanes: one key's items in order and never side by side; different keys side by side; bounded."""

from __future__ import annotations

import random
import threading
import time

import pytest

from jobs.lanes import Lanes


def test_each_keys_items_run_in_order_one_at_a_time_and_keys_run_side_by_side() -> None:
    lock = threading.Lock()
    running: dict[str, int] = {}
    log: list[tuple[str, int]] = []
    overlap = {"max": 0, "now": 0}
    rng = random.Random(3)

    def run(item: tuple[str, int, float]) -> None:
        key, n, pause = item
        with lock:
            assert running.get(key, 0) == 0, f"two items of {key} at once"
            running[key] = 1
            overlap["now"] += 1
            overlap["max"] = max(overlap["max"], overlap["now"])
        time.sleep(pause)
        with lock:
            running[key] = 0
            overlap["now"] -= 1
            log.append((key, n))

    lanes = Lanes(4, run)
    try:
        for n in range(10):
            for key in "abcdef":
                assert lanes.acquire(timeout=10)
                lanes.submit(key, (key, n, rng.uniform(0, 0.01)))
        assert lanes.wait_idle(30)
    finally:
        lanes.close()
    for key in "abcdef":
        assert [n for k, n in log if k == key] == list(range(10))
    assert 1 < overlap["max"] <= 4


def test_no_more_than_threads_items_are_held_and_a_failure_frees_its_slot() -> None:
    gate = threading.Event()

    def run(item: str) -> None:
        gate.wait(10)
        if item == "boom":
            raise RuntimeError("job failed")

    lanes = Lanes(2, run)
    try:
        assert lanes.acquire(0) and lanes.acquire(0)
        lanes.submit("k", "boom")
        lanes.submit(None, "fine")
        assert not lanes.acquire(timeout=0.05)  # both slots held
        assert lanes.in_flight == 2
        gate.set()
        assert lanes.wait_idle(10)
        assert lanes.acquire(timeout=1) and lanes.acquire(timeout=1)  # the failed item's slot is back
    finally:
        lanes.close()


def test_a_lane_needs_a_thread() -> None:
    with pytest.raises(ValueError):
        Lanes(0, lambda item: None)
