"""Event pipeline throughput at Jira's speed: events/s per worker process, and what each event costs.

Run: .venv/bin/python bench/bench_pipeline.py [--events 100] [--latency 0.02] [--threads 1,8]
         [--processes 1] [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--redis-url URL]

The Jira stand-in runs in a process of its own (`python -m standin`, response validation off), so
its `--latency` per REST call is real wall time the worker waits; the app runs on a thread of this
process (it only ingests the stand-in's webhooks); the workers are real `rq worker --burst`
processes (`pipeline_probe.ProbedWorker`: `jobs.worker.TierwiseWorker` with counters). Database:
the embedded SQLite file, or `--database-url` PostgreSQL in a schema of its own (dropped after).

Two batches per configuration, each queued first and then drained by the timed workers:
- creation: `--events` Sev-3 tickets raised per worker process (1 Jira call each, the PUT);
- reply: an agent's public reply without an ETA on as many Sev-1 tickets (2 calls: the PUT and the
  ETA follow-up).
Configurations: one process with each `--threads` count (1 = one job at a time, the old worker),
then `--processes` counts (with the largest thread count). The app's own echoes are queued or
dropped as they come; queued ones count as jobs, not events.

Per event it reports database transactions and statements, Redis round trips, worker CPU ms, Jira
calls (counted by the stand-in), and per process the share of wall time the worker's CPU was busy
and the share during which a Jira call was in flight. The stand-in is measured too (its CPU share
of one core during the drain, and the mean Jira call time the worker saw against `--latency`), so a
saturated stand-in shows. Prints a table and the goals of issue #16; never asserts.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import requests
from redis_target import bench_redis

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
sys.path.insert(0, str(REPO_ROOT / "tests" / "jobs"))

from pipeline_kit import STANDIN_BINDINGS, WsgiThread, free_port  # noqa: E402

from app import create_app  # noqa: E402
from app.bootstrap import Services  # noqa: E402
from app.schemas.presets import preset_document  # noqa: E402
from app.settings import Settings  # noqa: E402
from app.storage.policies import PolicyStore  # noqa: E402

QUEUE = "bench-pipeline"
WORKER = "pipeline_probe.ProbedWorker"
#: Issue #16's goals per worker process at 20 ms latency.
GOALS = {"creation": 40.0, "reply": 20.0}


class StandinProcess:
    """`python -m standin` in its own process, driven over its `/_standin/` admin API."""

    def __init__(self, log: Path) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "standin", "--no-response-validation"], cwd=REPO_ROOT,
                                     stdout=subprocess.PIPE, stderr=log.open("wb"), text=True)
        assert self.proc.stdout is not None
        info = json.loads(self.proc.stdout.readline())
        self.base_url, self.install_keys_url, self.admin = info["base_url"], info["install_keys_url"], info["admin"]
        self.http = requests.Session()

    def call(self, method: str, action: str, body: Any = None) -> Any:
        response = self.http.request(method, self.admin + action, json=body, timeout=120)
        response.raise_for_status()
        return response.json()

    def cpu_seconds(self) -> float:
        """User + system CPU time of the stand-in process so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def app_calls(self) -> int:
        """REST calls the app made so far (its `myself` look-ups left out)."""
        return sum(1 for c in self.call("GET", "requests") if c["app_key"] and not c["path"].endswith("/myself"))

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(15)
        self.http.close()


def run_workers(env: dict[str, str], processes: int, threads: int, work: Path) -> list[dict[str, Any]]:
    """Run `processes` burst workers at once until the queue is empty; their probe figures."""
    rq = str(Path(sys.executable).with_name("rq"))
    outs = [work / f"probe-{uuid.uuid4().hex[:8]}.json" for _ in range(processes)]
    procs = [subprocess.Popen([rq, "worker", "--burst", "-w", WORKER, "--url", env["REDIS_URL"],
                               "--logging_level", "WARNING", QUEUE], cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
                              env={**env, "BENCH_PROBE_OUT": str(out), "TIERWISE_WORKER_THREADS": str(threads)})
             for out in outs]
    for proc in procs:
        if proc.wait(600) != 0:
            raise SystemExit(f"worker exited with {proc.returncode}")
    return [json.loads(out.read_text()) for out in outs if out.exists()]


def _database(url: str | None) -> tuple[str | None, Any]:
    """A fresh PostgreSQL schema for the run (URL with its search_path) and its dropper; (None, noop) for SQLite."""
    if not url:
        return None, lambda: None
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


