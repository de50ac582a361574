"""process_event against the stand-in: what a ticket's events do in Jira, and how few calls it takes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pipeline_kit import short_policy

from app.policy.sla import evaluate
from app.policy.sla_property import PROPERTY_SHAPE
from app.policy.timefmt import jira_time
from app.schemas.policy import load_policy
from jobs.context import stores
from standin import AGENT


def _app_calls(pipeline, since: int = 0):
    return [c for c in pipeline.jira.requests[since:] if c.app_key and not c.path.endswith("/myself")]


def test_sev1_created_gets_fields_property_and_eta_comment(pipeline) -> None:
    pipeline.save_policy(short_policy(first_response="30m"))
    issue = pipeline.jira.create_issue("Checkout down", fields={"priority": {"name": "Highest"}})
    pipeline.run_jobs()
    seen = pipeline.jira.issue(issue["key"])
    fields = seen["fields"]
    assert fields["customfield_10100"], "first response due written"
    prop = seen["properties"]["tierwise.sla"]
    assert prop["severity"] == "sev1" and prop["firstResponseDue"]
    due = datetime.fromisoformat(prop["firstResponseDue"].replace("Z", "+00:00"))
    created = datetime.fromisoformat(fields["created"])
    assert 29 * 60 <= (due - created).total_seconds() <= 31 * 60
    comments = pipeline.jira.comments(issue["key"])
    assert len(comments) == 1 and "Next update by" in str(comments[0]["body"])
    calls = _app_calls(pipeline)
    # The tenant's first event reads its field list once (JSM participant/organization field ids, cached).
    assert [(c.method, c.path) for c in calls[:1]] == [("GET", "/rest/api/3/field")]
    assert [c.method for c in calls[1:]] == ["PUT", "POST"]
    record = pipeline.record(issue)
    assert record.severity == "sev1" and record.targets["first_response"].due == due


def test_reply_without_eta_gets_follow_up_and_reply_with_eta_is_honoured(pipeline) -> None:
    pipeline.save_policy(short_policy(first_response="30m"))
    issue = pipeline.jira.create_issue("Checkout down", fields={"priority": {"name": "Highest"}})
    pipeline.run_jobs()
    before = len(pipeline.jira.requests)
    pipeline.jira.add_comment(issue["key"], "We are looking into it.", public=True, author=AGENT)
    pipeline.run_jobs()
    calls = _app_calls(pipeline, before)
    assert [c.method for c in calls] == ["PUT", "POST"], calls
    comments = pipeline.jira.comments(issue["key"])
    assert len(comments) == 3 and "Next update by" in str(comments[-1]["body"])
    record = pipeline.record(issue)
    assert record.targets["first_response"].met_at is not None
    assert record.targets["next_update"].due is not None

    before = len(pipeline.jira.requests)
    pipeline.jira.add_comment(issue["key"], "Next update in 20 minutes.", public=True, author=AGENT)
    pipeline.run_jobs()
    calls = _app_calls(pipeline, before)
    assert [c.method for c in calls] == ["PUT"], "a promise needs no follow-up"
    record = pipeline.record(issue)
    promised = record.promised_update_at
    assert promised is not None and record.targets["next_update"].due == promised
    assert len(pipeline.jira.comments(issue["key"])) == 4


def test_same_delivery_three_times_has_one_effect(pipeline) -> None:
    pipeline.save_policy(short_policy(first_response="30m"))
    issue = pipeline.jira.create_issue("Checkout down", fields={"priority": {"name": "Highest"}})
    pipeline.jira.wait_for_deliveries(10)
    created = pipeline.jira.deliveries[-1]
    pipeline.jira.redeliver(created)
    pipeline.jira.redeliver(created)
    pipeline.run_jobs()
    assert len(pipeline.jira.comments(issue["key"])) == 1
    assert len([c for c in pipeline.jira.calls("PUT") if c.app_key]) == 1


def test_a_late_first_reply_reads_late_in_the_property_and_the_engine(pipeline) -> None:
    """Shape 2 of tierwise.sla: a first response given after its deadline is `late`, never `met`."""
    pipeline.save_policy(short_policy(first_response="30m"))
    real_now = pipeline.jira.site.now
    pipeline.jira.site.now = lambda: datetime.now(UTC) - timedelta(minutes=45)  # raised 45 min ago: due 15 min ago
    try:
        issue = pipeline.jira.create_issue("Checkout down", fields={"priority": {"name": "Highest"}})
    finally:
        pipeline.jira.site.now = real_now
    pipeline.run_jobs()
    unanswered = pipeline.jira.issue(issue["key"])["properties"]["tierwise.sla"]
    assert unanswered["shape"] == PROPERTY_SHAPE == 2
    assert (unanswered["firstResponseState"], unanswered["firstResponseMetAt"]) == ("late", None)
    assert unanswered["breached"] is True and "first_response" in unanswered["lateTargets"]
    pipeline.jira.add_comment(issue["key"], "We are on it; next update within the hour.")
    pipeline.run_jobs()
    seen = pipeline.jira.issue(issue["key"])
    prop = seen["properties"]["tierwise.sla"]
    assert prop["firstResponseState"] == "late" and prop["breached"] is True
    assert prop["firstResponseMetAt"] is not None and 14 <= prop["firstResponseLateMinutes"] <= 17
    assert prop["firstResponseDue"] == pipeline.record(issue).targets["first_response"].due.isoformat().replace(
        "+00:00", "Z")
    record = pipeline.record(issue)
    assert seen["fields"]["customfield_10100"] == jira_time(record.targets["first_response"].due)
    policy = load_policy(stores(pipeline.services).policies.effective(pipeline.client_key).document)
    assert evaluate(policy, record.history(), datetime.now(UTC)).first_response.status == prop["firstResponseState"]
