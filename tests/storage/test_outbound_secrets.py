"""Outbound webhook URLs at rest: encrypted in the settings, named in policy versions, moved by 0007.

On SQLite and PostgreSQL (the root `database_url`); the SQLite file's bytes are searched for the
secret to prove nothing stays in clear.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.schemas.policy import PolicyDocumentError
from app.schemas.presets import preset_document
from app.storage.chat_webhooks import ChatWebhooks
from app.storage.crypto import SecretBox
from app.storage.db import make_engine, make_session_factory, migrate
from app.storage.policies import PolicyStore, SettingsError
from app.storage.tenants import TenantStore

SECRET = "s3cr3tT0ken"
PAGE_URL = f"https://pager.example/v1/alerts?token={SECRET}"
ONCALL_URL = f"https://oncall.example/hook/{SECRET}"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _install(engine: Engine, secrets: SecretBox, key: str = "tenant-a") -> str:
    TenantStore(make_session_factory(engine), secrets).install(key, shared_secret="s" * 32,
                                                               base_url="https://acme.atlassian.net", at=T0)
    return key


def _stores(engine: Engine, secrets: SecretBox) -> tuple[PolicyStore, ChatWebhooks]:
    hooks = ChatWebhooks(make_session_factory(engine), secrets)
    return PolicyStore(make_session_factory(engine), hooks), hooks


def _clear_text_anywhere(engine: Engine) -> bool:
    """Whether SECRET appears in any column of any table (and, on SQLite, in the file's bytes)."""
    with engine.connect() as conn:
        for table in sa.inspect(engine).get_table_names():
            for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')):
                if SECRET in repr(tuple(row)):
                    return True
    database = engine.url.database
    if engine.url.get_backend_name() == "sqlite" and database:
        return any(SECRET.encode() in p.read_bytes() for p in Path(database).parent.glob(Path(database).name + "*"))
    return False


def _page_policy(url: str) -> dict:
    doc = preset_document("communardo")
    doc["actions"] = [{"on": "breach", "kind": "note"}, {"on": "breach", "kind": "page", "params": {"url": url}}]
    return doc


def test_the_on_call_url_is_stored_encrypted_and_shown_masked(engine: Engine, secrets: SecretBox) -> None:
    tenant = _install(engine, secrets)
    store, hooks = _stores(engine, secrets)
    shown = store.save_settings(tenant, {"field_bindings": {}, "oncall_webhook_url": ONCALL_URL}, "admin").as_json()
    assert shown["oncall_webhook_url"] == "https://oncall.example/…" and shown["oncall_webhook"] == {"host": "oncall.example"}
    assert SECRET not in repr(shown) and hooks.oncall_url(tenant) == ONCALL_URL
    assert not _clear_text_anywhere(engine)
    # The form sends the masked value back (or leaves the key out): the stored URL stays.
    store.save_settings(tenant, {"field_bindings": {}, "oncall_webhook_url": shown["oncall_webhook_url"]}, "admin")
    store.save_settings(tenant, {"field_bindings": {}}, "admin")
    assert hooks.oncall_url(tenant) == ONCALL_URL
    store.save_settings(tenant, {"field_bindings": {}, "oncall_webhook_url": None}, "admin")  # cleared
    assert hooks.oncall_url(tenant) is None and store.get_settings(tenant).oncall_webhook_host is None


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "https://127.0.0.1/x", "https://[::1]/x",
                                 "https://0x7f000001/x", "https://127.1/x", "https://10.0.0.5/x", "file:///etc/passwd",
                                 "gopher://localhost:6379/_x", "not a url", "https://u:p@oncall.example/x",
                                 "http://oncall.example/x"])
def test_an_on_call_url_that_could_reach_inside_is_refused_at_its_field(
        engine: Engine, secrets: SecretBox, url: str) -> None:
    tenant = _install(engine, secrets)
    store, hooks = _stores(engine, secrets)
    with pytest.raises(SettingsError) as caught:
        store.save_settings(tenant, {"field_bindings": {}, "oncall_webhook_url": url}, "admin")
    assert [p for p, _ in caught.value.errors] == ["oncall_webhook_url"]
    with pytest.raises(SettingsError) as named:
        hooks.set(tenant, "room", url)
    assert [p for p, _ in named.value.errors] == ["url"]


def test_http_is_accepted_only_for_a_host_the_operator_lists(engine: Engine, secrets: SecretBox) -> None:
    tenant = _install(engine, secrets)
    hooks = ChatWebhooks(make_session_factory(engine), secrets, (("127.0.0.1", 5001),))
    store = PolicyStore(make_session_factory(engine), hooks)
    store.save_settings(tenant, {"oncall_webhook_url": "http://127.0.0.1:5001/page"}, "admin")
    assert hooks.oncall_url(tenant) == "http://127.0.0.1:5001/page"
    with pytest.raises(SettingsError):
        store.save_settings(tenant, {"oncall_webhook_url": "http://127.0.0.1:5002/page"}, "admin")


