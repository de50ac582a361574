"""Next-update promises in agents' replies, and the ETA follow-up text. Table-driven."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.policy.eta import (
    EtaError,
    clean_comment_text,
    eta_comment_text,
    find_next_update_promise,
    promise_too_late,
)

BERLIN = ZoneInfo("Europe/Berlin")
#: Tuesday 24 Nov 2026, 09:00 UTC = 10:00 in Berlin (CET, UTC+1).
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def utc(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


PROMISES = [
    # explicit clock times with zones
    ("Next update by 15:00 CET.", utc(24, 14)),
    ("next update by 15:00 CEST", utc(24, 13)),
    ("Next update at 15:00 UTC", utc(24, 15)),
    ("next update at 15:00 GMT", utc(24, 15)),
    ("We will update you by 4pm EST", utc(24, 21)),
    ("We will update you by 4pm EDT", utc(24, 20)),
    ("next update by 5 p.m. PST", utc(25, 1)),
    ("next update by 5pm PDT", utc(25, 0)),
    ("Next update 10:00 CST", utc(24, 16)),
    ("Next update 10:00 CDT", utc(24, 15)),
    ("ETA 21:00 AEST", utc(24, 10)),  # Sydney is on AEDT (UTC+11) in November: the earlier reading
    ("ETA 21:00 AEDT", utc(24, 10)),
    ("next update at 12:00 UTC+2", utc(24, 10)),
    ("next update at 12:00 GMT-5", utc(24, 17)),
    ("Next update at 9am tomorrow (Europe/London)", utc(25, 9)),
    # bare times are in the calendar's zone; a time already past today means tomorrow
    ("next update at 3pm", utc(24, 14)),
    ("Next update by 11:30", utc(24, 10, 30)),
    ("next update by 09:00", utc(25, 8)),
    ("next update at 10:00", utc(25, 9)),  # exactly now: not a future promise today
    ("Next update by 15.30", utc(24, 14, 30)),
    ("follow up by noon", utc(24, 11)),
    ("I'll follow-up at midnight", utc(24, 23)),
    ("next update at 15:00h", utc(24, 14)),
    # relative
    ("next update in 2 hours", utc(24, 11)),
    ("We'll get back to you in 30 minutes", utc(24, 9, 30)),
    ("in 30 minutes we will update you — next update in 45 mins", utc(24, 9, 45)),
    ("Next update within 1h30m", utc(24, 10, 30)),
    ("next update in 1.5 hours", utc(24, 10, 30)),
    ("next update in an hour", utc(24, 10)),
    ("next update in half an hour", utc(24, 9, 30)),
    ("ETA: 45 minutes", utc(24, 9, 45)),
    ("ETA 2h", utc(24, 11)),
    ("next update in about 3 hours", utc(24, 12)),
    ("next update in 1 day", utc(25, 9)),
    # ISO 8601
    ("Next update: 2026-11-24T10:00:00Z", utc(24, 10)),
    ("next update 2026-11-24T13:00:00+01:00", utc(24, 12)),
    ("next update 2026-11-24 12:00", utc(24, 11)),
    ("next update 2026-11-25 10:00 UTC", utc(25, 10)),
    ("next update on 2026-11-26 at 08:00", utc(26, 7)),
    # days
    ("next update tomorrow 10:00", utc(25, 9)),
    ("We will get back to you tomorrow at 9am", utc(25, 8)),
    ("Next update tomorrow morning at 8:30 CET", utc(25, 7, 30)),
    ("next update today at 17:00", utc(24, 16)),
    ("Next update Monday 09:00", utc(30, 8)),
    ("next update on Tuesday at 11:00", utc(24, 10)),  # today, still ahead
    ("next update on Tuesday at 09:00", utc(1, 8, month=12)),  # today but past: next week
    ("next update 15:00 on Friday", utc(27, 14)),
    ("next update Fri 09:00 UTC", utc(27, 9)),
    ("next update on 3 Dec at 10:00", utc(3, 9, month=12)),
    ("next update Dec 3rd, 10:00", utc(3, 9, month=12)),
    ("next update on Thursday, 26 Nov at 10:00", utc(26, 9)),
    # other cues
    ("We will provide an update by 16:00", utc(24, 15)),
    ("You can expect another update at 13:00", utc(24, 12)),
    ("We'll update this ticket by 12:00 UTC", utc(24, 12)),
    ("Our next status update: 14:00 UTC", utc(24, 14)),
    # wiki markup must not confuse it
    ("*Next update:* 15:00 UTC", utc(24, 15)),
    ("[~accountid:5c5f880629be9642ba529340] next update by *16:30 EST*", utc(24, 21, 30)),
    ("h3. Status\nWe restarted the node.\n*Next update by _14:00 CET_*", utc(24, 13)),
    ("{code}restarted at 11:00{code}\nnext update at 13:00", utc(24, 12)),
    ("See [the runbook|https://wiki.example.com/x?t=11:00] - next update at {color:red}16:00{color}", utc(24, 15)),
    ("Next update by 15:00 CET. We restarted the cluster at 09:30.", utc(24, 14)),
    ("next update at 11:00 (CET)", utc(24, 10)),
    ("Next update: 15.30", utc(24, 14, 30)),
    ("next update 16.45 CET", utc(24, 15, 45)),
    ("next update by Tue 1 Dec 2026, 09:00 UTC", utc(1, 9, month=12)),
]


@pytest.mark.parametrize(("text", "expected"), PROMISES)
def test_promises(text: str, expected: datetime) -> None:
    found = find_next_update_promise(text, now=NOW, tz=BERLIN)
    assert found == expected
    assert found is not None and found.tzinfo is UTC


NOT_PROMISES = [
    "we fixed this at 15:00",
    "The outage started at 08:00 CET and was resolved at 09:30 CET.",
    "I will update you once we know more.",
    "Next update soon. We restarted at 15:00.",
    "Next update when the fix is deployed; the incident began at 14:00",
    "We updated you at 15:00 yesterday",
    "next update in 2 engineers' time",
    "Next update after the vendor replies",
    "{code}next update at 11:00{code} thanks",
    "{noformat}ETA 12:00{noformat}",
    "bq. Can you give us an update by 15:00?",
    "{quote}Please update you by 15:00{quote}",
    "Follow the link https://status.example.com/incidents/15:00",
    "next update on Monday",
    "next update tomorrow",
    "next update at 3",
    "next update by 25:00",
    "next update at 13pm",
    "next update 2026-02-30 10:00",
    "next update 2026-11-20T10:00:00Z",  # already past: not a promise
    "next update in 0 minutes",
    "Betaversion 15:00",
    "next update will ship with build 10.12",
    "We will follow up with release 2.30 notes",  # 'eta' inside a word is no cue
    "",
]


@pytest.mark.parametrize("text", NOT_PROMISES)
def test_not_promises(text: str) -> None:
    assert find_next_update_promise(text, now=NOW, tz=BERLIN) is None


def test_bare_time_uses_the_calendar_zone() -> None:
    tokyo = find_next_update_promise("next update at 20:00", now=NOW, tz=ZoneInfo("Asia/Tokyo"))
    assert tokyo == utc(24, 11)  # 18:00 in Tokyo now; 20:00 JST is 11:00 UTC


def test_bare_time_across_dst_change() -> None:
    # Saturday 24 Oct 2026 22:00 UTC; Berlin leaves CEST on Sunday 25 Oct.
    now = datetime(2026, 10, 24, 22, 0, tzinfo=UTC)
    assert find_next_update_promise("next update at 09:00", now=now, tz=BERLIN) == datetime(
        2026, 10, 25, 8, 0, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("next update by 2026-10-25 02:30 CET", datetime(2026, 10, 25, 1, 30, tzinfo=UTC)),
        ("next update by 2026-10-25 02:30 CEST", datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
        ("next update by 02:30 CET", datetime(2026, 10, 25, 1, 30, tzinfo=UTC)),
        ("next update by 02:30", datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),  # bare: the first 02:30
    ],
)
def test_repeated_hour_when_clocks_go_back(text: str, expected: datetime) -> None:
    now = datetime(2026, 10, 24, 22, 0, tzinfo=UTC)  # Berlin leaves CEST at 01:00 UTC on 25 Oct
    assert find_next_update_promise(text, now=now, tz=BERLIN) == expected


def test_first_cue_with_a_time_wins() -> None:
    text = "I will update you once we know more. Next update by 12:00 UTC at the latest."
    assert find_next_update_promise(text, now=NOW, tz=BERLIN) == utc(24, 12)


def test_naive_now_is_refused() -> None:
    with pytest.raises(EtaError):
        find_next_update_promise("next update in 2 hours", now=datetime(2026, 11, 24, 9), tz=BERLIN)


def test_clean_comment_text_strips_markup() -> None:
    cleaned = clean_comment_text("*bold* _it_ [~accountid:abc] [docs|https://x] {color:red}red{color}")
    assert cleaned.split() == ["bold", "it", "@user", "docs", "red"]


@given(minutes=st.integers(min_value=1, max_value=60 * 24 * 30))
def test_relative_minutes_property(minutes: int) -> None:
    found = find_next_update_promise(f"next update in {minutes} minutes", now=NOW, tz=BERLIN)
    assert found == NOW + timedelta(minutes=minutes)


@given(hour=st.integers(0, 23), minute=st.integers(0, 59))
def test_bare_clock_is_always_within_the_next_day(hour: int, minute: int) -> None:
    found = find_next_update_promise(f"next update by {hour:02d}:{minute:02d}", now=NOW, tz=BERLIN)
    assert found is not None
    assert NOW < found <= NOW + timedelta(days=1)
    local = found.astimezone(BERLIN)
    assert (local.hour, local.minute) == (hour, minute)


# --- the follow-up text ---------------------------------------------------------------------------


def test_eta_comment_states_calendar_zone_and_utc() -> None:
    text = eta_comment_text(utc(24, 10), BERLIN, severity_name="Sev 1", phase="active")
    assert text.splitlines()[0] == "Next update by Tue 24 Nov 2026, 11:00 CET (10:00 UTC)."
    assert "Sev 1" in text and "active" in text


def test_eta_comment_in_summer_time_and_across_midnight() -> None:
    text = eta_comment_text(datetime(2026, 7, 1, 23, 30, tzinfo=UTC), BERLIN, severity_name="Sev 2", phase="mitigated")
    assert text.startswith("Next update by Thu 2 Jul 2026, 01:30 CEST (Wed 1 Jul 2026, 23:30 UTC).")


def test_eta_comment_zone_without_abbreviation() -> None:
    text = eta_comment_text(utc(24, 23, 30), ZoneInfo("America/Sao_Paulo"), severity_name="P1", phase="active")
    assert text.startswith("Next update by Tue 24 Nov 2026, 20:30 UTC-3 (23:30 UTC).")
    india = eta_comment_text(utc(24, 10), ZoneInfo("Asia/Kolkata"), severity_name="P1", phase="active")
    assert india.startswith("Next update by Tue 24 Nov 2026, 15:30 UTC+5:30 (10:00 UTC).")


def test_eta_comment_in_utc_calendar_says_utc_once() -> None:
    text = eta_comment_text(utc(24, 10), ZoneInfo("UTC"), severity_name="Sev 1", phase="active")
    assert text.splitlines()[0] == "Next update by Tue 24 Nov 2026, 10:00 UTC."


def test_eta_comment_round_trips_through_the_parser() -> None:
    due = utc(24, 15, 45)
    text = eta_comment_text(due, BERLIN, severity_name="Sev 1", phase="active")
    assert find_next_update_promise(text, now=NOW, tz=ZoneInfo("Asia/Tokyo")) == due


ZONES = sorted(available_timezones())


@given(
    minutes=st.integers(min_value=1, max_value=60 * 24 * 300),
    calendar=st.sampled_from(ZONES),
    reader=st.sampled_from(["UTC", "Asia/Tokyo", "America/Los_Angeles"]),
)
def test_eta_comment_is_read_back_to_the_same_instant(minutes: int, calendar: str, reader: str) -> None:
    """Whatever the calendar's zone, the follow-up states an instant the parser (and a reader) gets right."""
    due = NOW + timedelta(minutes=minutes)
    text = eta_comment_text(due, ZoneInfo(calendar), severity_name="Sev 1", phase="active")
    assert find_next_update_promise(text, now=NOW, tz=ZoneInfo(reader)) == due


def test_eta_comment_refuses_naive_due() -> None:
    with pytest.raises(EtaError):
        eta_comment_text(datetime(2026, 11, 24, 10), BERLIN, severity_name="Sev 1", phase="active")


@pytest.mark.parametrize(
    ("promise", "due", "late"),
    [
        (utc(24, 12), utc(24, 13), False),
        (utc(24, 13), utc(24, 13), False),
        (utc(24, 13, 1), utc(24, 13), True),
        (utc(24, 13), None, False),
    ],
)
def test_promise_too_late(promise: datetime, due: datetime | None, late: bool) -> None:
    assert promise_too_late(promise, due) is late
