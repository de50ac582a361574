"""Install → signed request → uninstall against a real gunicorn on 127.0.0.1, plus refusals over HTTP.

The signed request is the `enabled`/`disabled` callback: HS256 with the shared secret stored at
install, qsh bound to the request, the same verification webhooks and page loads use.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

# Token helpers and the install-key server are shared with tests/web.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "web"))

from connect_testkit import KID, KeyServer, install_token, lifecycle_body, new_client_key, now, pem  # noqa: E402

from app.bootstrap import Services  # noqa: E402
from app.connect.qsh import CONTEXT_QSH, query_string_hash  # noqa: E402
from app.connect.tokens import mint_token  # noqa: E402
from app.settings import Settings  # noqa: E402

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
FIRST_SECRET = "e2e-first-secret-0123456789-0123456789-ab"
SECOND_SECRET = "e2e-second-secret-0123456789-0123456789-c"
#: Seconds gunicorn gets to come up on a busy machine.
STARTUP_SECONDS = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Gunicorn:
    def __init__(self, base_url: str, env: dict[str, str], log_path: Path, key_server: KeyServer) -> None:
        self.base_url = base_url
        self.env = env
        self.log_path = log_path
        self.key_server = key_server

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def gunicorn(tmp_path: Path, signing_key: rsa.RSAPrivateKey) -> Iterator[Gunicorn]:
    keys = KeyServer()
    keys.keys[KID] = pem(signing_key)
    keys.start()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "APP_KEY"}}
    env.update(
        TIERWISE_INSTANCE_DIR=str(tmp_path / "instance"),
        APP_BASE_URL=base_url,
        CONNECT_INSTALL_KEYS_URL=keys.url,
        TIERWISE_SECRET_KEY="q6aYb4V2o2Yq3wqzq7sM2s6WJ9yq1Yx0c1Jt0a0v1pQ=",
        LOG_FORMAT="text",
        LOG_LEVEL="DEBUG",
    )
    log_path = tmp_path / "gunicorn.log"
    gunicorn_bin = Path(sys.executable).with_name("gunicorn")
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [str(gunicorn_bin), "--bind", f"127.0.0.1:{port}", "--workers", "2", "--log-level", "debug",
             "--no-control-socket", "app:create_app()"],
            cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            server = Gunicorn(base_url, env, log_path, keys)
            deadline = time.monotonic() + STARTUP_SECONDS
            while True:
                assert proc.poll() is None, f"gunicorn exited early:\n{server.log()}"
                try:
                    if requests.get(f"{base_url}/atlassian-connect.json", timeout=5).status_code == 200:
                        break
                except (requests.ConnectionError, requests.Timeout):
                    pass  # still booting: a worker importing the app can take seconds on a loaded machine
                assert time.monotonic() < deadline, f"gunicorn did not come up:\n{server.log()}"
                time.sleep(0.1)
            yield server
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            keys.stop()


def installed_call(server: Gunicorn, key: rsa.RSAPrivateKey, client_key: str, event: str,
                   secret: str = "", **token_kw: Any) -> requests.Response:
    path = f"/lifecycle/{event}"
    token = install_token(key, client_key=client_key, aud=server.base_url, path=path, **token_kw)
    return requests.post(server.base_url + path, json=lifecycle_body(client_key, event, secret),
                         headers={"Authorization": f"JWT {token}"}, timeout=10)


def state_call(server: Gunicorn, client_key: str, event: str, secret: str, qsh: str | None = None,
               at: Any = None) -> requests.Response:
    path = f"/lifecycle/{event}"
    token = mint_token(issuer=client_key, secret=secret, qsh=qsh or query_string_hash("POST", path, ""),
                       now=at or now())
    return requests.post(server.base_url + path, json=lifecycle_body(client_key, event),
                         headers={"Authorization": f"JWT {token}"}, timeout=10)


def refused(resp: requests.Response, status: int, code: str) -> None:
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"].startswith("application/json")
    assert resp.json()["error"] == code


def test_full_lifecycle_over_real_http(gunicorn: Gunicorn, signing_key: rsa.RSAPrivateKey) -> None:
    server, client_key = gunicorn, new_client_key()
    stores = Services(Settings.from_env(server.env))
    try:
        descriptor = requests.get(f"{server.base_url}/atlassian-connect.json", timeout=10).json()
        assert descriptor["baseUrl"] == server.base_url

        t0 = now() - timedelta(seconds=20)
        assert installed_call(server, signing_key, client_key, "installed", FIRST_SECRET, at=t0).status_code == 204
        assert state_call(server, client_key, "enabled", FIRST_SECRET, at=t0 + timedelta(seconds=2)).status_code == 204
        assert stores.tenants.get(client_key).state == "enabled"  # type: ignore[union-attr]
        refused(state_call(server, client_key, "disabled", FIRST_SECRET, qsh=CONTEXT_QSH), 401, "context_qsh_refused")

        # Reinstall: the new secret works, the old one no longer does.
        t1 = t0 + timedelta(seconds=5)
        assert installed_call(server, signing_key, client_key, "installed", SECOND_SECRET, at=t1).status_code == 204
        refused(state_call(server, client_key, "enabled", FIRST_SECRET), 401, "bad_signature")
        assert state_call(server, client_key, "disabled", SECOND_SECRET, at=t1 + timedelta(seconds=2)).status_code == 204
        assert stores.tenants.get(client_key).state == "disabled"  # type: ignore[union-attr]

        t2 = t1 + timedelta(seconds=5)
        assert installed_call(server, signing_key, client_key, "uninstalled", at=t2).status_code == 204
        # A late `enabled` issued before the uninstall changes nothing.
        assert state_call(server, client_key, "enabled", SECOND_SECRET, at=t2 - timedelta(seconds=1)).status_code == 204
        tenant = stores.tenants.get(client_key)
        assert tenant is not None and tenant.state == "uninstalled"
    finally:
        stores.close()

    log = server.log()
    for secret in (FIRST_SECRET, SECOND_SECRET):
        assert secret not in log


def test_refusals_over_real_http(gunicorn: Gunicorn, signing_key: rsa.RSAPrivateKey) -> None:
    server, client_key = gunicorn, new_client_key()
    url = server.base_url + "/lifecycle/installed"
    body = lifecycle_body(client_key, "installed", FIRST_SECRET)

    refused(requests.post(url, json=body, timeout=10), 401, "missing_token")
    forged = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    refused(installed_call(server, forged, client_key, "installed", FIRST_SECRET), 401, "bad_signature")
    refused(installed_call(server, signing_key, client_key, "installed", FIRST_SECRET, kid="../x"), 401, "bad_kid")
    refused(installed_call(server, signing_key, client_key, "installed", FIRST_SECRET,
                           at=now() - timedelta(minutes=10), ttl=60), 401, "token_expired")
    hs_token = mint_token(issuer=client_key, secret=FIRST_SECRET, now=now(),
                          qsh=query_string_hash("POST", "/lifecycle/installed", ""), extra={"aud": server.base_url})
    refused(requests.post(url, json=body, headers={"Authorization": f"JWT {hs_token}"}, timeout=10),
            401, "bad_algorithm")
    refused(state_call(server, new_client_key(), "enabled", FIRST_SECRET), 401, "unknown_tenant")
    assert state_call(server, new_client_key(), "disabled", FIRST_SECRET).status_code == 204

    token = install_token(signing_key, client_key=client_key, aud=server.base_url)
    headers = {"Authorization": f"JWT {token}", "Content-Type": "application/json"}
    refused(requests.post(url, data=b'{"clientKey": ', headers=headers, timeout=10), 400, "bad_body")
    oversized = b'{"pad": "' + b"x" * (1024 * 1024) + b'"}'
    refused(requests.post(url, data=oversized, headers=headers, timeout=10), 413, "body_too_large")
    refused(requests.get(server.base_url + "/nowhere", timeout=10), 404, "not_found")
    assert token not in server.log()
