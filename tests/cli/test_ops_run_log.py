"""`tierwise run` prints no token (issue #14, point 10): gunicorn's access log masks `?jwt=` and Referer tokens."""

from __future__ import annotations

import signal
import subprocess
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.connect.tokens import mint_token

from .test_ops_run import START_TIMEOUT, _free_port, start_run


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
    proc, lines = start_run(tmp_path, port, log_format="text", stderr=subprocess.STDOUT)
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
