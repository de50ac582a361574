"""The worker's services: one `Services` per process, built from the environment on first use.

Jobs call `services()` for stores and the queue, and `jira_for(tenant)` for the Jira door.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from app.bootstrap import Services
from app.settings import Settings

if TYPE_CHECKING:
    from app.jira.client import JiraGateway
    from app.storage.tenants import Tenant

_services: Services | None = None
_lock = threading.Lock()


def services() -> Services:
    """The process-wide services (settings from the environment)."""
    global _services
    with _lock:
        if _services is None:
            _services = Services(Settings.from_env())
        return _services


def set_services(replacement: Services | None) -> None:
    """Use `replacement` for this process (tests; None rebuilds from the environment on next use)."""
    global _services
    with _lock:
        _services = replacement


def jira_for(tenant: Tenant, now: datetime | None = None) -> JiraGateway:
    """The Jira door for `tenant`: Connect JWT, or (Forge) the stored system token if still fresh.

    Raises `app.forge.errors.ForgeTokenExpired` when a Forge tenant has no fresh token (retry later).
    """
    from app.jira.client import client_for

    svc = services()
    if tenant.platform == "forge":
        from app.forge.system_token import fresh_system_token

        token = fresh_system_token(
            svc.system_tokens, tenant.installation_id or "", now=now or datetime.now(UTC)
        )
        return client_for(tenant, svc.settings, system_token=token)
    return client_for(tenant, svc.settings)
