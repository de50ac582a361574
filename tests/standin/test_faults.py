"""Fault injection: 429 with Retry-After or X-RateLimit-Reset, 5xx, latency; from Python and over HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import requests
from standin_fakeapp import REPO_ROOT, FakeApp, signed

from standin import JiraStandin


def test_n_429s_with_retry_after_then_success(installed: tuple[JiraStandin, FakeApp]) -> None:
    standin, _ = installed
    key = standin.create_issue()["key"]
    standin.inject("/rest/api/3/issue/*", status=429, times=2, retry_after=1)
    first, second, third = (signed(standin, "PUT", f"/rest/api/3/issue/{key}", json={"fields": {"summary": "x"}})
                            for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (429, 429, 204)
    assert first.headers["Retry-After"] == "1"
    assert first.json()["errorMessages"] == ["Rate limit exceeded."]
    assert [c.injected for c in standin.calls("PUT")] == [True, True, False]
    assert standin.issue(key)["fields"]["summary"] == "x"


def test_429_with_only_rate_limit_reset(installed: tuple[JiraStandin, FakeApp]) -> None:
    standin, _ = installed
    standin.inject("*", status=429, rate_limit_reset=30)
    resp = signed(standin, "GET", "/rest/api/3/myself")
    assert resp.status_code == 429
    assert "Retry-After" not in resp.headers
    assert resp.headers["X-RateLimit-Reset"].endswith("Z")


def test_5xx_only_on_the_matching_path_and_method(installed: tuple[JiraStandin, FakeApp]) -> None:
    standin, _ = installed
    key = standin.create_issue()["key"]
    standin.inject("*/comment", status=503, times=1, method="POST")
    assert signed(standin, "GET", f"/rest/api/3/issue/{key}/comment").status_code == 200
    assert signed(standin, "GET", "/rest/api/3/myself").status_code == 200
    body = {"body": "hello"}
    assert signed(standin, "POST", f"/rest/servicedeskapi/request/{key}/comment", json=body).status_code == 503
    assert signed(standin, "POST", f"/rest/servicedeskapi/request/{key}/comment", json=body).status_code == 201
    assert len(standin.comments(key)) == 1


def test_latency_delays_answers(installed: tuple[JiraStandin, FakeApp]) -> None:
    standin, _ = installed
    standin.latency = 0.05
    start = time.monotonic()
    assert signed(standin, "GET", "/rest/api/3/myself").status_code == 200
    assert time.monotonic() - start >= 0.05  # a lower bound only: sleeping is never shorter
    standin.clear_faults()
    assert standin.latency == 0


def test_admin_endpoint_drives_faults_and_issues_from_another_process(installed: tuple[JiraStandin, FakeApp]) -> None:
    standin, fake_app = installed
    admin = f"http://127.0.0.1:{standin.port}/_standin"
    assert requests.post(f"{admin}/inject", json={"path": "*", "status": 500, "times": 1}, timeout=5).ok
    assert signed(standin, "GET", "/rest/api/3/myself").status_code == 500
    assert signed(standin, "GET", "/rest/api/3/myself").status_code == 200
    created = requests.post(f"{admin}/issues", json={"summary": "From the demo",
                                                     "fields": {"Severity": {"value": "Sev-2"}}}, timeout=5)
    assert created.status_code == 201
    key = created.json()["key"]
    requests.post(f"{admin}/issues/{key}/comment", json={"body": "hi", "author": "agent"}, timeout=5)
    assert requests.post(f"{admin}/wait", json={"timeout": 5}, timeout=10).json() == {"idle": True}
    assert [h.path for h in fake_app.received if "/hooks/" in h.path] == ["/app/hooks/created", "/app/hooks/comment"]
    assert requests.get(f"{admin}/issues/{key}", timeout=5).json()["fields"]["customfield_10104"]["value"] == "Sev-2"
    assert requests.get(f"{admin}/requests", timeout=5).json()[0]["status"] == 500


def test_cli_serves_until_terminated(fake_app: FakeApp) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "standin", "--install",
                             f"{fake_app.base_url}/atlassian-connect.json"],
                            cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        assert requests.get(info["admin"] + "info", timeout=5).json()["apps"][fake_app.key]["installed"]
        assert fake_app.hits("/app/lifecycle/installed")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.returncode == 0
