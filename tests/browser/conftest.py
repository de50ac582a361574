"""Browser fixtures: the app under a real gunicorn on 127.0.0.1, installed into a running Jira
stand-in (so admin checks go through its permissions API), and Debian's chromium via Playwright.
The helpers they use live in `browser_kit`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from browser_kit import (
    ALL_JS,
    AP_STANDIN,
    ARTIFACTS,
    BROWSER_TIME_ZONE,
    CHROMIUM,
    FORGE_APP_ID,
    FORGE_BRIDGE_HOST,
    FORGE_CSP,
    FORGE_MANIFEST,
    FORGE_RESOURCES,
    FORGE_RESOURCES_URL,
    REPO_ROOT,
    START_TIMEOUT_S,
    VIEWER_LOCALE,
    VIEWER_TIME_ZONE,
    ForgeSite,
    Site,
    free_port,
)

from app.bootstrap import Services
from app.settings import Settings
from standin.forge_ui import ForgeUiHost, UiModule, UiUser


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from standin import JiraStandin

    if not Path(CHROMIUM).exists():
        subprocess.run(["bash", str(REPO_ROOT / ".ci" / "ensure-chromium")], check=True)
    instance = tmp_path_factory.mktemp("browser-instance")
    port = free_port()
    # two sites: one with the Connect app, one with the Forge app (each its own tenant, whatever the
    # backend's rules for a site that has both)
    with JiraStandin() as jira, JiraStandin() as forge_jira:
        env = {
            **os.environ,
            "TIERWISE_INSTANCE_DIR": str(instance),
            "APP_BASE_URL": f"http://127.0.0.1:{port}",
            "PORT": str(port),
            "CONNECT_INSTALL_KEYS_URL": jira.install_keys_url,
            "FORGE_APP_ID": FORGE_APP_ID,
            "FORGE_JWKS_URL": forge_jira.forge.jwks_url,
            "TIERWISE_SECRET_KEY": "q6aYb4V2o2Yq3wqzq7sM2s6WJ9yq1Yx0c1Jt0a0v1pQ=",
            "LOG_FORMAT": "text",
        }
        for name in ("DATABASE_URL", "REDIS_URL"):
            env.pop(name, None)
        gunicorn = Path(sys.executable).parent / "gunicorn"
        log = (instance / "gunicorn.log").open("w")
        proc = subprocess.Popen(
            [str(gunicorn), "-b", f"127.0.0.1:{port}", "-w", "1", "--threads", "8", "app:create_app()"],
            cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        app_url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            while True:
                try:
                    if requests.get(f"{app_url}/atlassian-connect.json", timeout=5).ok:
                        break
                except (requests.ConnectionError, requests.Timeout):
                    pass  # still booting
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start: {(instance / 'gunicorn.log').read_text()[-2000:]}")
                time.sleep(0.2)
            installed = jira.install_app(f"{app_url}/atlassian-connect.json")
            services = Services(Settings.from_env({k: v for k, v in env.items() if isinstance(v, str)}))
            yield Site(app_url, jira, installed.client_key, installed.shared_secret, services, forge_jira)
            services.close()
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def open_page(browser: Any, site: Site) -> Iterator[Any]:
    """`open_page(path, query, user, dark=False, color_mode=None)`: a fresh page inside a stand-in `AP`, at the app's URL."""
    contexts: list[Any] = []
    ap_js = AP_STANDIN.read_text()

    def _open(path: str, query: str = "", user: str | None = None, *, dark: bool = False,
              color_mode: str | None = None, locale: str = VIEWER_LOCALE) -> Any:
        """`dark`: the browser prefers dark; `color_mode`: the Jira theme `AP.theming` puts on <html>;
        `locale`: the Jira profile's (`AP.user.getLocale()`)."""
        context = browser.new_context(viewport={"width": 1280, "height": 900} if path == "/admin" else {"width": 380, "height": 900},
                                      color_scheme="dark" if dark else "light", timezone_id=BROWSER_TIME_ZONE)
        contexts.append(context)

        def guard(route: Any) -> None:
            url = route.request.url
            if url == ALL_JS:
                route.fulfill(status=200, content_type="application/javascript", body=ap_js)
            elif url.startswith(site.app_url):
                route.continue_()
            else:
                route.abort()

        context.route("**/*", guard)
        page = context.new_page()
        config = {"token": site.context_token(user), "user": user, "colorMode": color_mode,
                  "timeZone": VIEWER_TIME_ZONE, "locale": locale}
        page.add_init_script(f"window.__TW_AP = {json.dumps(config)};")
        token = site.page_token(path, query, user)
        sep = "&" if query else ""
        page.goto(f"{site.app_url}{path}?{query}{sep}jwt={token}")
        return page

    yield _open
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def forge_site(site: Site) -> ForgeSite:
    """The Forge app installed on the second stand-in site, its remote the same Tierwise server."""
    import yaml

    if not all((FORGE_RESOURCES / page / f"{page}.js").is_file() for page in ("admin", "panel")):
        subprocess.run(["bash", str(REPO_ROOT / ".ci" / "build-ui")], check=True)  # make test builds them first
    before = set(site.services.tenants.list_keys())
    inst = site.forge_jira.forge.install(site.app_url, yaml.safe_load(FORGE_MANIFEST.read_text()), app_id=FORGE_APP_ID)
    created = set(site.services.tenants.list_keys()) - before
    assert len(created) == 1, f"the Forge install should create one tenant, not {sorted(created)}"
    return ForgeSite(site.app_url, site.forge_jira, inst, created.pop(), site.services)


