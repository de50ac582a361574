"""Next-update promises: the time an agent's reply commits to, and the follow-up text the app posts.

`find_next_update_promise` only reads a time introduced by a next-update cue ("next update",
"update you", "get back to you", "follow up", "will update", "ETA", …) in the same sentence, so
"we fixed this at 15:00" promises nothing. Jira wiki markup (Cloud comment bodies) is cleaned
first; code, noformat and quote blocks are dropped (quoted logs and customer text are not promises).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.policy.errors import PolicyError
from app.policy.markup import clean_comment_text

__all__ = ["EtaError", "clean_comment_text", "eta_comment_text", "find_next_update_promise", "promise_too_late"]


def _fixed(hours: float, name: str) -> timezone:
    return timezone(timedelta(hours=hours), name)


#: Time zone abbreviations an agent may write. Standard-time names people use all year round
#: ("15:00 CET" in July) map to the IANA zone, so DST applies; that reading is never later than the
#: literal offset (DST moves clocks forward), so an SLA deadline can only come earlier, not slip.
#: Daylight-time names are their literal offsets. CST is US Central (not China); IST is left out
#: (India, Ireland and Israel all use it).
ZONE_ABBREVIATIONS: dict[str, tzinfo] = {
    "UTC": UTC,
    "GMT": UTC,
    "Z": UTC,
    "WET": ZoneInfo("Europe/Lisbon"),
    "WEST": _fixed(1, "WEST"),
    "BST": _fixed(1, "BST"),
    "CET": ZoneInfo("Europe/Paris"),
    "CEST": _fixed(2, "CEST"),
    "EET": ZoneInfo("Europe/Athens"),
    "EEST": _fixed(3, "EEST"),
    "MSK": ZoneInfo("Europe/Moscow"),
    "SGT": ZoneInfo("Asia/Singapore"),
    "JST": ZoneInfo("Asia/Tokyo"),
    "AWST": ZoneInfo("Australia/Perth"),
    "ACST": ZoneInfo("Australia/Adelaide"),
    "ACDT": _fixed(10.5, "ACDT"),
    "AEST": ZoneInfo("Australia/Sydney"),
    "AEDT": _fixed(11, "AEDT"),
    "NZST": ZoneInfo("Pacific/Auckland"),
    "NZDT": _fixed(13, "NZDT"),
    "EST": ZoneInfo("America/New_York"),
    "EDT": _fixed(-4, "EDT"),
    "CST": ZoneInfo("America/Chicago"),
    "CDT": _fixed(-5, "CDT"),
    "MST": ZoneInfo("America/Denver"),
    "MDT": _fixed(-6, "MDT"),
    "PST": ZoneInfo("America/Los_Angeles"),
    "PDT": _fixed(-7, "PDT"),
    "AKST": ZoneInfo("America/Anchorage"),
    "AKDT": _fixed(-8, "AKDT"),
    "HST": ZoneInfo("Pacific/Honolulu"),
}

#: Phrases that introduce a next-update time. Only a time in the same sentence after one counts.
NEXT_UPDATE_CUES: tuple[str, ...] = (
    r"next\s+(?:status\s+|progress\s+)?update",
    r"update\s+you",
    r"get\s+back\s+to\s+you",
    r"follow[\s-]?up",
    r"(?:will|'ll|’ll|shall)\s+update",
    r"(?:provide|send|post|give|share)\s+(?:you\s+)?(?:an?|another|the\s+next|a\s+further|further)\s+update",
    r"expect\s+(?:an?|another|the\s+next|a\s+further|further)\s+update",
    r"ETA",
)

#: How far after a cue (in characters of cleaned text) a time may stand.
WINDOW_CHARS = 120
#: Most next-update cues read in one reply: real replies state a handful, and each cue costs a
#: window of pattern searches, so a reply of nothing but "ETA ETA ETA …" stays cheap.
MAX_CUES_READ = 64
#: Longest relative promise ("in 3 days") read as one; anything longer is no promise.
MAX_RELATIVE_DAYS = 60
_UNITS_PER_DAY = {"m": 24 * 60, "h": 24, "d": 1}
#: Most characters between a day word ("tomorrow", "Monday") and the clock time it qualifies.
DAY_GAP_CHARS = 20

_CUE = re.compile(r"(?:(?<![\w'’])|(?=['’]))(?:" + "|".join(NEXT_UPDATE_CUES) + r")(?!\w)", re.I)
_BOUNDARY = re.compile(r"[.!?;](?=\s|$)|\n")

_ZONE_NAMES = "|".join(sorted(ZONE_ABBREVIATIONS, key=len, reverse=True))
_ZONE = re.compile(
    r"\s*\(?\s*(?:(?P<off>(?:utc|gmt)\s*[+\-−]\s*\d{1,2}(?::?\d{2})?)"
    r"|(?P<iana>[A-Z][A-Za-z]+/[A-Za-z_]+(?:/[A-Za-z_]+)?)"
    r"|(?P<abbr>(?:" + _ZONE_NAMES + r")(?![\w+−-])))\)?",
    re.I,
)
_ISO = re.compile(
    r"(?<![\d.])(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})(?:t|\s+(?:at\s+)?|,\s*)"
    r"(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.\d+)?)?(?P<z>z(?!\w)|[+-]\d{2}(?::?\d{2})?(?!\d))?",
    re.I,
)
_NUMBER = r"\d+(?:[.,]\d+)?|an?|one|two|three|four|five|six|eight|ten|twelve|half\s+an?"
_UNIT = r"minutes?|mins?|m|hours?|hrs?|h|days?|d"
_RELATIVE = re.compile(
    r"(?:(?<!\w)(?:in|within)\s+(?:the\s+next\s+)?|^)(?:about\s+|approx(?:imately|\.)?\s+|roughly\s+|~\s*)?"
    r"(?P<n>" + _NUMBER + r")\s*(?P<unit>" + _UNIT + r")(?![a-z])"
    r"(?:\s*(?:and\s+)?(?P<n2>\d{1,2})\s*(?:minutes?|mins?|m)(?!\w))?",
    re.I,
)
_CLOCK = re.compile(
    r"(?<![\w:.+\-/−])(?:(?P<noon>noon|midday)|(?P<midnight>midnight)"
    r"|(?P<h>\d{1,2})(?:[:.](?P<mi>\d{2}))?\s*(?P<ampm>am|pm)?h?)(?![\w:]|\.\d)",
    re.I,
)
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WEEKDAY = r"(?P<wd>mon|tue|wed|thu|fri|sat|sun)(?:day|sday|nesday|rsday|urday)?\.?"
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_DAY = re.compile(
    r"(?<!\w)(?:(?P<tomorrow>tomorrow)|(?P<today>today|tonight|this\s+(?:morning|afternoon|evening))"
    r"|(?:on\s+)?(?:(?:next|this)\s+)?" + _WEEKDAY + r"(?:\s*,?\s*(?P<dm1>\d{1,2})(?:st|nd|rd|th)?\s+(?P<mon1>" + _MONTH + r")(?:\s+(?P<y1>\d{4}))?)?"
    r"|(?P<dm2>\d{1,2})(?:st|nd|rd|th)?\s+(?P<mon2>" + _MONTH + r")(?:\s+(?P<y2>\d{4}))?"
    r"|(?P<mon3>" + _MONTH + r")\s+(?P<dm3>\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(?P<y3>\d{4}))?"
    r"|(?P<iy>\d{4})-(?P<im>\d{2})-(?P<id>\d{2}))(?!\w)",
    re.I,
)
_WORD_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                 "eight": 8, "ten": 10, "twelve": 12}

class EtaError(PolicyError):
    """A next-update time that cannot be stated (naive datetime, unknown zone)."""


@dataclass(frozen=True)
class _Clock:
    start: int
    end: int
    hour: int
    minute: int


def find_next_update_promise(text: str, *, now: datetime, tz: ZoneInfo) -> datetime | None:
    """The next-update time `text` promises (aware, UTC), or None when it states none.

    A bare time is in `tz` (the calendar's zone) and, when already past today, means tomorrow;
    relative times count from `now`. A stated time that is not after `now` is no promise.
    """
    _require_aware(now, "now")
    cleaned = clean_comment_text(text)
    for count, cue in enumerate(_CUE.finditer(cleaned)):
        if count >= MAX_CUES_READ:
            break
        window = _window(cleaned, cue.end())
        try:
            promise = _read_time(window, now=now, tz=tz)
            if promise is not None and promise > now:
                return promise.astimezone(UTC)
        except OverflowError:
            continue  # a date at the edge of the calendar ("9999-12-31T23:59-14:00") promises nothing
    return None


def promise_too_late(promise: datetime, policy_due: datetime | None) -> bool:
    """True when the agent promised the next update later than the policy's cadence allows."""
    return policy_due is not None and promise > policy_due


def _window(text: str, start: int) -> str:
    rest = text[start : start + WINDOW_CHARS]
    lead = len(rest) - len(rest.lstrip(" \t\r\n:–—-"))
    rest = rest[lead:]
    cut = _BOUNDARY.search(rest)
    return rest[: cut.start()] if cut else rest


def _read_time(window: str, *, now: datetime, tz: ZoneInfo) -> datetime | None:
    candidates: list[tuple[int, int, datetime | None]] = []  # (start, priority, value)
    iso = _ISO.search(window)
    if iso:
        candidates.append((iso.start(), 0, _iso_time(iso, window, tz)))
    rel = _RELATIVE.search(window)
    if rel:
        candidates.append((rel.start(), 1, _relative_time(rel, now)))
    clock = _find_clock(window)
    if clock:
        candidates.append((clock.start, 2, _clock_time(clock, window, now=now, tz=tz)))
    for _, _, value in sorted(candidates, key=lambda c: (c[0], c[1])):
        if value is not None:
            return value
    return None


def _iso_time(m: re.Match[str], window: str, tz: ZoneInfo) -> datetime | None:
    try:
        day = date(int(m["y"]), int(m["mo"]), int(m["d"]))
        clock = time(int(m["h"]), int(m["mi"]), int(m["s"] or 0))
    except ValueError:
        return None
    if m["z"]:
        offset = UTC if m["z"].lower() == "z" else _offset_zone(m["z"])
        return datetime.combine(day, clock, tzinfo=offset) if offset else None
    zone, abbr = _zone_after(window, m.end()) or (tz, None)
    return _combine(day, clock, zone, abbr)


def _relative_time(m: re.Match[str], now: datetime) -> datetime | None:
    raw = m["n"].lower().replace(",", ".")
    if raw.startswith("half"):
        amount = 0.5
    elif raw in _WORD_NUMBERS:
        amount = float(_WORD_NUMBERS[raw])
    else:
        amount = float(raw)
    unit = m["unit"].lower()
    if not 0 < amount <= MAX_RELATIVE_DAYS * _UNITS_PER_DAY[unit[0]]:
        return None  # also keeps timedelta() away from amounts it cannot hold
    if unit.startswith("m"):
        delta = timedelta(minutes=amount)
    elif unit.startswith("d"):
        delta = timedelta(days=amount)
    else:
        delta = timedelta(hours=amount)
    if m["n2"]:
        delta += timedelta(minutes=int(m["n2"]))
    if delta <= timedelta(0) or delta > timedelta(days=MAX_RELATIVE_DAYS):
        return None
    return now + delta


def _find_clock(window: str) -> _Clock | None:
    for m in _CLOCK.finditer(window):
        if m["noon"]:
            return _Clock(m.start(), m.end(), 12, 0)
        if m["midnight"]:
            return _Clock(m.start(), m.end(), 0, 0)
        hour, minute, ampm = int(m["h"]), int(m["mi"] or 0), (m["ampm"] or "").lower()
        if not m["mi"] and not ampm:
            continue  # "at 3", "2 engineers": a number, not a time
        if minute > 59:
            continue
        if m["mi"] and window[m.start("mi") - 1] == "." and not ampm and not _dotted_time_context(window, m):
            continue  # "build 10.12", "version 2.30": a dotted number is a time only where a time is expected
        if ampm:
            if not 1 <= hour <= 12:
                continue
            hour = hour % 12 + (12 if ampm == "pm" else 0)
        elif hour > 23:
            continue
        return _Clock(m.start(), m.end(), hour, minute)
    return None


#: Words after which a dotted number ("15.30") reads as a time.
_TIME_PREPOSITIONS = ("at", "by", "until", "till", "before", "around", "about", "approx", "~", "eta", "update")


def _dotted_time_context(window: str, m: re.Match[str]) -> bool:
    before = window[: m.start()].rstrip(" :").lower()
    if before.endswith(_TIME_PREPOSITIONS) or before == "":
        return True
    zone = _ZONE.match(window, m.end())
    return bool(zone and _zone_from_match(zone))


def _clock_time(clock: _Clock, window: str, *, now: datetime, tz: ZoneInfo) -> datetime | None:
    zone_match = _ZONE.match(window, clock.end)
    stated = _zone_from_match(zone_match) if zone_match else None
    after = zone_match.end() if zone_match and stated else clock.end
    day = _day_near(window, clock.start, after)
    if stated is None and day is not None and day.start() >= after:
        stated = _zone_after(window, day.end())  # "9am tomorrow (Europe/London)"
    zone, abbr = stated or (tz, None)
    local_today = now.astimezone(zone).date()
    at = time(clock.hour, clock.minute)
    if day is None or day.group("today"):
        candidate = _combine(local_today, at, zone, abbr)
        return candidate if candidate > now else _combine(local_today + timedelta(days=1), at, zone, abbr)
    if day.group("tomorrow"):
        return _combine(local_today + timedelta(days=1), at, zone, abbr)
    explicit = _explicit_date(day, local_today)
    if explicit is not None:
        return _combine(explicit, at, zone, abbr)
    if day.group("wd"):
        target = _WEEKDAYS.index(next(w for w in _WEEKDAYS if w.startswith(day.group("wd").lower())))
        ahead = (target - local_today.weekday()) % 7
        candidate = _combine(local_today + timedelta(days=ahead), at, zone, abbr)
        return candidate if candidate > now else _combine(local_today + timedelta(days=ahead + 7), at, zone, abbr)
    return None


def _combine(day: date, at: time, zone: tzinfo, abbr: str | None) -> datetime:
    """`day` at `at` in `zone`; in the repeated hour of a DST change the abbreviation picks the side
    ("02:30 CET" on the night clocks go back is the second 02:30)."""
    moment = datetime.combine(day, at, tzinfo=zone)
    if abbr and moment.tzname() != abbr and moment.replace(fold=1).tzname() == abbr:
        return moment.replace(fold=1)
    return moment


def _day_near(window: str, clock_start: int, clock_end: int) -> re.Match[str] | None:
    """A day word just before the clock time ("tomorrow at 9am") or just after it ("15:00 on Monday")."""
    best: re.Match[str] | None = None
    for m in _DAY.finditer(window):
        if m.end() <= clock_start and clock_start - m.end() <= DAY_GAP_CHARS:
            best = m  # the last one before the time is the nearest
        elif m.start() >= clock_end and m.start() - clock_end <= DAY_GAP_CHARS:
            return best or m
    return best


def _explicit_date(day: re.Match[str], today: date) -> date | None:
    try:
        if day.group("iy"):
            return date(int(day["iy"]), int(day["im"]), int(day["id"]))
        for dm, mon, year in (("dm1", "mon1", "y1"), ("dm2", "mon2", "y2"), ("dm3", "mon3", "y3")):
            if day.group(dm):
                month = _MONTHS.index(day[mon][:3].lower()) + 1
                if year and day.group(year):
                    return date(int(day[year]), month, int(day[dm]))
                found = date(today.year, month, int(day[dm]))
                return found if found >= today else date(today.year + 1, month, int(day[dm]))
    except ValueError:
        return None
    return None


def _zone_after(window: str, pos: int) -> tuple[tzinfo, str | None] | None:
    m = _ZONE.match(window, pos)
    return _zone_from_match(m) if m else None


def _zone_from_match(m: re.Match[str]) -> tuple[tzinfo, str | None] | None:
    """The stated zone and, for an abbreviation, the abbreviation (upper case)."""
    if m["abbr"]:
        abbr = m["abbr"].upper()
        return ZONE_ABBREVIATIONS[abbr], abbr
    if m["off"]:
        offset = _offset_zone(re.sub(r"^(?:utc|gmt)\s*", "", m["off"], flags=re.I))
        return (offset, None) if offset else None
    if m["iana"]:
        try:
            return ZoneInfo(m["iana"]), None
        except (ZoneInfoNotFoundError, ValueError):
            return None
    return None


def _offset_zone(raw: str) -> timezone | None:
    m = re.fullmatch(r"\s*([+−-])\s*(\d{1,2})(?::?(\d{2}))?", raw)
    if not m:
        return None
    hours, minutes = int(m.group(2)), int(m.group(3) or 0)
    if hours > 14 or minutes > 59:
        return None
    sign = -1 if m.group(1) in "-−" else 1
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


# --- the follow-up the worker posts -------------------------------------------------------------

_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def eta_comment_text(due: datetime, tz: ZoneInfo, *, severity_name: str, phase: str) -> str:
    """The public follow-up stating the next update time in the calendar's zone and in UTC.

    E.g. "Next update by Tue 24 Nov 2026, 11:00 CET (10:00 UTC)." followed by a line saying why.
    """
    _require_aware(due, "due")
    local = due.astimezone(tz)
    utc = due.astimezone(UTC)
    stated = f"{_long_date(local)}, {local:%H:%M} {_zone_label(local)}"
    if local.utcoffset() != timedelta(0):
        utc_part = f"{utc:%H:%M} UTC" if utc.date() == local.date() else f"{_long_date(utc)}, {utc:%H:%M} UTC"
        stated += f" ({utc_part})"
    phase_words = phase.replace("_", " ")
    return (
        f"Next update by {stated}.\n"
        f"This {severity_name} request is {phase_words}; we will post our next update by then at the latest."
    )


def _long_date(moment: datetime) -> str:
    # Fixed English names: strftime's %a/%b follow the worker's locale.
    return f"{_DAY_NAMES[moment.weekday()]} {moment.day} {_MONTH_NAMES[moment.month - 1]} {moment.year}"


def _zone_label(moment: datetime) -> str:
    name = (moment.tzname() or "").upper()
    known = ZONE_ABBREVIATIONS.get(name)
    if known is not None and _combine(moment.date(), moment.time(), known, name).utcoffset() == moment.utcoffset():
        return name  # an abbreviation the reader (and find_next_update_promise) resolves to this instant
    offset = moment.utcoffset() or timedelta(0)
    total = int(offset.total_seconds() // 60)
    sign = "-" if total < 0 else "+"
    hours, minutes = divmod(abs(total), 60)
    return f"UTC{sign}{hours}:{minutes:02d}" if minutes else f"UTC{sign}{hours}"


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise EtaError(f"{moment.isoformat()} has no time zone", name)
