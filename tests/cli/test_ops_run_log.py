"""`tierwise run` prints no token (issue #14, point 10): gunicorn's access log masks `?jwt=` and Referer tokens."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.connect.tokens import mint_token

from .test_ops_run import START_TIMEOUT, _free_port


def _get(url: str, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


@pytest.mark.e2e
def test_run_logs_page_loads_without_their_tokens(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "TIERWISE_SECRET_KEY"}}
    env.update(TIERWISE_INSTANCE_DIR=str(tmp_path / "instance"), PORT=str(port), LOG_FORMAT="text")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from app.cli import main; main()", "run"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout or []], daemon=True).start()
    token = mint_token(issuer="some-site", secret="s" * 40, qsh="0" * 64, now=datetime.now(UTC))
    garbage = "NotAJwtButStillSecret0123456789"
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and _get_quietly(f"{base}/healthz") != 200:
            time.sleep(0.2)
        assert _get(f"{base}/panel?issueId=10001&jwt={token}") in (400, 401)
        assert _get(f"{base}/admin?jwt={garbage}&xdm_e=x") in (400, 401)
        assert _get(f"{base}/healthz", {"Referer": f"https://acme.atlassian.net/panel?lic=none&jwt={token}"}) == 200
        time.sleep(1.0)  # let gunicorn flush its access lines
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=25) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    printed: list[str] = []
    while not lines.empty():
        printed.append(lines.get())
    output = "".join(printed)
    assert "GET /panel?issueId=10001&jwt=[redacted]" in output, output[-3000:]  # the access line is there, masked
    assert "jwt=[redacted]" in output and "/healthz" in output
    assert token not in output and token.split(".")[2] not in output
    assert garbage not in output


def _get_quietly(url: str) -> int:
    try:
        return _get(url)
    except OSError:
        return 0
