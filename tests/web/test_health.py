"""`GET /healthz`: 200 with the database and Redis reachable, 503 naming what is not."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from app import create_app
from app.settings import Settings
from app.web.services import services_of


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 where nothing listens (bound, never listening, so nobody takes it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def _health(env: dict[str, str]) -> tuple[int, dict[str, str]]:
    app = create_app(Settings.from_env(env))
    try:
        response = app.test_client().get("/healthz")
        return response.status_code, response.get_json()
    finally:
        services_of(app).close()  # stops the embedded Redis the check started


def test_healthy_on_the_embedded_defaults(tmp_path: Path) -> None:
    status, body = _health({"TIERWISE_INSTANCE_DIR": str(tmp_path / "instance")})
    assert (status, body) == (200, {"status": "ok", "database": "ok", "redis": "ok"})


def test_healthy_on_the_given_database_and_redis(database_url: str, redis_url: str, tmp_path: Path) -> None:
    env = {"TIERWISE_INSTANCE_DIR": str(tmp_path), "DATABASE_URL": database_url, "REDIS_URL": redis_url}
    assert _health(env) == (200, {"status": "ok", "database": "ok", "redis": "ok"})


def test_unreachable_redis_is_named(tmp_path: Path, closed_port: int) -> None:
    env = {"TIERWISE_INSTANCE_DIR": str(tmp_path), "REDIS_URL": f"redis://127.0.0.1:{closed_port}/0"}
    assert _health(env) == (503, {"status": "unavailable", "database": "ok", "redis": "unreachable"})


def test_unreachable_database_and_redis_are_both_named(tmp_path: Path, closed_port: int) -> None:
    env = {
        "TIERWISE_INSTANCE_DIR": str(tmp_path),
        "DATABASE_URL": f"postgresql://tierwise@127.0.0.1:{closed_port}/tierwise",
        "REDIS_URL": f"redis://127.0.0.1:{closed_port}/0",
    }
    assert _health(env) == (503, {"status": "unavailable", "database": "unreachable", "redis": "unreachable"})
