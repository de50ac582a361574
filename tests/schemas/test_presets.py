"""The five published policies, as interpreted in issue 3's table."""

from __future__ import annotations

import pytest

from app.policy.durations import Duration
from app.policy.errors import PolicyError
from app.policy.model import Target
from app.schemas.presets import list_presets, load_preset, preset_document

PRESETS = ["communardo", "confluence-health-check", "connectsoft", "mulesight", "opencenter"]
SEVERITIES = ["sev1", "sev2", "sev3", "sev4"]


def _t(text: str | None, calendar: str | None = None) -> Target:
    if text is None:
        return Target(None)
    from app.policy.durations import parse_duration

    return Target(parse_duration(text), calendar)


def test_the_five_presets_are_listed() -> None:
    listed = list_presets()
    assert [p["id"] for p in listed] == PRESETS
    assert all(p["name"] and p["description"] for p in listed)


@pytest.mark.parametrize("preset_id", PRESETS)
def test_each_preset_cites_its_source_and_is_complete(preset_id: str) -> None:
    policy = load_preset(preset_id)
    assert policy.source and policy.description
    assert [s.id for s in policy.severities] == SEVERITIES
    assert all(len(s.aliases) >= 3 and s.definition for s in policy.severities)
    for tier in policy.tiers.values():
        assert list(tier.targets) == SEVERITIES
    assert policy.mapping.default_tier in policy.tiers and policy.mapping.default_severity == "sev3"
    phases = {rule.phase: rule for rule in policy.phases}
    assert "waiting for customer" in phases["paused"].statuses
    assert "done" in phases["closed"].categories


@pytest.mark.parametrize(
    ("vendor", "preset_id"),
    [
        ("Workaround Apps", "confluence-health-check"),
        ("ConnectSoft", "connectsoft"),
        ("Flowdence", "mulesight"),
        ("Communardo", "communardo"),
        ("openCenter", "opencenter"),
    ],
)
def test_sources_name_the_vendor(vendor: str, preset_id: str) -> None:
    assert vendor in load_preset(preset_id).source


def test_confluence_health_check() -> None:
    p = load_preset("confluence-health-check")
    weekdays = p.calendars["weekdays"]
    assert weekdays.timezone == "UTC" and weekdays.day_length_minutes == 24 * 60 and not weekdays.holidays
    assert weekdays.weekly == (((0, 1440),),) * 5 + ((), ())
    t = p.tiers["standard"].targets
    assert t["sev1"].first_response == _t("24h", "24x7")
    assert [t[s].first_response for s in ("sev2", "sev3", "sev4")] == [
        _t("1bd", "weekdays"),
        _t("2bd", "weekdays"),
        _t("3bd", "weekdays"),
    ]
    for sev in ("sev1", "sev2"):
        assert t[sev].update_cadence == {
            "active": _t("60m", "24x7"),
            "mitigated": Target(Duration(at_closure=True)),
        }
        assert t[sev].eta_required and t[sev].page_on_call
    assert not t["sev3"].eta_required and not t["sev3"].update_cadence
    assert all(t[s].resolution.duration is None for s in SEVERITIES)


def test_connectsoft() -> None:
    p = load_preset("connectsoft")
    assert (
        p.calendars["extended"].weekly[0] == ((480, 1200),)
        and p.calendars["extended"].day_length_minutes == 720
    )
    basic, standard, premium = (p.tiers[t].targets for t in ("basic", "standard", "premium"))
    assert all(basic[s].first_response.duration is None for s in SEVERITIES)
    assert basic["sev1"].first_response.note == "best effort, typically 2-3 business days"
    assert standard["sev1"].first_response == _t("4h", "extended")
    assert standard["sev2"].first_response == _t("1bd", "extended")
    assert (
        standard["sev3"].first_response.duration is None and standard["sev4"].first_response.duration is None
    )
    assert [premium[s].first_response for s in SEVERITIES] == [
        _t("1h", "24x7"),
        _t("4h", "extended"),
        _t("1bd", "extended"),
        _t("2bd", "extended"),
    ]


def test_mulesight() -> None:
    p = load_preset("mulesight")
    melbourne = p.calendars["melbourne"]
    assert melbourne.timezone == "Australia/Melbourne" and not melbourne.holidays_close
    t = p.tiers["standard"].targets
    assert all(t[s].first_response == _t("8h", "melbourne") for s in SEVERITIES)
    assert all(t[s].resolution == _t("5bd", "melbourne") for s in SEVERITIES)
    assert t["sev1"].cadence_for("active") == _t("4h", "melbourne")
    assert t["sev1"].cadence_for("stabilized") == _t("1bd", "melbourne")
    assert [t[s].cadence_for("active") for s in ("sev2", "sev3", "sev4")] == [
        _t("1bd", "melbourne"),
        _t("2bd", "melbourne"),
        _t("1w", "melbourne"),
    ]


def test_communardo() -> None:
    p = load_preset("communardo")
    dresden = p.calendars["dresden"]
    assert (dresden.timezone, dresden.holiday_country, dresden.holiday_subdivision) == (
        "Europe/Berlin",
        "DE",
        "SN",
    )
    assert dresden.holidays_close
    assert [s.name for s in p.severities] == ["Level 1", "Level 2", "Level 3", "Level 4"]
    for tier in ("standard", "partner"):
        t = p.tiers[tier].targets
        assert [t[s].first_response for s in SEVERITIES] == [
            _t("1h", "dresden"),
            _t("4h", "dresden"),
            _t("8h", "dresden"),
            _t("24h", "dresden"),
        ]


def test_opencenter() -> None:
    p = load_preset("opencenter")
    assert p.calendars["business"].timezone == "America/Chicago"
    assert p.calendars["business"].weekly[0] == ((480, 1080),)
    tiers = {tier: p.tiers[tier].targets for tier in ("community", "standard", "premium", "mission-critical")}
    assert all(tiers["community"][s].first_response.duration is None for s in SEVERITIES)
    assert all(tiers["standard"][s].first_response == _t("4h", "business") for s in SEVERITIES)
    assert all(tiers["premium"][s].first_response == _t("1h", "24x7") for s in SEVERITIES)
    assert tiers["mission-critical"]["sev1"].first_response == _t("15m", "24x7")
    assert all(tiers["mission-critical"][s].first_response == _t("1h", "24x7") for s in SEVERITIES[1:])


def test_a_preset_document_is_a_copy() -> None:
    doc = preset_document("mulesight")
    doc["name"] = "changed"
    assert preset_document("mulesight")["name"] == "MuleSight"


def test_an_unknown_preset_is_refused() -> None:
    with pytest.raises(PolicyError, match='unknown preset "nope"'):
        load_preset("nope")
