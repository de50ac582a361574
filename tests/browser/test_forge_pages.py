"""The Forge admin page and SLA panel in a real browser: the production bundle (`forge/static/*`, with the
real `@forge/bridge`) inside the stand-in host (`standin/forge_ui.py`), which signs a Forge Invocation Token
per `invokeRemote` and forwards it to Tierwise's `/forge/api/…`. The same scenarios as the Connect pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
import scenarios
from browser_kit import (
    DARK_LUMINANCE,
    ForgeSite,
    background_luminance,
    low_contrast_text,
    publish_screenshot,
    seed_ticket,
)
from keyboard import problems, tab_through
from playwright.sync_api import expect

from app.storage.audit import AuditLog
from app.storage.policies import PolicyStore
from standin import ADMIN, AGENT
from standin.forge_ui import UiUser, admin_page, issue_panel

pytestmark = pytest.mark.browser

#: The Jira profile of the Forge users: a zone and locale unlike the browser's and the Connect tests'.
MELBOURNE = "Australia/Melbourne"


def claims(request: Any) -> dict[str, Any]:
    """The FIT Forge sent with one request (its signature is Tierwise's to check)."""
    token = request.headers["Authorization"].removeprefix("Bearer ")
    return dict(jwt.decode(token, options={"verify_signature": False}))


def test_an_admin_edits_previews_and_saves_through_forge(open_forge: Any, forge_site: ForgeSite,
                                                          artifacts: Path) -> None:
    page, host = open_forge("admin", admin_page(), UiUser(ADMIN.account_id, locale="en-US", timezone=MELBOURNE))
    scenarios.edit_preview_and_save(page, "Sev-1 answered within 2 hours (Forge)", artifacts,
                                    "forge-admin-error-light.png", flags=lambda: host.flags)  # showFlag
    expect(page.locator("#tw-preview-at")).to_contain_text(f"Times in {MELBOURNE}")  # the Jira profile's zone
    page.screenshot(path=str(artifacts / "forge-admin-light.png"))
    scenarios.export_version_one(page)
    publish_screenshot(artifacts / "forge-admin-light.png", "forge-admin-light.png")
    active = PolicyStore(forge_site.services.session_factory).active(forge_site.client_key)
    assert active is not None and active.document["tiers"]["standard"]["sev1"]["first_response"] == "2h on 24x7"
    assert active.created_by == ADMIN.account_id

    # what invokeRemote really sent: the path appended to the remote's baseUrl, a FIT for this module
    # and user, the system token the resolver endpoint asks for
    assert host.sent and all(r.url.startswith(forge_site.app_url + "/forge/api/admin/") for r in host.sent)
    save = next(r for r in host.sent if r.method == "POST" and r.url.endswith("/forge/api/admin/policy"))
    assert save.body["note"] == "Sev-1 answered within 2 hours (Forge)"
    fit = claims(save)
    assert fit["principal"] == ADMIN.account_id and fit["aud"] == forge_site.inst.app_id
    assert fit["app"]["module"] == {"type": "jira:adminPage", "key": "tierwise-admin"}
    assert fit["context"]["extension"]["type"] == "jira:adminPage"
    assert all(r.headers.get("x-forge-oauth-system") for r in host.sent)


def test_the_forge_admin_page_follows_the_jira_theme(open_forge: Any, artifacts: Path) -> None:
    page, _ = open_forge("admin", admin_page(), UiUser(ADMIN.account_id, timezone=MELBOURNE, color_mode="dark"))
    expect(page.locator("#tw-preview-table")).to_be_visible()
    expect(page.locator("#tw-strip .tw-day").first).to_be_visible()
    assert "enableTheming" in page.evaluate("window.__TW_FORGE_CALLS")  # view.theme.enable()
    assert page.evaluate("document.documentElement.dataset.colorMode") == "dark"
    assert background_luminance(page) < DARK_LUMINANCE
    assert low_contrast_text(page) == []
    page.screenshot(path=str(artifacts / "forge-admin-dark.png"))
    publish_screenshot(artifacts / "forge-admin-dark.png", "forge-admin-dark.png")


def test_the_pages_are_served_under_a_strict_content_security_policy(open_forge: Any) -> None:
    page, _ = open_panel(open_forge, "99999")
    scenarios.untracked(page)
    assert page.evaluate("window.__TW_CSP_VIOLATIONS") == []
    # the policy is live: an inline style is refused (and the check would see it)
    page.evaluate("""document.body.insertAdjacentHTML("beforeend", '<p id="inline" style="color: red">x</p>')""")
    page.wait_for_function("window.__TW_CSP_VIOLATIONS.length > 0")
    assert page.evaluate("window.__TW_CSP_VIOLATIONS")[0].startswith("style-src")
    page.evaluate("window.__TW_CSP_VIOLATIONS.length = 0")


def test_a_non_admin_is_refused_through_forge(open_forge: Any) -> None:
    page, host = open_forge("admin", admin_page(), UiUser(AGENT.account_id))
    scenarios.refused_to_a_non_admin(page)
    assert claims(host.sent[0])["principal"] == AGENT.account_id


def open_panel(open_forge: Any, issue_id: str, *, color_mode: str = "light") -> tuple[Any, Any]:
    module = issue_panel(issue_id, f"SUP-{issue_id}")
    return open_forge("panel", module, UiUser(AGENT.account_id, timezone=MELBOURNE, color_mode=color_mode))


def test_the_forge_panel_shows_deadlines_with_a_moving_countdown(open_forge: Any, forge_site: ForgeSite,
                                                                  artifacts: Path) -> None:
    now = datetime.now(UTC)
    reply = now - timedelta(minutes=20)
    seed_ticket(forge_site, "30001", timedelta(hours=3), replies=(reply,), first_reply_at=reply, last_update_at=reply)
    audit = AuditLog(forge_site.services.session_factory)
    audit.record(forge_site.client_key, "30001", "fields_written", {"target": "first_response"}, now - timedelta(hours=3))
    audit.record(forge_site.client_key, "30001", "eta_comment", {"next_update": "in 60 minutes"}, reply)
    page, host = open_panel(open_forge, "30001")

    expect(page.locator("#tw-panel")).to_have_attribute("aria-label", "SLA of SUP-30001")  # from the extension
    scenarios.deadlines_with_a_moving_countdown(page, re.compile(r"GMT\+1[01]"))  # Melbourne, not New York
    expect(page.locator("#tw-panel-body")).to_contain_text(f"Times in your time zone ({MELBOURNE})")
    page.screenshot(path=str(artifacts / "forge-panel-light.png"), full_page=True)
    publish_screenshot(artifacts / "forge-panel-light.png", "forge-panel-light.png")

    # the panel asked for its issue with a FIT whose extension is that issue
    sent = next(r for r in host.sent if r.url.endswith("/forge/api/panel/30001"))
    fit = claims(sent)
    assert sent.method == "GET" and sent.url == forge_site.app_url + "/forge/api/panel/30001"
    assert fit["context"]["extension"]["issue"] == {"id": "30001", "key": "SUP-30001", "type": "Support",
                                                    "typeId": "10002"}
    assert fit["app"]["module"]["type"] == "jira:issuePanel" and fit["principal"] == AGENT.account_id


def test_breached_and_paused_through_forge(open_forge: Any, forge_site: ForgeSite, artifacts: Path) -> None:
    seed_ticket(forge_site, "30002", timedelta(hours=30))
    page, _ = open_panel(open_forge, "30002", color_mode="dark")
    scenarios.breached(page)
    assert background_luminance(page) < DARK_LUMINANCE
    assert low_contrast_text(page) == []
    page.screenshot(path=str(artifacts / "forge-panel-dark.png"), full_page=True)
    publish_screenshot(artifacts / "forge-panel-dark.png", "forge-panel-dark.png")

    now = datetime.now(UTC)
    seed_ticket(forge_site, "30003", timedelta(hours=2), phase="paused",
                phase_changes=((now - timedelta(minutes=30), "paused"),))
    page, _ = open_panel(open_forge, "30003")
    scenarios.paused(page)


def test_an_untracked_issue_says_so_through_forge(open_forge: Any) -> None:
    page, _ = open_panel(open_forge, "99999")
    scenarios.untracked(page)


def test_the_forge_panel_is_usable_with_a_keyboard(open_forge: Any, forge_site: ForgeSite) -> None:
    seed_ticket(forge_site, "30004", timedelta(hours=30))
    page, _ = open_panel(open_forge, "30004")
    scenarios.breached(page)
    stops = tab_through(page)
    assert [s["name"] for s in stops] == ["Why these targets"]
    assert problems(stops) == []


def test_times_follow_the_jira_profiles_locale_through_forge(open_forge: Any, forge_site: ForgeSite) -> None:
    seed_ticket(forge_site, "30005", timedelta(hours=30))
    page, _ = open_forge("panel", issue_panel("30005", "SUP-30005"),
                         UiUser(AGENT.account_id, locale="de-DE", timezone="Europe/Berlin"))
    scenarios.breached(page)
    scenarios.times_in_german(page)
