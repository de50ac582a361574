"""Storage fixtures: a freshly migrated database per test (a new schema on PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from app.storage.crypto import SecretBox
from app.storage.db import make_engine, make_session_factory, migrate
from app.storage.tenants import TenantStore

#: A Fernet key used by storage tests (TIERWISE_SECRET_KEY in production).
TEST_KEY = "q6aYb4V2o2Yq3wqzq7sM2s6WJ9yq1Yx0c1Jt0a0v1pQ="


@pytest.fixture
def empty_url(database_url: str) -> str:
    """An empty database (the root `database_url` gives each test its own file or schema)."""
    return database_url


@pytest.fixture
def engine(empty_url: str) -> Iterator[Engine]:
    """A migrated engine on an empty database."""
    eng = make_engine(empty_url)
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def secret_key() -> str:
    return TEST_KEY


@pytest.fixture
def secrets(secret_key: str) -> SecretBox:
    return SecretBox([secret_key])


@pytest.fixture
def store(engine: Engine, secrets: SecretBox) -> TenantStore:
    return TenantStore(make_session_factory(engine), secrets)
