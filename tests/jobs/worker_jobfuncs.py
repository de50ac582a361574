"""Job functions the worker tests run in real ``rq worker`` processes; they report through Redis."""

from __future__ import annotations

import time

from rq import get_current_job

#: The list each step appends "<ticket>|<n>|<start>|<end>" to (perf_counter seconds).
STEPS_KEY = "test:steps"


def step(ticket: str, n: int, seconds: float) -> int:
    """Take `seconds` (as a Jira call would), then record when this step of `ticket` ran."""
    job = get_current_job()
    assert job is not None
    start = time.time()
    time.sleep(seconds)
    job.connection.rpush(STEPS_KEY, f"{ticket}|{n}|{start}|{time.time()}")
    return n
