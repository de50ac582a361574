"""Keyboard and screen-reader use of both pages: every control is reached with Tab, shows where the
focus is, and has an accessible name; states are told in words and icons, not by colour alone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from browser_kit import Site, seed_ticket
from playwright.sync_api import expect

from standin import ADMIN, AGENT

pytestmark = pytest.mark.browser

#: Most Tab presses a walk through one page takes (the admin form has about two hundred controls).
MAX_TABS = 500
#: Roles a screen reader announces by name: each needs one.
NAMED_ROLES = {"textbox", "combobox", "checkbox", "button", "link", "spinbutton", "searchbox", "radio", "slider", "listbox"}

#: After each Tab: the previous element's look with and without the focus (what a sighted keyboard user
#: sees change), counting only what is drawn: an outline, a border that exists, a shadow.
FOCUS_STEP_JS = """() => {
  const look = (n) => {
    const c = getComputedStyle(n);
    const parts = [];
    if (c.outlineStyle !== "none" && parseFloat(c.outlineWidth) > 0) parts.push(`outline ${c.outlineStyle} ${c.outlineWidth} ${c.outlineColor}`);
    if (c.borderTopStyle !== "none" && parseFloat(c.borderTopWidth) > 0 && c.appearance === "none" || n.matches("input:not([type=checkbox]):not([type=radio]):not([type=file]), select, textarea"))
      parts.push(`border ${c.borderTopColor}`);
    if (c.boxShadow !== "none") parts.push(`shadow ${c.boxShadow}`);
    return parts.join("; ");
  };
  const describe = (n) => `${n.tagName.toLowerCase()}${n.id ? "#" + n.id : ""}${n.type ? "[" + n.type + "]" : ""} ${(n.getAttribute("aria-label") || n.textContent || "").trim().slice(0, 40)}`;
  const last = window.__twLast;
  const now = document.activeElement && document.activeElement !== document.body ? document.activeElement : null;
  const out = last ? { element: last.desc, focused: last.look, unfocused: look(last.node) } : null;
  window.__twLast = now ? { node: now, look: look(now), desc: describe(now) } : null;
  return { previous: out, current: now ? describe(now) : null };
}"""


def accessible_name(snapshot: str) -> tuple[str, str | None]:
    """(role, name) from the first line of an element's ARIA snapshot (`- textbox "Name": value`)."""
    first = snapshot.splitlines()[0] if snapshot else ""
    found = re.match(r'- (\w+)(?: "((?:[^"\\]|\\.)*)")?', first)
    if not found:
        return "", None
    role, name = found.group(1), found.group(2)
    if role == "text":  # a <summary>: its text is its name
        return role, first.split(":", 1)[1].strip() or None
    return role, name or None


def tab_through(page: Any) -> list[dict[str, Any]]:
    """Press Tab until the focus leaves the page; each stop with its name and focused/unfocused look."""
    stops: list[dict[str, Any]] = []
    page.evaluate("window.__twLast = null")
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        step = page.evaluate(FOCUS_STEP_JS)
        if step["previous"] and stops:
            stops[-1].update(step["previous"])
        if step["current"] is None:
            break
        role, name = accessible_name(page.locator(":focus").aria_snapshot())
        stops.append({"element": step["current"], "role": role, "name": name})
    else:
        pytest.fail(f"the focus never left the page after {MAX_TABS} Tabs")
    return stops


def problems(stops: list[dict[str, Any]]) -> list[str]:
    found = []
    for stop in stops:
        if stop["role"] in NAMED_ROLES | {"text"} and not stop["name"]:
            found.append(f"{stop['element']}: no accessible name ({stop['role']})")
        if stop.get("focused") == stop.get("unfocused"):
            found.append(f"{stop['element']}: the focus is not visible ({stop.get('focused')!r})")
    return found


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
