"""Benchmark reading next-update promises from 32,767-character replies: adversarial shapes vs a normal one.

Run: .venv/bin/python bench/bench_eta.py [--runs 5] [--old-chars 2048]

`find_next_update_promise` (markup cleaning, cue search, time reading) on a normal agent reply
filled to Jira Cloud's largest comment (32,767 characters, no promise in it, so all of it is read)
and on shapes that made the previous regular expressions backtrack (issue #14): runs of emphasis
markers, unclosed brackets, `[~`, newlines, `{code:`, dense cue words. Prints the best of `--runs`
per shape and its ratio to the normal reply (goal: worst case within 10×). As a peer, the previous
cleaning patterns run on the same shapes cut to `--old-chars` characters (their cost grows with the
square of the length, so the full size would take up to a minute each). Prints; never asserts.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.policy.eta import find_next_update_promise  # noqa: E402

SIZE = 32_767
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
ZONE = ZoneInfo("Europe/Berlin")
NORMAL = (
    "Hello Bob, thank you for the details and the screenshots. We checked the integration logs and "
    "the sync job fails on one malformed record; the fix is being tested on _staging_ and we will "
    "get back to you once it is deployed. See [the runbook|https://support.example.com/runbook] "
    "and ask [~accountid:5b10ac8d82e05b22cc7d4ef5] if anything is unclear.\n"
)
#: Repeated units: each shape is one of them repeated to SIZE characters.
SHAPES = ["*", "* ", "*_+^", "[", "[|", "[~", "\n", " \n", "{code:", "{a:", "{", "ETA ", "ETA 1:",
          "next update 1:", "ETA utc+", "in about ", "update you monday ", "http://", "bq.\n"]

_OLD = [
    (re.compile(r"\{(code|noformat|quote)(?::[^}]*)?\}.*?(?:\{\1\}|$)", re.I | re.S), "\n"),
    (re.compile(r"^\s*(?:bq\.|>).*$", re.M), ""),
    (re.compile(r"\[~[^\]]*\]"), "@user"),
    (re.compile(r"\[([^\]|]*)\|[^\]]*\]"), r"\1"),
    (re.compile(r"\[[^\]]*\]|https?://\S+", re.I), " "),
    (re.compile(r"\{[a-z]+(?::[^}]*)?\}", re.I), " "),
    (re.compile(r"(?<![\w*])[*_+^]+(?=\S)|(?<=\S)[*_+^]+(?![\w*])"), ""),
]


def fill(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


def best(runs: int, work: object, text: str) -> float:
    assert callable(work)
    fastest = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        work(text)
        fastest = min(fastest, time.perf_counter() - start)
    return fastest


def tierwise(text: str) -> None:
    find_next_update_promise(text, now=NOW, tz=ZONE)


def old_cleaning(text: str) -> None:
    for pattern, replacement in _OLD:
        text = pattern.sub(replacement, text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--old-chars", type=int, default=2048)
    args = parser.parse_args()
    normal = best(args.runs, tierwise, fill(NORMAL, SIZE))
    normal_old = best(args.runs, old_cleaning, fill(NORMAL, args.old_chars))
    print(f"normal reply, {SIZE:,} chars: {normal * 1000:.2f} ms "
          f"(previous cleaning at {args.old_chars:,} chars: {normal_old * 1000:.2f} ms)")
    print(f"{'shape':>22}  {'ms':>8}  {'× normal':>8}  {'previous, ms':>12}  {'× its normal':>12}")
    worst = 0.0
    for unit in SHAPES:
        cost = best(args.runs, tierwise, fill(unit, SIZE))
        old = best(1, old_cleaning, fill(unit, args.old_chars))
        worst = max(worst, cost / normal)
        print(f"{unit!r:>22}  {cost * 1000:8.2f}  {cost / normal:8.2f}  {old * 1000:12.2f}  {old / normal_old:12.1f}")
    print(f"worst case: {worst:.2f}× a normal reply (goal ≤ 10×)")


if __name__ == "__main__":
    main()
