"""Tenants' policy versions (immutable, numbered) and the admin's per-tenant settings.

Saving a policy appends a version; the newest version is the active one, effective from its
`created_at`. Tickets keep the id of the version they started under (`TicketRecord.policy_version_id`).
A tenant that never saved a policy runs on `DEFAULT_PRESET` (`effective` returns it as version 0).
Settings that are the tenant's, not the vendor's policy (which Jira fields receive the deadlines,
the on-call webhook) live in `tenant_settings` beside the versions.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from app.policy.field_ids import is_field_id
from app.schemas.policy import load_policy
from app.schemas.presets import preset_document
from app.storage.models import Base

#: The preset a tenant runs on until an admin saves a policy of its own.
DEFAULT_PRESET = "communardo"
#: Most versions `history` returns (newest first).
MAX_HISTORY = 200
#: The SLA values Tierwise can write into Jira fields, in the order the settings page lists them.
BINDING_KEYS = ("first_response_due", "next_update_due", "resolution_due", "tier", "severity")
#: Note length kept with a version.
MAX_NOTE = 500


class SettingsError(ValueError):
    """Settings that cannot be saved: `errors` lists every (path, problem)."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{p}: {m}" for p, m in errors))


@dataclass(frozen=True)
class PolicyVersion:
    """One saved policy of a tenant. `id` None and `number` 0: the built-in default (never saved)."""

    id: int | None
    tenant_key: str
    number: int
    document: Mapping[str, Any] = field(hash=False)
    created_at: datetime | None
    created_by: str | None
    note: str = ""

    @property
    def is_default(self) -> bool:
        return self.id is None


@dataclass(frozen=True)
class TenantSettings:
    """The admin's settings: SLA value → Jira field id, and the on-call webhook URL."""

    field_bindings: Mapping[str, str] = field(default_factory=dict, hash=False)
    oncall_webhook_url: str | None = None
    updated_at: datetime | None = None
    updated_by: str | None = None
    #: Name → host of the tenant's chat webhooks (`app.storage.chat_webhooks`; the URLs stay encrypted there).
    chat_webhook_hosts: Mapping[str, str] = field(default_factory=dict, hash=False)

    def as_json(self) -> dict[str, Any]:
        return {
            "field_bindings": dict(self.field_bindings),
            "oncall_webhook_url": self.oncall_webhook_url,
            "chat_webhooks": {name: {"host": host} for name, host in self.chat_webhook_hosts.items()},
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "updated_by": self.updated_by,
        }


class PolicyVersionRow(Base):
    __tablename__ = "policy_versions"

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    client_key: Mapped[str] = mapped_column(
        sa.String(255), sa.ForeignKey("tenants.client_key", ondelete="CASCADE")
    )
    number: Mapped[int]
    document: Mapped[Any] = mapped_column(sa.JSON)
    created_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(sa.String(255))
    note: Mapped[str] = mapped_column(sa.Text, default="")

    __table_args__ = (sa.UniqueConstraint("client_key", "number", name="uq_policy_versions_number"),)


class TenantSettingsRow(Base):
    __tablename__ = "tenant_settings"

    client_key: Mapped[str] = mapped_column(
        sa.String(255), sa.ForeignKey("tenants.client_key", ondelete="CASCADE"), primary_key=True
    )
    settings: Mapped[Any] = mapped_column(sa.JSON)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str | None] = mapped_column(sa.String(255))


def default_version(tenant_key: str) -> PolicyVersion:
    """The version a tenant without a saved policy runs on."""
    return PolicyVersion(None, tenant_key, 0, MappingProxyType(preset_document(DEFAULT_PRESET)), None, None,
                         f"built-in preset {DEFAULT_PRESET}")


def validate_settings(raw: Mapping[str, Any]) -> TenantSettings:
    """Check settings from the admin page; SettingsError lists every (path, problem)."""
    errors: list[tuple[str, str]] = []
    unknown = set(raw) - {"field_bindings", "oncall_webhook_url"}
    errors += [(key, "unknown key") for key in sorted(unknown)]
    bindings_raw = raw.get("field_bindings") or {}
    bindings: dict[str, str] = {}
    if not isinstance(bindings_raw, Mapping):
        errors.append(("field_bindings", "must be an object"))
    else:
        for key, value in bindings_raw.items():
            path = f"field_bindings.{key}"
            if key not in BINDING_KEYS:
                errors.append((path, f"unknown SLA value (one of {', '.join(BINDING_KEYS)})"))
            elif value in (None, ""):
                continue  # not written to Jira
            elif not is_field_id(value):
                errors.append((path, f'"{value}" is not a Jira field id'))
            else:
                bindings[key] = value
    url = raw.get("oncall_webhook_url") or None
    if url is not None:
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("https", "http") or not parts.netloc:
            errors.append(("oncall_webhook_url", "must be an http(s) URL"))
    if errors:
        raise SettingsError(errors)
    return TenantSettings(MappingProxyType(bindings), url)


