"""Event pipeline throughput: events/s per worker process with 20 ms Jira latency, and Jira calls per event.

Run: .venv/bin/python bench/bench_pipeline.py [--events 100] [--latency 0.02] [--redis-url URL]

The stand-in Jira (in this process, response validation off, `--latency` on every REST call), the
app on a thread (it only ingests the stand-in's webhooks), the embedded SQLite database, and one
real `rq worker --burst` process per measurement, for each worker class in the same run:

- `jobs.worker.TierwiseWorker` (rq's SimpleWorker: jobs in the worker process), and
- `jobs.worker.TierwiseForkingWorker` (rq's Worker: a forked work horse per job).

Two batches per class, each queued first and then drained by the timed worker:
- creations: `--events` Sev-3 tickets raised (expected: 1 Jira call each, the PUT);
- replies: an agent's public reply without an ETA on `--events` Sev-1 tickets (expected: 2 calls,
  the PUT and the ETA follow-up).
The app's own echoes (its PUTs and comments fire webhooks too) are queued and dropped as well; they
are counted as jobs, not events. Prints figures; never asserts.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from redis_target import bench_redis
from rq.job import Job
from rq.registry import FinishedJobRegistry

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "tests" / "jobs"))

from pipeline_kit import STANDIN_BINDINGS, WsgiThread, free_port  # noqa: E402

from app import create_app  # noqa: E402
from app.bootstrap import Services  # noqa: E402
from app.schemas.presets import preset_document  # noqa: E402
from app.settings import Settings  # noqa: E402
from app.storage.policies import PolicyStore  # noqa: E402
from standin import AGENT, JiraStandin  # noqa: E402

QUEUE = "bench-pipeline"
WORKERS = {"SimpleWorker": "jobs.worker.TierwiseWorker", "forking Worker": "jobs.worker.TierwiseForkingWorker"}


def drain(env: dict[str, str], worker_class: str, r: Any = None) -> float:
    """Run one burst worker until the queue is empty; seconds from its first job's start to its last job's end.

    (The worker's own start-up is left out; jobs queued meanwhile, such as echoes, are inside.)
    """
    rq = str(Path(sys.executable).with_name("rq"))
    t0 = time.perf_counter()
    subprocess.run([rq, "worker", "--burst", "-w", worker_class, "--url", env["REDIS_URL"], "--logging_level",
                    "WARNING", QUEUE], cwd=REPO_ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    if r is None:
        return wall
    registry = FinishedJobRegistry(QUEUE, connection=r)
    jobs = [j for j in Job.fetch_many(registry.get_job_ids(), connection=r) if j is not None]
    starts = [j.started_at for j in jobs if j.started_at]
    ends = [j.ended_at for j in jobs if j.ended_at]
    for job_id in registry.get_job_ids():
        registry.remove(job_id, delete_job=True)
    return (max(ends) - min(starts)).total_seconds() if starts and ends else wall


def _database(url: str | None) -> tuple[str | None, Any]:
    """A fresh PostgreSQL schema for the run (URL with its search_path) and its dropper; (None, noop) for SQLite."""
    if not url:
        return None, lambda: None
    import uuid

    import sqlalchemy as sa

    from app.storage.db import make_engine, migrate

    schema = f"tw_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    scoped = f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    engine = make_engine(Settings(database_url=scoped).effective_database_url)
    migrate(engine)
    engine.dispose()

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return scoped, drop


def app_calls(jira: JiraStandin, since: int) -> list[Any]:
    return [c for c in jira.requests[since:] if c.app_key and not c.path.endswith("/myself")]


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL"))
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"),
                        help="PostgreSQL URL; the bench works in a schema of its own, dropped afterwards")
    args = parser.parse_args()
    schema_url, drop_schema = _database(args.database_url)
    work = Path(tempfile.mkdtemp(prefix="tw-bench-pipeline-"))
    rows: list[tuple[str, str, int, int, float, int]] = []
    with bench_redis(args.redis_url) as (r, url), JiraStandin(validate_responses=False) as jira:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "APP_KEY"}}
        if schema_url:
            env["DATABASE_URL"] = schema_url
        env.update(TIERWISE_INSTANCE_DIR=str(work / "instance"), APP_BASE_URL=f"http://127.0.0.1:{port}",
                   CONNECT_INSTALL_KEYS_URL=jira.install_keys_url, REDIS_URL=url, TIERWISE_QUEUE=QUEUE,
                   TIERWISE_SECRET_KEY="q6aYb4V2o2Yq3wqzq7sM2s6WJ9yq1Yx0c1Jt0a0v1pQ=", LOG_LEVEL="WARNING")
        settings = Settings.from_env(env)
        web = WsgiThread(create_app(settings), port=port)
        services = Services(settings)
        try:
            client_key = jira.install_app(settings.app_base_url + "/atlassian-connect.json").client_key
            policies = PolicyStore(services.session_factory)
            policies.save(client_key, preset_document("confluence-health-check"), "bench")
            policies.save_settings(client_key, {"field_bindings": STANDIN_BINDINGS}, "bench")

            def measure(label: str, kind: str, worker_class: str) -> None:
                """Drain the queued events under Jira latency; record time and the app's Jira calls."""
                jira.wait_for_deliveries(60)
                jobs = r.llen(f"rq:queue:{QUEUE}")
                before = len(jira.requests)
                jira.latency = args.latency
                seconds = drain(env, worker_class, r)
                jira.latency = 0.0
                rows.append((label, kind, args.events, jobs, seconds, len(app_calls(jira, before))))

            for label, worker_class in WORKERS.items():
                # creations: Sev-3 tickets, one PUT each
                issues = [jira.create_issue(f"Q {i}", fields={"priority": {"name": "Medium"}})
                          for i in range(args.events)]
                measure(label, "creation (Sev-3)", worker_class)
                # replies: Sev-1 tickets processed untimed, then one agent reply each
                issues = [jira.create_issue(f"Down {i}", fields={"priority": {"name": "Highest"}})
                          for i in range(args.events)]
                jira.wait_for_deliveries(60)
                drain(env, worker_class, r)
                jira.wait_for_deliveries(60)
                drain(env, worker_class)  # the echoes of that set-up
                for issue in issues:
                    jira.add_comment(issue["key"], "We are looking into it.", public=True, author=AGENT)
                measure(label, "reply needing ETA (Sev-1)", worker_class)
                jira.wait_for_deliveries(60)
                drain(env, worker_class, r)
        finally:
            web.close()
            services.close()
            r.flushdb()
            shutil.rmtree(work, ignore_errors=True)
            drop_schema()
    print(f"database: {'PostgreSQL' if schema_url else 'embedded SQLite (WAL)'}")
    print(f"event pipeline, one worker process, Jira latency {args.latency * 1000:.0f} ms per call, "
          f"{args.events} events per batch (first job start to last job end)")
    print(f"{'worker':<15} {'batch':<26} {'events/s':>9} {'jobs':>5} {'Jira calls/event':>17}")
    for label, batch, events, jobs, seconds, calls in rows:
        print(f"{label:<15} {batch:<26} {events / seconds:9.1f} {jobs:5d} {calls / events:17.2f}")
    simple = {b: e / s for lbl, b, e, _, s, _ in rows if lbl == "SimpleWorker"}
    forking = {b: e / s for lbl, b, e, _, s, _ in rows if lbl != "SimpleWorker"}
    for batch in simple:
        print(f"SimpleWorker / forking on {batch}: {simple[batch] / forking[batch]:.2f}x")


if __name__ == "__main__":
    main()
