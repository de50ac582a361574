"""The session-end check: a test that leaves a process behind fails the run, and the summary says so."""

from __future__ import annotations

from pathlib import Path

import pytest

CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    """An empty test suite using this repository's conftest."""
    pytester.makeconftest(CONFTEST.read_text())
    return pytester


def test_a_forgotten_child_fails_the_run_and_is_stopped(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        import subprocess

        def test_forgets_its_child():
            subprocess.Popen(["sleep", "61"])
        """
    )
    result = suite.runpytest_subprocess("-q")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*leftover processes*", "*pid *: sleep 61", "*1 passed, 1 leftover processes in *"])


def test_a_daemon_reparented_to_init_is_found_by_its_working_directory(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        import subprocess

        def test_starts_a_daemon(tmp_path):
            # The shell exits at once: its background sleep is reparented, like a daemonized redis-server.
            subprocess.run(["sh", "-c", "env -i sleep 62 >/dev/null 2>&1 &"], cwd=tmp_path, check=True)
        """
    )
    result = suite.runpytest_subprocess("-q")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*pid *: sleep 62", "*1 passed, 1 leftover processes in *"])


def test_a_suite_that_waits_for_its_processes_passes(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        import subprocess

        def test_waits_for_its_child():
            subprocess.Popen(["sleep", "0.1"]).wait()
        """
    )
    result = suite.runpytest_subprocess("-q")
    assert result.ret == pytest.ExitCode.OK
    assert "leftover" not in result.stdout.str()
    result.stdout.fnmatch_lines(["1 passed in *"])


def test_a_process_that_started_the_embedded_redis_stops_it_at_exit(tmp_path: Path) -> None:
    import subprocess
    import sys

    import psutil

    instance = tmp_path / "instance"
    script = (
        "import sys; from app.redis_conn import get_redis; from app.settings import Settings; "
        "get_redis(Settings.from_env({'TIERWISE_INSTANCE_DIR': sys.argv[1]})).ping()"
    )  # like a gunicorn worker on the embedded defaults: it never calls Services.close()
    subprocess.run([sys.executable, "-c", script, str(instance)], check=True, timeout=60)
    servers = []
    for proc in psutil.process_iter(["name", "cwd"]):
        if proc.info["name"] == "redis-server" and proc.info["cwd"] == str(instance):
            servers.append(proc)
    assert servers == []
    assert (instance / "redis.db").exists()  # saved on the way out
