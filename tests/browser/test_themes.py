"""Both pages in Jira's dark theme (as `AP.theming` sets it) and in a browser that prefers dark:
dark surfaces, readable text (WCAG AA contrast for every visible text), screenshots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from browser_kit import (
    DARK_LUMINANCE,
    MIN_TEXT_CONTRAST,
    Site,
    background_luminance,
    low_contrast_text,
    publish_screenshot,
    seed_ticket,
)
from playwright.sync_api import expect

from standin import ADMIN, AGENT

pytestmark = pytest.mark.browser

#: How a page is asked to be dark: Jira's theme through AP (browser light), or the browser's preference.
DARK_WAYS: dict[str, dict[str, Any]] = {"jira-theme": {"color_mode": "dark"}, "browser-prefers-dark": {"dark": True}}
@pytest.mark.parametrize("way", DARK_WAYS)
def test_the_admin_page_is_dark_and_readable(open_page: Any, artifacts: Path, way: str) -> None:
    page = open_page("/admin", user=ADMIN.account_id, **DARK_WAYS[way])
    expect(page.locator("#tw-preview-table")).to_be_visible()
    expect(page.locator("#tw-strip .tw-day").first).to_be_visible()
    assert page.evaluate("window.__TW_AP_THEMING") is True  # the page asks Jira for its theme
    if way == "jira-theme":
        assert page.evaluate("document.documentElement.dataset.colorMode") == "dark"
    assert background_luminance(page) < DARK_LUMINANCE
    assert low_contrast_text(page) == []
    if way == "jira-theme":
        page.screenshot(path=str(artifacts / "admin-dark.png"))
        publish_screenshot(artifacts / "admin-dark.png", "admin-dark.png")
    # errors are readable too
    page.fill('[data-path="tiers.standard.sev1.first_response"]', "4x")
    expect(page.locator("#f-tiers_standard_sev1_first_response-error")).to_contain_text("is not a duration")
    assert low_contrast_text(page) == []


@pytest.mark.parametrize("way", DARK_WAYS)
def test_the_panel_is_dark_and_readable(open_page: Any, site: Site, artifacts: Path, way: str) -> None:
    reply = datetime.now(UTC) - timedelta(minutes=20)
    base = 20100 + 10 * list(DARK_WAYS).index(way)
    on_track, breached = str(base + 1), str(base + 2)
    seed_ticket(site, on_track, timedelta(hours=3), replies=(reply,), first_reply_at=reply, last_update_at=reply)
    seed_ticket(site, breached, timedelta(hours=30))
    for issue_id, state in ((on_track, "on_track"), (breached, "breached")):
        page = open_page("/panel", f"issueKey=SUP-{issue_id}&issueId={issue_id}", AGENT.account_id, **DARK_WAYS[way])
        expect(page.locator(f"[data-state={state}]").first).to_be_visible()
        page.click("#tw-why summary")
        assert background_luminance(page) < DARK_LUMINANCE
        assert low_contrast_text(page) == [], f"contrast under {MIN_TEXT_CONTRAST}"
        if way == "jira-theme" and issue_id == on_track:
            page.screenshot(path=str(artifacts / "panel-dark.png"), full_page=True)
            publish_screenshot(artifacts / "panel-dark.png", "panel-dark.png")


def test_light_pages_are_readable(open_page: Any, site: Site) -> None:
    page = open_page("/admin", user=ADMIN.account_id)
    expect(page.locator("#tw-preview-table")).to_be_visible()
    assert background_luminance(page) > 0.9
    assert low_contrast_text(page) == []
    seed_ticket(site, "20199", timedelta(hours=30))
    page = open_page("/panel", "issueKey=SUP-20199&issueId=20199", AGENT.account_id)
    expect(page.locator("[data-state=breached]").first).to_be_visible()
    assert low_contrast_text(page) == []
    # the check itself sees faint text: dark-theme grey on the light surface
    page.evaluate("""document.body.append(Object.assign(document.createElement("p"),
      {id: "faint", textContent: "Faint text", style: "color: #8C9BAB"}))""")
    assert [line for line in low_contrast_text(page) if "Faint text" in line]
