"""Benchmark `tierwise simulate`: back-test 100,000 generated tickets (goal: under a minute).

Generates its own JSONL input (MuleSight preset: Mon-Fri 09-17 Australia/Melbourne, 4 severities,
0-4 public replies, some waiting-for-customer pauses and stabilized phases, most tickets closed),
then measures, in the same run:

- the in-process back-test (`read_tickets` + `simulate`) in tickets/s;
- the comparison of two policies (`compare`), which replays every ticket twice;
- the real console script end to end (`tierwise simulate --preset mulesight --tickets …`);
- a peer: the first-response deadline alone for every ticket with businesstimedelta, the kind of
  per-ticket computation a hand-rolled back-test would do (one target, no pauses, no replies).

Run: `.venv/bin/python bench/bench_simulate.py [--tickets 100000] [--seed 7]`
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

import businesstimedelta
import pytz

from app.policy import simulate as sim
from app.schemas.policy import load_policy
from app.schemas.presets import load_preset, preset_document

MELBOURNE = ZoneInfo("Australia/Melbourne")
TIERWISE = Path(sys.executable).parent / "tierwise"


def generate(n: int, seed: int) -> list[str]:
    """`n` JSONL ticket lines spread over 2026."""
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=MELBOURNE)
    lines = []
    for i in range(n):
        created = start + timedelta(minutes=rng.randrange(0, 360 * 24 * 60))
        at = created
        replies, changes = [], []
        for _ in range(rng.randrange(0, 5)):
            at += timedelta(minutes=rng.randrange(20, 3 * 24 * 60))
            replies.append(at.isoformat())
            roll = rng.random()
            if roll < 0.15:
                changes.append(
                    {"at": (at + timedelta(minutes=1)).isoformat(), "status": "Waiting for customer"}
                )
                at += timedelta(hours=rng.randrange(1, 48))
                changes.append({"at": at.isoformat(), "status": "In Progress", "category": "indeterminate"})
            elif roll < 0.25:
                changes.append({"at": (at + timedelta(minutes=5)).isoformat(), "status": "Monitoring"})
        ticket: dict[str, object] = {
            "key": f"SUP-{i + 1}",
            "created": created.isoformat(),
            "tier": "standard",
            "severity": rng.choice(["sev1", "sev2", "sev3", "sev4"]),
            "replies": replies,
            "status_changes": changes,
        }
        if rng.random() < 0.8:
            ticket["closed"] = (at + timedelta(hours=rng.randrange(1, 200))).isoformat()
        lines.append(json.dumps(ticket))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--peer-sample", type=int, default=20_000, help="tickets the peer computes")
    args = parser.parse_args()

    t0 = time.perf_counter()
    lines = generate(args.tickets, args.seed)
    print(f"generated {len(lines)} tickets in {time.perf_counter() - t0:.1f} s")

    policy = load_preset("mulesight")
    doc = preset_document("mulesight")
    doc["id"] = "mulesight-strict"
    for sev in ("sev1", "sev2", "sev3", "sev4"):
        doc["tiers"]["standard"][sev]["first_response"] = "4h on melbourne"
    strict = load_policy(doc)

    t0 = time.perf_counter()
    tickets = list(sim.read_tickets(lines))
    parse_s = time.perf_counter() - t0
    as_of = sim.default_as_of(tickets)
    t0 = time.perf_counter()
    report = sim.simulate(policy, tickets, as_of)
    run_s = time.perf_counter() - t0
    totals = sim.report_json(report)["totals"]
    print(f"  parse JSONL                     {parse_s:6.2f} s  {len(tickets) / parse_s:10,.0f} tickets/s")
    print(f"  simulate (3 targets, all replies){run_s:6.2f} s  {len(tickets) / run_s:10,.0f} tickets/s")
    print(f"    first response {dict(totals['first_response'])}")
    print(f"    next update    {dict(totals['next_update'])}")
    t0 = time.perf_counter()
    sim.compare(policy, strict, tickets, as_of)
    cmp_s = time.perf_counter() - t0
    print(f"  compare two policies            {cmp_s:6.2f} s  {len(tickets) / cmp_s:10,.0f} tickets/s")

    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as handle:
        handle.write("\n".join(lines) + "\n")
    try:
        t0 = time.perf_counter()
        done = subprocess.run(
            [str(TIERWISE), "simulate", "--preset", "mulesight", "--tickets", handle.name],
            capture_output=True,
            text=True,
            check=True,
        )
        cli_s = time.perf_counter() - t0
    finally:
        Path(handle.name).unlink()
    assert json.loads(done.stdout)["tickets"] == len(tickets)
    print(
        f"  tierwise simulate (end to end)  {cli_s:6.2f} s  {len(tickets) / cli_s:10,.0f} tickets/s (goal: < 60 s)"
    )

    spec = policy.calendars["melbourne"]
    tz = pytz.timezone(spec.timezone)
    rules = businesstimedelta.Rules(
        [
            businesstimedelta.WorkDayRule(
                start_time=clock(9), end_time=clock(17), working_days=[0, 1, 2, 3, 4], tz=tz
            )
        ]
    )
    sample = tickets[: args.peer_sample]
    t0 = time.perf_counter()
    for ticket in sample:
        _ = ticket.created + businesstimedelta.BusinessTimeDelta(rules, hours=8)
    peer_s = (time.perf_counter() - t0) / len(sample) * len(tickets)
    print(f"  peer: businesstimedelta, first response only (extrapolated from {len(sample)}) {peer_s:6.2f} s")
    print(
        f"  ratio: full tierwise back-test is {peer_s / run_s:.1f}x the speed of the peer's single deadline"
    )


if __name__ == "__main__":
    main()
