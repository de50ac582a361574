"""The admin settings page in a real browser: presets, live preview, errors at their field, saving."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import scenarios
from browser_kit import Site, publish_screenshot
from playwright.sync_api import expect

from app.schemas.presets import preset_document
from app.storage.policies import PolicyStore
from standin import ADMIN, AGENT

pytestmark = pytest.mark.browser


def test_an_admin_edits_previews_and_saves_a_policy(open_page: Any, site: Site, artifacts: Path) -> None:
    page = open_page("/admin", user=ADMIN.account_id)
    scenarios.edit_preview_and_save(page, "Sev-1 answered within 2 hours", artifacts, "admin-error-light.png",
                                    flags=lambda: page.evaluate("window.__TW_AP_FLAGS"))  # AP.flag.create
    page.screenshot(path=str(artifacts / "admin-light.png"), full_page=True)
    scenarios.export_version_one(page)
    page.screenshot(path=str(artifacts / "admin-light-top.png"))
    publish_screenshot(artifacts / "admin-light-top.png", "admin-light.png")
    stored = site.services.tenants.get(site.client_key)
    assert stored is not None
    from app.storage.policies import PolicyStore

    active = PolicyStore(site.services.session_factory).active(site.client_key)
    assert active is not None and active.document["tiers"]["standard"]["sev1"]["first_response"] == "2h on 24x7"
    assert active.created_by == ADMIN.account_id


def test_a_non_admin_is_refused(open_page: Any) -> None:
    page = open_page("/admin", user=AGENT.account_id)
    scenarios.refused_to_a_non_admin(page)


TINY_YAML = """\
id: tiny
name: Tiny desk
calendars:
  office:
    timezone: Europe/Vienna
    hours: {mon-fri: "08:00-16:00"}
    holidays: {country: AT, subdivision: "9"}
    closed_dates: ["{closed}"]
severities:
  - {id: sev1, name: Critical}
tiers:
  gold:
    name: Gold
    sev1: {first_response: 2h on office, resolution: best_effort}
