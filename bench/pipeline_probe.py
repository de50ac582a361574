"""A measuring `TierwiseWorker` for bench_pipeline.py: counts what the worker process does.

Run as ``rq worker -w pipeline_probe.ProbedWorker`` with this directory on PYTHONPATH and
``BENCH_PROBE_OUT=<file>``; at the end of its work loop it writes one JSON object there:

- ``transactions`` / ``statements``: database transactions begun and statements sent (SQLAlchemy
  engine events, every engine of the process);
- ``redis_round_trips``: packed commands sent to Redis (a pipeline or a script is one);
- ``jira_calls``, ``jira_seconds``: HTTP requests sent through requests' adapters and the sum of
  their durations; ``jira_busy_seconds``: the time during which at least one was in flight;
- ``cpu_seconds`` and ``window``: process CPU time and wall time from the first job's start to the
  last job's end (start-up and imports left out; ``start``/``end`` are epoch seconds, comparable
  across processes); ``jobs``: jobs performed.

The counters are process-wide (the timer pump and rq's pubsub thread included): they are what the
worker process costs, not what a single job's code path looks like.
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

import redis.connection
import requests.adapters
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from jobs.worker import TierwiseWorker

_lock = threading.Lock()
_counts: dict[str, float] = {"transactions": 0, "statements": 0, "redis_round_trips": 0, "jira_calls": 0,
                             "jira_seconds": 0.0, "jira_busy_seconds": 0.0, "jobs": 0}
_jira_in_flight = [0, 0.0]  # calls in flight, when the current busy stretch began
_window: dict[str, float] = {}


def _bump(name: str, by: float = 1) -> None:
    with _lock:
        _counts[name] += by


def _install() -> None:
    sa.event.listen(Engine, "begin", lambda _conn: _bump("transactions"))
    sa.event.listen(Engine, "before_cursor_execute", lambda *_a: _bump("statements"))

    send = redis.connection.AbstractConnection.send_packed_command

    def counted_send(self: Any, command: Any, check_health: bool = True) -> None:
        _bump("redis_round_trips")
        send(self, command, check_health)

    redis.connection.AbstractConnection.send_packed_command = counted_send  # type: ignore[method-assign]

    adapter_send = requests.adapters.HTTPAdapter.send

    def timed_send(self: Any, request: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        with _lock:
            if _jira_in_flight[0] == 0:
                _jira_in_flight[1] = t0
            _jira_in_flight[0] += 1
        try:
            return adapter_send(self, request, **kwargs)
        finally:
            t1 = time.perf_counter()
            with _lock:
                _counts["jira_calls"] += 1
                _counts["jira_seconds"] += t1 - t0
                _jira_in_flight[0] -= 1
                if _jira_in_flight[0] == 0:
                    _counts["jira_busy_seconds"] += t1 - _jira_in_flight[1]

    requests.adapters.HTTPAdapter.send = timed_send  # type: ignore[method-assign]


_install()


class ProbedWorker(TierwiseWorker):
    """TierwiseWorker that records the counters above and writes them out when its loop ends.

    With ``BENCH_PROFILE=<file>`` and one job thread, the jobs also run under cProfile (pstats file).
    """

    _profile: Any = None

    def _run_job(self, item: Any) -> None:
        path = os.environ.get("BENCH_PROFILE")
        if not path or self._lanes.threads != 1:
            return super()._run_job(item)
        import cProfile

        if ProbedWorker._profile is None:
            ProbedWorker._profile = cProfile.Profile()
        ProbedWorker._profile.enable()
        try:
            super()._run_job(item)
        finally:
            ProbedWorker._profile.disable()
            ProbedWorker._profile.dump_stats(path)

    def perform_job(self, job: Any, queue: Any, execution: Any) -> bool:
        with _lock:
            if "start" not in _window:
                _window["start"], _window["cpu_start"] = time.time(), time.process_time()
                for name in _counts:  # count from the first job on: start-up is not per-event cost
                    _counts[name] = 0
        try:
            return bool(super().perform_job(job, queue, execution))
        finally:
            with _lock:
                _counts["jobs"] += 1
                _window["end"], _window["cpu_end"] = time.time(), time.process_time()

    def teardown(self) -> None:
        super().teardown()
        out = os.environ.get("BENCH_PROBE_OUT")
        if out:
            with _lock:
                window = _window.get("end", 0.0) - _window.get("start", 0.0)
                cpu = _window.get("cpu_end", 0.0) - _window.get("cpu_start", 0.0)
                data = {**_counts, "window": window, "cpu_seconds": cpu, "start": _window.get("start"),
                        "end": _window.get("end"), "threads": self._lanes.threads}
            with open(out, "w") as fh:
                json.dump(data, fh)
