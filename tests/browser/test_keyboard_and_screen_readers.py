"""Keyboard and screen-reader use of both pages: every control is reached with Tab, shows where the
focus is, and has an accessible name; states are told in words and icons, not by colour alone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from browser_kit import Site, seed_ticket
from keyboard import NAMED_ROLES, problems, tab_through
from playwright.sync_api import expect

from standin import ADMIN, AGENT

pytestmark = pytest.mark.browser


def test_the_admin_form_is_usable_with_a_keyboard_and_a_screen_reader(open_page: Any) -> None:
    page = open_page("/admin", user=ADMIN.account_id)
    expect(page.locator("#tw-preview-table")).to_be_visible()
    page.select_option("#tw-preset", "communardo")  # the same form whatever earlier tests saved
    page.click("#tw-load-preset")
    expect(page.locator("#f-id")).to_have_value("communardo")
    page.locator("#tw-title").click()  # Tab starts from the top of the page
    stops = tab_through(page)
    reached = " ".join(s["element"] for s in stops)
    for control in ("#tw-preset", "#tw-import", "#f-name", "#tw-new-tier", "#tw-new-calendar", "#tw-new-rule-kind",
                    "#tw-save", "#tw-save-settings", "#s-oncall"):
        assert control in reached, f"{control} is not reached with Tab"
    assert len(stops) > 100
    found = problems(stops)
    assert found == [], "\n".join(found)
    # every control of the editor has a name, not only the ones in the tab order
    snapshot = page.locator("#tw-editor").aria_snapshot()
    unnamed = [line for line in snapshot.splitlines()
               if (m := re.match(r"\s*- (\w+)\b(?! \")", line)) and m.group(1) in NAMED_ROLES]
    assert unnamed == []

    # an error is told in words next to the field, announced with it, and marked beyond its red border
    target = page.get_by_label("standard sev1 first response")
    target.fill("4x")
    error = page.locator("#f-tiers_standard_sev1_first_response-error")
    expect(error).to_contain_text('"4x" is not a duration')
    expect(target).to_have_attribute("aria-invalid", "true")
    expect(target).to_have_attribute("aria-describedby", "f-tiers_standard_sev1_first_response-error")
    assert "⚠" in error.evaluate("e => getComputedStyle(e, '::before').content")
    expect(page.locator("#tw-error-count")).to_contain_text("1 problem to fix before saving")

    # the calendar strip says open, weekend and holiday in words, not only in colour
    days = page.locator("#tw-strip .tw-day")
    kinds = days.evaluate_all("""ds => ds.map(d => [d.className.trim().split(/\\s+/)[1] || "open",
                                                   d.innerText.split("\\n").slice(1).join(" ")])""")
    texts = {kind: {text for k, text in kinds if k == kind} for kind, _ in kinds}
    assert all(re.fullmatch(r"\d\d:\d\d.\d\d:\d\d(, .+)?", t) for t in texts["open"]), texts["open"]
    assert texts.get("tw-closed") and all(t and not re.match(r"\d\d:\d\d", t) for t in texts["tw-closed"])
    assert all(t.startswith("Holiday: ") for t in texts.get("tw-holiday", set()))


def test_the_panel_is_usable_with_a_keyboard_and_tells_states_in_words(open_page: Any, site: Site) -> None:
    now = datetime.now(UTC)
    reply = now - timedelta(minutes=20)
    seed_ticket(site, "20301", timedelta(hours=3), replies=(reply,), first_reply_at=reply, last_update_at=reply)
    seed_ticket(site, "20302", timedelta(hours=30))
    seed_ticket(site, "20303", timedelta(hours=2), phase="paused", phase_changes=((now - timedelta(minutes=30), "paused"),))
    seen: dict[str, set[str]] = {}
    for issue_id in ("20301", "20302", "20303"):
        page = open_page("/panel", f"issueKey=SUP-{issue_id}&issueId={issue_id}", AGENT.account_id)
        expect(page.locator("[data-state]").first).to_be_visible()
        for lozenge in page.locator("[data-state]").all():
            state = lozenge.get_attribute("data-state") or ""
            icon = lozenge.locator("[aria-hidden=true]")
            expect(icon).not_to_have_text("")  # a shape for the eye…
            words = lozenge.inner_text().replace(icon.inner_text(), "", 1).strip()
            assert words, f"state {state} has no words"  # …and words for everyone
            seen.setdefault(state, set()).add(words)
            group = lozenge.locator("xpath=ancestor::*[@role='group'][1]")
            assert words.casefold() in group.aria_snapshot().casefold()  # what a screen reader reads
        stops = tab_through(page)
        assert [s["name"] for s in stops] == ["Why these targets"]
        assert problems(stops) == []
        page.locator("#tw-why summary").focus()
        page.keyboard.press("Enter")
        expect(page.locator("#tw-why li").first).to_be_visible()
    assert {"met", "on_track", "breached", "paused"} <= set(seen)
    words_by_state = {state: words for state, words in seen.items()}
    every = [w for words in words_by_state.values() for w in words]
    assert len(every) == len(set(every)), words_by_state  # no two states look alike once colour is gone
