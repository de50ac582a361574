"""The run log: text at a terminal, JSON lines otherwise (or as LOG_FORMAT says); gunicorn's lines alike."""

from __future__ import annotations

import io
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import IO

import pytest
from gunicorn.config import Config

from app.gunicorn_logger import GunicornLogger
from app.logging_setup import MASK, configure_logging, log_format_for
from app.settings import Settings

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln"


@pytest.fixture
def terminal() -> Iterator[IO[str]]:
    """The writing end of a real pseudo-terminal."""
    controller, tty = os.openpty()
    with os.fdopen(tty, "w") as stream:
        yield stream
    os.close(controller)


@pytest.mark.parametrize(
    ("log_format", "at_terminal", "expected"),
    [("", True, "text"), ("", False, "json"), ("json", True, "json"), ("text", False, "text"), ("auto", True, "text")],
)
def test_the_format_follows_the_terminal_unless_given(
    terminal: IO[str], log_format: str, at_terminal: bool, expected: str
) -> None:
    stream = terminal if at_terminal else io.StringIO()
    assert log_format_for(Settings.from_env({"LOG_FORMAT": log_format}), stream) == expected


def test_alembic_says_only_what_it_upgrades(tmp_path: Path) -> None:
    from app.storage.db import make_engine, migrate

    stream = io.StringIO()
    handler = configure_logging(Settings.from_env({"LOG_FORMAT": "text"}), stream)
    engine = make_engine(f"sqlite:///{tmp_path / 'tierwise.db'}")
    try:
        migrate(engine)
    finally:
        engine.dispose()
        logging.getLogger().removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert lines and all("alembic.runtime.migration: Running upgrade" in line for line in lines), lines


def _gunicorn_lines(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                    log_format: str) -> tuple[str, str]:
    """(error log, access log) of a gunicorn logger: one warning, and one Connect page load with its token."""
    monkeypatch.setenv("LOG_FORMAT", log_format)
    cfg = Config()
    cfg.set("accesslog", "-")
    cfg.set("errorlog", "-")
    logger = GunicornLogger(cfg)
    logger.warning("Worker with pid %s was terminated", 43)
    response = SimpleNamespace(status="200 OK", headers=[("Content-Length", "12")], sent=12, response_length=12)
    request = SimpleNamespace(headers=[("USER-AGENT", "test")], method="GET", path="/panel",
                              query=f"jwt={TOKEN}", uri=f"/panel?jwt={TOKEN}", version=(1, 1))
    environ = {"REMOTE_ADDR": "127.0.0.1", "REQUEST_METHOD": "GET", "RAW_URI": f"/panel?jwt={TOKEN}",
               "SERVER_PROTOCOL": "HTTP/1.1", "QUERY_STRING": f"jwt={TOKEN}", "PATH_INFO": "/panel"}
    logger.access(response, request, environ, SimpleNamespace(seconds=0, microseconds=1500))
    captured = capsys.readouterr()
    assert TOKEN not in captured.out + captured.err
    return captured.err, captured.out


def test_gunicorn_lines_are_json_records_like_ours(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    error_log, access_log = _gunicorn_lines(monkeypatch, capsys, "json")
    error_line = json.loads(error_log)
    assert error_line["logger"] == "gunicorn.error" and error_line["level"] == "WARNING"
    assert error_line["message"] == "Worker with pid 43 was terminated"
    access_line = json.loads(access_log)
    assert access_line["logger"] == "gunicorn.access" and access_line["level"] == "INFO"
    assert f'"GET /panel?jwt={MASK} HTTP/1.1" 200' in access_line["message"]


def test_gunicorn_lines_are_text_lines_like_ours(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    error_log, access_log = _gunicorn_lines(monkeypatch, capsys, "text")
    assert error_log.strip().endswith(" WARNING gunicorn.error: Worker with pid 43 was terminated")
    assert " INFO gunicorn.access: 127.0.0.1 - - [" in access_log
    assert f'"GET /panel?jwt={MASK} HTTP/1.1" 200' in access_log
