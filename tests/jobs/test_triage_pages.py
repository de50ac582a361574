"""Triage actions through the pipeline: the confluence-health-check preset pages on arrival and on a rise.

Each page is staged once per ticket and occasion (its idempotency key is refused a second time by
the outbox), whether the webhook is redelivered, the event retried or the decision recomputed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pipeline_kit import OncallReceiver

from app.policy.intent import Intent
from app.schemas.presets import preset_document
from jobs.context import stores


@pytest.fixture
def oncall(pipeline: Any) -> Iterator[OncallReceiver]:
    """The confluence-health-check preset in force, paging the pipeline's receiver (an allowed http host)."""
    receiver: OncallReceiver = pipeline.oncall
    pipeline.save_policy(preset_document("confluence-health-check"), oncall=receiver.url + "/hook")
    yield receiver


def _kinds(pages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(p["kind"], p["severity"]) for p in pages]


def test_sev1_pages_once_on_arrival_not_on_redelivery(pipeline: Any, oncall: OncallReceiver) -> None:
    issue = pipeline.jira.create_issue("Confluence is down", fields={"priority": {"name": "Highest"}})
    pipeline.run_jobs()
    assert _kinds(oncall.pages) == [("arrived", "sev1")]
    assert oncall.pages[0]["ticket"] == issue["key"]
    created = next(d for d in pipeline.jira.deliveries if d.event == "jira:issue_created")
    pipeline.jira.redeliver(created)
    pipeline.run_jobs()
    assert _kinds(oncall.pages) == [("arrived", "sev1")]


def test_sev3_raised_to_sev1_pages_once_more(pipeline: Any, oncall: OncallReceiver) -> None:
    issue = pipeline.jira.create_issue("Search is slow", fields={"priority": {"name": "Medium"}})
    pipeline.run_jobs()
    assert pipeline.record(issue).severity == "sev3"
    assert oncall.pages == []  # a Sev-3 arrival pages no one
    pipeline.jira.update_issue(issue["key"], fields={"priority": {"name": "Highest"}})
    pipeline.run_jobs()
    assert _kinds(oncall.pages) == [("severity_raised", "sev1")]
    updated = [d for d in pipeline.jira.deliveries if d.event == "jira:issue_updated"][-1]
    pipeline.jira.redeliver(updated)
    pipeline.run_jobs()
    assert _kinds(oncall.pages) == [("severity_raised", "sev1")]
    assert "intent_refused" not in pipeline.audit(issue)  # the redelivery was found applied before deciding


def test_outbox_refuses_a_second_intent_with_the_same_key(pipeline: Any, oncall: OncallReceiver) -> None:
    """Another event (another worker) computing the same triage firing stages nothing the second time."""
    issue = pipeline.jira.create_issue("Confluence is down", fields={"priority": {"name": "Highest"}})
    pipeline.run_jobs()
    st = stores(pipeline.services)
    record = pipeline.record(issue)
    key = f"triage:{issue['id']}:arrived:sev1:0"
    page = Intent("page", {"url": oncall.url + "/hook", "body": {"kind": "arrived"}}, {}, key=key)
    with st.units.begin() as tx:
        tx.commit_update(record, record.version, event_id="another-event", intents=[page, Intent("fields")],
                         audits=[], at=datetime.now(UTC))
    assert [k for k, _ in st.outbox.states(pipeline.client_key, issue["id"])].count("page") == 1
    assert "intent_refused" in pipeline.audit(issue)
