"""Run one step of a job — read, decide, write — in one database transaction, prefetching when needed.

The step gets the transaction, the tenant's context (read in it) and what has been prefetched. If
it finds `decide` lacks something from Jira it calls `require`, which leaves the transaction
(rolled back: nothing was written); the read happens outside any transaction and the step runs
again. A lost optimistic-version race runs it again too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from app.policy.events import TicketEvent
from app.storage.ticket_unit import UnitTx
from app.storage.tickets import ConcurrentUpdate
from jobs import prefetch
from jobs.context import Stores, TenantContext, load_context

T = TypeVar("T")

#: Times a step runs again after losing an optimistic-version race (or after a prefetch).
MAX_ATTEMPTS = 5


class NeedsPrefetch(Exception):
    """Leave the transaction: `decide` needs something read from Jira first."""

    def __init__(self, ctx: TenantContext, want: prefetch.Needs, got: prefetch.Prefetched) -> None:
        super().__init__("prefetch needed")
        self.ctx, self.want, self.got = ctx, want, got


def require(ctx: TenantContext, got: prefetch.Prefetched, *, event: TicketEvent | None = None,
            record_known: bool = True) -> prefetch.Prefetched:
    """`got` completed from Redis, or NeedsPrefetch when Jira must be read (see `prefetch.needs`)."""
    want, got = prefetch.needs(ctx, got, event=event, record_known=record_known)
    if want:
        raise NeedsPrefetch(ctx, want, got)
    return got


def in_one_transaction(st: Stores, tenant_key: str, step: Callable[[UnitTx, TenantContext, prefetch.Prefetched], T],
                       *, event: TicketEvent | None = None) -> T | None:
    """`step`'s result (None: the tenant is not installed), its reads and writes in one transaction."""
    got = prefetch.Prefetched()
    for _ in range(MAX_ATTEMPTS):
        try:
            with st.units.begin() as tx:
                ctx = load_context(tenant_key, st.services, factory=tx.stores_factory)
                if ctx is None:
                    return None
                try:
                    return step(tx, ctx, got)
                finally:
                    ctx.detach()
        except NeedsPrefetch as need:
            got = prefetch.fetch(need.ctx, need.want, need.got, event)  # outside any transaction
        except ConcurrentUpdate:
            continue
    raise ConcurrentUpdate(f"{tenant_key}: gave up after {MAX_ATTEMPTS} attempts")
