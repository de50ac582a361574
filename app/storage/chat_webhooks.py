"""Chat webhook URLs of a tenant, by name, encrypted at rest in the tenant's settings row.

A policy's `chat` action names a webhook (`webhook: oncall-room`); the URL (whose path is the
secret: whoever has it can post into the room) is kept Fernet-encrypted under
`tenant_settings.settings["chat_webhooks"][name]` with its host in clear for display. Only the
worker's delivery decrypts it; settings JSON, the panel, the audit log and exports show the host.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session, sessionmaker

from app.outbound import SCHEMES
from app.policy.actions.chat import WEBHOOK_NAME
from app.storage.crypto import SecretBox
from app.storage.policies import SettingsError, TenantSettingsRow

#: Key of the webhooks in the settings JSON.
SETTINGS_KEY = "chat_webhooks"
#: Most chat webhooks per tenant.
MAX_WEBHOOKS = 50


def check_webhook(name: str, url: str) -> str:
    """The webhook's host, or SettingsError naming what is wrong (http(s) with a host; `app.outbound`
    is where a stricter rule, https only and no private addresses, would go)."""
    problems: list[tuple[str, str]] = []
    if not isinstance(name, str) or not WEBHOOK_NAME.match(name):
        problems.append(("name", f'"{name}" is not a webhook name (letters, digits, _ . -)'))
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in SCHEMES or not parts.hostname:
        problems.append(("url", "must be an http(s) URL with a host"))
    if problems:
        raise SettingsError(problems)
    assert parts is not None and parts.hostname is not None
    return parts.hostname


class ChatWebhooks:
    """Set, list (names and hosts), remove and resolve a tenant's chat webhooks."""

    def __init__(self, session_factory: sessionmaker[Session], secrets: SecretBox) -> None:
        self._sessions = session_factory
        self._secrets = secrets

    def set(self, tenant_key: str, name: str, url: str, *, by: str | None = None,
            at: datetime | None = None) -> str:
        """Store (or replace) webhook `name`; return its host."""
        host = check_webhook(name, url)
        entry = {"token": self._secrets.encrypt(url), "host": host}
        self._update(tenant_key, lambda hooks: {**hooks, name: entry}, by, at)
        return host

    def remove(self, tenant_key: str, name: str, *, by: str | None = None, at: datetime | None = None) -> None:
        self._update(tenant_key, lambda hooks: {k: v for k, v in hooks.items() if k != name}, by, at)

    def hosts(self, tenant_key: str) -> dict[str, str]:
        """Name → host of each webhook (what may be shown)."""
        return {name: str(entry.get("host", "?")) for name, entry in self._hooks(tenant_key).items()}

    def url(self, tenant_key: str, name: str) -> str | None:
        """The decrypted URL of webhook `name` (None when there is none by that name)."""
        entry = self._hooks(tenant_key).get(name)
        return self._secrets.decrypt(str(entry["token"])) if entry and entry.get("token") else None

    def _hooks(self, tenant_key: str) -> Mapping[str, Mapping[str, Any]]:
        with self._sessions() as session:
            row = session.get(TenantSettingsRow, tenant_key)
            return dict(((row.settings or {}).get(SETTINGS_KEY) or {}) if row is not None else {})

    def _update(self, tenant_key: str, change: Any, by: str | None, at: datetime | None) -> None:
        now = at or datetime.now(UTC)
        with self._sessions() as session, session.begin():
            row = session.get(TenantSettingsRow, tenant_key, with_for_update=True)
            if row is None:
                row = TenantSettingsRow(client_key=tenant_key, settings={}, updated_at=now, updated_by=by)
                session.add(row)
            hooks = change(dict((row.settings or {}).get(SETTINGS_KEY) or {}))
            if len(hooks) > MAX_WEBHOOKS:
                raise SettingsError([(SETTINGS_KEY, f"at most {MAX_WEBHOOKS} chat webhooks")])
            row.settings = {**(row.settings or {}), SETTINGS_KEY: hooks}
            row.updated_at, row.updated_by = now, by
