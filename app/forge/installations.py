"""Forge installations as Tierwise tenants: one tenant per site, whichever door it came through.

Every FIT names its installation (`app.installationId`, `ari:cloud:ecosystem::installation/<uuid>`).
A site installed through Connect already has a tenant (keyed by its clientKey) and, since Connect's
`installed` payload carries the same `installationId`, that tenant is found by it: upgrading the
Connect app to the Forge app (`app.connect.key` in the manifest) keeps the tenant, its policy,
tickets, timers and audit. A Connect tenant recorded before installation ids were stored is found by
the site (`context.cloudId`, else the site URL) as long as no installation is tied to it yet. Only a
site Tierwise has never seen gets a new tenant, keyed `forge:<installation uuid>` (the `forge:`
prefix cannot collide with a Connect clientKey, a UUID without a colon).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Protocol

#: Prefix of every Forge tenant key.
FORGE_CLIENT_KEY_PREFIX = "forge:"
#: `https://api.atlassian.com/ex/jira/<cloudId>`: the cloud id is the last path segment.
_API_BASE = re.compile(r"^https?://[^/]+/ex/jira/([0-9a-fA-F-]{36})/?$")


def client_key_for(installation_id: str) -> str:
    """The tenant key of an installation (ARI or bare UUID)."""
    uuid = installation_id.rsplit("/", 1)[-1].strip()
    if not uuid:
        raise ValueError(f"{installation_id!r} is not an installation id")
    return FORGE_CLIENT_KEY_PREFIX + uuid


def cloud_id_from_api_base_url(api_base_url: str) -> str | None:
    """The site's cloud id, read from a Jira `apiBaseUrl`; None for other shapes."""
    match = _API_BASE.match(api_base_url)
    return match.group(1) if match else None


@dataclass(frozen=True)
class ForgeInstallation:
    """What Tierwise records about a Forge installation when the installed event arrives."""

    client_key: str
    installation_id: str
    api_base_url: str
    cloud_id: str | None
    site_url: str | None
    environment_id: str | None
    installer_account_id: str | None


class ForgeTenants(Protocol):
    """The part of the tenant store the Forge front door needs."""

    def find_forge_tenant(self, installation_id: str, cloud_id: str | None, site_url: str | None) -> str | None:
        """The key of the active tenant of this installation (or of its site, if none is tied yet)."""
        ...

    def upsert_forge_installation(self, installation: ForgeInstallation) -> str:
        """Record the installation on the site's tenant (a new one for an unknown site); its key."""
        ...


class InMemoryForgeTenants:
    """`ForgeTenants` in a dict, for tests and the development server (tenant key → installation)."""

    def __init__(self) -> None:
        self.installations: dict[str, ForgeInstallation] = {}
        self._lock = threading.Lock()

    def find_forge_tenant(self, installation_id: str, cloud_id: str | None, site_url: str | None) -> str | None:
        with self._lock:
            found = [k for k, i in self.installations.items() if i.installation_id == installation_id]
            return found[0] if found else None

    def upsert_forge_installation(self, installation: ForgeInstallation) -> str:
        with self._lock:
            self.installations[installation.client_key] = installation
            return installation.client_key
