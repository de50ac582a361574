"""Before `tierwise run` starts anything: is its port free, and is its instance directory its own?

A second `make run` in the same checkout would otherwise join the first one's embedded Redis, then
fail in gunicorn with "Connection in use". Each check says what is taken in one line, and which
variable to set instead.
"""

from __future__ import annotations

import errno
import fcntl
import os
import socket
from typing import IO

import click

from app.settings import Settings

#: The lock file `tierwise run` holds in its instance directory while it runs (pid and port inside).
RUN_LOCK = "run.lock"
#: How many ports above a taken one to try when suggesting a free one.
PORT_SEARCH = 50


class RunConflict(click.ClickException):
    """Another process has the port or the instance directory (exit status 1, one line)."""


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could listen on host:port now (bound the way gunicorn binds)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def free_port_after(port: int) -> int | None:
    """The first free port above `port` (None when the next PORT_SEARCH are all taken)."""
    return next((p for p in range(port + 1, port + 1 + PORT_SEARCH) if p < 65536 and port_is_free(p)), None)


def _suggestion(settings: Settings, other_instance: bool) -> str:
    port = free_port_after(settings.port)
    parts = [f"PORT={port}" if port else "PORT=<a free port>"]
    if other_instance:
        parts.append(f"TIERWISE_INSTANCE_DIR={settings.instance_dir.name}-{port or 'other'}")
    return " ".join(parts) + " make run"


def claim_instance(settings: Settings) -> IO[str]:
    """Lock the instance directory and check the port; RunConflict naming what is taken and what to set.

    Returns the open lock file: keep it open while running (the lock goes when the process does).
    """
    settings.instance_dir.mkdir(parents=True, exist_ok=True)
    lock = open(settings.instance_dir / RUN_LOCK, "a+")  # noqa: SIM115 - held for the process's life
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        holder = lock.read().split() or ["?", "?"]
        lock.close()
        raise RunConflict(
            f"{settings.instance_dir} is in use by another `tierwise run` (pid {holder[0]}, port {holder[-1]}): "
            f"stop it, or start another with {_suggestion(settings, other_instance=True)}"
        ) from None
    if not port_is_free(settings.port):
        lock.close()
        raise RunConflict(f"port {settings.port} on 127.0.0.1 is taken: start with {_suggestion(settings, False)}")
    lock.seek(0)
    lock.truncate()
    lock.write(f"{os.getpid()} {settings.port}\n")
    lock.flush()
    return lock
