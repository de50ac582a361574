"""The issue SLA panel in a real browser: deadlines of a seeded ticket, a moving countdown, states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import scenarios
from browser_kit import Site, publish_screenshot
from browser_kit import seed_ticket as seed

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
