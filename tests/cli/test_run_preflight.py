"""A second `tierwise run`: the taken port or instance directory is named in one line before anything starts."""

from __future__ import annotations

import fcntl
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import main
from app.cli.preflight import RUN_LOCK, claim_instance, port_is_free
from app.settings import Settings


@pytest.fixture
def listening() -> Iterator[int]:
    """A port on 127.0.0.1 where something listens, as a first `make run` would."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def _run(tmp_path: Path, port: int) -> tuple[int, list[str]]:
    env = {"TIERWISE_INSTANCE_DIR": str(tmp_path / "instance"), "PORT": str(port), "LOG_FORMAT": "json",
           "REDIS_URL": "", "DATABASE_URL": ""}
    result = CliRunner().invoke(main, ["run"], env=env)
    return result.exit_code, result.output.splitlines()


def test_a_taken_port_is_named_with_the_port_to_use(tmp_path: Path, listening: int) -> None:
    exit_code, lines = _run(tmp_path, listening)
    assert exit_code == 1
    assert len(lines) == 1, lines
    suggested = re.fullmatch(rf"Error: port {listening} on 127\.0\.0\.1 is taken: start with PORT=(\d+) make run",
                             lines[0])
    assert suggested, lines[0]
    assert int(suggested.group(1)) > listening and port_is_free(int(suggested.group(1)))
    assert not (tmp_path / "instance" / "tierwise.db").exists()  # nothing was started or migrated


def test_an_instance_directory_in_use_is_named_with_what_to_set(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    instance.mkdir()
    with open(instance / RUN_LOCK, "w") as held:  # the first `tierwise run` holds this while it runs
        held.write("4242 5000\n")
        held.flush()
        fcntl.flock(held, fcntl.LOCK_EX)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            exit_code, lines = _run(tmp_path, sock.getsockname()[1])
    assert exit_code == 1
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"Error: {instance} is in use by another `tierwise run` (pid 4242, port 5000): ")
    assert re.search(r"start another with PORT=\d+ TIERWISE_INSTANCE_DIR=instance-\d+ make run$", lines[0])
    assert not (instance / "tierwise.db").exists()


def test_the_claim_is_released_with_its_file(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = Settings.from_env({"TIERWISE_INSTANCE_DIR": str(tmp_path), "PORT": str(port)})
    first = claim_instance(settings)
    assert (tmp_path / RUN_LOCK).read_text().split()[1] == str(port)
    with pytest.raises(Exception, match="in use by another"):
        claim_instance(settings)
    first.close()  # the process ended
    claim_instance(settings).close()
