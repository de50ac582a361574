"""The tenant store: one row per installation, the shared secret encrypted at rest.

Every write is a single statement, so concurrent lifecycle calls need no application lock:
install is an SQL upsert (INSERT .. ON CONFLICT DO UPDATE), and a state change is one
conditional UPDATE that ignores uninstalled tenants and changes older than the last one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from app.storage.crypto import SecretBox
from app.storage.db import upsert_for
from app.storage.models import ForgeSystemTokenRow, TenantRow

#: States a tenant can be in; `uninstalled` is final until the next install.
INSTALLED, ENABLED, DISABLED, UNINSTALLED = "installed", "enabled", "disabled", "uninstalled"
#: States `set_state` accepts (the `enabled` / `disabled` lifecycle events).
SETTABLE_STATES = frozenset({ENABLED, DISABLED})
#: Platforms a tenant was installed through (and doors its ticket events may come from).
CONNECT, FORGE = "connect", "forge"


@dataclass(frozen=True, repr=False)
class Tenant:
    """An installation of Tierwise in a Jira site, with its shared secret decrypted."""

    client_key: str
    base_url: str
    display_url: str | None
    product_type: str | None
    description: str | None
    oauth_client_id: str | None
    installation_id: str | None
    entitlement_id: str | None
    entitlement_number: str | None
    state: str
    shared_secret: str | None
    platform: str
    installed_at: datetime
    updated_at: datetime
    uninstalled_at: datetime | None
    #: The door the site's ticket events are taken from (`connect` until the Forge app is installed).
    event_source: str = CONNECT
    #: The site's cloud id, when Jira or Forge told it.
    cloud_id: str | None = None

    def __repr__(self) -> str:  # never print the secret
        return f"Tenant(client_key={self.client_key!r}, base_url={self.base_url!r}, state={self.state!r})"

    @property
    def is_active(self) -> bool:
        """Installed and not uninstalled (disabled tenants still count: Jira may re-enable them)."""
        return self.state != UNINSTALLED

    @property
    def takes_connect_events(self) -> bool:
        """False once the site's events come through Forge: its Connect webhooks are then dropped."""
        return self.event_source != FORGE


