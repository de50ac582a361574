"""Rebuild SLA timers from the database: `sweep_timers(services, now)`.

The database is the source of truth for deadlines; Redis only holds the timers that fire them. Each
ticket row carries `next_deadline` (the earliest warn or breach instant its timers should have,
written with every decision), indexed. A sweep reads the open tickets whose next deadline falls
before `now + horizon` (an index range scan, earliest first, in pages) and schedules the timers
each should have. Scheduling is idempotent (`TimerStore.schedule_many`: an existing timer at the
same instant stays as it is, a claimed one is left to its poller), so sweeping a healthy Redis
changes nothing; after Redis lost data, overdue breaches fire at once — late at most by the outage
— and fire once (the breach is recorded with the ticket; a second firing is stale).

Run it at worker start-up with a horizon covering every open deadline, then every
`SWEEP_INTERVAL` seconds with the default horizon (two intervals): each deadline is then covered by
a sweep before it is due, and a periodic sweep reads only the tickets due soon.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.bootstrap import Services
from app.policy.decide import ticket_timers
from app.policy.errors import PolicyError
from app.policy.record import TicketRecord
from jobs.context import TenantContext, load_context, stores

log = logging.getLogger(__name__)

#: Seconds between two periodic sweeps (the lead's worker loop calls `sweep_timers` this often).
SWEEP_INTERVAL = 300
#: How far ahead a periodic sweep looks: two intervals, so a deadline is always swept before it is due.
SWEEP_HORIZON = timedelta(seconds=2 * SWEEP_INTERVAL)
#: A start-up sweep's horizon: every open deadline (Redis may have lost all of them).
FULL_HORIZON = timedelta(days=3650)
#: Tickets read per database round trip.
PAGE_SIZE = 500


@dataclass(frozen=True)
class Swept:
    """What a sweep did: tickets read, timers scheduled (existing ones included), tickets skipped."""

    tickets: int = 0
    timers: int = 0
    skipped: int = 0


def sweep_timers(services: Services, now: datetime, *, horizon: timedelta = SWEEP_HORIZON) -> Swept:
    """Schedule the timers of every open ticket whose next deadline is before `now + horizon`.

    A start-up sweep (`horizon=FULL_HORIZON`) also covers the open tickets with no deadline recorded
    (rows written before migration 0005 until their next event; paused tickets, which want none)."""
    st = stores(services)
    sweep = _Sweep(services, now)
    after: tuple[datetime, str, str] | None = None
    while page := st.tickets.due_by(now + horizon, after=after, limit=PAGE_SIZE):
        sweep.schedule(page)
        last = page[-1]
        assert last.next_deadline is not None
        after = (last.next_deadline, last.tenant_key, last.issue_id)
    if horizon >= FULL_HORIZON:
        unindexed: tuple[str, str] | None = None
        while page := st.tickets.open_without_deadline(after=unindexed, limit=PAGE_SIZE):
            sweep.schedule(page)
            unindexed = (page[-1].tenant_key, page[-1].issue_id)
    done = Swept(sweep.tickets, sweep.timers, sweep.skipped)
    log.info("timer sweep: %d tickets, %d timers, %d skipped", done.tickets, done.timers, done.skipped)
    return done


class _Sweep:
    """One sweep's tenants (each context loaded once) and counts."""

    def __init__(self, services: Services, now: datetime) -> None:
        self.services, self.now = services, now
        self.contexts: dict[str, TenantContext | None] = {}
        self.tickets = self.timers = self.skipped = 0

    def schedule(self, page: list[TicketRecord]) -> None:
        """Schedule the timers each ticket of `page` should have, in one pipelined round trip."""
        pipe = self.services.redis.pipeline(transaction=False)
        for record in page:
            self.tickets += 1
            if record.tenant_key not in self.contexts:
                self.contexts[record.tenant_key] = load_context(record.tenant_key, self.services)
            ctx = self.contexts[record.tenant_key]
            if ctx is None:  # uninstalled: its timers are cancelled, not rebuilt
                self.skipped += 1
                continue
            try:
                wanted = ticket_timers(ctx.policy_for(record)[1], record, self.now)
            except PolicyError as exc:
                log.warning("timer sweep: %s/%s: %s", record.tenant_key, record.issue_key, exc)
                self.skipped += 1
                continue
            ctx.stores.timers.schedule_many(
                [(record.tenant_key, record.issue_id, name, kind, at) for name, kind, at in wanted], pipeline=pipe)
            self.timers += len(wanted)
        pipe.execute()
