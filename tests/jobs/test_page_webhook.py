"""Pages end to end through the worker: the URL from the encrypted store, the post pinned and checked,
the audit (what the panel shows agents) without URL, status or body, nothing in clear at rest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline_kit import short_policy

from app.queueing.timers import timer_instant
from jobs.context import stores
from jobs.sla import on_timer

SECRET = "pag3rS3cret"


def _clear_in_files(tmp_path: Path) -> bool:
    databases = list((tmp_path / "instance").rglob("*.db*"))
    assert databases
    return any(SECRET.encode() in p.read_bytes() for p in databases)


def _breach(pipeline: Any, issue: dict[str, Any]) -> None:
    due = pipeline.record(issue).targets["first_response"].due
    assert on_timer(pipeline.client_key, issue["id"], "first_response", "breach", timer_instant(due)) == "fired"


def test_a_page_action_url_is_sealed_at_save_and_used_only_at_delivery(pipeline: Any, tmp_path: Path) -> None:
    url = f"{pipeline.oncall.url}/alerts?token={SECRET}"
    pipeline.save_policy(short_policy(first_response="30m", actions=[
        {"on": "created", "kind": "page", "params": {"url": url}, "severities": ["sev1"]}]))
    st = stores(pipeline.services)
    assert st.policies.active(pipeline.client_key).document["actions"][0]["params"] == {"webhook": "page-1"}
    issue = pipeline.jira.create_issue("Checkout down", fields={"priority": {"name": "Highest"}})
    pipeline.run_jobs()

    assert [p.get("kind") for p in pipeline.oncall.pages] == ["created"]
    entries = st.audit.recent(pipeline.client_key, issue["id"], 50)
    page = [e for e in entries if e.action == "page"]
    assert len(page) == 1 and dict(page[0].detail).get("webhook") == "page-1" and "status" not in page[0].detail
    assert all(SECRET not in repr(dict(e.detail)) and "127.0.0.1" not in repr(dict(e.detail)) for e in entries)
    assert not _clear_in_files(tmp_path)


def test_the_on_call_url_is_encrypted_and_the_breach_page_reaches_it(pipeline: Any, tmp_path: Path) -> None:
    pipeline.save_policy(short_policy(first_response="30m", actions=[]),
                         oncall=f"{pipeline.oncall.url}/page/{SECRET}")
    issue = pipeline.jira.create_issue("Checkout down", fields={"priority": {"name": "Highest"}})
    pipeline.run_jobs()
    _breach(pipeline, issue)
    assert [p["kind"] for p in pipeline.oncall.pages] == ["breach"]
    entries = stores(pipeline.services).audit.recent(pipeline.client_key, issue["id"], 50)
    assert any(e.action == "page" and e.detail.get("webhook") == "oncall" for e in entries)
    assert all(SECRET not in repr(dict(e.detail)) for e in entries)
    assert not _clear_in_files(tmp_path)


def test_a_webhook_resolving_to_loopback_is_refused_at_send_and_audited_as_page_failed(pipeline: Any) -> None:
    """`https://localhost:<port>/…` passes the save-time check (a name, https); at send time it
    resolves to loopback, which no operator listed: no connection, and the audit says only "page failed"."""
    port = int(pipeline.oncall.url.rsplit(":", 1)[1])
    pipeline.save_policy(short_policy(first_response="30m", actions=[]),
                         oncall=f"https://localhost:{port}/page/{SECRET}")
    issue = pipeline.jira.create_issue("Checkout down", fields={"priority": {"name": "Highest"}})
    pipeline.run_jobs()
    _breach(pipeline, issue)
    assert pipeline.oncall.pages == []
    entries = stores(pipeline.services).audit.recent(pipeline.client_key, issue["id"], 50)
    failed = [dict(e.detail) for e in entries if e.action == "gave_up" and e.detail.get("intent") == "page"]
    assert len(failed) == 1 and failed[0]["error"] == "page failed" and "status" not in failed[0]
    assert all(SECRET not in repr(dict(e.detail)) and "localhost" not in repr(dict(e.detail)) for e in entries)