def summarize(label: str, batch: str, events: int, jobs: int, calls: int, probes: list[dict[str, Any]],
              standin_cpu: float, drain_wall: float, latency: float) -> dict[str, Any]:
    """One table row: rates per event and shares per process."""
    window = max(p["end"] for p in probes) - min(p["start"] for p in probes)
    total = {k: sum(p[k] for p in probes) for k in ("transactions", "statements", "redis_round_trips",
                                                     "cpu_seconds", "jira_calls", "jira_seconds",
                                                     "jira_busy_seconds", "window")}
    return {
        "config": label, "batch": batch, "events": events, "jobs": jobs, "jobs_run": sum(p["jobs"] for p in probes),
        "events_per_s": events / window,
        "jira_per_event": calls / events, "tx_per_event": total["transactions"] / events,
        "statements_per_event": total["statements"] / events, "redis_per_event": total["redis_round_trips"] / events,
        "cpu_ms_per_event": 1000 * total["cpu_seconds"] / events,
        "cpu_share": total["cpu_seconds"] / total["window"],
        "jira_busy_share": total["jira_busy_seconds"] / total["window"],
        "jira_ms_per_call": 1000 * total["jira_seconds"] / max(1, total["jira_calls"]),
        "latency_ms": latency * 1000, "standin_cpu_share": standin_cpu / drain_wall, "processes": len(probes),
    }


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100, help="events per batch per worker process")
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--threads", default="1,8", help="thread counts to run one process with")
    parser.add_argument("--processes", default="1", help="process counts to run (with the largest thread count)")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL"))
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"),
                        help="PostgreSQL URL; the bench works in a schema of its own, dropped afterwards")
    args = parser.parse_args()
    thread_counts = [int(t) for t in args.threads.split(",")]
    configs = [(1, t) for t in thread_counts] + [(p, max(thread_counts)) for p in
                                                 (int(x) for x in args.processes.split(",")) if p > 1]
    schema_url, drop_schema = _database(args.database_url)
    work = Path(tempfile.mkdtemp(prefix="tw-bench-pipeline-"))
    rows: list[dict[str, Any]] = []
    jira = StandinProcess(work / "standin.log")
    try:
        with bench_redis(args.redis_url) as (r, url):
            port = free_port()
            env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "APP_KEY"}}
            if schema_url:
                env["DATABASE_URL"] = schema_url
            env.update(TIERWISE_INSTANCE_DIR=str(work / "instance"), APP_BASE_URL=f"http://127.0.0.1:{port}",
                       CONNECT_INSTALL_KEYS_URL=jira.install_keys_url, REDIS_URL=url, TIERWISE_QUEUE=QUEUE,
                       TIERWISE_SECRET_KEY="q6aYb4V2o2Yq3wqzq7sM2s6WJ9yq1Yx0c1Jt0a0v1pQ=", LOG_LEVEL="WARNING",
                       PYTHONPATH=os.pathsep.join([str(HERE), str(REPO_ROOT)]))
            settings = Settings.from_env(env)
            web = WsgiThread(create_app(settings), port=port)
            services = Services(settings)
            try:
                client_key = jira.call("POST", "install", {"descriptor_url": settings.app_base_url
                                                           + "/atlassian-connect.json"})["client_key"]
                policies = PolicyStore(services.session_factory)
                policies.save(client_key, preset_document("confluence-health-check"), "bench")
                policies.save_settings(client_key, {"field_bindings": STANDIN_BINDINGS}, "bench")
                services.close()

                def measure(label: str, batch: str, events: int, processes: int, threads: int) -> None:
                    """Drain the queued events under Jira latency; record the row."""
                    jira.call("POST", "wait", {"timeout": 120})
                    jobs = int(r.llen(f"rq:queue:{QUEUE}"))
                    calls_before = jira.app_calls()
                    jira.call("POST", "latency", {"seconds": args.latency})
                    cpu0, t0 = jira.cpu_seconds(), time.perf_counter()
                    probes = run_workers(env, processes, threads, work)
                    cpu1, t1 = jira.cpu_seconds(), time.perf_counter()
                    jira.call("POST", "latency", {"seconds": 0})
                    rows.append(summarize(label, batch, events, jobs, jira.app_calls() - calls_before, probes,
                                          cpu1 - cpu0, t1 - t0, args.latency))
                    print(f"  {label}, {batch}: {rows[-1]['events_per_s']:.1f} events/s", flush=True)

                def settle(threads: int) -> None:
                    for _ in range(2):  # the jobs, then the echoes of their writes
                        jira.call("POST", "wait", {"timeout": 120})
                        run_workers(env, 1, threads, work)

                for processes, threads in configs:
                    label = f"{processes} proc × {threads} thread{'s' if threads > 1 else ''}"
                    n = args.events * processes
                    for i in range(n):
                        jira.call("POST", "issues", {"summary": f"Q {i}", "fields": {"priority": {"name": "Medium"}}})
                    measure(label, "creation", n, processes, threads)
                    settle(threads)
                    keys = [jira.call("POST", "issues", {"summary": f"Down {i}",
                                                         "fields": {"priority": {"name": "Highest"}}})["key"]
                            for i in range(n)]
                    settle(threads)
                    for key in keys:
                        jira.call("POST", f"issues/{key}/comment",
                                  {"body": "We are looking into it.", "public": True, "author": "agent"})
                    measure(label, "reply", n, processes, threads)
                    settle(threads)
            finally:
                web.close()
                services.close()
                r.flushdb()
    finally:
        jira.close()
        shutil.rmtree(work, ignore_errors=True)
        drop_schema()
    report(rows, schema_url is not None, args)


