"""A tenant's outbound webhook URLs (named chat/page webhooks, the on-call webhook), encrypted at rest.

A policy's `chat` or `page` action names a webhook (`webhook: oncall-room`); the URL (whose path
is the secret: whoever has it can post into the room or page the on-call person) is kept
Fernet-encrypted under `tenant_settings.settings["chat_webhooks"][name]` with its host in clear
for display; the tenant's on-call webhook likewise under `settings["oncall_webhook"]`. Only the
worker's delivery decrypts them; settings JSON, the panel, the audit log, version diffs and
exports show the host at most. Every URL is checked when stored (`app.outbound.url_problem`:
https only unless the operator allows http for the host, no userinfo, no private literal address).
A page action's `url` in a saved document is moved here (`seal_document`) and replaced by its name.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from app.outbound import HostPort, url_problem
from app.policy.actions.chat import WEBHOOK_NAME, masked_host
from app.policy.actions.page import page_urls
from app.schemas.policy import PolicyDocumentError
from app.storage.crypto import SecretBox
from app.storage.policies import ONCALL_KEY, SETTINGS_KEY, SettingsError, TenantSettingsRow

#: Most named webhooks per tenant.
MAX_WEBHOOKS = 50
#: Name prefix of the webhooks a saved page action's `url` is moved into (`page-1`, `page-2`, …).
PAGE_NAME_PREFIX = "page-"


def check_webhook(name: str, url: str, allow_http: Collection[HostPort] = ()) -> str:
    """The webhook's host, or SettingsError naming what is wrong with the name or the URL."""
    problems: list[tuple[str, str]] = []
    if not isinstance(name, str) or not WEBHOOK_NAME.match(name):
        problems.append(("name", f'"{name}" is not a webhook name (letters, digits, _ . -)'))
    problem = url_problem(url, allow_http)
    if problem:
        problems.append(("url", problem))
    if problems:
        raise SettingsError(problems)
    return masked_host(url)


def sealed(secrets: SecretBox, url: str) -> dict[str, str]:
    """The stored form of `url`: its Fernet token and its host."""
    return {"token": secrets.encrypt(url), "host": masked_host(url)}


def seal_document(document: Mapping[str, Any], name_for: Callable[[int, str], str]) -> dict[str, Any]:
    """A copy of `document` whose page actions name `name_for(index, url)` instead of carrying `url`."""
    doc = copy.deepcopy(dict(document))
    for index, url in page_urls(document):
        params = {k: v for k, v in doc["actions"][index]["params"].items() if k != "url"}
        doc["actions"][index]["params"] = {**params, "webhook": name_for(index, url)}
    return doc


def place_url(hooks: dict[str, Any], url: str, decrypt: Callable[[str], str], encrypt: Callable[[str], dict[str, str]]) -> str:
    """The name under which `hooks` (changed in place) holds `url`: an existing one, else `page-N`."""
    for name, entry in hooks.items():
        if name.startswith(PAGE_NAME_PREFIX) and entry.get("token") and decrypt(str(entry["token"])) == url:
            return name
    number = 1
    while f"{PAGE_NAME_PREFIX}{number}" in hooks:
        number += 1
    hooks[f"{PAGE_NAME_PREFIX}{number}"] = encrypt(url)
    return f"{PAGE_NAME_PREFIX}{number}"


