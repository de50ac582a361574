"""Signed but malformed events are dropped as unreadable by the worker, never failed rq jobs (issue #14, point 9)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rq import Queue
from rq.job import Job
from rq.registry import FailedJobRegistry

from app.queueing.ingest import event_key, ingest_event

_ISSUE = {"id": "10001", "key": "SUP-1", "fields": {"project": {"key": "SUP"}, "summary": "x",
                                                    "created": "2026-11-24T10:00:00.000+0000"}}


def _comment(body: Any, **comment: Any) -> dict[str, Any]:
    return {"webhookEvent": "comment_created", "timestamp": 1763900000000, "issue": _ISSUE,
            "comment": {"id": "20001", "body": body, "created": "2026-11-24T10:05:00.000+0000",
                        "author": {"accountId": "557058:agent", "accountType": "atlassian"}, **comment}}


# Raw JSON text: "\ud800" is how a lone surrogate arrives on the wire.
MALFORMED = {
    "adf content not a list": json.dumps(_comment({"type": "doc", "content": 7})),
    "mention attrs not an object": json.dumps(_comment({"type": "doc", "content": [
        {"type": "paragraph", "content": [{"type": "mention", "attrs": "x"}]}]})),
    "lone surrogate in the issue id": json.dumps(_comment("hello")).replace('"10001"', '"10001\\ud800"'),
    "lone surrogate in the comment text": json.dumps(_comment("ETA \\ud800 soon")).replace("\\\\ud800", "\\ud800"),
    "issue id too long": json.dumps(_comment("hello")).replace('"10001"', '"' + "1" * 500 + '"'),
}


@pytest.mark.parametrize("shape", sorted(MALFORMED))
def test_malformed_event_is_dropped_not_failed(pipeline, shape: str) -> None:
    raw = MALFORMED[shape].encode()
    queue = Queue(pipeline.settings.queue_name, connection=pipeline.redis)
    assert ingest_event(pipeline.redis, queue.name, pipeline.client_key, f"bad-{shape}", raw)
    (job_id,) = queue.job_ids
    pipeline.run_jobs()
    assert FailedJobRegistry(queue=queue).get_job_ids() == [], "the job must end as unreadable, not failed"
    assert Job.fetch(job_id, connection=pipeline.redis).return_value() == "unreadable"
    assert not list(pipeline.redis.scan_iter(event_key("*"))), "the unreadable body is deleted"
