"""Request participants through the pipeline: the site's JSM fields resolved by type, once per tenant.

A participant with a licensed Atlassian account who comments publicly is a customer replying, never an
agent's first response. The field ids come from `GET /rest/api/3/field` by their JSM `schema.custom`
types (the stand-in lists Organizations and Request participants with them), cached in Redis.
"""

from __future__ import annotations

from typing import Any

from pipeline_kit import short_policy

from app.keys import jsm_fields_key
from jobs.prefetch import FIELD_TYPES_TTL
from standin import ADMIN, AGENT


def _field_reads(pipeline: Any) -> int:
    return len(pipeline.jira.calls("GET", "*/rest/api/3/field"))


def test_a_licensed_participants_public_comment_is_a_customer_reply(pipeline: Any) -> None:
    pipeline.save_policy(short_policy(first_response="30m"))
    issue = pipeline.jira.create_issue("Checkout down", fields={
        "priority": {"name": "Highest"}, "Request participants": [{"accountId": ADMIN.account_id}]})
    pipeline.run_jobs()
    record = pipeline.record(issue)
    assert ADMIN.account_id in record.customer_account_ids
    ttl = pipeline.redis.ttl(jsm_fields_key(pipeline.client_key))
    assert 0 < ttl <= FIELD_TYPES_TTL
    pipeline.jira.add_comment(issue["key"], "Any news? This is blocking our release.", author=ADMIN)
    pipeline.run_jobs()
    assert pipeline.record(issue).targets["first_response"].met_at is None
    prop = pipeline.jira.issue(issue["key"])["properties"]["tierwise.sla"]
    assert prop["firstResponseState"] == "running" and prop["firstResponseMetAt"] is None
    pipeline.jira.add_comment(issue["key"], "We are on it; next update within the hour.", author=AGENT)
    pipeline.run_jobs()
    assert pipeline.record(issue).targets["first_response"].met_at is not None
    assert pipeline.jira.issue(issue["key"])["properties"]["tierwise.sla"]["firstResponseState"] == "on_time"


def test_the_jsm_fields_are_read_once_per_tenant_and_again_after_expiry(pipeline: Any) -> None:
    pipeline.save_policy(short_policy(first_response="30m"))
    first = pipeline.jira.create_issue("One", fields={"priority": {"name": "Highest"}})
    pipeline.run_jobs()
    pipeline.jira.create_issue("Two", fields={"priority": {"name": "High"}})
    pipeline.jira.update_issue(first["key"], fields={"priority": {"name": "High"}})
    pipeline.run_jobs()
    assert _field_reads(pipeline) == 1
    pipeline.redis.delete(jsm_fields_key(pipeline.client_key))  # what the TTL does after an hour
    pipeline.jira.update_issue(first["key"], fields={"priority": {"name": "Highest"}})
    pipeline.run_jobs()
    assert _field_reads(pipeline) == 2
