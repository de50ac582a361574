"""The page scenarios both doors pass, written once: the Connect tests (`test_admin_page`,
`test_panel_page`) and the Forge tests (`test_forge_pages`) open the page their way and run these."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

SEV1_FIRST = '[data-path="tiers.standard.sev1.first_response"]'
SEV1_PREVIEW = '#tw-preview-table tr[data-tier="standard"][data-severity="sev1"] td:nth-of-type(1)'


def edit_preview_and_save(page: Any, note: str, artifacts: Path, error_shot: str,
                          flags: Callable[[], list[dict[str, Any]]]) -> None:
    """Preset → change a target → the preview follows → an invalid duration at its field → fix → save
    (confirmed on the page and with one Jira success flag, as `flags()` reads the host's) → reload:
    persisted. Ends on the reloaded page."""
    expect(page.locator("#tw-editor")).to_be_visible()
    expect(page.locator("#tw-active-version")).to_contain_text("built-in")

    page.select_option("#tw-preset", "mulesight")
    page.click("#tw-load-preset")
    expect(page.locator("#f-name")).to_have_value("MuleSight")
    expect(page.locator(SEV1_FIRST)).to_have_value("8h on melbourne")
    expect(page.locator(SEV1_PREVIEW)).to_be_visible()
    expect(page.locator('#tw-strip [data-calendar="melbourne"]')).to_be_visible()
    before = page.locator(SEV1_PREVIEW).inner_text()

    # change a target: the preview follows (server-side, debounced)
    page.fill(SEV1_FIRST, "2h on 24x7")
    expect(page.locator(SEV1_PREVIEW)).not_to_have_text(before)
    after = page.locator(SEV1_PREVIEW).inner_text()

    # an invalid duration: the error shows at that field and saving is off
    page.fill(SEV1_FIRST, "4x on melbourne")
    error = page.locator("#f-tiers_standard_sev1_first_response-error")
    expect(error).to_contain_text('"4x" is not a duration')
    expect(page.locator(SEV1_FIRST)).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#tw-save")).to_be_disabled()
    page.screenshot(path=str(artifacts / error_shot), full_page=True)

    page.fill(SEV1_FIRST, "2h on 24x7")
    expect(error).to_be_empty()
    expect(page.locator(SEV1_PREVIEW)).to_have_text(after)
    expect(page.locator("#tw-save")).to_be_enabled()
    page.fill("#tw-note", note)
    page.click("#tw-save")
    expect(page.locator("#tw-banner")).to_contain_text("Saved as version 1")
    expect(page.locator('#tw-history tr[data-version="1"]')).to_contain_text(note)
    shown = flags()
    assert [f.get("type") for f in shown] == ["success"], shown
    assert shown[0]["title"] == "Policy saved"

    page.reload()
    expect(page.locator(SEV1_FIRST)).to_have_value("2h on 24x7")
    expect(page.locator("#tw-active-version")).to_contain_text("version 1")


def export_version_one(page: Any) -> None:
    """Version 1's document downloads as a JSON file named after it, with the saved change."""
    with page.expect_download() as info:
        page.get_by_role("button", name="Export version 1 as JSON").click()
    download = info.value
    assert download.suggested_filename == "tierwise-policy-mulesight-v1.json"
    document = json.loads(Path(download.path()).read_text())
    assert document["tiers"]["standard"]["sev1"]["first_response"] == "2h on 24x7"


def refused_to_a_non_admin(page: Any) -> None:
    expect(page.locator("#tw-banner")).to_contain_text("Only Jira administrators")
    expect(page.locator("#tw-editor")).to_be_hidden()


def deadlines_with_a_moving_countdown(page: Any, zone: str | re.Pattern[str]) -> None:
    """The panel of a ticket answered 20 minutes ago (seeded with two audit entries); `zone`: what the
    due time's zone name reads in the viewer's Jira time zone."""
    expect(page.locator("#tw-tier")).to_have_text("Tier: Standard")
    expect(page.locator("#tw-severity")).to_have_text("Severity: Critical")
    first = page.locator('[data-target="first_response"]')
    expect(first.locator("[data-state]")).to_have_text("✔Met")
    update = page.locator('[data-target="next_update"]')
    expect(update.locator("[data-state]")).to_contain_text("On track")
    expect(update.locator("time")).to_contain_text(zone)  # the viewer's zone, not UTC nor the browser's
    countdown = page.locator('[data-countdown="next_update"]')
    expect(countdown).to_contain_text("left")
    shown = countdown.inner_text()
    expect(countdown).not_to_have_text(shown)  # it ticks
    expect(page.locator("#tw-audit li")).to_have_count(2)
    page.click("#tw-why summary")
    expect(page.locator("#tw-why")).to_contain_text("Severity: rule 1: field priority")


def breached(page: Any) -> None:
    """The panel of a Sev-1 opened 30 hours ago and never answered."""
    target = page.locator('[data-target="first_response"]')
    expect(target.locator("[data-state=breached]")).to_have_text("✖Breached")
    expect(target.locator('[data-countdown="first_response"]')).to_contain_text("overdue")


def paused(page: Any) -> None:
    """The panel of a Sev-1 opened 2 hours ago, paused for the last 30 minutes."""
    target = page.locator('[data-target="first_response"]')
    expect(target.locator("[data-state=paused]")).to_have_text("⏸Paused")
    expect(target).to_contain_text("Clock stopped with 22h")
    page.click("#tw-why summary")
    expect(page.locator("#tw-why")).to_contain_text("Paused since")


def untracked(page: Any) -> None:
    expect(page.locator("#tw-panel-body")).to_contain_text("Tierwise has not seen this ticket yet")


#: Short weekday names as German speakers read them (Intl, `de-DE`): how a page shows it used the locale.
GERMAN_WEEKDAY = re.compile(r"^(Mo|Di|Mi|Do|Fr|Sa|So)\.,")


def times_in_german(page: Any) -> None:
    """A panel opened by a user whose Jira profile says German: due times read German, zone Berlin (MEZ)."""
    shown = page.locator("#tw-panel-body time").first
    expect(shown).to_have_text(GERMAN_WEEKDAY)
    expect(shown).to_contain_text("MEZ")
