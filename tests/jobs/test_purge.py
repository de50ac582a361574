"""The daily purge job: retention, and one scheduled run per day however many workers start."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from rq import Queue
from rq.registry import ScheduledJobRegistry

from app.bootstrap import Services
from jobs import bootstrap
from jobs.purge import next_purge_at, purge_uninstalled_tenants, schedule_daily_purge


@pytest.fixture
def worker_services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redis_url: str) -> Iterator[Services]:
    """The services a worker process would build from its environment."""
    monkeypatch.setenv("TIERWISE_INSTANCE_DIR", str(tmp_path / "instance"))
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("TENANT_RETENTION_DAYS", "30")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    bootstrap.set_services(None)
    yield bootstrap.services()
    bootstrap.services().close()
    bootstrap.set_services(None)


def test_next_purge_is_the_next_0300_utc() -> None:
    assert next_purge_at(datetime(2026, 11, 2, 1, 0, tzinfo=UTC)) == datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
    assert next_purge_at(datetime(2026, 11, 2, 3, 0, tzinfo=UTC)) == datetime(2026, 11, 3, 3, 0, tzinfo=UTC)


def test_many_workers_starting_schedule_one_purge_per_day(redis_url: str) -> None:
    queue = Queue("tierwise", connection=redis.Redis.from_url(redis_url))
    now = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    ids = {schedule_daily_purge(queue, now) for _ in range(5)}
    assert ids == {"tierwise-purge-2026-11-03"}
    assert ScheduledJobRegistry(queue=queue).get_job_ids() == ["tierwise-purge-2026-11-03"]


def test_purge_deletes_tenants_past_retention_only(worker_services: Services) -> None:
    now = datetime.now(UTC)
    tenants = worker_services.tenants
    for key in ("gone-long-ago", "gone-recently", "still-here"):
        tenants.install(key, shared_secret="s" * 16, base_url=f"https://{key}.atlassian.net", at=now - timedelta(days=60))
    tenants.uninstall("gone-long-ago", now - timedelta(days=31))
    tenants.uninstall("gone-recently", now - timedelta(days=29))
    assert purge_uninstalled_tenants() == 1
    assert tenants.get("gone-long-ago") is None
    assert tenants.get("gone-recently") is not None and tenants.get("still-here") is not None


def test_purge_run_by_a_worker_chains_the_next_day(worker_services: Services) -> None:
    from rq import SimpleWorker

    queue = worker_services.queue
    job = queue.enqueue("jobs.purge.purge_uninstalled_tenants")
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    job.refresh()
    assert job.return_value() == 0
    tomorrow = next_purge_at(datetime.now(UTC)).date().isoformat()
    assert f"tierwise-purge-{tomorrow}" in ScheduledJobRegistry(queue=queue).get_job_ids()

