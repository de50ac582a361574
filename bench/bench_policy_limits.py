"""Benchmark validating and previewing the largest policy document the limits allow, vs a preset.

Run: .venv/bin/python bench/bench_policy_limits.py [--runs 3]

Builds a document at every limit of `app/schemas/limits.py` at once (20 calendars over 10 distinct
German holiday regions — the costliest ones the `holidays` package has — 10 severities, 20 tiers
with targets for each, 100 mapping rules, 50 actions, closed dates up to the 256 KiB size limit),
then times, in this fresh process: parsing its JSON text, the first `load_policy`, later ones, and
the admin page's preview (deadlines per tier × severity and the three-week calendar strips), and
counts the region-years of holidays resolved (they are read a year at a time, as deadlines need them). The communardo preset is measured the same
way in the same run as the peer. Prints; never asserts.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.schemas import holidays_source, limits  # noqa: E402
from app.schemas.policy import load_policy, parse_document_text  # noqa: E402
from app.schemas.presets import preset_document  # noqa: E402
from app.web.policy_preview import STRIP_DAYS, calendar_strips, preview_rows  # noqa: E402

REGIONS = ["SN", "BB", "BE", "BW", "BY", "HB", "HE", "HH", "MV", "NI"]


def largest_document() -> dict[str, Any]:
    cal_ids = [f"c{i}" for i in range(limits.MAX_CALENDARS)]
    sev_ids = [f"s{i}" for i in range(limits.MAX_SEVERITIES)]
    calendars = {
        cal: {"timezone": "Europe/Berlin", "hours": {"mon-fri": ["08:00-12:00", "13:00-17:00"]},
              "holidays": {"country": "DE", "subdivision": REGIONS[i % limits.MAX_HOLIDAY_REGIONS]},
              "closed_dates": []}
        for i, cal in enumerate(cal_ids)
    }
    targets = {sev: {"first_response": f"{1 + n % 8}h on {cal_ids[n % len(cal_ids)]}",
                     "update_cadence": {"active": f"{1 + n % 4}h on {cal_ids[n % len(cal_ids)]}"},
                     "resolution": f"{1 + n % 20}bd on {cal_ids[(n * 7) % len(cal_ids)]}"}
               for n, sev in enumerate(sev_ids)}
    document: dict[str, Any] = {
        "id": "largest", "name": "Largest allowed",
        "calendars": calendars,
        "severities": [{"id": sev, "name": sev.upper()} for sev in sev_ids],
        "tiers": {f"t{i}": {"name": f"Tier {i}", **targets} for i in range(limits.MAX_TIERS)},
        "mapping": {"rules": [{"field": f"customfield_{10000 + i}", "sets": "severity" if i % 2 else "tier",
                               "values": {"x": sev_ids[i % len(sev_ids)] if i % 2 else f"t{i % limits.MAX_TIERS}"}}
                              for i in range(limits.MAX_RULES)],
                    "default_tier": "t0", "default_severity": "s0"},
        "actions": [{"on": "breach", "kind": "note"} for _ in range(limits.MAX_ACTIONS)],
    }
    day = 0
    while len(json.dumps(document)) < limits.MAX_DOCUMENT_BYTES - 200:  # closed dates up to the size limit
        cal = calendars[cal_ids[day % len(cal_ids)]]
        if len(cal["closed_dates"]) >= limits.MAX_EXTRA_DATES:
            break
        cal["closed_dates"].append(f"{2030 + day // 300}-{1 + (day // 28) % 12:02d}-{1 + day % 28:02d}")
        day += 1
    return document


def timed(work: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def measure(name: str, document: dict[str, Any], runs: int) -> None:
    text = json.dumps(document)
    parse, parsed = timed(lambda: parse_document_text(text, "policy.json"))
    first, policy = timed(lambda: load_policy(parsed))
    later = min(timed(lambda: load_policy(parsed))[0] for _ in range(runs))
    at = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    preview = min(timed(lambda: (preview_rows(policy, at), calendar_strips(policy, at.date(), STRIP_DAYS)))[0]
                  for _ in range(runs))
    rows = len(policy.tiers) * len(policy.severities)
    resolved = holidays_source._computed.cache_info().currsize  # region-years the holidays package computed
    print(f"{name:>12}: {len(text):>7,} bytes, {len(policy.calendars)} calendars, {rows} tier × severity rows | "
          f"parse {parse * 1000:6.1f} ms | first validate {first * 1000:7.1f} ms | "
          f"validate {later * 1000:6.1f} ms | preview {preview * 1000:6.1f} ms | "
          f"holiday region-years resolved so far: {resolved}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    measure("communardo", preset_document("communardo"), args.runs)  # resolves DE/SN first: its cost is its own
    measure("largest", largest_document(), args.runs)


if __name__ == "__main__":
    main()
