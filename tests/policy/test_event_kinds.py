"""One list of webhook event kinds: the Connect descriptor, the Forge manifest and parse_webhook agree."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from app.forge.events import CONNECT_WEBHOOK_FOR
from app.policy.events import EVENT_KINDS, parse_webhook

ROOT = Path(__file__).resolve().parents[2]


def test_the_descriptor_subscribes_to_exactly_the_event_kinds() -> None:
    descriptor = json.loads((ROOT / "atlassian-connect.json").read_text())
    assert sorted(w["event"] for w in descriptor["modules"]["webhooks"]) == sorted(k.webhook for k in EVENT_KINDS)


def test_the_forge_manifest_triggers_on_exactly_the_event_kinds_and_maps_each_to_its_webhook() -> None:
    manifest = yaml.safe_load((ROOT / "forge" / "manifest.yml").read_text())
    product = [e for t in manifest["modules"]["trigger"] for e in t.get("events", []) if e.startswith("avi:jira:")]
    assert sorted(product) == sorted(k.forge_event for k in EVENT_KINDS)
    assert {k.forge_event: k.webhook for k in EVENT_KINDS} == CONNECT_WEBHOOK_FOR


def test_parse_webhook_reads_every_event_kind_and_nothing_else() -> None:
    issue = {"id": "1", "key": "S-1", "fields": {"project": {"key": "S"}, "status": {"name": "Open"}}}
    comment = {"id": "9", "body": "hi", "author": {"accountId": "a"}}
    for kind in EVENT_KINDS:
        body = {"webhookEvent": kind.webhook, "timestamp": 1795429266000, "issue": issue, "comment": comment}
        assert parse_webhook(body) is not None, kind.webhook
    assert parse_webhook({"webhookEvent": "jira:issue_deleted", "issue": issue}) is None
