"""Keyboard and screen-reader checks shared by the Connect and Forge page tests: a Tab walk through a
page with each stop's accessible name and whether the focus is visible."""

from __future__ import annotations

import re
from typing import Any

import pytest

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
