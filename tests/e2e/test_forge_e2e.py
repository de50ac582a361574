"""The event pipeline end to end through the Forge front door.

The same stack as the Connect scenarios (`tests/e2e/conftest.py`: the app under gunicorn, real
`rq worker --with-scheduler` processes, the stand-in, real Redis) with the stand-in acting as the
Forge platform (`standin/forge.py`): the app is installed from `forge/manifest.yml`, Forge
Invocation Tokens are signed by the stand-in's key and checked against its JWKS (`FORGE_JWKS_URL`),
ticket events arrive at `/forge/events`, and every Jira call goes out with
`Authorization: Bearer <app system token>` at the `apiBaseUrl` the FITs name (`/ex/jira/<cloudId>`).
Forge events carry the reduced issue of Atlassian's Jira events reference, so tier and severity come from
custom fields only the worker's REST re-read sees. Where the Connect scenarios do not depend on the
platform they are run as they are (`test_pipeline_e2e`); the others are mirrored here. The migration
scenario installs through Connect first and then upgrades the same installation to the Forge app.
"""

from __future__ import annotations

import copy
import importlib.util
import os
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import jwt
import pytest
import requests
import yaml
from cryptography.hazmat.primitives.asymmetric import rsa

from jobs.context import stores
from standin import AGENT, JiraStandin
from standin.forge import ForgeInstallation

pytestmark = pytest.mark.e2e

HERE = Path(__file__).resolve().parent
MANIFEST = yaml.safe_load((HERE.parent.parent / "forge" / "manifest.yml").read_text())
APP_ID = "ari:cloud:ecosystem::app/4f0e6a8c-2b7d-4c1e-9a3f-5d6e7f8a9b0c"


def _load(name: str, path: Path) -> ModuleType:
    """A module of this folder under its own name (the Connect stack lives in conftest.py)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


e2e = _load("tierwise_e2e_stack", HERE / "conftest.py")
connect = _load("tierwise_e2e_connect_scenarios", HERE / "test_pipeline_e2e.py")
from pipeline_kit import short_policy, wait_until  # noqa: E402 (on sys.path once the stack module is loaded)


class ForgeStack(e2e.Stack):  # type: ignore[name-defined,misc]
    """The Connect stack, installed as a Forge app instead."""

    installation: ForgeInstallation

    def install(self, policy: dict[str, Any] | None = None) -> None:
        self.installation = self.jira.forge.install(self.env["APP_BASE_URL"], MANIFEST, app_id=APP_ID)
        self.client_key = "forge:" + self.installation.installation_uuid
        st = stores(self.services)
        if policy is not None:
            st.policies.save(self.client_key, policy, "e2e")
        st.policies.save_settings(self.client_key, {"field_bindings": connect_bindings(),
                                                    "oncall_webhook_url": self.oncall.url + "/page"}, "e2e")

    def start_worker_with_limits(self, *, attempts: int, token_waits: tuple[float, ...], backoff: float = 1.0) -> Any:
        """A worker whose retry limits are changed so a test sees them in seconds.

        `attempts` and `backoff` replace `jobs.retry.MAX_ATTEMPTS` and `BACKOFF_BASE_SECONDS` (how the
        jobs retry a stale token today: like a 5xx); `token_waits` replaces
        `app.forge.system_token.TOKEN_RETRY_DELAYS` (the schedule for the same once the jobs route
        ForgeTokenExpired to `token_retry_delay`). Tests set both to the same effect.
        """
        code = ("import sys, jobs.retry, app.forge.system_token as tokens; "
                f"jobs.retry.MAX_ATTEMPTS = {attempts}; jobs.retry.BACKOFF_BASE_SECONDS = {backoff!r}; "
                f"tokens.TOKEN_RETRY_DELAYS = {token_waits!r}; from rq.cli import main; sys.exit(main())")
        proc = self._spawn("worker", [sys.executable, "-c", code, "worker", "-w", e2e.WORKER_CLASS,
                                      "--with-scheduler", "--url", self.env["REDIS_URL"], self.env["TIERWISE_QUEUE"]])
        self.workers.append(proc)
        wait_until(lambda: self.services.redis.keys("rq:worker:*") and proc.poll() is None, e2e.STARTUP_SECONDS)
        return proc

    def scheduled_retries(self) -> int:
        return int(self.services.redis.zcard(f"rq:scheduled:{self.env['TIERWISE_QUEUE']}"))

    def install_connect(self, policy: dict[str, Any]) -> None:
        """Install through Connect, as a site did before the Forge app existed."""
        e2e.Stack.install(self, policy)

    def upgrade_to_forge(self) -> None:
        """Install the Forge app whose app.connect.key is the Connect app's key: the upgrade in place."""
        self.installation = self.jira.forge.install(self.env["APP_BASE_URL"], MANIFEST, app_id=APP_ID)