class ChatWebhooks:
    """Set, list (names and hosts), remove and resolve a tenant's webhooks; seal page URLs of documents."""

    def __init__(self, session_factory: sessionmaker[Session], secrets: SecretBox,
                 allow_http: Collection[HostPort] = ()) -> None:
        self._sessions = session_factory
        self._secrets = secrets
        self.allow_http = allow_http

    def set(self, tenant_key: str, name: str, url: str, *, by: str | None = None,
            at: datetime | None = None) -> str:
        """Store (or replace) webhook `name`; return its host."""
        host = check_webhook(name, url, self.allow_http)
        entry = sealed(self._secrets, url)
        self._update(tenant_key, lambda hooks: {**hooks, name: entry}, by, at)
        return host

    def remove(self, tenant_key: str, name: str, *, by: str | None = None, at: datetime | None = None) -> None:
        self._update(tenant_key, lambda hooks: {k: v for k, v in hooks.items() if k != name}, by, at)

    def hosts(self, tenant_key: str) -> dict[str, str]:
        """Name → host of each webhook (what may be shown)."""
        return {name: str(entry.get("host", "?")) for name, entry in self._settings(tenant_key).get(SETTINGS_KEY, {}).items()}

    def url(self, tenant_key: str, name: str) -> str | None:
        """The decrypted URL of webhook `name` (None when there is none by that name)."""
        entry = (self._settings(tenant_key).get(SETTINGS_KEY) or {}).get(name)
        return self._secrets.decrypt(str(entry["token"])) if entry and entry.get("token") else None

    def oncall_url(self, tenant_key: str) -> str | None:
        """The decrypted on-call webhook URL (None when the tenant has none)."""
        entry = self._settings(tenant_key).get(ONCALL_KEY)
        return self._secrets.decrypt(str(entry["token"])) if isinstance(entry, Mapping) and entry.get("token") else None

    def oncall_entry(self, url: str) -> dict[str, str]:
        """The stored form of a checked on-call URL (the settings form's save writes it)."""
        return sealed(self._secrets, url)

    def seal_document(self, tenant_key: str, document: Mapping[str, Any], *, by: str | None = None) -> dict[str, Any]:
        """`document` with each page action's `url` stored as a named webhook (PolicyDocumentError at
        `actions.N.params.url` for a URL the outbound rule refuses); unchanged when it has none."""
        urls = page_urls(document)
        if not urls:
            return dict(document)
        problems = [(f"actions.{i}.params.url", p) for i, url in urls if (p := url_problem(url, self.allow_http))]
        if problems:
            raise PolicyDocumentError(problems)
        names: dict[int, str] = {}

        def change(hooks: dict[str, Any]) -> dict[str, Any]:
            for index, url in urls:
                names[index] = place_url(hooks, url, self._secrets.decrypt, lambda u: sealed(self._secrets, u))
            return hooks

        self._update(tenant_key, change, by, None)
        return seal_document(document, lambda index, _url: names[index])

    def rotate_secrets(self) -> int:
        """Re-encrypt every tenant's webhook URLs under the current (first) key; returns how many."""
        count = 0
        with self._sessions.begin() as session:
            for row in session.scalars(sa.select(TenantSettingsRow)):
                data = dict(row.settings or {})
                hooks = {name: {**entry, "token": self._secrets.rotate(str(entry["token"]))} if entry.get("token") else entry
                         for name, entry in (data.get(SETTINGS_KEY) or {}).items()}
                count += sum(1 for entry in hooks.values() if entry.get("token"))
                oncall = data.get(ONCALL_KEY)
                if isinstance(oncall, Mapping) and oncall.get("token"):
                    data[ONCALL_KEY] = {**oncall, "token": self._secrets.rotate(str(oncall["token"]))}
                    count += 1
                if hooks:
                    data[SETTINGS_KEY] = hooks
                row.settings = data
        return count

    def _settings(self, tenant_key: str) -> Mapping[str, Any]:
        with self._sessions() as session:
            row = session.get(TenantSettingsRow, tenant_key)
            return dict(row.settings or {}) if row is not None else {}

    def _update(self, tenant_key: str, change: Any, by: str | None, at: datetime | None) -> None:
        now = at or datetime.now(UTC)
        with self._sessions() as session, session.begin():
            row = session.get(TenantSettingsRow, tenant_key, with_for_update=True)
            if row is None:
                row = TenantSettingsRow(client_key=tenant_key, settings={}, updated_at=now, updated_by=by)
                session.add(row)
            hooks = change(dict((row.settings or {}).get(SETTINGS_KEY) or {}))
            if len(hooks) > MAX_WEBHOOKS:
                raise SettingsError([(SETTINGS_KEY, f"at most {MAX_WEBHOOKS} webhooks")])
            row.settings = {**(row.settings or {}), SETTINGS_KEY: hooks}
            row.updated_at, row.updated_by = now, by
