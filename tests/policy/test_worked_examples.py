"""Issue 3's two worked examples, computed through the presets (engine and command line)."""

from __future__ import annotations

from datetime import UTC, datetime

from click.testing import CliRunner

from app.cli import main
from app.policy.sla import deadlines
from app.schemas.presets import load_preset


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _z(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def test_communardo_level_2_skips_the_saxon_holiday() -> None:
    # Tue 15:00 CET: 2 h on Tuesday; Wed 18 Nov is Buß- und Bettag (Saxony only); 2 h on Thursday.
    due = deadlines(load_preset("communardo"), "standard", "sev2", _at("2026-11-17T15:00:00+01:00"))
    assert due["first_response_due"] == _z("2026-11-19T10:00:00Z")
    assert due["next_update_due"] is None and due["resolution_due"] is None


def test_mulesight_sev1_counts_melbourne_cup_day() -> None:
    due = deadlines(
        load_preset("mulesight"),
        "standard",
        "sev1",
        _at("2026-11-02T16:00:00+11:00"),
        responded=_at("2026-11-04T10:00:00+11:00"),
        phase="stabilized",
    )
    assert due == {
        "first_response_due": _z("2026-11-03T05:00:00Z"),  # 8 business hours; the holiday is open
        "next_update_due": _z("2026-11-04T23:00:00Z"),  # 1 business day = 8 open hours
        "resolution_due": _z("2026-11-09T05:00:00Z"),  # 5 business days = 40 open hours
    }


def test_the_command_line_prints_the_same() -> None:
    runner = CliRunner()
    communardo = runner.invoke(
        main,
        [
            "due",
            "--preset",
            "communardo",
            "--tier",
            "standard",
            "--severity",
            "sev2",
            "--created",
            "2026-11-17T15:00:00+01:00",
        ],
    )
    assert communardo.exit_code == 0, communardo.output
    assert '"first_response_due": "2026-11-19T10:00:00Z"' in communardo.stdout
    mulesight = runner.invoke(
        main,
        [
            "due", "--preset", "mulesight", "--tier", "standard", "--severity", "sev1",
            "--created", "2026-11-02T16:00:00+11:00", "--responded", "2026-11-04T10:00:00+11:00", "--phase", "stabilized",
        ],
    )  # fmt: skip
    assert mulesight.exit_code == 0, mulesight.output
    for expected in (
        '"first_response_due": "2026-11-03T05:00:00Z"',
        '"next_update_due": "2026-11-04T23:00:00Z"',
        '"resolution_due": "2026-11-09T05:00:00Z"',
    ):
        assert expected in mulesight.stdout
