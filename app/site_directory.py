"""The few Jira reads the app's pages need (is this user an admin, which fields and statuses exist).

The web layer may not import the Jira gateway (import-linter); this composition-root helper does,
and answers in plain values with small TTL caches so a page's API calls cost one Jira round trip
per site every few minutes, not one per request.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from app.jira.client import JiraGateway, client_for
from app.jira.errors import JiraBadRequest, JiraError, JiraNotFound
from app.ttl_cache import TtlCache

if TYPE_CHECKING:
    from app.bootstrap import Services
    from app.storage.tenants import Tenant

T = TypeVar("T")

#: Seconds an admin check is trusted (a revoked admin loses access within this time).
ADMIN_TTL_S = 180.0
#: Seconds the site's field and status lists are reused.
SITE_LISTS_TTL_S = 300.0
#: Most entries a cache holds before it is cleared (bounded memory on a busy multi-tenant web node).
MAX_ENTRIES = 10_000
#: The global permission that makes a user a Jira administrator.
ADMINISTER = "ADMINISTER"


class SiteDirectoryError(Exception):
    """Jira could not answer (unreachable, refused, rate-limited): the page should say so."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class SiteDirectory:
    """Cached answers about a tenant's Jira site."""

    def __init__(self, services: Services, clock: Callable[[], float] = time.monotonic) -> None:
        self._services = services
        self._admins = TtlCache(ADMIN_TTL_S, clock, max_entries=MAX_ENTRIES)
        self._lists = TtlCache(SITE_LISTS_TTL_S, clock, max_entries=MAX_ENTRIES)

    def _gateway(self, tenant: Tenant) -> JiraGateway:
        token = None
        if tenant.platform == "forge" and tenant.installation_id:
            token = self._services.system_tokens.load_system_token(tenant.installation_id)
        try:
            return client_for(tenant, self._services.settings, system_token=token)
        except JiraError as exc:
            raise SiteDirectoryError(str(exc), exc.status) from exc

    def _ask(self, tenant: Tenant, call: Callable[[JiraGateway], T]) -> T:
        try:
            return call(self._gateway(tenant))
        except JiraError as exc:
            raise SiteDirectoryError(str(exc), exc.status) from exc

    def is_admin(self, tenant: Tenant, account_id: str | None) -> bool:
        """True when `account_id` holds Jira's Administer permission on the tenant's site."""
        if not account_id:
            return False
        return self._admins.get_or_load(
            (tenant.client_key, account_id),
            lambda: self._ask(tenant, lambda jira: jira.has_permission(account_id, ADMINISTER)),
        )

    def fields(self, tenant: Tenant) -> list[dict[str, Any]]:
        """The site's fields as `{"id", "name", "custom", "type"}`, by name."""

        def load() -> list[dict[str, Any]]:
            raw = self._ask(tenant, lambda jira: jira.get_fields())
            found = [
                {
                    "id": str(f.get("id")),
                    "name": str(f.get("name") or f.get("id")),
                    "custom": bool(f.get("custom")),
                    "type": str((f.get("schema") or {}).get("type") or ""),
                }
                for f in raw
                if f.get("id")
            ]
            return sorted(found, key=lambda f: (f["name"].casefold(), f["id"]))

        return self._lists.get_or_load((tenant.client_key, "fields"), load)

    def field_options(self, tenant: Tenant, field_id: str) -> list[dict[str, Any]]:
        """The values a custom select field offers, as `{"id", "value", "disabled"}` in Jira's order.

        Empty for system fields and for custom fields without options (text, number, date…).
        """
        if not field_id.startswith("customfield_"):
            return []

        def load() -> list[dict[str, Any]]:
            try:
                return self._ask(tenant, lambda jira: jira.get_field_options(field_id))
            except SiteDirectoryError as exc:
                if isinstance(exc.__cause__, JiraBadRequest | JiraNotFound):
                    return []  # not a select field, or gone from the site
                raise

        return self._lists.get_or_load((tenant.client_key, "options", field_id), load)

    def statuses(self, tenant: Tenant) -> list[dict[str, Any]]:
        """The site's workflow statuses as `{"id", "name", "category"}` (category key: new, indeterminate, done)."""

        def load() -> list[dict[str, Any]]:
            raw = self._ask(tenant, lambda jira: jira.get_statuses())
            seen: dict[str, dict[str, Any]] = {}
            for s in raw:
                name = str(s.get("name") or "")
                if name and name.casefold() not in seen:
                    seen[name.casefold()] = {
                        "id": str(s.get("id") or ""),
                        "name": name,
                        "category": str((s.get("statusCategory") or {}).get("key") or ""),
                    }
            return sorted(seen.values(), key=lambda s: s["name"].casefold())

        return self._lists.get_or_load((tenant.client_key, "statuses"), load)

    def forget(self) -> None:
        """Drop every cached answer."""
        self._admins.clear()
        self._lists.clear()
