"""Tables. Later areas add theirs beside these, keyed to `tenants.client_key` with ON DELETE CASCADE."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(sa.TypeDecorator[datetime]):
    """An aware UTC datetime on every backend (SQLite stores naive UTC, PostgreSQL timestamptz)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware UTC datetime")
        value = value.astimezone(UTC)
        # SQLite compares text: store every value in one naive-UTC form so ordering holds.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of every Tierwise table."""

    type_annotation_map: dict[Any, Any] = {datetime: UTCDateTime()}


class TenantRow(Base):
    """One installation of the app in a Jira site (Connect clientKey, or `forge:<installation>`)."""

    __tablename__ = "tenants"

    client_key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    app_key: Mapped[str | None] = mapped_column(sa.String(255))
    base_url: Mapped[str] = mapped_column(sa.String(2048))
    display_url: Mapped[str | None] = mapped_column(sa.String(2048))
    product_type: Mapped[str | None] = mapped_column(sa.String(64))
    description: Mapped[str | None] = mapped_column(sa.Text)
    oauth_client_id: Mapped[str | None] = mapped_column(sa.String(255))
    #: The installation ARI: Connect's `installed` payload sends it, and it stays the same when the site
    #: moves to the Forge app (app.connect.key); every Forge Invocation Token names it.
    installation_id: Mapped[str | None] = mapped_column(sa.String(255), index=True, unique=True)
    cloud_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    entitlement_id: Mapped[str | None] = mapped_column(sa.String(255))
    entitlement_number: Mapped[str | None] = mapped_column(sa.String(255))
    platform: Mapped[str] = mapped_column(sa.String(16), default="connect")
    #: The door this site's ticket events are taken from: `connect` until the first Forge product event.
    event_source: Mapped[str] = mapped_column(sa.String(16), default="connect", server_default="connect")
    state: Mapped[str] = mapped_column(sa.String(16), index=True)
    state_changed_at: Mapped[datetime]
    installed_at: Mapped[datetime]
    #: When the latest installed event (first install or reinstall) was signed; older uninstalls are stale.
    last_installed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    uninstalled_at: Mapped[datetime | None]
    #: Fernet token of the Connect sharedSecret (None for Forge tenants).
    shared_secret_encrypted: Mapped[str | None] = mapped_column(sa.Text)


class ForgeSystemTokenRow(Base):
    """The latest Forge app system token of an installation, encrypted, with its expiry."""

    __tablename__ = "forge_system_tokens"

    installation_id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    #: The tenant's key; no foreign key, since a token may arrive before the installed event.
    client_key: Mapped[str] = mapped_column(sa.String(255), index=True)
    token_encrypted: Mapped[str] = mapped_column(sa.Text)
    expires_at: Mapped[datetime]
    api_base_url: Mapped[str] = mapped_column(sa.String(2048))
    updated_at: Mapped[datetime]
