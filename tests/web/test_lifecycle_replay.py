"""A replayed `installed` changes nothing (issue #14, point 6): over HTTP, with validly signed old tokens.

The attack: keep a signed `installed` (its token is valid for minutes, Atlassian's keys for years) and
post it again after the app was uninstalled (to resurrect the tenant) or after a reinstall (to put
back the old shared secret, so Jira's real webhooks then fail). Both answer 204 and are audited.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from connect_testkit import new_client_key, now
from flask import Flask
from flask.testing import FlaskClient
from test_web_lifecycle import state_event

from app.storage.audit import AuditLog
from app.storage.tenants import TenantStore
from app.web.lifecycle import TENANT_AUDIT

OLD, NEW = "old-secret-" + "o" * 30, "new-secret-" + "n" * 30


def _audit(flask_app: Flask, key: str) -> list[str]:
    entries = AuditLog(flask_app.extensions["tierwise"].session_factory).recent(key, TENANT_AUDIT, 10)
    return [e.action for e in entries]


def test_replayed_install_after_uninstall_does_not_resurrect(install: Callable[..., Any], store: TenantStore,
                                                             flask_app: Flask) -> None:
    key = new_client_key()
    signed = now() - timedelta(seconds=60)
    assert install(key, OLD, at=signed).status_code == 204
    assert install(key, event="uninstalled", at=signed + timedelta(seconds=10)).status_code == 204
    assert install(key, OLD, at=signed).status_code == 204  # the replay: answered as Jira expects
    tenant = store.get(key)
    assert tenant is not None and tenant.state == "uninstalled"
    assert _audit(flask_app, key) == ["stale_install_ignored"]


def test_replayed_install_after_reinstall_keeps_the_new_secret(install: Callable[..., Any], store: TenantStore,
                                                               client: FlaskClient, flask_app: Flask) -> None:
    key = new_client_key()
    first = now() - timedelta(seconds=60)
    assert install(key, OLD, at=first).status_code == 204
    assert install(key, NEW, at=first + timedelta(seconds=20)).status_code == 204
    assert install(key, OLD, at=first).status_code == 204
    assert store.get(key).shared_secret == NEW  # type: ignore[union-attr]
    assert state_event(client, key, NEW, "enabled").status_code == 204  # Jira's real events still verify
    assert state_event(client, key, OLD, "enabled").status_code == 401
    assert _audit(flask_app, key) == ["stale_install_ignored"]


def test_install_signed_before_a_disable_changes_nothing(install: Callable[..., Any], store: TenantStore,
                                                         client: FlaskClient) -> None:
    key = new_client_key()
    first = now() - timedelta(seconds=60)
    assert install(key, OLD, at=first).status_code == 204
    assert state_event(client, key, OLD, "disabled", at=first + timedelta(seconds=30)).status_code == 204
    assert install(key, NEW, at=first + timedelta(seconds=10)).status_code == 204
    tenant = store.get(key)
    assert tenant is not None and (tenant.state, tenant.shared_secret) == ("disabled", OLD)


def test_a_newer_reinstall_still_applies(install: Callable[..., Any], store: TenantStore) -> None:
    key = new_client_key()
    first = now() - timedelta(seconds=60)
    assert install(key, OLD, at=first).status_code == 204
    assert install(key, event="uninstalled", at=first + timedelta(seconds=10)).status_code == 204
    assert install(key, NEW, at=first + timedelta(seconds=20)).status_code == 204
    tenant = store.get(key)
    assert tenant is not None and (tenant.state, tenant.shared_secret) == ("installed", NEW)
