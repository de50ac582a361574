"""Benchmark the timer sweep's read: a periodic sweep (the index range due soon) vs a full one.

Run: .venv/bin/python bench/bench_timer_sweep.py [--tickets 20000]

Fills a throw-away SQLite database (migrated, one tenant) with open tickets whose next deadlines
spread evenly over the next 7 days, then times the paged reads `jobs.timer_sweep` makes
(`TicketStore.due_by`, pages of 500): with the periodic horizon (10 minutes) and with the start-up
horizon (every deadline). Prints rows read, the median of 5 runs each, and the ratio periodic/full —
the periodic sweep should cost about the share of tickets due soon, not the whole table.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from app.policy.record import TicketRecord
from app.storage.db import make_engine, make_session_factory, migrate
from app.storage.models import TenantRow
from app.storage.tickets import TicketRow, TicketStore, record_values
from jobs.timer_sweep import FULL_HORIZON, PAGE_SIZE, SWEEP_HORIZON

NOW = datetime.now(UTC).replace(microsecond=0)
SPREAD = timedelta(days=7)


def fill(engine: sa.Engine, tickets: int) -> None:
    with engine.begin() as conn:
        conn.execute(sa.insert(TenantRow).values(client_key="bench", base_url="https://bench.atlassian.net",
                                                 state="installed", state_changed_at=NOW, installed_at=NOW,
                                                 updated_at=NOW))
        rows = []
        for n in range(tickets):
            record = TicketRecord(tenant_key="bench", issue_id=str(10000 + n), issue_key=f"SUP-{n}", created_at=NOW,
                                  tier="standard", severity="sev3", version=1, updated_at=NOW,
                                  next_deadline=NOW + SPREAD * (n / tickets))
            rows.append(record_values(record))
        conn.execute(sa.insert(TicketRow), rows)


def read_all(store: TicketStore, until: datetime) -> int:
    after, count = None, 0
    while page := store.due_by(until, after=after, limit=PAGE_SIZE):
        count += len(page)
        last = page[-1]
        assert last.next_deadline is not None
        after = (last.next_deadline, last.tenant_key, last.issue_id)
    return count


def timed(store: TicketStore, until: datetime) -> tuple[int, float]:
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        count = read_all(store, until)
        runs.append(time.perf_counter() - start)
    return count, statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=20000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        migrate(engine)
        fill(engine, args.tickets)
        store = TicketStore(make_session_factory(engine))
        periodic = timed(store, NOW + SWEEP_HORIZON)
        full = timed(store, NOW + FULL_HORIZON)
        engine.dispose()
    print(f"{args.tickets} open tickets, deadlines over {SPREAD.days} days, SQLite")
    print(f"periodic sweep ({SWEEP_HORIZON}): {periodic[0]} rows in {periodic[1] * 1000:.1f} ms")
    print(f"full sweep (start-up):      {full[0]} rows in {full[1] * 1000:.1f} ms")
    print(f"ratio periodic/full: {periodic[1] / full[1]:.4f} (rows: {periodic[0] / full[0]:.4f})")


if __name__ == "__main__":
    main()