def test_a_saved_page_url_moves_into_a_named_encrypted_webhook(engine: Engine, secrets: SecretBox) -> None:
    tenant = _install(engine, secrets)
    store, hooks = _stores(engine, secrets)
    version = store.save(tenant, _page_policy(PAGE_URL), "admin")
    assert version.document["actions"][1]["params"] == {"webhook": "page-1"}
    assert hooks.url(tenant, "page-1") == PAGE_URL and hooks.hosts(tenant) == {"page-1": "pager.example"}
    again = store.save(tenant, _page_policy(PAGE_URL), "admin")  # the same URL: the same webhook
    assert again.document["actions"][1]["params"] == {"webhook": "page-1"} and len(hooks.hosts(tenant)) == 1
    assert SECRET not in repr([dict(v.document) for v in store.history(tenant)])
    assert not _clear_text_anywhere(engine)


@pytest.mark.parametrize("url", ["https://169.254.169.254/x", "http://pager.example/x", "https://[::ffff:10.0.0.1]/x"])
def test_a_page_url_the_outbound_rule_refuses_is_not_saved(engine: Engine, secrets: SecretBox, url: str) -> None:
    tenant = _install(engine, secrets)
    store, hooks = _stores(engine, secrets)
    with pytest.raises(PolicyDocumentError) as caught:
        store.save(tenant, _page_policy(url), "admin")
    assert [p for p, _ in caught.value.errors] == ["actions.1.params.url"]
    assert store.active(tenant) is None and hooks.hosts(tenant) == {}


def test_migration_0007_moves_clear_urls_out_of_every_table(empty_url: str, secrets: SecretBox) -> None:
    """A database written by the previous release: on-call URL in settings, a page `url` in two
    versions, a pending page and its audit entries in clear. After 0007 none is left in clear."""
    engine = make_engine(empty_url)
    try:
        migrate(engine, "0006_next_deadline")  # the release before 0007
        tenant = _install(engine, secrets)
        meta = sa.MetaData()
        settings, versions, outbox, audit = (sa.Table(n, meta, autoload_with=engine)
                                             for n in ("tenant_settings", "policy_versions", "outbox", "audit_log"))
        with engine.begin() as conn:
            conn.execute(settings.insert().values(client_key=tenant, updated_at=T0, settings={
                "field_bindings": {}, "oncall_webhook_url": ONCALL_URL}))
            for number in (1, 2):
                conn.execute(versions.insert().values(client_key=tenant, number=number, document=_page_policy(PAGE_URL),
                                                      created_at=T0, created_by="admin", note=""))
            for seq, url in enumerate((PAGE_URL, ONCALL_URL)):
                conn.execute(outbox.insert().values(client_key=tenant, issue_id="1", event_id="e1", seq=seq, kind="page",
                                                    payload={"url": url, "body": {"ticket": "SUP-1"}}, why={},
                                                    state="pending", attempts=0, created_at=T0, updated_at=T0))
            conn.execute(audit.insert().values(client_key=tenant, issue_id="1", at=T0, action="page_refused",
                                               detail={"url": PAGE_URL, "status": 404, "rule": "r"}))
            conn.execute(audit.insert().values(client_key=tenant, issue_id="1", at=T0, action="gave_up", detail={
                "intent": "page", "error": f"on-call webhook answered 403 at {PAGE_URL}", "status": 403}))
        assert _clear_text_anywhere(engine)

        migrate(engine, secrets=secrets)

        assert not _clear_text_anywhere(engine)
        store, hooks = _stores(engine, secrets)
        assert hooks.oncall_url(tenant) == ONCALL_URL and hooks.url(tenant, "page-1") == PAGE_URL
        assert [v.document["actions"][1]["params"] for v in store.history(tenant)] == [{"webhook": "page-1"}] * 2
        with engine.connect() as conn:
            payloads = [r.payload for r in conn.execute(sa.select(outbox).order_by(outbox.c.seq))]
            entries = {r.action: r.detail for r in conn.execute(sa.select(audit))}
        assert payloads == [{"webhook": "page-1", "body": {"ticket": "SUP-1"}}, {"oncall": True, "body": {"ticket": "SUP-1"}}]
        assert entries == {"page_failed": {"rule": "r"}, "gave_up": {"intent": "page", "error": "page failed"}}
    finally:
        engine.dispose()


def test_rotating_the_key_re_encrypts_the_webhook_urls(engine: Engine, secrets: SecretBox, secret_key: str) -> None:
    tenant = _install(engine, secrets)
    store, hooks = _stores(engine, secrets)
    store.save_settings(tenant, {"oncall_webhook_url": ONCALL_URL}, "admin")
    hooks.set(tenant, "room", PAGE_URL)
    both = SecretBox(["the new key", secret_key])
    assert ChatWebhooks(make_session_factory(engine), both).rotate_secrets() == 2
    new_only = ChatWebhooks(make_session_factory(engine), SecretBox(["the new key"]))
    assert new_only.oncall_url(tenant) == ONCALL_URL and new_only.url(tenant, "room") == PAGE_URL