def report(rows: list[dict[str, Any]], postgres: bool, args: argparse.Namespace) -> None:
    print(f"\ndatabase: {'PostgreSQL' if postgres else 'embedded SQLite (WAL)'}; Jira stand-in in its own process, "
          f"{args.latency * 1000:.0f} ms per call; {os.cpu_count()} cores; first job start to last job end")
    head = (f"{'workers':<20} {'batch':<9} {'ev/s':>6} {'/proc':>6} {'jobs':>5} {'ran':>5} {'Jira/ev':>7} {'tx/ev':>6} "
            f"{'sql/ev':>6} {'redis/ev':>8} {'cpu ms/ev':>9} {'cpu%':>5} {'Jira%':>6} {'ms/call':>7} {'standin%':>8}")
    print(head)
    for row in rows:
        print(f"{row['config']:<20} {row['batch']:<9} {row['events_per_s']:6.1f} "
              f"{row['events_per_s'] / row['processes']:6.1f} {row['jobs']:5d} {row['jobs_run']:5d} "
              f"{row['jira_per_event']:7.2f} "
              f"{row['tx_per_event']:6.1f} {row['statements_per_event']:6.1f} {row['redis_per_event']:8.1f} "
              f"{row['cpu_ms_per_event']:9.1f} {row['cpu_share']:5.0%} {row['jira_busy_share']:6.0%} "
              f"{row['jira_ms_per_call']:7.1f} {row['standin_cpu_share']:8.0%}")
    print("jobs = queued before the drain, ran = jobs performed (echoes of the app's writes that reached the queue "
          "included); cpu% = worker CPU / wall per process (its overhead); Jira% = wall share with a Jira call in "
          "flight; ms/call = Jira call as the worker saw it; standin% = the stand-in's CPU, of one core")
    single = {(r["config"], r["batch"]): r["events_per_s"] for r in rows}
    configs = list(dict.fromkeys(r["config"] for r in rows))
    for batch, goal in GOALS.items():
        best_single = max((r for r in rows if r["batch"] == batch and r["processes"] == 1),
                          key=lambda r: r["events_per_s"])
        before = single.get((configs[0], batch))
        verdict = "met" if best_single["events_per_s"] >= goal and best_single["cpu_share"] <= 0.2 else "NOT met"
        print(f"{batch}: best one-process {best_single['events_per_s']:.1f}/s ({best_single['config']}; goal "
              f"≥ {goal:.0f}/s with worker cpu ≤ 20%: {best_single['cpu_share']:.0%}) → {verdict}; "
              f"{best_single['events_per_s'] / (before or 1):.2f}× {configs[0]}")
        for config in configs:
            r = next((x for x in rows if x["config"] == config and x["batch"] == batch), None)
            if r and r["processes"] > 1:
                one = max(x["events_per_s"] for x in rows if x["batch"] == batch and x["processes"] == 1)
                print(f"  {config}: {r['events_per_s'] / one:.2f}× one process (goal for 4: ≥ 3×)")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
