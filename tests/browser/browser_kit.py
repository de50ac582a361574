"""Browser-suite helpers: where things are, tokens as Jira and `AP` hand them to the pages, screenshots.

Atlassian's `all.js` is answered with `static/test-support/ap-standin.js`; any other request that
leaves 127.0.0.1 is aborted (see `conftest.open_page`), so the suite never reaches the internet.
"""

from __future__ import annotations

import os
import shutil
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from app.bootstrap import Services
from app.connect.qsh import CONTEXT_QSH, query_string_hash
from app.connect.tokens import mint_token
from app.schemas.presets import preset_document
from app.storage.policies import PolicyStore
from app.storage.tickets import TicketRecord, TicketStore

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
ARTIFACTS = REPO_ROOT / "test-artifacts"
AP_STANDIN = REPO_ROOT / "static" / "test-support" / "ap-standin.js"
#: The stand-in for the script Forge's hosting puts in a Custom UI page (`window.__bridge`).
FORGE_BRIDGE_HOST = REPO_ROOT / "static" / "test-support" / "forge-bridge-host.js"
#: The Forge app: its manifest, and its Custom UI resources as `.ci/build-ui` writes them.
FORGE_MANIFEST = REPO_ROOT / "forge" / "manifest.yml"
FORGE_RESOURCES = REPO_ROOT / "forge" / "static"
#: Where the browser tests serve the Custom UI resources (Forge serves them from its CDN, not the remote).
FORGE_RESOURCES_URL = "https://tierwise-resources.forge.test/"
#: A content security policy as strict as Custom UI's default: the page's own scripts and styles only
#: (no inline script or style, no eval), and no network but its own origin.
FORGE_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'"
FORGE_APP_ID = "ari:cloud:ecosystem::app/5b6c7d8e-9f00-4a1b-8c2d-3e4f5a6b7c8d"
ALL_JS = "https://connect-cdn.atl-paas.net/all.js"
CHROMIUM = "/usr/bin/chromium"
#: Seconds the app may take to start and migrate.
START_TIMEOUT_S = 30
#: The viewer's time zone in their Jira profile (deadlines are shown in it, not in UTC or the desk's zone).
VIEWER_TIME_ZONE = "Europe/Berlin"
#: The viewer's locale in their Jira profile (Connect's `AP.user.getLocale()` form).
VIEWER_LOCALE = "en_US"
#: The browser's own time zone: a different one, so a page that used the browser's guess would show it.
BROWSER_TIME_ZONE = "America/New_York"
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
    forge_jira: Any  # the second stand-in site, where the Forge app is installed

    def page_token(self, path: str, query: str = "", user: str | None = None) -> str:
        """A page-load token as Jira puts in an iframe's URL (qsh bound to this GET)."""
        return mint_token(issuer=self.client_key, secret=self.shared_secret, now=datetime.now(UTC),
                          qsh=query_string_hash("GET", path, query), subject=user, ttl=TOKEN_TTL_S)

    def context_token(self, user: str | None) -> str:
        """What `AP.context.getToken()` returns inside the page."""
        return mint_token(issuer=self.client_key, secret=self.shared_secret, now=datetime.now(UTC),
                          qsh=CONTEXT_QSH, subject=user, ttl=TOKEN_TTL_S)


@dataclass
class ForgeSite:
    """The Forge app installed on the second stand-in site; its remote is the same Tierwise server."""

    app_url: str
    jira: Any
    inst: Any  # standin.forge.ForgeInstallation
    client_key: str  # the tenant the installation resolved to
    services: Services


def publish_screenshot(source: Path, name: str) -> None:
    """Copy a screenshot to `docs/screenshots/` for the README, only when asked to
    (`TIERWISE_UPDATE_SCREENSHOTS=1`): a plain test run must not change tracked files."""
    if os.environ.get("TIERWISE_UPDATE_SCREENSHOTS") == "1":
        shutil.copy(source, REPO_ROOT / "docs" / "screenshots" / name)


