"""`tierwise migrate | purge | worker | rotate-secrets` through click's runner."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner
from rq import Queue
from rq.registry import FinishedJobRegistry, ScheduledJobRegistry

from app.bootstrap import Services
from app.cli import main
from app.settings import Settings
from app.storage.db import current_revision, make_engine
from jobs import bootstrap


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    values = {"TIERWISE_INSTANCE_DIR": str(tmp_path / "instance"), "LOG_FORMAT": "text"}
    for name in ("DATABASE_URL", "REDIS_URL", "TIERWISE_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    bootstrap.set_services(None)
    yield values
    bootstrap.set_services(None)


def _services(env: dict[str, str]) -> Services:
    return Services(Settings.from_env(env))


def test_migrate_creates_the_embedded_database_at_head(runner: CliRunner, env: dict[str, str]) -> None:
    result = runner.invoke(main, ["migrate"])
    assert result.exit_code == 0, result.output
    db = Path(env["TIERWISE_INSTANCE_DIR"]) / "tierwise.db"
    engine = make_engine(f"sqlite:///{db}")
    assert current_revision(engine) is not None
    assert f"database at revision {current_revision(engine)}" in result.output
    engine.dispose()


def test_migrate_on_database_url(runner: CliRunner, env: dict[str, str], database_url: str,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    result = runner.invoke(main, ["migrate"])
    assert result.exit_code == 0, result.output
    engine = make_engine(Settings.from_env().effective_database_url)
    assert current_revision(engine) is not None
    engine.dispose()


def test_purge_runs_inline_and_reports_the_count(runner: CliRunner, env: dict[str, str]) -> None:
    services = _services(env)
    now = datetime.now(UTC)
    services.tenants.install("old", shared_secret="x" * 16, base_url="https://old.atlassian.net",
                             at=now - timedelta(days=90))
    services.tenants.uninstall("old", now - timedelta(days=45))
    services.close()
    result = runner.invoke(main, ["purge"])
    assert result.exit_code == 0, result.output
    assert "purged 1 tenant(s)" in result.output
    assert _services(env).tenants.get("old") is None


def test_worker_enqueued_purge_and_daily_schedule(runner: CliRunner, env: dict[str, str], redis_url: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    enqueued = runner.invoke(main, ["purge", "--enqueue"])
    assert enqueued.exit_code == 0, enqueued.output
    job_id = enqueued.output.strip().rsplit(" ", 1)[-1]
    worked = runner.invoke(main, ["worker", "--burst"])
    assert worked.exit_code == 0, worked.output
    queue = Queue("tierwise", connection=redis.Redis.from_url(redis_url))
    assert job_id in FinishedJobRegistry(queue=queue).get_job_ids()
    assert any(i.startswith("tierwise-purge-") for i in ScheduledJobRegistry(queue=queue).get_job_ids())


def test_rotate_secrets_reencrypts_under_the_new_key(runner: CliRunner, env: dict[str, str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIERWISE_SECRET_KEY", "old-key-material")
    services = Services(Settings.from_env())
    services.tenants.install("ck", shared_secret="the-shared-secret", base_url="https://a.atlassian.net",
                             at=datetime.now(UTC))
    services.close()
    monkeypatch.setenv("TIERWISE_SECRET_KEY", "new-key-material,old-key-material")
    result = runner.invoke(main, ["rotate-secrets"])
    assert result.exit_code == 0, result.output
    assert "re-encrypted 1 secret(s)" in result.output
    monkeypatch.setenv("TIERWISE_SECRET_KEY", "new-key-material")
    tenant = Services(Settings.from_env()).tenants.get("ck")
    assert tenant is not None and tenant.shared_secret == "the-shared-secret"