#: Severity from the "Severity" select, tier from the "Plan" select: neither is in a Forge event's issue.
SEVERITY_FIELD, PLAN_FIELD = "customfield_10104", "customfield_10050"


def custom_field_policy() -> dict[str, Any]:
    """short_policy with tier and severity mapped from custom fields, and a premium tier (Sev-1 resolution 4 h)."""
    doc = short_policy(first_response="30m", cadence="60m")
    doc["mapping"]["rules"] = [{"field": SEVERITY_FIELD, "sets": "severity"},
                               {"field": PLAN_FIELD, "sets": "tier", "values": {"premium": "premium"}}]
    premium = copy.deepcopy(doc["tiers"]["standard"])
    premium["name"] = "Premium"
    premium["sev1"]["resolution"] = "4h on 24x7"
    doc["tiers"]["premium"] = premium
    return doc


def connect_bindings() -> dict[str, str]:
    from pipeline_kit import STANDIN_BINDINGS

    return dict(STANDIN_BINDINGS)


@pytest.fixture
def forge_stack(redis_url: str, tmp_path: Path) -> Iterator[ForgeStack]:
    clock = e2e.Clock()
    port = e2e.free_port()
    with JiraStandin(now=clock) as jira:
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "APP_KEY"}}
        env.update(
            TIERWISE_INSTANCE_DIR=str(tmp_path / "instance"),
            APP_BASE_URL=f"http://127.0.0.1:{port}",
            CONNECT_INSTALL_KEYS_URL=jira.install_keys_url,
            TIERWISE_SECRET_KEY=e2e.SECRET_KEY,
            REDIS_URL=redis_url,
            TIERWISE_QUEUE="tierwise-e2e-forge",
            LOG_FORMAT="text",
            LOG_LEVEL="INFO",
            FORGE_APP_ID=APP_ID,
            FORGE_JWKS_URL=jira.forge.jwks_url,
        )
        stack = ForgeStack(jira, clock, env, tmp_path)
        try:
            _ = stack.services.engine
            stack.start_web()
            yield stack
        finally:
            stack.stop()


def _forge_calls(stack: ForgeStack, since: int = 0) -> list[Any]:
    calls = stack.app_calls(since)
    assert all(c.app_key == APP_ID for c in calls), calls
    return calls


