"""The fired-timer job hands the timer, with the instant it was scheduled for, to the SLA handler."""

from __future__ import annotations

import sys
import types

import pytest

from jobs.timers import fire_timer


def test_fire_timer_calls_the_sla_handler_with_the_scheduled_instant(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[object, ...]] = []
    sla = types.ModuleType("jobs.sla")
    sla.on_timer = lambda *args: calls.append(args)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "jobs.sla", sla)

    fire_timer("tenant-a", "10001", "resolution", "breach", 1795429266)

    assert calls == [("tenant-a", "10001", "resolution", "breach", 1795429266)]
