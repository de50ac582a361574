"""The Redis side of the event pipeline: webhook ingest and SLA timers (no Flask, no Jira).

The web layer calls ``ingest_event``; the worker runs a ``TimerPump``; SLA jobs schedule and cancel
timers through ``TimerStore``. Jobs are named by dotted path, so nothing here imports ``jobs``.
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
