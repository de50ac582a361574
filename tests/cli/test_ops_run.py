"""`tierwise run` for real: embedded SQLite and Redis, gunicorn and an RQ worker, stopped by SIGTERM."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
import redis
from rq import Worker

#: Longest wait for the app to answer /healthz and its worker to register (both start in ~2 s on an idle
#: machine; 15-25 s when the 2 shared cores are at load 10, as on a fresh clone's first `make test`).
START_TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    status = Path(f"/proc/{pid}/stat")
    return status.exists() and status.read_text().split(") ")[1].startswith("Z")


def start_run(tmp_path: Path, port: int, *, log_format: str = "json", stderr: int | None = subprocess.DEVNULL,
              ) -> tuple[subprocess.Popen[str], queue.Queue[str]]:
    """`tierwise run` on embedded services in `tmp_path`, and a queue of the lines it prints."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "TIERWISE_SECRET_KEY"}}
    env.update(TIERWISE_INSTANCE_DIR=str(tmp_path / "instance"), PORT=str(port), LOG_FORMAT=log_format)
    proc = subprocess.Popen(
        [sys.executable, "-c", "from app.cli import main; main()", "run"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout or []], daemon=True).start()
    return proc, lines


@pytest.mark.e2e
def test_run_starts_web_and_worker_on_embedded_services_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    proc, lines = start_run(tmp_path, port)
    try:
        printed: list[str] = []
        deadline = time.monotonic() + START_TIMEOUT
        while not any(line.startswith("web pid") for line in printed):
            printed.append(lines.get(timeout=max(0.1, deadline - time.monotonic())))
        text = "".join(printed)
        assert f"http://127.0.0.1:{port}" in text
        redis_url = re.search(r"redis: (unix://\S+)", text).group(1)  # type: ignore[union-attr]
        web_pid, worker_pid = (int(p) for p in re.search(r"web pid (\d+), worker pid (\d+)", text).groups())  # type: ignore[union-attr]

        status, body = 0, b""
        while time.monotonic() < deadline and status != 200:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
                    status, body = response.status, response.read()
            except OSError:  # refused while starting, or a slow first answer
                time.sleep(0.2)
        assert status == 200, body
        assert b'"redis":"ok"' in body.replace(b" ", b"") and b'"database":"ok"' in body.replace(b" ", b"")

        client = redis.Redis.from_url(redis_url)
        workers: list[Worker] = []
        while time.monotonic() < deadline and not workers:
            workers = Worker.all(connection=client)
            time.sleep(0.1)
        assert [w.queue_names() for w in workers] == [["tierwise"]]
        assert (tmp_path / "instance" / "tierwise.db").exists()
        client.close()

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=25) == 0
        assert _gone(web_pid) and _gone(worker_pid)
        with pytest.raises(redis.ConnectionError):  # the embedded Redis went with them
            redis.Redis.from_url(redis_url, socket_connect_timeout=1).ping()
    finally:
        if proc.poll() is None:  # an assertion failed: let `tierwise run` stop its children first
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
