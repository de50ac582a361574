"""The issue SLA panel in a real browser: deadlines of a seeded ticket, a moving countdown, states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import scenarios
from browser_kit import Site, best_effort_document, low_contrast_text, publish_screenshot
from browser_kit import seed_ticket as seed
from playwright.sync_api import expect

from app.storage.audit import AuditLog
from standin import AGENT

pytestmark = pytest.mark.browser


def open_panel(open_page: Any, issue_id: str, *, dark: bool = False) -> Any:
    return open_page("/panel", f"issueKey=SUP-{issue_id}&issueId={issue_id}", AGENT.account_id, dark=dark)


def test_the_panel_shows_deadlines_with_a_moving_countdown(open_page: Any, site: Site, artifacts: Path) -> None:
    now = datetime.now(UTC)
    reply = now - timedelta(minutes=20)
    seed(site, "20001", timedelta(hours=3), replies=(reply,), first_reply_at=reply, last_update_at=reply)
    audit = AuditLog(site.services.session_factory)
    audit.record(site.client_key, "20001", "fields_written", {"target": "first_response", "deadline": "…"}, now - timedelta(hours=3))
    audit.record(site.client_key, "20001", "eta_comment", {"next_update": "in 60 minutes"}, reply)
    page = open_panel(open_page, "20001")

    scenarios.deadlines_with_a_moving_countdown(page, "GMT+1")  # Berlin in winter (the browser is in New York)
    page.screenshot(path=str(artifacts / "panel-light.png"), full_page=True)
    publish_screenshot(artifacts / "panel-light.png", "panel-light.png")


def test_breached_and_paused_states_render_in_words(open_page: Any, site: Site, artifacts: Path) -> None:
    seed(site, "20002", timedelta(hours=30))
    page = open_panel(open_page, "20002", dark=True)
    scenarios.breached(page)
    page.screenshot(path=str(artifacts / "panel-breached-dark.png"), full_page=True)

    now = datetime.now(UTC)
    seed(site, "20003", timedelta(hours=2), phase="paused", phase_changes=((now - timedelta(minutes=30), "paused"),))
    page = open_panel(open_page, "20003")
    scenarios.paused(page)
    page.screenshot(path=str(artifacts / "panel-paused-light.png"), full_page=True)


def test_an_untracked_issue_says_so(open_page: Any) -> None:
    page = open_panel(open_page, "99999")
    scenarios.untracked(page)


def test_times_follow_the_jira_profiles_locale(open_page: Any, site: Site) -> None:
    seed(site, "20004", timedelta(hours=30))
    page = open_page("/panel", "issueKey=SUP-20004&issueId=20004", AGENT.account_id, locale="de_DE")  # Jira's form
    scenarios.breached(page)
    scenarios.times_in_german(page)


#: The width of Jira's issue context the screenshots show (the panel lives in 320–380 px).
SCREENSHOT_WIDTH = 340


def shoot(page: Any, artifacts: Path, name: str) -> None:
    """A 340 px screenshot of the panel for docs/screenshots/ (published with TIERWISE_UPDATE_SCREENSHOTS=1)."""
    page.set_viewport_size({"width": SCREENSHOT_WIDTH, "height": 700})
    assert page.evaluate("document.documentElement.scrollWidth") <= SCREENSHOT_WIDTH  # nothing sticks out
    assert low_contrast_text(page) == []
    page.screenshot(path=str(artifacts / name), full_page=True)
    publish_screenshot(artifacts / name, name)


def test_the_panel_warns_amber_then_red_before_a_breach(open_page: Any, site: Site, artifacts: Path) -> None:
    # the policy has no pre_breach: the panel's defaults warn (amber within 1 h, red within 15 min of 24 h)
    seed(site, "20011", timedelta(hours=23, minutes=10))
    page = open_panel(open_page, "20011")
    scenarios.warns_before_the_breach(page, "due_soon", "Due soon · 49m left")
    expect(page.locator("#tw-next")).to_contain_text("First response due")
    shoot(page, artifacts, "panel-due-soon.png")

    seed(site, "20012", timedelta(hours=23, minutes=50))
    page = open_panel(open_page, "20012", dark=True)
    scenarios.warns_before_the_breach(page, "urgent", "Almost due · 9m left")
    assert low_contrast_text(page) == []

    seed(site, "20013", timedelta(hours=2))  # 22 h left: no warning
    page = open_panel(open_page, "20013")
    expect(page.locator('[data-target="first_response"] [data-state=on_track]')).to_contain_text("On track · 21h 59m left")
    shoot(page, artifacts, "panel-fresh.png")


def test_a_late_first_response_shows_when_and_how_late_and_stops(open_page: Any, site: Site, artifacts: Path) -> None:
    now = datetime.now(UTC)
    reply = now - timedelta(hours=2)  # created 27.5 h ago, 24 h to answer: answered 1 h 30 m late
    seed(site, "20014", timedelta(0), created_at=now - timedelta(hours=27, minutes=30), replies=(reply,),
         first_reply_at=reply, last_update_at=reply)
    page = open_panel(open_page, "20014")
    scenarios.answered_late(page)
    shoot(page, artifacts, "panel-answered-late.png")


def test_the_breached_and_paused_panels_at_340_px(open_page: Any, site: Site, artifacts: Path) -> None:
    seed(site, "20015", timedelta(hours=30))
    page = open_panel(open_page, "20015")
    scenarios.breached(page)
    shoot(page, artifacts, "panel-breached.png")
    now = datetime.now(UTC)
    seed(site, "20016", timedelta(hours=2), phase="paused", phase_changes=((now - timedelta(minutes=30), "paused"),))
    page = open_panel(open_page, "20016")
    scenarios.paused(page)
    shoot(page, artifacts, "panel-paused.png")


def test_a_best_effort_tier_is_one_line(open_page: Any, site: Site, artifacts: Path) -> None:
    seed(site, "20017", timedelta(hours=2), document=best_effort_document(), tier="community",
         tier_rule="rule 1: e-mail domain example.org → community")
    page = open_panel(open_page, "20017")
    scenarios.best_effort(page)
    shoot(page, artifacts, "panel-best-effort.png")


def test_a_failed_classification_says_what_failed_and_who_can_fix_it(open_page: Any, site: Site,
                                                                      artifacts: Path) -> None:
    AuditLog(site.services.session_factory).record(
        site.client_key, "20018", "policy_error",
        {"event": "e-20018", "error": 'no rule set the severity (field "Severity" is empty) and there is no default'},
        datetime.now(UTC))
    page = open_panel(open_page, "20018")
    scenarios.classification_failed(page)
    shoot(page, artifacts, "panel-unclassified.png")