@pytest.fixture
def open_forge(browser: Any, forge_site: ForgeSite) -> Iterator[Any]:
    """`open_forge(page, module, user, dark=False)` → (page, host): a Forge Custom UI resource as Jira shows it.

    The resource comes from `forge/static/<page>/` (the build) at a CDN-like origin, as Forge serves it;
    `window.__bridge` is the stand-in host (`static/test-support/forge-bridge-host.js` → `standin.forge_ui`).
    """
    contexts: list[Any] = []
    bridge_js = FORGE_BRIDGE_HOST.read_text()

    def _open(resource: str, module: UiModule, user: UiUser, *, dark: bool = False) -> tuple[Any, ForgeUiHost]:
        width = 1280 if resource == "admin" else 380
        context = browser.new_context(viewport={"width": width, "height": 900},
                                      color_scheme="dark" if dark else "light", timezone_id=BROWSER_TIME_ZONE)
        contexts.append(context)

        def serve(route: Any) -> None:
            url = route.request.url
            if url.startswith(FORGE_RESOURCES_URL):
                file = (FORGE_RESOURCES / url[len(FORGE_RESOURCES_URL):].split("?")[0]).resolve()
                if FORGE_RESOURCES in file.parents and file.is_file():
                    route.fulfill(status=200, path=str(file), headers={"Content-Security-Policy": FORGE_CSP})
                    return
                route.fulfill(status=404, body="not a resource of the app")
            else:
                route.abort()  # a Custom UI page reaches its remote only through the bridge

        context.route("**/*", serve)
        host = ForgeUiHost(forge_site.jira.forge, forge_site.inst, module, user)

        def answer(source: Any, name: str, payload: Any) -> dict[str, Any]:
            from standin.forge_ui import BridgeRejected

            try:
                return {"ok": True, "value": host.call(name, payload)}
            except BridgeRejected as exc:
                return {"ok": False, "message": str(exc)}

        page = context.new_page()
        page.expose_binding("__twForgeHost", answer)
        page.add_init_script(bridge_js)
        page.goto(f"{FORGE_RESOURCES_URL}{resource}/index.html")
        pages.append(page)
        return page, host

    pages: list[Any] = []
    yield _open
    blocked = {page.url: page.evaluate("window.__TW_CSP_VIOLATIONS") for page in pages if not page.is_closed()}
    for context in contexts:
        context.close()
    assert not any(blocked.values()), f"the Forge pages did something Custom UI's CSP blocks: {blocked}"
