"""Every request the door sends is one Atlassian's published specs accept (platform v3 and JSM)."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from tiny_jira import Answer, TinyJira

from app.jira.auth import ConnectJwtAuth
from app.jira.client import JiraGateway

specs = pytest.importorskip("standin.specs")

ADF = {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Breach"}]}]}


def test_each_domain_call_matches_the_published_spec(tiny_jira: TinyJira) -> None:
    tiny_jira.answers[("GET", "/rest/api/3/issue/SUP-1/transitions")] = Answer(200, {"transitions": []})
    tiny_jira.answers[("GET", "/rest/api/3/field")] = Answer(200, [])
    tiny_jira.answers[("GET", "/rest/api/3/status")] = Answer(200, [])
    gateway = JiraGateway(tiny_jira.origin, ConnectJwtAuth(
        app_key="tierwise", shared_secret="spec-check-secret-0123456789abcdef", base_url=tiny_jira.origin))
    gateway.get_issue("SUP-1", fields=["status", "customfield_10050"], expand=["changelog"])
    gateway.update_issue("SUP-1", {"customfield_10050": "2026-11-02T10:00:00.000+0000"},
                         [{"key": "tierwise.sla", "value": {"breached": True}}])
    gateway.get_transitions("SUP-1")
    gateway.transition("SUP-1", "31")
    gateway.add_internal_note("SUP-1", ADF)
    gateway.add_public_reply("SUP-1", "We are working on it.")
    gateway.get_fields()
    gateway.get_statuses()
    gateway.has_permission("5b10ac8d82e05b22cc7d4ef5", "ADMINISTER")
    gateway.myself()
    assert len(tiny_jira.seen) == 10
    for seen in tiny_jira.seen:
        errors = specs.request_errors(seen.method, seen.path, dict(parse_qsl(seen.query)), seen.headers,
                                      seen.raw, seen.headers.get("Content-Type", "application/json"))
        assert errors == [], (seen.method, seen.path, errors)
