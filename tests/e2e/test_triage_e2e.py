"""Triage pages with real gunicorn and two rq workers: the confluence-health-check preset pages the on-call
primary once on a Sev-1's arrival (not again on a redelivered webhook) and once more on a Sev-3 → Sev-1 rise."""

from __future__ import annotations

import time
from typing import Any

from pipeline_kit import wait_until

from app.schemas.presets import preset_document


def _pages(stack: Any, key: str) -> list[tuple[str, str]]:
    return [(p["kind"], p["severity"]) for p in stack.oncall.pages if p.get("ticket") == key]


def test_confluence_health_check_pages_on_arrival_and_on_a_rise_once_each(stack: Any) -> None:
    stack.install(preset_document("confluence-health-check"))
    stack.start_worker()
    stack.start_worker()

    sev1 = stack.jira.create_issue("Confluence is down", fields={"priority": {"name": "Highest"}})
    wait_until(lambda: _pages(stack, sev1["key"]), 30)
    stack.wait_settled(sev1)
    created = next(d for d in stack.jira.deliveries if d.event == "jira:issue_created" and
                   d.body["issue"]["key"] == sev1["key"])
    stack.jira.redeliver(created)

    sev3 = stack.jira.create_issue("Search is slow", fields={"priority": {"name": "Medium"}})
    stack.wait_settled(sev3)
    stack.jira.update_issue(sev3["key"], fields={"priority": {"name": "Highest"}})
    wait_until(lambda: _pages(stack, sev3["key"]), 30)
    stack.wait_settled(sev3)
    stack.wait_settled(sev1)
    time.sleep(1.0)  # any duplicate page would have been posted by now
    assert _pages(stack, sev1["key"]) == [("arrived", "sev1")]
    assert _pages(stack, sev3["key"]) == [("severity_raised", "sev1")]