def seed_ticket(site: Site | ForgeSite, issue_id: str, created_ago: timedelta, **changes: Any) -> TicketRecord:
    """A ticket under the Confluence Health Check policy (24x7 Sev-1 targets: independent of the hour)."""
    store = PolicyStore(site.services.session_factory)
    doc = preset_document("confluence-health-check")
    active = store.active(site.client_key)
    version = active if active and active.document.get("id") == doc["id"] else store.save(site.client_key, doc, None)
    record = TicketRecord(
        tenant_key=site.client_key, issue_id=issue_id, issue_key=f"SUP-{issue_id}",
        created_at=datetime.now(UTC) - created_ago, policy_version_id=version.id, tier="standard", severity="sev1",
        tier_rule="default tier standard", severity_rule="rule 1: field priority = 'Highest' → sev1", **changes,
    )
    return TicketStore(site.services.session_factory).save(record, 0)


#: Browser-side: every visible piece of text (and every text input's value) with its colour, the colour
#: of what is behind it (semi-transparent backgrounds composited up to the page) and their WCAG contrast.
TEXT_CONTRAST_JS = """
() => {
  const rgba = (c) => {
    const m = /rgba?\\(([^)]+)\\)/.exec(c);
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, below) => top.slice(0, 3).map((v, i) => v * top[3] + below[i] * (1 - top[3]));
  const luminance = (rgb) => {
    const [r, g, b] = rgb.map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const behind = (node) => {
    const layers = [];
    for (let n = node; n && n.nodeType === 1; n = n.parentElement) layers.push(rgba(getComputedStyle(n).backgroundColor));
    let colour = [255, 255, 255];
    if (getComputedStyle(document.documentElement).colorScheme === "dark") colour = [0, 0, 0];
    for (const layer of layers.reverse()) if (layer) colour = over(layer, colour);
    return colour;
  };
  const out = [];
  const shown = (node) => node.getClientRects().length > 0 && getComputedStyle(node).visibility === "visible"
    && !node.closest(".tw-sr-only, [aria-hidden=true], :disabled");
  for (const node of document.querySelectorAll("body *")) {
    const own = [...node.childNodes].some((c) => c.nodeType === 3 && c.textContent.trim());
    const field = node.matches("input:not([type=checkbox]):not([type=file]):not([type=radio]), select, textarea") && node.value;
    if (!(own || field) || !shown(node) || node.matches("option, script, style")) continue;
    const bg = behind(node);
    const fg = over(rgba(getComputedStyle(node).color), bg);
    const [hi, lo] = [luminance(fg), luminance(bg)].sort((a, b) => b - a);
    const text = (field ? node.value : node.textContent).trim().slice(0, 40);
    out.push({ tag: node.tagName.toLowerCase(), cls: node.className, text, ratio: (hi + 0.05) / (lo + 0.05), background: luminance(bg) });
  }
  return out;
}
"""
#: WCAG AA contrast for body text.
MIN_TEXT_CONTRAST = 4.5


def low_contrast_text(page: Any) -> list[str]:
    """The visible texts of the page whose contrast with their background is under WCAG AA."""
    found = page.evaluate(TEXT_CONTRAST_JS)
    assert found, "no text found on the page"
    return [f"{t['tag']}.{t['cls']} {t['text']!r}: {t['ratio']:.2f}" for t in found if t["ratio"] < MIN_TEXT_CONTRAST]


#: Relative luminance under which a background counts as dark (the dark surface token #1D2125 is ≈ 0.015).
DARK_LUMINANCE = 0.05


def background_luminance(page: Any) -> float:
    found = page.evaluate("""() => {
      const m = getComputedStyle(document.body).backgroundColor.match(/\\d+(\\.\\d+)?/g).map(Number);
      const lin = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * lin(m[0]) + 0.7152 * lin(m[1]) + 0.0722 * lin(m[2]);
    }""")
    return float(found)
