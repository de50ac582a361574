"""One event source per site: once a site's events come through Forge, its Connect webhooks are dropped."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from test_webhooks import Site, _event, _make_site

from app.forge.installations import ForgeInstallation
from app.settings import Settings
from app.web.services import services

INSTALLATION = "ari:cloud:ecosystem::installation/0a3a7799-53ae-4a5b-9e7e-03338980abb5"


@pytest.fixture
def site(settings: Settings, redis_url: str) -> Iterator[Site]:
    yield from _make_site(settings, redis_url)


def _upgrade_to_forge(site: Site) -> None:
    with site.app.app_context():
        tenants = services().tenants
        tenants.install(site.client_key, shared_secret=site.secret, base_url="https://site.atlassian.net",
                        installation_id=INSTALLATION, at=datetime.now(UTC))
        key = tenants.upsert_forge_installation(ForgeInstallation(
            client_key="forge:" + INSTALLATION.rsplit("/", 1)[-1], installation_id=INSTALLATION,
            api_base_url="https://api.atlassian.com/ex/jira/d0d52620-3203-4cfa-8db5-f2587155f0dd",
            cloud_id=None, site_url=None, environment_id=None, installer_account_id=None))
    assert key == site.client_key


def test_connect_webhooks_of_a_site_on_forge_are_acknowledged_and_dropped(site: Site) -> None:
    assert site.post(_event(), delivery="before").status_code == 204
    assert site.queued() == 1
    _upgrade_to_forge(site)
    # The web process trusts its tenant cache for 30 s; a fresh process (or the cache's expiry) sees the move.
    from app.web import webhooks

    webhooks._tenants.forget(site.client_key)  # noqa: SLF001 - stands for the cache's expiry
    answer = site.post(_event(), delivery="after")
    assert answer.status_code == 204 and site.queued() == 1
    # Still verified first: a forged webhook is refused, not silently accepted.
    assert site.post(_event(), secret="not-the-secret-0123456789-0123456789-xyz").status_code == 401
