"""Policy versions and tenant settings in the database (SQLite, and PostgreSQL where available)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from app.bootstrap import Services
from app.schemas.policy import PolicyDocumentError
from app.schemas.presets import preset_document
from app.settings import Settings
from app.storage.db import migrate
from app.storage.policies import DEFAULT_PRESET, PolicyConflict, PolicyStore, SettingsError


@pytest.fixture
def svc(settings: Settings, database_url: str) -> Iterator[Services]:
    services = Services(dataclasses.replace(settings, database_url=database_url))
    migrate(services.engine)
    yield services
    services.close()


@pytest.fixture
def tenant(svc: Services) -> str:
    key = f"t-{uuid.uuid4().hex[:8]}"
    svc.tenants.install(key, shared_secret="s" * 32, base_url="https://acme.atlassian.net", at=datetime.now(UTC))
    return key


@pytest.fixture
def store(svc: Services) -> PolicyStore:
    return PolicyStore(svc.session_factory, svc.webhooks)


def test_a_tenant_without_a_saved_policy_runs_on_the_default_preset(store: PolicyStore, tenant: str) -> None:
    assert store.active(tenant) is None
    effective = store.effective(tenant)
    assert effective.is_default and effective.number == 0
    assert effective.document["id"] == DEFAULT_PRESET


def test_saving_numbers_versions_and_the_newest_is_active(store: PolicyStore, tenant: str) -> None:
    doc = preset_document("mulesight")
    v1 = store.save(tenant, doc, "557058:admin", "first")
    doc["tiers"]["standard"]["sev1"]["first_response"] = "4h on melbourne"
    v2 = store.save(tenant, doc, "557058:admin", "faster sev1")
    assert (v1.number, v2.number) == (1, 2)
    active = store.active(tenant)
    assert active is not None and active.id == v2.id
    assert active.document["tiers"]["standard"]["sev1"]["first_response"] == "4h on melbourne"
    assert [v.number for v in store.history(tenant)] == [2, 1]
    # v1 is immutable: changing the caller's dict after saving changed nothing stored
    old = store.get(tenant, v1.id)  # type: ignore[arg-type]
    assert old is not None and old.document["tiers"]["standard"]["sev1"]["first_response"] == "8h on melbourne"
    assert old.created_by == "557058:admin" and old.note == "first"


def test_an_invalid_document_is_not_saved(store: PolicyStore, tenant: str) -> None:
    doc = preset_document("communardo")
    doc["tiers"]["standard"]["sev1"]["first_response"] = "4x on dresden"
    with pytest.raises(PolicyDocumentError) as caught:
        store.save(tenant, doc, None)
    assert ("tiers.standard.sev1.first_response.duration", '"4x" is not a duration') in caught.value.errors
    assert store.history(tenant) == []


def test_rollback_creates_a_new_version_with_the_old_document(store: PolicyStore, tenant: str) -> None:
    v1 = store.save(tenant, preset_document("communardo"), None)
    store.save(tenant, preset_document("connectsoft"), None)
    v3 = store.rollback(tenant, v1.id, "557058:admin")  # type: ignore[arg-type]
    assert v3.number == 3 and v3.document["id"] == "communardo"
    assert "rollback to version 1" in v3.note
    assert store.active(tenant).id == v3.id  # type: ignore[union-attr]


def test_versions_are_private_to_their_tenant(store: PolicyStore, svc: Services, tenant: str) -> None:
    other = f"t-{uuid.uuid4().hex[:8]}"
    svc.tenants.install(other, shared_secret="s" * 32, base_url="https://globex.atlassian.net", at=datetime.now(UTC))
    mine = store.save(tenant, preset_document("communardo"), None)
    assert store.get(other, mine.id) is None  # type: ignore[arg-type]
    with pytest.raises(KeyError):
        store.rollback(other, mine.id, None)  # type: ignore[arg-type]
    assert store.active(other) is None


def test_settings_round_trip_and_are_validated(store: PolicyStore, tenant: str) -> None:
    assert store.get_settings(tenant).field_bindings == {}
    saved = store.save_settings(
        tenant,
        {"field_bindings": {"first_response_due": "customfield_10100", "tier": "customfield_10103", "severity": ""},
         "oncall_webhook_url": "https://oncall.example/hook"},
        "557058:admin",
    )
    assert dict(saved.field_bindings) == {"first_response_due": "customfield_10100", "tier": "customfield_10103"}
    again = store.get_settings(tenant)
    assert dict(again.field_bindings) == dict(saved.field_bindings)
    assert again.oncall_webhook_host == "oncall.example" and again.updated_by == "557058:admin"
    with pytest.raises(SettingsError) as caught:
        store.save_settings(tenant, {"field_bindings": {"resolution_due": "not a field!", "colour": "x"},
                                     "oncall_webhook_url": "ftp://x"}, None)
    paths = [p for p, _ in caught.value.errors]
    assert paths == ["field_bindings.resolution_due", "field_bindings.colour", "oncall_webhook_url"]
    assert store.get_settings(tenant).oncall_webhook_host == "oncall.example"


def test_a_save_based_on_an_older_version_conflicts(store: PolicyStore, tenant: str) -> None:
    doc = preset_document("communardo")
    v1 = store.save(tenant, doc, "alice", base=0)
    v2 = store.save(tenant, doc, "bob", "second", base=v1.number)
    with pytest.raises(PolicyConflict) as caught:
        store.save(tenant, doc, "carol", base=v1.number)
    assert caught.value.current == v2 and caught.value.base == 1
    with pytest.raises(PolicyConflict):
        store.save(tenant, doc, "carol", base=0)  # the built-in default is no longer what is active
    assert store.active(tenant) == v2
    assert store.save(tenant, doc, "carol").number == 3  # no base: no check (the API's callers without a draft)