"""


def test_import_a_yaml_policy_save_it_and_read_the_diff(open_page: Any) -> None:
    page = open_page("/admin", user=ADMIN.account_id)
    expect(page.locator("#tw-preview-table")).to_be_visible()
    closed = (datetime.now(ZoneInfo("Europe/Vienna")).date() + timedelta(days=3)).isoformat()
    text = TINY_YAML.replace("{closed}", closed)
    page.set_input_files("#tw-import", files=[{"name": "tiny.yaml", "mimeType": "text/yaml", "buffer": text.encode()}])
    expect(page.locator("#f-name")).to_have_value("Tiny desk")
    expect(page.locator('[data-path="calendars.office.timezone"]')).to_have_value("Europe/Vienna")
    closed_day = page.locator(f'#tw-strip [data-calendar="office"] [aria-label*="{closed}"]')
    expect(closed_day).to_have_attribute("aria-label", re.compile("closed date"))  # shown in the strip
    page.click("#tw-save")
    expect(page.locator("#tw-banner")).to_contain_text("Saved as version")
    newest = page.locator("#tw-history tr").first
    newest.get_by_role("button", name="Changes").click()
    expect(page.locator("#tw-diff li").first).to_be_visible()
    expect(page.locator("#tw-diff")).to_contain_text("name:")


def test_mapping_tables_edit_the_document(open_page: Any, artifacts: Path) -> None:
    page = open_page("/admin", user=ADMIN.account_id)
    expect(page.locator("#tw-preview-table")).to_be_visible()
    page.select_option("#tw-preset", "communardo")
    page.click("#tw-load-preset")
    rule = page.locator('#tw-mapping [data-rule="0"]')
    expect(rule).to_contain_text("JSM organization")
    rule.get_by_role("button", name="Add Organization").click()
    page.keyboard.type("Initech")  # the new row's input has the focus
    rule.get_by_label("Organization 3 decides").select_option("partner")
    page.click("#tw-json-details summary")
    expect(page.locator("#tw-json")).to_have_value(re.compile(r'"Initech": "partner"'))
    expect(page.locator("#tw-save")).to_be_enabled()
    page.locator("#tw-h-mapping").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "admin-mapping-light.png"))


def test_a_stale_draft_is_not_saved_over_a_colleagues_version(open_page: Any, site: Site, artifacts: Path) -> None:
    PolicyStore(site.services.session_factory).save(site.client_key, preset_document("communardo"), ADMIN.account_id,
                                                     "where both drafts start")
    mine = open_page("/admin", user=ADMIN.account_id)
    theirs = open_page("/admin", user=ADMIN.account_id)
    for page in (mine, theirs):
        expect(page.locator("#tw-preview-table")).to_be_visible()
    # a colleague saves first, from the same start
    theirs.fill("#f-name", "Colleague's desk")
    theirs.fill("#tw-note", "renamed by a colleague")
    theirs.click("#tw-save")
    expect(theirs.locator("#tw-banner")).to_contain_text("Saved as version")
    saved = int(re.search(r"version (\d+)", theirs.locator("#tw-banner").inner_text()).group(1))  # type: ignore[union-attr]

    # my stale draft: refused, and the dialog says who saved what
    mine.fill("#f-name", "My desk")
    mine.click("#tw-save")
    dialog = mine.locator("#tw-conflict")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(f"Version {saved} was saved")
    expect(dialog).to_contain_text(f"by {ADMIN.account_id}")
    expect(dialog).to_contain_text("“renamed by a colleague”")
    expect(mine.locator("#tw-conflict-changes")).to_contain_text("Colleague's desk")  # what they changed
    expect(mine.locator("#tw-conflict-cancel")).to_be_focused()
    expect(mine.locator("#tw-banner")).to_contain_text("Not saved")
    assert [f.get("type") for f in mine.evaluate("window.__TW_AP_FLAGS")] == ["warning"]
    mine.screenshot(path=str(artifacts / "admin-conflict.png"))
    publish_screenshot(artifacts / "admin-conflict.png", "admin-conflict.png")

    # overwrite: mine is saved on top of theirs
    mine.click("#tw-conflict-overwrite")
    expect(dialog).to_be_hidden()
    expect(mine.locator("#tw-banner")).to_contain_text(f"Saved as version {saved + 1}")
    expect(mine.locator("#tw-active-version")).to_contain_text("My desk")

    # the colleague's draft is stale now: they load the active version instead
    theirs.fill("#tw-note", "another change")
    theirs.click("#tw-save")
    expect(theirs.locator("#tw-conflict")).to_be_visible()
    theirs.click("#tw-conflict-load")
    expect(theirs.locator("#f-name")).to_have_value("My desk")
    expect(theirs.locator("#tw-banner")).to_contain_text(f"Loaded version {saved + 1}")


def test_a_binding_to_a_field_of_the_wrong_type_is_refused_at_the_field(open_page: Any, site: Site) -> None:
    store = PolicyStore(site.services.session_factory)
    before = store.get_settings(site.client_key)
    # an older save bound a deadline to a select field (Jira refuses every such write-back)
    store.save_settings(site.client_key, {"field_bindings": {"first_response_due": "customfield_10104"}}, ADMIN.account_id)
    try:
        page = open_page("/admin", user=ADMIN.account_id)
        expect(page.locator("#tw-preview-table")).to_be_visible()
        due = page.locator("#s-binding-first_response_due")
        expect(due).to_have_value("customfield_10104")
        offered = due.locator("option").all_inner_texts()
        assert any("Next update due" in o for o in offered)  # date-time fields are offered…
        assert not any("Tier (custom field" in o for o in offered)  # …selects are not (only the stale value)
        severity = page.locator("#s-binding-severity").locator("option").all_inner_texts()
        assert any("Severity (custom field customfield_10104)" in o for o in severity)
        assert not any("Resolution due" in o for o in severity)
        page.click("#tw-save-settings")
        expect(page.locator("#s-binding-first_response_due-error")).to_have_text(
            '"Severity" is a select list field: this needs a date-time field')
        expect(due).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#tw-banner")).to_contain_text("Field settings not saved")
        assert store.get_settings(site.client_key).field_bindings == {"first_response_due": "customfield_10104"}
        due.select_option("customfield_10100")
        page.click("#tw-save-settings")
        expect(page.locator("#tw-banner")).to_contain_text("Field settings saved")
        expect(page.locator("#s-binding-first_response_due-error")).to_be_empty()
    finally:
        # the stored on-call webhook is kept when its key is left out (its URL is never read back)
        store.save_settings(site.client_key, {"field_bindings": dict(before.field_bindings)}, ADMIN.account_id)
