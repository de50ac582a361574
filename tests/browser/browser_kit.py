"""Browser-suite helpers: where things are, tokens as Jira and `AP` hand them to the pages, screenshots.

Atlassian's `all.js` is answered with `static/test-support/ap-standin.js`; any other request that
leaves 127.0.0.1 is aborted (see `conftest.open_page`), so the suite never reaches the internet.
"""

from __future__ import annotations

import os
import shutil
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.bootstrap import Services
from app.connect.qsh import CONTEXT_QSH, query_string_hash
from app.connect.tokens import mint_token

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
ARTIFACTS = REPO_ROOT / "test-artifacts"
AP_STANDIN = REPO_ROOT / "static" / "test-support" / "ap-standin.js"
ALL_JS = "https://connect-cdn.atl-paas.net/all.js"
CHROMIUM = "/usr/bin/chromium"
#: Seconds the app may take to start and migrate.
START_TIMEOUT_S = 30
#: The viewer's time zone in the browser (deadlines are shown in it, not in UTC or the desk's zone).
VIEWER_TIME_ZONE = "Europe/Berlin"
#: Lifetime of the tokens the tests hand the pages (long enough for the slowest test).
TOKEN_TTL_S = 600


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Site:
    """The app under gunicorn, installed into the stand-in."""

    app_url: str
    jira: Any
    client_key: str
    shared_secret: str
    services: Services

    def page_token(self, path: str, query: str = "", user: str | None = None) -> str:
        """A page-load token as Jira puts in an iframe's URL (qsh bound to this GET)."""
        return mint_token(issuer=self.client_key, secret=self.shared_secret, now=datetime.now(UTC),
                          qsh=query_string_hash("GET", path, query), subject=user, ttl=TOKEN_TTL_S)

    def context_token(self, user: str | None) -> str:
        """What `AP.context.getToken()` returns inside the page."""
        return mint_token(issuer=self.client_key, secret=self.shared_secret, now=datetime.now(UTC),
                          qsh=CONTEXT_QSH, subject=user, ttl=TOKEN_TTL_S)


def publish_screenshot(source: Path, name: str) -> None:
    """Copy a screenshot to `docs/screenshots/` for the README, only when asked to
    (`TIERWISE_UPDATE_SCREENSHOTS=1`): a plain test run must not change tracked files."""
    if os.environ.get("TIERWISE_UPDATE_SCREENSHOTS") == "1":
        shutil.copy(source, REPO_ROOT / "docs" / "screenshots" / name)