class PolicyStore:
    """Policy versions and settings of tenants."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._sessions = session_factory

    # -- versions ---------------------------------------------------------------------------------

    def active(self, tenant_key: str) -> PolicyVersion | None:
        """The tenant's newest saved version, or None when it never saved one."""
        query = (
            sa.select(PolicyVersionRow)
            .where(PolicyVersionRow.client_key == tenant_key)
            .order_by(PolicyVersionRow.number.desc())
            .limit(1)
        )
        with self._sessions() as session:
            row = session.scalars(query).first()
            return _to_version(row) if row else None

    def ticket_version(self, tenant_key: str, version_id: int | None, *,
                       current: PolicyVersion | None = None) -> PolicyVersion:
        """The version a ticket runs under — the one answer for the worker and the panel: the version it
        started under; the built-in default for a ticket tracked before any saved version; the
        tenant's current one (`current`, else read) when its version is gone."""
        if version_id is None:
            return current if current is not None and current.id is None else default_version(tenant_key)
        if current is not None and current.id == version_id:
            return current
        return self.get(tenant_key, version_id) or current or self.effective(tenant_key)

    def effective(self, tenant_key: str) -> PolicyVersion:
        """The active version, or the built-in default (`DEFAULT_PRESET`, number 0)."""
        return self.active(tenant_key) or default_version(tenant_key)

    def save(
        self, tenant_key: str, document: Mapping[str, Any], created_by: str | None, note: str = "",
        *, at: datetime | None = None,
    ) -> PolicyVersion:
        """Validate `document` (PolicyDocumentError) and store it as the tenant's next version."""
        load_policy(document)
        doc = copy.deepcopy(dict(document))
        now = at or datetime.now(UTC)
        for _attempt in range(3):  # two admins saving at once: the loser takes the next number
            try:
                with self._sessions() as session, session.begin():
                    top = session.scalar(
                        sa.select(sa.func.max(PolicyVersionRow.number)).where(
                            PolicyVersionRow.client_key == tenant_key
                        )
                    )
                    row = PolicyVersionRow(
                        client_key=tenant_key, number=(top or 0) + 1, document=doc, created_at=now,
                        created_by=created_by, note=(note or "")[:MAX_NOTE],
                    )
                    session.add(row)
                    session.flush()
                    return _to_version(row)
            except IntegrityError:
                if self._tenant_missing(tenant_key):
                    raise
        raise RuntimeError(f"could not number a new policy version for {tenant_key}")

    def history(self, tenant_key: str, limit: int = MAX_HISTORY) -> list[PolicyVersion]:
        """The tenant's versions, newest first."""
        query = (
            sa.select(PolicyVersionRow)
            .where(PolicyVersionRow.client_key == tenant_key)
            .order_by(PolicyVersionRow.number.desc())
            .limit(limit)
        )
        with self._sessions() as session:
            return [_to_version(row) for row in session.scalars(query)]

    def get(self, tenant_key: str, version_id: int) -> PolicyVersion | None:
        """One version of the tenant (None when unknown or another tenant's)."""
        with self._sessions() as session:
            row = session.get(PolicyVersionRow, version_id)
            return _to_version(row) if row is not None and row.client_key == tenant_key else None

    def rollback(self, tenant_key: str, version_id: int, by: str | None) -> PolicyVersion:
        """A new version whose document is the one of `version_id` (KeyError when unknown)."""
        old = self.get(tenant_key, version_id)
        if old is None:
            raise KeyError(version_id)
        return self.save(tenant_key, old.document, by, f"rollback to version {old.number}")

    def _tenant_missing(self, tenant_key: str) -> bool:
        from app.storage.models import TenantRow

        with self._sessions() as session:
            return session.get(TenantRow, tenant_key) is None

    # -- settings ---------------------------------------------------------------------------------

    def get_settings(self, tenant_key: str) -> TenantSettings:
        """The tenant's settings (empty bindings and no webhook when never saved)."""
        with self._sessions() as session:
            row = session.get(TenantSettingsRow, tenant_key)
            if row is None:
                return TenantSettings()
            data = row.settings or {}
            return TenantSettings(
                MappingProxyType(dict(data.get("field_bindings") or {})),
                data.get("oncall_webhook_url"),
                row.updated_at,
                row.updated_by,
                MappingProxyType({str(name): str((entry or {}).get("host", "?"))
                                  for name, entry in (data.get("chat_webhooks") or {}).items()}),
            )

    def save_settings(
        self, tenant_key: str, raw: Mapping[str, Any], by: str | None, *, at: datetime | None = None
    ) -> TenantSettings:
        """Validate (SettingsError) and replace the tenant's settings."""
        checked = validate_settings(raw)
        now = at or datetime.now(UTC)
        data = {"field_bindings": dict(checked.field_bindings), "oncall_webhook_url": checked.oncall_webhook_url}
        with self._sessions() as session, session.begin():
            row = session.get(TenantSettingsRow, tenant_key)
            if row is None:
                session.add(TenantSettingsRow(client_key=tenant_key, settings=data, updated_at=now, updated_by=by))
            else:
                kept = (row.settings or {}).get("chat_webhooks")  # set apart (encrypted), not by this form
                row.settings = {**data, "chat_webhooks": kept} if kept else data
                row.updated_at, row.updated_by = now, by
        return TenantSettings(checked.field_bindings, checked.oncall_webhook_url, now, by)


def _to_version(row: PolicyVersionRow) -> PolicyVersion:
    return PolicyVersion(
        id=row.id,
        tenant_key=row.client_key,
        number=row.number,
        document=MappingProxyType(copy.deepcopy(row.document)),
        created_at=row.created_at,
        created_by=row.created_by,
        note=row.note or "",
    )