def test_forge_ticket_lifecycle_fields_eta_and_duplicates(forge_stack: ForgeStack) -> None:
    stack = forge_stack
    stack.install(custom_field_policy())
    assert stack.services.tenants.get(stack.client_key).platform == "forge"
    stack.start_worker()

    # A Sev-1 premium ticket arrives as avi:jira:created:issue with the reduced issue: one GET for the fields
    # the policy maps from, one PUT (fields + property) and the ETA comment, with the system token.
    n = len(stack.jira.requests)
    issue = stack.jira.create_issue("Checkout down", fields={"Severity": {"value": "Sev-1"},
                                                              "Plan": {"value": "Premium"}})
    key = issue["key"]
    stack.wait_settled(issue)
    created = next(d for d in stack.jira.deliveries if d.event == "avi:jira:created:issue")
    assert not {SEVERITY_FIELD, PLAN_FIELD, "priority"} & set(created.body["payload"]["issue"]["fields"])
    calls = _forge_calls(stack, n)
    assert [c.method for c in calls] == ["GET", "PUT", "POST"], calls
    fields_read = calls[0].query["fields"][0].split(",")
    assert calls[0].path == f"/rest/api/3/issue/{key}" and {SEVERITY_FIELD, PLAN_FIELD} <= set(fields_read)
    assert "*navigable" not in fields_read and "*all" not in fields_read
    assert calls[1].query.get("notifyUsers") == ["false"]
    assert {p["key"] for p in calls[1].body["properties"]} == {"tierwise.sla"}
    assert calls[2].path == f"/rest/servicedeskapi/request/{key}/comment"
    seen = stack.jira.issue(key)
    prop = seen["properties"]["tierwise.sla"]
    assert (prop["tier"], prop["severity"], prop["phase"]) == ("premium", "sev1", "active")
    record = stack.record(issue)
    assert record.targets["resolution"].due - record.created_at == timedelta(hours=4)  # the premium target
    assert seen["fields"]["customfield_10100"] and seen["fields"]["customfield_10102"]
    texts = connect._comment_texts(stack, key)
    assert len(texts) == 1 and "Next update by" in texts[0]
    # The app's own writes are not sent back (the trigger's filter.ignoreSelf).
    assert not any(d.body["payload"].get("selfGenerated") for d in stack.jira.deliveries)

    # The same Forge event delivered three times: one effect.
    n = len(stack.jira.requests)
    stack.jira.redeliver(created)
    stack.jira.redeliver(created)
    stack.wait_settled(issue)
    time.sleep(0.5)
    assert stack.app_calls(n) == [] and len(connect._comment_texts(stack, key)) == 1
    assert stack.audit(issue).count("tracked") == 1
    assert [d.attempts[-1] for d in stack.jira.deliveries if d.identifier == created.identifier] == [204] * 3

    # An agent replies without an ETA: the follow-up states the next update (a comment event needs no re-read).
    n = len(stack.jira.requests)
    stack.jira.add_comment(key, "We are looking into it.", public=True, author=AGENT)
    stack.wait_settled(issue)
    assert [c.method for c in _forge_calls(stack, n)] == ["PUT", "POST"]
    texts = connect._comment_texts(stack, key)
    assert len(texts) == 3 and "Next update by" in texts[-1]
    record = stack.record(issue)
    assert record.targets["first_response"].met_at is not None
    assert record.targets["next_update"].due == record.replies[-1] + timedelta(minutes=60)

    # A reply with an ETA is honoured: the promise is the deadline, no follow-up.
    n = len(stack.jira.requests)
    stack.jira.add_comment(key, "Found it. Next update in 20 minutes.", public=True, author=AGENT)
    stack.wait_settled(issue)
    assert [c.method for c in _forge_calls(stack, n)] == ["PUT"]
    record = stack.record(issue)
    assert record.promised_update_at is not None
    assert record.targets["next_update"].due == record.promised_update_at
    assert abs((record.promised_update_at - record.replies[-1]) - timedelta(minutes=20)) < timedelta(seconds=2)
    assert len(connect._comment_texts(stack, key)) == 4

    # Severity change in the custom field (avi:jira:updated:issue, reduced issue): re-read, recomputed.
    before = connect._due(stack.jira.issue(key)["properties"]["tierwise.sla"], "resolutionDue")
    n = len(stack.jira.requests)
    stack.jira.update_issue(key, fields={"Severity": {"value": "Sev-3"}}, by=AGENT)
    wait_until(lambda: stack.record(issue).severity == "sev3", 20)
    stack.wait_settled(issue)
    assert [c.method for c in _forge_calls(stack, n)] == ["GET", "PUT"]
    prop = stack.jira.issue(key)["properties"]["tierwise.sla"]
    assert before is not None and connect._due(prop, "resolutionDue") == before + timedelta(hours=116)
    assert "recomputed" in stack.audit(issue) and stack.record(issue).tier == "premium"

    # Waiting for customer pauses the clock; leaving it resumes, deadlines later by the pause.
    stack.jira.transition_issue(key, "Wait for customer", by=AGENT)
    wait_until(lambda: stack.record(issue).phase == "paused", 20)
    stack.wait_settled(issue)
    assert stack.jira.issue(key)["properties"]["tierwise.sla"]["resolutionDue"] is None
    time.sleep(1.5)
    stack.jira.transition_issue(key, "Respond to support", by=AGENT)
    wait_until(lambda: stack.record(issue).phase == "active", 20)
    stack.wait_settled(issue)
    resumed = connect._due(stack.jira.issue(key)["properties"]["tierwise.sla"], "resolutionDue")
    assert resumed is not None and resumed - connect._due(prop, "resolutionDue") >= timedelta(seconds=1)
    assert not [d for d in stack.jira.deliveries if d.attempts and d.attempts[-1] != 204]
    assert stack.jira.response_errors == []


