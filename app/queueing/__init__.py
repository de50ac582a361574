"""The Redis side of the event pipeline: webhook ingest and SLA timers (no Flask, no Jira).

The web layer calls ``ingest_event``; the worker runs a ``TimerPump``; SLA jobs schedule and cancel
timers through ``TimerStore``. Every job about a ticket carries that ticket's ordering key
(``ordering``), so a worker runs one ticket's jobs in order. The scripts write rq 3.0's own job format
(``rqjob``; rq is pinned and ``tests/queueing/test_rq_contract.py`` checks every key and field). Jobs
are named by dotted path, so nothing here imports ``jobs``.
"""

from app.queueing.ingest import delete_event, event_key, ingest_event, load_event
from app.queueing.pump import TimerPump
from app.queueing.timers import Timer, TimerStore, timer_instant

__all__ = [
    "Timer",
    "TimerPump",
    "TimerStore",
    "delete_event",
    "event_key",
    "ingest_event",
    "load_event",
    "timer_instant",
]
