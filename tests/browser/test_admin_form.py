"""The admin form edits the whole policy: field options from Jira, matrix rules, adding and removing
tiers, severities and calendars, with every problem shown at its field while the admin types."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from browser_kit import Site
from playwright.sync_api import expect

from standin import ADMIN

pytestmark = pytest.mark.browser


def draft(page: Any) -> dict[str, Any]:
    """The draft document as the JSON editor shows it."""
    return json.loads(page.locator("#tw-json").input_value())


def load_preset(page: Any, preset: str) -> None:
    expect(page.locator("#tw-preview-table")).to_be_visible()
    page.select_option("#tw-preset", preset)
    page.click("#tw-load-preset")
    expect(page.locator("#f-id")).to_have_value(preset)


def test_mapping_rules_offer_the_jira_fields_options(open_page: Any, site: Site, artifacts: Path) -> None:
    page = open_page("/admin", user=ADMIN.account_id)
    load_preset(page, "opencenter")
    plan_rule = page.locator('#tw-mapping [data-rule="0"]')
    # the custom field is shown by its name, and its options (from Jira, via the stand-in) are offered
    expect(plan_rule.get_by_label("Rule 1: Jira field")).to_have_value("customfield_10050")
    expect(plan_rule.get_by_label("Rule 1: Jira field").locator("option:checked")).to_have_text(
        "Plan (custom field customfield_10050)")
    expect(plan_rule.locator(".tw-options-hint")).to_contain_text("Plan offers: Essentials, Enterprise, Regulated")
    options = page.locator("#tw-options-customfield_10050 option")
    expect(options).to_have_count(7)
    assert "Basic" in options.evaluate_all("nodes => nodes.map(n => n.value)")
    plan_rule.get_by_role("button", name="Add Field value").click()
    new_value = plan_rule.get_by_label("Field value 5", exact=True)
    expect(new_value).to_be_focused()
    expect(new_value).to_have_attribute("list", "tw-options-customfield_10050")
    page.keyboard.type("Basic")
    plan_rule.get_by_label("Field value 5 decides").select_option("standard")
    assert draft(page)["mapping"]["rules"][0]["values"]["Basic"] == "standard"

    # the impact × urgency matrix is edited in the form, with the impact field's options offered
    matrix = page.locator('#tw-mapping [data-rule="1"]')
    expect(matrix.get_by_label("Rule 2: impact field").locator("option:checked")).to_have_text(
        "Impact (custom field customfield_10004)")
    cell = matrix.get_by_label("Severity when impact is Minor / Localized and urgency is Low")
    cell.select_option("sev3")
    assert draft(page)["mapping"]["rules"][1]["matrix"]["cells"]["Minor / Localized"]["Low"] == "sev3"
    matrix.get_by_role("button", name="Remove impact Minor / Localized from rule 2").click()
    assert "Minor / Localized" not in draft(page)["mapping"]["rules"][1]["matrix"]["cells"]
    expect(page.locator("#tw-new-impact-2")).to_be_focused()
    expect(page.locator("#tw-new-impact-2")).to_have_attribute("list", "tw-options-customfield_10004")
    expect(page.locator("#tw-options-customfield_10004 option[value='Minor / Localized']")).to_have_count(1)
    page.keyboard.type("Minor / Localized")
    page.keyboard.press("Enter")
    cells = draft(page)["mapping"]["rules"][1]["matrix"]["cells"]
    assert cells["Minor / Localized"] == {"Critical": "sev4", "High": "sev4", "Medium": "sev4", "Low": "sev4"}
    page.locator("#tw-new-urgency-2").fill("High")
    page.get_by_role("button", name="Add urgency value to rule 2").click()
    expect(page.locator("#tw-new-urgency-2-error")).to_have_text('Urgency "High" is already a column.')
    # the engine's next verdict (which rewrites the problem count) leaves that message alone
    page.locator("#tw-error-count").evaluate("node => { node.textContent = ''; }")
    matrix.get_by_label("Severity when impact is Minor / Localized and urgency is Low").select_option("sev3")
    expect(page.locator("#tw-error-count")).to_have_text("No problems found.")
    expect(page.locator("#tw-new-urgency-2-error")).to_have_text('Urgency "High" is already a column.')
    expect(page.locator("#tw-save")).to_be_enabled()
    matrix.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "admin-matrix-light.png"))

    # when Jira cannot list a field's options, the rule says so instead of offering nothing silently
    site.jira.inject("/rest/api/3/field/customfield_10103/*", status=503, times=1)
    try:
        plan_rule.get_by_label("Rule 1: Jira field").select_option("customfield_10103")
        expect(page.locator('#tw-mapping [data-rule="0"] .tw-options-hint')).to_contain_text(
            "Jira did not list the options of customfield_10103")
    finally:
        site.jira.clear_faults()


def test_tiers_severities_and_calendars_are_added_and_removed_with_live_errors(open_page: Any) -> None:
    page = open_page("/admin", user=ADMIN.account_id)
    load_preset(page, "mulesight")

    # a new tier starts as a copy of the last one's targets, so the policy stays valid
    page.get_by_label("New tier id").fill("gold")
    page.get_by_role("button", name="Add tier").click()
    expect(page.locator('[data-path="tiers.gold.name"]')).to_be_focused()
    page.keyboard.type("Gold support")
    expect(page.locator('#tw-preview-table tr[data-tier="gold"][data-severity="sev1"]')).to_contain_text("Gold support")
    # ids are checked where they are typed
    page.get_by_label("New tier id").fill("gold")
    page.get_by_role("button", name="Add tier").click()
    expect(page.locator("#tw-new-tier-error")).to_have_text('There is already a tier "gold".')
    page.get_by_label("New severity id").fill("sev 5")
    page.get_by_label("New severity id").press("Enter")
    expect(page.locator("#tw-new-severity-error")).to_contain_text('"sev 5" is not an id')
    page.get_by_label("New severity id").fill("sev5")
    page.get_by_role("button", name="Add severity").click()
    expect(page.locator('[data-path="severities.4.name"]')).to_be_focused()
    expect(page.locator('[data-path="tiers.gold.sev5.first_response"]')).to_have_value(
        page.locator('[data-path="tiers.gold.sev4.first_response"]').input_value())
    expect(page.locator('#tw-preview-table tr[data-tier="standard"][data-severity="sev5"]')).to_be_visible()

    # removing the calendar the targets name: the errors appear at those targets, saving is off
    page.get_by_role("button", name="Remove calendar melbourne").click()
    expect(page.locator("#tw-new-calendar")).to_be_focused()
    error = page.locator("#f-tiers_standard_sev1_first_response-error")
    expect(error).to_contain_text("melbourne")
    expect(page.locator('[data-path="tiers.standard.sev1.first_response"]')).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#tw-save")).to_be_disabled()
    page.keyboard.type("melbourne")
    page.keyboard.press("Enter")
    expect(page.locator('[data-path="calendars.melbourne.timezone"]')).to_be_focused()
    expect(error).to_be_empty()
    expect(page.locator("#tw-save")).to_be_enabled()

    page.get_by_role("button", name="Remove severity sev5").click()
    page.get_by_role("button", name="Remove tier gold").click()
    doc = draft(page)
    assert "gold" not in doc["tiers"] and [s["id"] for s in doc["severities"]] == ["sev1", "sev2", "sev3", "sev4"]
    assert "sev5" not in doc["tiers"]["standard"]
    expect(page.locator('#tw-preview-table tr[data-tier="gold"]')).to_have_count(0)