def test_forge_breach_transitions_pages_and_warns(forge_stack: ForgeStack) -> None:
    connect.test_breach_transitions_pages_and_warns(forge_stack)


def test_forge_worker_killed_mid_job_applies_once(forge_stack: ForgeStack) -> None:
    connect.test_worker_killed_mid_job_applies_once_without_duplicate_comment(forge_stack)


def test_forge_burst_of_429s_every_event_eventually_applied(forge_stack: ForgeStack) -> None:
    connect.test_burst_of_429s_every_event_eventually_applied(forge_stack)


def test_forge_job_after_token_expiry_waits_for_the_next_invocation(forge_stack: ForgeStack) -> None:
    stack = forge_stack
    # Every token Forge hands out lives 30 s: stored, but never fresh enough for a job (60 s margin).
    stack.jira.forge.token_lifetime = timedelta(seconds=30)
    stack.install(short_policy(first_response="30m"))
    # The job's next attempt is 10 minutes away (whichever retry rule the jobs apply).
    stack.start_worker_with_limits(attempts=8, token_waits=(600.0,) * 7, backoff=600.0)
    issue = stack.jira.create_issue("Invoices missing", fields={"priority": {"name": "Highest"}})
    wait_until(lambda: stack.scheduled_retries() > 0, 20)  # the job found no fresh token and is retried
    assert stack.app_calls() == []  # no Jira call was tried with a stale token

    # The hourly scheduled trigger brings a token good for 2 h: the waiting job runs now, and goes through.
    stack.jira.forge.token_lifetime = timedelta(hours=2)
    assert stack.jira.forge.refresh(stack.installation) == 204
    stack.wait_settled(issue, 30)
    assert "waiting job(s) run now" in stack.logs()
    writes = [(c.method, c.status) for c in stack.app_calls() if c.method != "GET"]
    assert writes == [("PUT", 204), ("POST", 201)], writes
    assert stack.jira.issue(issue["key"])["properties"]["tierwise.sla"]["severity"] == "sev1"
    assert len(stack.jira.comments(issue["key"])) == 1
    assert "gave_up" not in stack.audit(issue) and stack.audit(issue).count("tracked") == 1


def test_forge_job_gives_up_with_an_audit_entry_when_no_token_comes(forge_stack: ForgeStack) -> None:
    stack = forge_stack
    stack.jira.forge.token_lifetime = timedelta(seconds=30)
    stack.install(short_policy(first_response="30m"))
    stack.start_worker_with_limits(attempts=3, token_waits=(0.5, 1.0))
    issue = stack.jira.create_issue("Reports empty", fields={"priority": {"name": "Highest"}})
    wait_until(lambda: "gave_up" in stack.audit(issue), 30)
    entry = next(e for e in stores(stack.services).audit.recent(stack.client_key, issue["id"], 50)
                 if e.action == "gave_up")
    assert "no fresh Forge system token" in str(entry.detail) and entry.detail.get("attempts") == 3
    assert stack.app_calls() == [] and stack.jira.comments(issue["key"]) == []
    assert "tierwise.sla" not in stack.jira.issue(issue["key"])["properties"]


def test_forge_calls_with_bad_invocation_tokens_are_refused(forge_stack: ForgeStack) -> None:
    stack = forge_stack
    stack.install()
    forge, inst = stack.jira.forge, stack.installation
    url = stack.env["APP_BASE_URL"] + "/forge/events"
    event: dict[str, Any] = {"eventType": "avi:jira:created:issue", "atlassianId": AGENT.account_id,
             "issue": {"id": "99999", "key": "SUP-999", "fields": {"summary": "x"}}}

    def post(token: str) -> requests.Response:
        return requests.post(url, json=event, headers={"Authorization": f"Bearer {token}"}, timeout=10)

    now = int(time.time())
    claims = jwt.decode(forge.invocation_token(inst, "tierwise-ticket-events"), options={"verify_signature": False})
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    refused = {
        "forged": jwt.encode(claims, forger, algorithm="RS256", headers={"kid": forge.kid}),
        "expired": forge.invocation_token(inst, "tierwise-ticket-events", iat=now - 120, nbf=now - 120, exp=now - 60),
        "wrong_audience": forge.invocation_token(inst, "tierwise-ticket-events",
                                                 aud="ari:cloud:ecosystem::app/11111111-2222-4333-8444-555555555555"),
        "wrong_issuer": forge.invocation_token(inst, "tierwise-ticket-events", iss="forge/some-other-issuer"),
    }
    answers = {name: post(token) for name, token in refused.items()}
    assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(refused, 401)
    assert answers["forged"].json()["error"] == "bad_signature"
    assert answers["expired"].json()["error"] == "token_expired"
    assert answers["wrong_audience"].json()["error"] == "wrong_audience"
    assert answers["wrong_issuer"].json()["error"] == "wrong_issuer"
    # An installation Tierwise never recorded is refused too; the genuine token is accepted.
    stranger = ForgeInstallation(**{**inst.__dict__, "installation_id":
                                    "ari:cloud:ecosystem::installation/6b1c2d3e-4f50-4617-8829-3a4b5c6d7e8f"})
    assert post(forge.invocation_token(stranger, "tierwise-ticket-events")).json()["error"] == "unknown_installation"
    assert post(forge.invocation_token(inst, "tierwise-ticket-events")).status_code == 204


