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
    # the same deadline again, opened "now": the clock may have crossed a minute since `after` was read
    expect(page.locator(SEV1_PREVIEW)).to_have_text(re.compile(re.sub(r":\d\d\b", r":\\d\\d", re.escape(after), count=1)))
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
    due time's zone name reads in the viewer's Jira time zone. The countdown shows minutes (no seconds):
    the test waits (real time, at most about a minute) to see it tick. No fake clock: the panel re-reads
    the server every minute and shows the server's truth, which a clock moved on only in the page
    would race against."""
    expect(page.locator("#tw-tier")).to_have_text("Tier: Standard")
    expect(page.locator("#tw-severity")).to_have_text("Severity: Critical")
    # 40 minutes left when seeded; a slow first page load (gunicorn starting under load) may take a few
    expect(page.locator("#tw-next")).to_have_text(re.compile(r"^Next update due (today|tomorrow) .+ · in (3[0-9]|40)m$"))
    first = page.locator('[data-target="first_response"]')
    expect(first.locator("[data-state]")).to_have_text("Met")
    expect(first).to_contain_text("Answered ")
    update = page.locator('[data-target="next_update"]')
    expect(update.locator("[data-state]")).to_contain_text("On track")
    expect(update.locator("time")).to_contain_text(zone)  # the viewer's zone, not UTC nor the browser's
    countdown = page.locator('[data-countdown="next_update"]')
    expect(countdown).to_have_text(re.compile(r"^(3[0-9]|40)m left$"))  # minutes, no seconds
    shown = countdown.inner_text()
    expect(countdown).not_to_have_text(shown, timeout=75_000)  # it ticks (within a minute of real time)
    expect(page.locator("#tw-no-deadline")).to_have_text("No deadline: Resolution")  # best effort, collapsed
    expect(page.locator("#tw-audit li")).to_have_count(2)
    expect(page.locator("#tw-audit")).to_contain_text("Wrote the due dates to the ticket")  # a sentence
    page.click("#tw-why summary")
    expect(page.locator("#tw-why")).to_contain_text("Severity: rule 1: field priority = 'Highest' → Critical")


def breached(page: Any) -> None:
    """The panel of a Sev-1 opened 30 hours ago and never answered."""
    target = page.locator('[data-target="first_response"]')
    expect(target.locator("[data-state=breached]")).to_contain_text("Breached")
    expect(target.locator('[data-countdown="first_response"]')).to_have_text("6h overdue")
    expect(page.locator("#tw-next")).to_contain_text("First response overdue since")


def paused(page: Any) -> None:
    """The panel of a Sev-1 opened 2 hours ago, paused for the last 30 minutes."""
    target = page.locator('[data-target="first_response"]')
    expect(target.locator("[data-state=paused]")).to_contain_text("Paused · 22h 30m left")
    expect(target).to_contain_text("Clock stopped with 22h")
    expect(page.locator("#tw-phase")).to_have_text("Waiting: the clock is stopped")
    page.click("#tw-why summary")
    expect(page.locator("#tw-why")).to_contain_text("Paused since")


def answered_late(page: Any) -> None:
    """The panel of a Sev-1 opened 27.5 hours ago and first answered 2 hours ago (1h 30m late)."""
    target = page.locator('[data-target="first_response"]')
    expect(target.locator("[data-state=breached]")).to_have_text("Met late")
    expect(target.locator("[data-countdown]")).to_have_count(0)  # the clock stopped
    expect(target.locator(".tw-due")).to_have_text(re.compile(r"^Answered \d\d:\d\d( [AP]M)? · 1h 30m late \(was due "))


def warns_before_the_breach(page: Any, look: str, words: str) -> None:
    """A Sev-1 of a policy without `pre_breach`, close to its first-response deadline: warned by default."""
    target = page.locator('[data-target="first_response"]')
    lozenge = target.locator("[data-state=due_soon]")
    expect(lozenge).to_have_attribute("data-look", look)
    expect(lozenge).to_contain_text(words)


def best_effort(page: Any) -> None:
    """A ticket of a tier that promises nothing: one line, no rows."""
    expect(page.locator("#tw-best-effort")).to_have_text("Community: no SLA targets")
    expect(page.locator("[data-target]")).to_have_count(0)


def classification_failed(page: Any) -> None:
    """A ticket the worker could not classify (the audit holds the error): what failed and who can fix it."""
    message = page.locator("#tw-unclassified")
    expect(message).to_contain_text("Classification failed")
    expect(message).to_contain_text("no rule set the severity")
    expect(message).to_contain_text("A Jira administrator can fix this")


def untracked(page: Any) -> None:
    expect(page.locator("#tw-panel-body")).to_contain_text("Tierwise has not seen this ticket yet")


#: Short weekday names as German speakers read them (Intl, `de-DE`): how a page shows it used the locale.
GERMAN_WEEKDAY = re.compile(r"^(Mo|Di|Mi|Do|Fr|Sa|So)\.,")


def times_in_german(page: Any) -> None:
    """A panel opened by a user whose Jira profile says German: due times read German, zone Berlin (MEZ)."""
    shown = page.locator("#tw-targets time").first
    expect(shown).to_have_text(GERMAN_WEEKDAY)
    expect(shown).to_contain_text("MEZ")