class TenantStore:
    """Tenants in the SQL database."""

    def __init__(self, session_factory: sessionmaker[Session], secrets: SecretBox) -> None:
        self._sessions = session_factory
        self._secrets = secrets

    # -- reading ---------------------------------------------------------------------------

    def _to_tenant(self, row: TenantRow) -> Tenant:
        secret = row.shared_secret_encrypted
        return Tenant(
            client_key=row.client_key,
            base_url=row.base_url,
            display_url=row.display_url,
            product_type=row.product_type,
            description=row.description,
            oauth_client_id=row.oauth_client_id,
            installation_id=row.installation_id,
            cloud_id=row.cloud_id,
            entitlement_id=row.entitlement_id,
            entitlement_number=row.entitlement_number,
            state=row.state,
            shared_secret=self._secrets.decrypt(secret) if secret is not None else None,
            platform=row.platform,
            installed_at=row.installed_at,
            updated_at=row.updated_at,
            uninstalled_at=row.uninstalled_at,
            event_source=row.event_source or CONNECT,
        )

    def get(self, client_key: str) -> Tenant | None:
        """The tenant with this clientKey, in whatever state, or None."""
        with self._sessions() as session:
            row = session.get(TenantRow, client_key)
            return self._to_tenant(row) if row is not None else None

    def list_keys(self, *, state: str | None = None) -> list[str]:
        """Client keys of every tenant (in `state` when given), sorted."""
        query = sa.select(TenantRow.client_key).order_by(TenantRow.client_key)
        if state is not None:
            query = query.where(TenantRow.state == state)
        with self._sessions() as session:
            return list(session.scalars(query))

    # -- lifecycle ---------------------------------------------------------------------------

    def _upsert(self, values: dict[str, Any], replace: list[str], at: datetime) -> Tenant:
        """Insert the tenant as freshly installed at `at`, or replace `replace` on the existing row."""
        lifecycle = dict(
            state=INSTALLED, state_changed_at=at, installed_at=at, last_installed_at=at, updated_at=at,
            uninstalled_at=None,
        )
        with self._sessions.begin() as session:
            insert = upsert_for(session)(TenantRow.__table__).values(**values, **lifecycle)
            update: dict[str, Any] = {name: insert.excluded[name] for name in replace}
            table = TenantRow.__table__.c
            # A reinstall after an uninstall starts afresh; a repeated install keeps its first date.
            update["installed_at"] = sa.case(
                (table.state == UNINSTALLED, insert.excluded.installed_at), else_=table.installed_at
            )
            update.update({name: value for name, value in lifecycle.items() if name != "installed_at"})
            session.execute(insert.on_conflict_do_update(index_elements=["client_key"], set_=update))
        tenant = self.get(values["client_key"])
        assert tenant is not None
        return tenant

    def install(
        self,
        client_key: str,
        *,
        shared_secret: str,
        base_url: str,
        display_url: str | None = None,
        product_type: str | None = None,
        description: str | None = None,
        oauth_client_id: str | None = None,
        entitlement_id: str | None = None,
        entitlement_number: str | None = None,
        installation_id: str | None = None,
        cloud_id: str | None = None,
        at: datetime,
    ) -> Tenant:
        """Record a Connect install or reinstall: one row per clientKey, secret and baseUrl replaced.

        `installation_id` (the payload's `installationId`) is what Forge Invocation Tokens name once the
        site moves to the Forge app; it is kept only while no other tenant holds it (a site has one).
        """
        if installation_id and self._holder(installation_id) not in (None, client_key):
            installation_id = None
        values: dict[str, Any] = dict(
            client_key=client_key,
            base_url=base_url,
            display_url=display_url,
            product_type=product_type,
            description=description,
            oauth_client_id=oauth_client_id,
            entitlement_id=entitlement_id,
            entitlement_number=entitlement_number,
            platform=CONNECT,
            shared_secret_encrypted=self._secrets.encrypt(shared_secret),
        )
        if installation_id:
            values["installation_id"] = installation_id
        if cloud_id:
            values["cloud_id"] = cloud_id
        # A reinstall replaces everything Jira sent (a site can be renamed, the secret is new).
        replace = [name for name in values if name not in ("client_key", "platform")]
        tenant = self._upsert(values, replace, at)
        return tenant

    def install_forge(
        self,
        client_key: str,
        *,
        installation_id: str,
        base_url: str,
        display_url: str | None = None,
        cloud_id: str | None = None,
        at: datetime,
    ) -> Tenant:
        """Record a Forge installation (no shared secret; calls use the stored system token)."""
        values: dict[str, Any] = dict(
            client_key=client_key,
            base_url=base_url,
            display_url=display_url,
            installation_id=installation_id,
            cloud_id=cloud_id,
            product_type="jira",
            platform=FORGE,
            event_source=FORGE,
            shared_secret_encrypted=None,
        )
        return self._upsert(values, ["base_url", "display_url", "installation_id", "cloud_id", "platform",
                                     "event_source"], at)

    def set_state(self, client_key: str, state: str, at: datetime) -> Tenant | None:
        """Apply an enabled/disabled event unless the tenant is uninstalled or already saw a later one."""
        if state not in SETTABLE_STATES:
            raise ValueError(f"state must be one of {sorted(SETTABLE_STATES)}, not {state!r}")
        with self._sessions.begin() as session:
            session.execute(
                sa.update(TenantRow)
                .where(
                    TenantRow.client_key == client_key,
                    TenantRow.state != UNINSTALLED,
                    TenantRow.state_changed_at <= at,
                )
                .values(state=state, state_changed_at=at, updated_at=at)
            )
        return self.get(client_key)

    def uninstall(self, client_key: str, at: datetime) -> Tenant | None:
        """Mark the tenant uninstalled (its data is purged after the retention period)."""
        with self._sessions.begin() as session:
            session.execute(
                sa.update(TenantRow)
                .where(
                    TenantRow.client_key == client_key,
                    TenantRow.state != UNINSTALLED,
                    # A stale uninstall, signed before the latest (re)install, must not undo it.
                    sa.or_(TenantRow.last_installed_at.is_(None), TenantRow.last_installed_at <= at),
                )
                .values(state=UNINSTALLED, state_changed_at=at, updated_at=at, uninstalled_at=at)
            )
        return self.get(client_key)

    def purge_uninstalled(self, older_than: datetime) -> int:
        """Delete tenants uninstalled before `older_than`, and (ON DELETE CASCADE) all their data."""
        with self._sessions.begin() as session:
            doomed = (
                sa.select(TenantRow.client_key)
                .where(TenantRow.state == UNINSTALLED, TenantRow.uninstalled_at < older_than)
                .scalar_subquery()
            )
            doomed_installations = (
                sa.select(TenantRow.installation_id)
                .where(TenantRow.state == UNINSTALLED, TenantRow.uninstalled_at < older_than,
                       TenantRow.installation_id.is_not(None))
                .scalar_subquery()
            )
            session.execute(
                sa.delete(ForgeSystemTokenRow).where(sa.or_(
                    ForgeSystemTokenRow.client_key.in_(doomed),
                    ForgeSystemTokenRow.installation_id.in_(doomed_installations)))
            )
            result = session.execute(
                sa.delete(TenantRow).where(
                    TenantRow.state == UNINSTALLED, TenantRow.uninstalled_at < older_than
                )
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    # -- Forge (app.forge.installations.ForgeTenants) ---------------------------------------

    def _holder(self, installation_id: str) -> str | None:
        """The key of the tenant that holds this installation id, in whatever state."""
        with self._sessions() as session:
            return session.scalar(sa.select(TenantRow.client_key).where(TenantRow.installation_id == installation_id))

    def is_installed(self, client_key: str) -> bool:
        """True when the tenant exists and is not uninstalled."""
        tenant = self.get(client_key)
        return tenant is not None and tenant.is_active

    def find_forge_tenant(self, installation_id: str, cloud_id: str | None, site_url: str | None, *,
                          any_installation: bool = False) -> str | None:
        """The active tenant a Forge installation belongs to: by installation id, else by site.

        The site (cloud id, else site URL) finds a tenant no installation is tied to yet (a Connect install
        recorded before Tierwise stored installation ids); with `any_installation` also one tied to another
        installation (the installed event of a reinstall: Atlassian installs an app with a Connect key once
        per site, so a new installation replaces the old one). Without it, a call from an installation
        Tierwise never recorded is not taken for the site's.
        """
        table = TenantRow
        with self._sessions() as session:
            found = session.scalar(sa.select(table.client_key).where(
                table.installation_id == installation_id, table.state != UNINSTALLED))
            if found is not None:
                return str(found)
            site = sa.select(table.client_key).where(table.state != UNINSTALLED).order_by(table.installed_at)
            if not any_installation:
                site = site.where(table.installation_id.is_(None))
            if cloud_id:
                found = session.scalar(site.where(table.cloud_id == cloud_id))
            if found is None and site_url:
                found = session.scalar(site.where(table.base_url == site_url.rstrip("/")))
            return str(found) if found is not None else None

    def upsert_forge_installation(self, installation: Any, *, at: datetime | None = None) -> str:
        """Record an `app.forge.installations.ForgeInstallation`; returns the key of its tenant.

        A site Tierwise knows (see `find_forge_tenant`, any installation) keeps its tenant, now reached
        through Forge: the installation id is tied to it, jobs call Jira with the system token, ticket
        events come from Forge (`event_source`). Only an unknown site gets a new `forge:<installation>` tenant.
        """
        when = at or datetime.now(UTC)
        existing = self.find_forge_tenant(installation.installation_id, installation.cloud_id, installation.site_url,
                                          any_installation=True)
        target = existing or installation.client_key
        with self._sessions.begin() as session:  # an uninstalled tenant gives up the installation id it held
            session.execute(sa.update(TenantRow).where(
                TenantRow.installation_id == installation.installation_id, TenantRow.state == UNINSTALLED,
                TenantRow.client_key != target).values(installation_id=None))
        if existing is None or existing == installation.client_key:
            self.install_forge(
                installation.client_key,
                installation_id=installation.installation_id,
                base_url=installation.api_base_url,
                display_url=installation.site_url,
                cloud_id=installation.cloud_id,
                at=when,
            )
            return str(installation.client_key)
        with self._sessions.begin() as session:
            row = session.get(TenantRow, existing)
            assert row is not None
            row.installation_id = installation.installation_id
            row.cloud_id = row.cloud_id or installation.cloud_id
            row.platform, row.event_source, row.updated_at = FORGE, FORGE, when
        return existing

    # -- key rotation ------------------------------------------------------------------------

    def rotate_secrets(self) -> int:
        """Re-encrypt every stored secret under the current (first) key; returns how many."""
        count = 0
        with self._sessions.begin() as session:
            for row in session.scalars(
                sa.select(TenantRow).where(TenantRow.shared_secret_encrypted.is_not(None))
            ):
                assert row.shared_secret_encrypted is not None
                row.shared_secret_encrypted = self._secrets.rotate(row.shared_secret_encrypted)
                count += 1
            for token in session.scalars(sa.select(ForgeSystemTokenRow)):
                token.token_encrypted = self._secrets.rotate(token.token_encrypted)
                count += 1
        return count
