"""The end-to-end stack: the app under a real gunicorn, real `rq worker --with-scheduler` processes,
the Jira stand-in in this process, a real Redis (`redis_url`: embedded, and the real one under CI)
and the embedded SQLite database shared by all of them. Every subprocess is killed at the end.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from rq import Queue

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "jobs"))

from pipeline_kit import (  # noqa: E402
    STANDIN_BINDINGS,
    OncallReceiver,
    free_port,
    wait_until,
)

from app.bootstrap import Services  # noqa: E402
from app.settings import Settings  # noqa: E402
from jobs.context import stores  # noqa: E402
from standin import JiraStandin  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent
#: The worker class the stack runs (rq SimpleWorker + timer pump + abandoned-job sweep).
WORKER_CLASS = "jobs.worker.TierwiseWorker"
#: Seconds a subprocess gets to come up on a busy machine.
STARTUP_SECONDS = 30
SECRET_KEY = "q6aYb4V2o2Yq3wqzq7sM2s6WJ9yq1Yx0c1Jt0a0v1pQ="


class Clock:
    """The stand-in's clock: real time minus an adjustable lag (to create tickets "a while ago")."""

    def __init__(self) -> None:
        self.lag = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) - self.lag


class Stack:
    """One running Tierwise (gunicorn + workers) installed into a stand-in Jira site."""

    def __init__(self, jira: JiraStandin, clock: Clock, env: dict[str, str], tmp: Path) -> None:
        self.jira, self.clock, self.env, self.tmp = jira, clock, env, tmp
        self.procs: list[subprocess.Popen[bytes]] = []
        self.workers: list[subprocess.Popen[bytes]] = []
        self.oncall = OncallReceiver()
        # The receiver is plain http on loopback: the operator's allow list names it (and only it).
        env["TIERWISE_ALLOW_HTTP_HOSTS"] = self.oncall.url.removeprefix("http://")
        self.services = Services(Settings.from_env(env))
        self.client_key = ""

    # -- processes -----------------------------------------------------------------------------

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        log = (self.tmp / f"{name}-{len(self.procs)}.log").open("wb")
        proc = subprocess.Popen(argv, cwd=REPO_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.procs.append(proc)
        return proc

    def start_web(self) -> None:
        self._spawn("gunicorn", [str(BIN / "gunicorn"), "--bind", self.env["APP_BASE_URL"][len("http://"):],
                                 "--workers", "2", "--no-control-socket", "app:create_app()"])
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                if requests.get(self.env["APP_BASE_URL"] + "/atlassian-connect.json", timeout=5).ok:
                    return
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, self.logs()
            time.sleep(0.1)

    def start_worker(self) -> subprocess.Popen[bytes]:
        proc = self._spawn("worker", [str(BIN / "rq"), "worker", "-w", WORKER_CLASS, "--with-scheduler",
                                      "--url", self.env["REDIS_URL"], self.env["TIERWISE_QUEUE"]])
        self.workers.append(proc)
        wait_until(lambda: self.services.redis.keys("rq:worker:*") and proc.poll() is None, STARTUP_SECONDS)
        return proc

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        """SIGKILL a process (and its scheduler child): no clean-up runs."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.oncall.close()
        self.services.close()

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-4000:]}" for p in sorted(self.tmp.glob("*.log")))

    # -- tenant ----------------------------------------------------------------------------------

    def install(self, policy: dict[str, Any] | None = None) -> None:
        self.client_key = self.jira.install_app(self.env["APP_BASE_URL"] + "/atlassian-connect.json").client_key
        st = stores(self.services)
        if policy is not None:
            st.policies.save(self.client_key, policy, "e2e")
        st.policies.save_settings(self.client_key, {"field_bindings": STANDIN_BINDINGS,
                                                    "oncall_webhook_url": self.oncall.url + "/page"}, "e2e")

    # -- observing -------------------------------------------------------------------------------

    def record(self, issue: dict[str, Any]) -> Any:
        return stores(self.services).tickets.get(self.client_key, issue["id"])

    def audit(self, issue: dict[str, Any]) -> list[str]:
        entries = stores(self.services).audit.recent(self.client_key, issue["id"], 200)
        return [e.action for e in reversed(entries)]

    def outbox(self, issue: dict[str, Any]) -> list[tuple[str, str]]:
        return stores(self.services).outbox.states(self.client_key, issue["id"])

    def app_calls(self, since: int = 0) -> list[Any]:
        """REST calls the app made since request number `since` (the one-off `myself` excluded)."""
        return [c for c in self.jira.requests[since:] if c.app_key and not c.path.endswith("/myself")]

    def settled(self, issue: dict[str, Any]) -> bool:
        """Deliveries done, queue empty, and every intent of the ticket sent or abandoned."""
        if not self.jira.wait_for_deliveries(0.2):
            return False
        queue = Queue(self.env["TIERWISE_QUEUE"], connection=self.services.redis)
        # A dequeued job waits in rq's intermediate list before it enters the started registry.
        if self.services.redis.llen(queue.key) or self.services.redis.llen(queue.intermediate_queue_key):
            return False
        name = self.env["TIERWISE_QUEUE"]
        started = self.services.redis.zcard(f"rq:wip:{name}") + self.services.redis.zcard(f"rq:scheduled:{name}")
        states = [s for _, s in self.outbox(issue)]
        return not started and all(s in ("sent", "abandoned") for s in states) and self.record(issue) is not None

    def wait_settled(self, issue: dict[str, Any], timeout: float = 20.0) -> None:
        try:
            wait_until(lambda: self.settled(issue) and self.settled(issue), timeout, 0.1)
        except AssertionError:
            raise AssertionError(f"ticket {issue['key']} did not settle\n{self.logs()}") from None


@pytest.fixture
def stack(redis_url: str, tmp_path: Path) -> Iterator[Stack]:
    clock = Clock()
    port = free_port()
    with JiraStandin(now=clock) as jira:
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "APP_KEY"}}
        env.update(
            TIERWISE_INSTANCE_DIR=str(tmp_path / "instance"),
            APP_BASE_URL=f"http://127.0.0.1:{port}",
            CONNECT_INSTALL_KEYS_URL=jira.install_keys_url,
            TIERWISE_SECRET_KEY=SECRET_KEY,
            REDIS_URL=redis_url,
            TIERWISE_QUEUE="tierwise-e2e",
            LOG_FORMAT="text",
            LOG_LEVEL="INFO",
        )
        stack = Stack(jira, clock, env, tmp_path)
        try:
            _ = stack.services.engine  # migrate the embedded database once, before the processes race for it
            stack.start_web()
            yield stack
        finally:
            stack.stop()
