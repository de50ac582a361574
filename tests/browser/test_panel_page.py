"""The issue SLA panel in a real browser: deadlines of a seeded ticket, a moving countdown, states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from browser_kit import Site, publish_screenshot
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

    expect(page.locator("#tw-tier")).to_have_text("Tier: Standard")
    expect(page.locator("#tw-severity")).to_have_text("Severity: Critical")
    first = page.locator('[data-target="first_response"]')
    expect(first.locator("[data-state]")).to_have_text("✔Met")
    update = page.locator('[data-target="next_update"]')
    expect(update.locator("[data-state]")).to_contain_text("On track")
    expect(update.locator("time")).to_contain_text("GMT+1")  # the viewer's zone (Berlin in November), not UTC
    countdown = page.locator('[data-countdown="next_update"]')
    expect(countdown).to_contain_text("left")
    shown = countdown.inner_text()
    expect(countdown).not_to_have_text(shown)  # it ticks
    expect(page.locator("#tw-audit li")).to_have_count(2)
    page.click("#tw-why summary")
    expect(page.locator("#tw-why")).to_contain_text("Severity: rule 1: field priority")
    page.screenshot(path=str(artifacts / "panel-light.png"), full_page=True)
    publish_screenshot(artifacts / "panel-light.png", "panel-light.png")


def test_breached_and_paused_states_render_in_words(open_page: Any, site: Site, artifacts: Path) -> None:
    seed(site, "20002", timedelta(hours=30))
    page = open_panel(open_page, "20002", dark=True)
    breached = page.locator('[data-target="first_response"]')
    expect(breached.locator("[data-state=breached]")).to_have_text("✖Breached")
    expect(breached.locator('[data-countdown="first_response"]')).to_contain_text("overdue")
    page.screenshot(path=str(artifacts / "panel-breached-dark.png"), full_page=True)

    now = datetime.now(UTC)
    seed(site, "20003", timedelta(hours=2), phase="paused", phase_changes=((now - timedelta(minutes=30), "paused"),))
    page = open_panel(open_page, "20003")
    paused = page.locator('[data-target="first_response"]')
    expect(paused.locator("[data-state=paused]")).to_have_text("⏸Paused")
    expect(paused).to_contain_text("Clock stopped with 22h")
    page.click("#tw-why summary")
    expect(page.locator("#tw-why")).to_contain_text("Paused since")
    page.screenshot(path=str(artifacts / "panel-paused-light.png"), full_page=True)


def test_an_untracked_issue_says_so(open_page: Any) -> None:
    page = open_panel(open_page, "99999")
    expect(page.locator("#tw-panel-body")).to_contain_text("Tierwise has not seen this ticket yet")
