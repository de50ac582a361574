"""Outbound webhook URLs out of the clear: the on-call URL, page actions' `url`, pending pages, audits.

Before this revision the on-call URL sat in clear in `tenant_settings`, a page action's `url`
in `policy_versions` documents and in `outbox` payloads, and page audit entries carried the URL
and the remote's status. After it: the on-call URL is Fernet-encrypted (`oncall_webhook`), each
page `url` is a named encrypted webhook (`chat_webhooks["page-N"]`) the document names, a page
intent names its webhook (or `oncall`), and audit entries keep neither URL nor status.

The key is the one the app uses: `app.storage.db.migrate` hands the process's SecretBox in
(`config.attributes["secrets"]`); the `alembic` command line builds it from the environment.

Revision ID: 0007_outbound_secrets
Revises: 0004_outbox
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007_outbound_secrets"
down_revision = "0006_next_deadline"
branch_labels = None
depends_on = None

_settings = sa.table("tenant_settings", sa.column("client_key", sa.String), sa.column("settings", sa.JSON),
                     sa.column("updated_at", sa.DateTime(timezone=True)), sa.column("updated_by", sa.String))
_versions = sa.table("policy_versions", sa.column("id", sa.Integer), sa.column("client_key", sa.String),
                     sa.column("document", sa.JSON))
_outbox = sa.table("outbox", sa.column("id", sa.Integer), sa.column("client_key", sa.String),
                   sa.column("kind", sa.String), sa.column("payload", sa.JSON))
_audit = sa.table("audit_log", sa.column("id", sa.Integer), sa.column("action", sa.String),
                  sa.column("detail", sa.JSON))

#: Audit detail keys that carried an outbound URL or the remote's answer.
_AUDIT_SECRET_KEYS = ("url", "status")


class _LazyBox:
    """The SecretBox, built on first use only (a database with nothing to move needs no key)."""

    def __init__(self) -> None:
        self._box: Any = None

    def encrypt(self, text: str) -> str:
        return str(self._get().encrypt(text))

    def decrypt(self, token: str) -> str:
        return str(self._get().decrypt(token))

    def _get(self) -> Any:
        if self._box is None:
            self._box = _secret_box()
        return self._box


def _secret_box() -> Any:
    secrets = op.get_context().config.attributes.get("secrets")
    if secrets is None:
        from app.settings import Settings
        from app.storage.crypto import secret_box_for

        secrets = secret_box_for(Settings.from_env())
    return secrets


def upgrade() -> None:
    from app.policy.actions.page import ONCALL, page_urls
    from app.storage.chat_webhooks import place_url, seal_document, sealed
    from app.storage.policies import ONCALL_KEY, SETTINGS_KEY

    bind = op.get_bind()
    box: Any = _LazyBox()
    tenants: dict[str, dict[str, Any]] = {}  # client_key → settings JSON, changed in place, written at the end
    known = {row.client_key: dict(row.settings or {}) for row in bind.execute(sa.select(_settings))}

    def settings_of(client_key: str) -> dict[str, Any]:
        if client_key not in tenants:
            tenants[client_key] = dict(known.get(client_key, {}))
        return tenants[client_key]

    def name_for(client_key: str, url: str) -> str:
        data = settings_of(client_key)
        hooks = dict(data.get(SETTINGS_KEY) or {})
        name = place_url(hooks, url, box.decrypt, lambda u: sealed(box, u))
        data[SETTINGS_KEY] = hooks
        return name

    oncall: dict[str, str] = {}
    for client_key, data in known.items():
        url = data.get("oncall_webhook_url")
        if "oncall_webhook_url" in data:
            moved = settings_of(client_key)
            moved.pop("oncall_webhook_url", None)
            if isinstance(url, str) and url:
                moved[ONCALL_KEY] = sealed(box, url)
                oncall[client_key] = url

    for row in bind.execute(sa.select(_versions)).all():
        if isinstance(row.document, Mapping) and page_urls(row.document):
            document = seal_document(row.document, lambda _i, url, key=row.client_key: name_for(key, url))
            bind.execute(_versions.update().where(_versions.c.id == row.id).values(document=document))

    for row in bind.execute(sa.select(_outbox).where(_outbox.c.kind == "page")).all():
        payload = dict(row.payload or {})
        url = payload.pop("url", None)
        if url is None:
            continue
        if isinstance(url, str) and url and url != oncall.get(row.client_key):
            payload["webhook"] = name_for(row.client_key, url)
        else:
            payload[ONCALL] = True
        bind.execute(_outbox.update().where(_outbox.c.id == row.id).values(payload=payload))

    for row in bind.execute(sa.select(_audit).where(_audit.c.action.in_(("page", "page_refused", "gave_up")))).all():
        detail = dict(row.detail or {})
        if row.action == "gave_up" and detail.get("intent") not in ("page", "chat"):
            continue
        cleaned = {k: v for k, v in detail.items() if k not in _AUDIT_SECRET_KEYS}
        if row.action == "gave_up":
            cleaned["error"] = f"{detail['intent']} failed"
        action = "page_failed" if row.action == "page_refused" else row.action
        if cleaned != detail or action != row.action:
            bind.execute(_audit.update().where(_audit.c.id == row.id).values(detail=cleaned, action=action))

    now = datetime.now(UTC)
    for client_key, data in tenants.items():
        if client_key in known:
            bind.execute(_settings.update().where(_settings.c.client_key == client_key).values(settings=data))
        else:
            bind.execute(_settings.insert().values(client_key=client_key, settings=data, updated_at=now,
                                                   updated_by="migration 0007"))


def downgrade() -> None:
    """Leave the URLs encrypted: older code finds no on-call URL or page URL (no page goes out)."""
