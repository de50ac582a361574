"""Forge installations as Tierwise tenants: the tenant key, and the port to the tenant store.

Decision: a Forge tenant's key (the `client_key` every other part uses) is
`forge:<installation uuid>`, from the FIT's `app.installationId`
(`ari:cloud:ecosystem::installation/<uuid>`). The installation id is in every FIT (events,
lifecycle, UI calls) while `context.cloudId` is not, and it is what Atlassian says remote storage
should be keyed by. It changes when the app is reinstalled, so a reinstall starts a new tenant
(like a Connect reinstall after uninstall + purge); the cloud id is kept beside it to find the
site's earlier tenant if data ever needs recovering. The `forge:` prefix cannot collide with a
Connect clientKey (a UUID without a colon).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Protocol

#: Prefix of every Forge tenant key.
FORGE_CLIENT_KEY_PREFIX = "forge:"
#: `https://api.atlassian.com/ex/jira/<cloudId>`: the cloud id is the last path segment.
_API_BASE = re.compile(r"^https://[^/]+/ex/jira/([0-9a-fA-F-]{36})/?$")


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

    def is_installed(self, client_key: str) -> bool:
        """True when the tenant exists and is installed (not uninstalled)."""
        ...

    def upsert_forge_installation(self, installation: ForgeInstallation) -> None:
        """Create the tenant, or update it (api base URL, site) on a repeated installed event."""
        ...


class InMemoryForgeTenants:
    """`ForgeTenants` in a dict, for tests and the development server."""

    def __init__(self) -> None:
        self.installations: dict[str, ForgeInstallation] = {}
        self._lock = threading.Lock()

    def is_installed(self, client_key: str) -> bool:
        with self._lock:
            return client_key in self.installations

    def upsert_forge_installation(self, installation: ForgeInstallation) -> None:
        with self._lock:
            self.installations[installation.client_key] = installation