def test_connect_site_upgraded_to_forge_keeps_one_tenant_its_data_and_fires_its_timers_once(
        forge_stack: ForgeStack) -> None:
    stack = forge_stack
    policy = short_policy(first_response="1m", actions=[
        {"on": "breach", "kind": "transition", "params": {"name": "Start progress"}, "targets": ["first_response"]},
    ])
    # Before: a Connect install (its installed payload carries installationId), a saved policy, an open
    # ticket whose first-response timer is due in about 20 s.
    stack.install_connect(policy)
    connect_key = stack.client_key
    tenants = stack.services.tenants
    before = tenants.get(connect_key)
    assert before.platform == "connect" and before.installation_id == stack.jira.app().installation_id
    version = stores(stack.services).policies.effective(connect_key)
    stack.start_worker()
    stack.clock.lag = timedelta(seconds=40)
    issue = stack.jira.create_issue("Payments failing", fields={"priority": {"name": "Highest"}})
    stack.clock.lag = timedelta(0)
    stack.wait_settled(issue)
    assert stack.record(issue).severity == "sev1" and stack.jira.issue(issue["key"])["fields"]["status"]["name"] == "Open"

    # The upgrade: the Forge app with app.connect.key = the Connect key. Its FITs name the same installation.
    n = len(stack.jira.requests)
    stack.upgrade_to_forge()
    assert stack.installation.installation_id == before.installation_id
    assert tenants.list_keys() == [connect_key], "one tenant per site"
    after = tenants.get(connect_key)
    assert (after.platform, after.event_source, after.installation_id) == ("forge", "forge", before.installation_id)
    assert stores(stack.services).policies.effective(connect_key).id == version.id
    assert stack.audit(issue).count("tracked") == 1

    # The timer set under Connect fires once, now through Forge (Bearer system token at the apiBaseUrl).
    wait_until(lambda: stack.jira.issue(issue["key"])["fields"]["status"]["name"] == "In Progress", 60)
    wait_until(lambda: stack.oncall.pages, 10)
    stack.wait_settled(issue)
    time.sleep(2.5)  # a second firing would come within the timer pump's next ticks
    assert len(stack.oncall.pages) == 1 and stack.audit(issue).count("breached") == 1
    transitions = [c for c in stack.app_calls(n) if c.method == "POST" and c.path.endswith("/transitions")]
    assert len(transitions) == 1 and all(c.app_key == APP_ID for c in stack.app_calls(n))

    # One event source per site: the Connect app still sends its webhooks, Forge its events, for the same
    # change; the ticket is tracked once, answered once.
    n, sent = len(stack.jira.requests), len(stack.jira.deliveries)
    second = stack.jira.create_issue("Invoices missing", fields={"priority": {"name": "Highest"}})
    stack.wait_settled(second)
    doors = [(d.event, d.attempts[-1]) for d in stack.jira.deliveries[sent:]
             if d.event in ("jira:issue_created", "avi:jira:created:issue")]
    assert sorted(doors) == [("avi:jira:created:issue", 204), ("jira:issue_created", 204)]
    assert stack.audit(second).count("tracked") == 1
    assert len(connect._comment_texts(stack, second["key"])) == 1
    writes = [c.method for c in stack.app_calls(n) if c.method != "GET"]
    assert writes == ["PUT", "POST"], writes
    assert tenants.list_keys() == [connect_key]
