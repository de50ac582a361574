"""`tierwise demo`: Tierwise end to end against the Jira stand-in, in about half a minute.

Starts the stand-in (`standin`, in this process), Tierwise on its embedded defaults in a fresh
instance directory (gunicorn + an rq worker with scheduler, embedded SQLite and Redis), installs
the app with a signed install, then for each preset replays sample tickets and prints what
happened to each: tier and severity (and the rule that decided), deadlines, the app's comments,
transitions and pages. Finally a one-minute policy shows a real breach firing.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import click

from app.policy.model import Policy
from app.policy.sla import SlaState, TargetState

#: Seconds to wait for a ticket's work to finish before reporting it as it is.
SETTLE_SECONDS = 20.0
#: Seconds the web and worker processes get to stop after SIGTERM before they are killed.
STOP_SECONDS = 10.0
REPO_ROOT = Path(__file__).resolve().parent.parent.parent

LEGEND = """\
How to read it: per ticket, its tier and severity with the mapping rule that chose them, and its
phase (active; paused while waiting for the customer: the SLA clocks stop; closed). Then per SLA
target its deadline in UTC and its state in words:
  on track / due soon   the deadline is ahead (due soon: past the pre-breach warning)
  not due               the ticket is closed
  met / met late        answered in time / answered, but after the deadline
  BREACHED              the deadline passed unanswered (the policy's breach actions run)
  paused                the ticket is paused: no deadline until it resumes
  best effort           the policy sets no timed target for this tier and severity
  not started           no next update is owed before the first response
  at closure            updates are owed only when the ticket closes
Tierwise's comments: "acknowledgement" is posted when a ticket is created; a "follow-up" answers
an agent reply that promised no next-update time; an "internal note" is seen by agents only."""

#: A target's state (`app.policy.sla`) in the words the legend explains.
STATE_WORDS = {"on_track": "on track", "due_soon": "due soon", "breached": "BREACHED", "met": "met",
               "paused": "paused", "at_closure": "at closure"}


@dataclass
class Sample:
    """A sample ticket: its fields, then what agents do to it (("reply", text) / ("transition", name))."""

    summary: str
    fields: dict[str, Any]
    steps: list[tuple[str, str]] = field(default_factory=list)


SAMPLES: dict[str, list[Sample]] = {
    "confluence-health-check": [
        Sample("Dashboards fail for everyone", {"priority": {"name": "Highest"}},
               [("reply", "We are investigating the failing dashboards.")]),
        Sample("Export button misaligned", {"priority": {"name": "Low"}}),
    ],
    "connectsoft": [
        Sample("Premium: API returns 500", {"priority": {"name": "Highest"}, "customfield_10050": {"value": "Premium"}},
               [("reply", "Found the cause. Next update in 2 hours.")]),
        Sample("Basic: how do I export?", {"priority": {"name": "Medium"}, "customfield_10050": {"value": "Basic"}}),
    ],
    "mulesight": [
        Sample("Sync stalled for all projects", {"priority": {"name": "Highest"}},
               [("reply", "Engineers are on it; next update tomorrow 10:00."), ("transition", "Wait for customer")]),
    ],
    "communardo": [
        Sample("Partner: macro renders blank", {"priority": {"name": "High"}, "customfield_10002": [4]}),
        Sample("Question about licensing", {"priority": {"name": "Low"}}),
    ],
    "opencenter": [
        Sample("Regulated: outage in EU region", {"customfield_10050": {"value": "Regulated"},
                                                  "customfield_10004": {"value": "Extensive / Widespread"},
                                                  "customfield_10005": {"value": "Critical"}}),
        Sample("Essentials: slow search", {"customfield_10050": {"value": "Essentials"},
                                           "customfield_10004": {"value": "Moderate / Limited"},
                                           "customfield_10005": {"value": "Medium"}}),
    ],
}


def breach_policy() -> dict[str, Any]:
    """A one-minute first response on 24x7 that transitions and pages on breach."""
    severities = [{"id": f"sev{n}", "name": name, "aliases": aliases} for n, name, aliases in (
        (1, "Critical", ["Highest"]), (2, "High", ["High"]), (3, "Medium", ["Medium"]), (4, "Low", ["Low", "Lowest"]))]
    targets = {"first_response": "1m on 24x7", "update_cadence": {"active": "30m on 24x7"},
               "resolution": "4h on 24x7", "page_on_call": True}
    return {
        "id": "demo-breach", "name": "Demo: one-minute first response",
        "description": "Shows a breach: the ticket is moved to In Progress and on-call is paged.",
        "calendars": {}, "severities": severities,
        "tiers": {"standard": {"name": "Standard", **{f"sev{n}": targets for n in range(1, 5)}}},
        "mapping": {"rules": [{"field": "priority", "sets": "severity"}],
                    "default_tier": "standard", "default_severity": "sev1"},
        "actions": [{"on": "breach", "kind": "transition", "params": {"name": "Start progress"}}],
    }


class _Http:
    """A small HTTP server on 127.0.0.1 in a thread."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _pager(pages: list[dict[str, Any]]) -> _Http:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            pages.append(json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}"))
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    return _Http(Handler)


def state_word(target: TargetState, ticket: SlaState) -> str:
    """A target's state in words: met late, paused, best effort … (see LEGEND)."""
    if target.met_at is not None and target.breached:
        return "met late"
    if target.state == "none":
        if ticket.phase == "closed":
            return "not due"
        first_response_pending = ticket.first_response.met_at is None
        return "not started" if target.target == "next_update" and first_response_pending else "best effort"
    return STATE_WORDS.get(target.state, target.state)


def _wait(check: Callable[[], Any], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Demo:
    """The running demo: stand-in, Tierwise processes and the stores to report from."""

    def __init__(self, instance: Path, out: Callable[[str], None]) -> None:
        from app.bootstrap import Services
        from app.redis_conn import redis_url
        from app.settings import Settings
        from standin import JiraStandin

        self.out = out
        self.lag = timedelta(0)
        self.jira = JiraStandin(now=lambda: datetime.now(UTC) - self.lag).start()
        port = _free_port()
        self.env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "APP_KEY"}}
        self.env.update(TIERWISE_INSTANCE_DIR=str(instance), APP_BASE_URL=f"http://127.0.0.1:{port}",
                        CONNECT_INSTALL_KEYS_URL=self.jira.install_keys_url, PORT=str(port), LOG_LEVEL="WARNING")
        self.embedded = Settings.from_env(self.env)
        self.env["REDIS_URL"] = redis_url(self.embedded)  # the embedded server, shared with the children
        self.pages: list[dict[str, Any]] = []
        self.pager = _pager(self.pages)
        # The demo's pager is plain http on loopback: allowed by name, as an operator would list it.
        self.env["TIERWISE_ALLOW_HTTP_HOSTS"] = self.pager.url.removeprefix("http://")
        self.services = Services(Settings.from_env(self.env))
        _ = self.services.engine  # migrate once before the children start
        self.procs: list[subprocess.Popen[bytes]] = []
        self.client_key = ""

    def start(self) -> None:
        logs = Path(self.env["TIERWISE_INSTANCE_DIR"])
        for name, argv in (
            ("web", [sys.executable, "-m", "gunicorn", "--bind", self.env["APP_BASE_URL"][7:], "--workers", "2",
                     "app:create_app()"]),
            ("worker", [sys.executable, "-m", "rq.cli", "worker", "-w", "jobs.worker.TierwiseWorker",
                        "--with-scheduler", "--url", self.env["REDIS_URL"], self.services.settings.queue_name]),
        ):
            log = (logs / f"{name}.log").open("wb")
            self.procs.append(subprocess.Popen(argv, cwd=REPO_ROOT, env=self.env, stdout=log,
                                               stderr=subprocess.STDOUT, start_new_session=True))

        def web_up() -> bool:
            try:
                with urllib.request.urlopen(self.env["APP_BASE_URL"] + "/atlassian-connect.json", timeout=5):
                    return True
            except OSError:
                return False

        if not _wait(web_up, 30):
            raise click.ClickException(f"the web process did not start; see {logs / 'web.log'}")
        self.client_key = self.jira.install_app(self.env["APP_BASE_URL"] + "/atlassian-connect.json").client_key
        self.out(f"Installed Tierwise into the stand-in site {self.jira.base_url} (clientKey {self.client_key}).")

    def stop(self) -> None:
        """Stop the processes, then the stand-in and pager, then the embedded Redis (saved, not killed)."""
        from app.redis_conn import release_embedded_redis

        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.pager.close()
        self.jira.stop()
        self.services.close()
        release_embedded_redis(self.embedded)

    # -- replay ----------------------------------------------------------------------------------

    def use_policy(self, document: dict[str, Any], oncall: bool = False) -> None:
        from app.storage.policies import PolicyStore

        store = PolicyStore(self.services.session_factory, self.services.webhooks)
        store.save(self.client_key, document, "demo")
        store.save_settings(self.client_key, {
            "field_bindings": {"first_response_due": "customfield_10100", "next_update_due": "customfield_10101",
                               "resolution_due": "customfield_10102"},
            "oncall_webhook_url": self.pager.url + "/page" if oncall else None}, "demo")

    def settled(self, issue_id: str) -> bool:
        from rq import Queue

        from app.storage.outbox import Outbox
        from app.storage.tickets import TicketStore

        queue = Queue(self.services.settings.queue_name, connection=self.services.redis)
        r = self.services.redis
        if (not self.jira.wait_for_deliveries(0.1) or r.llen(queue.key) or r.llen(queue.intermediate_queue_key)
                or r.zcard(queue.started_job_registry.key)):
            return False
        states = Outbox(self.services.session_factory).states(self.client_key, issue_id)
        record = TicketStore(self.services.session_factory).get(self.client_key, issue_id)
        return record is not None and all(s in ("sent", "abandoned") for _, s in states)

    def app_comments(self, key: str) -> list[dict[str, Any]]:
        """Tierwise's comments on the issue, oldest first."""
        app_user = self.jira.app().user.account_id
        return [c for c in self.jira.comments(key) if (c.get("author") or {}).get("accountId") == app_user]

    def replay(self, sample: Sample) -> dict[str, Any]:
        """Create the sample's ticket, then play its steps; `acknowledged` counts the comments made on creation."""
        from standin import AGENT

        issue = self.jira.create_issue(sample.summary, fields=sample.fields)
        _wait(lambda: self.settled(issue["id"]), SETTLE_SECONDS)
        issue["acknowledged"] = len(self.app_comments(issue["key"]))
        for kind, arg in sample.steps:
            if kind == "reply":
                self.jira.add_comment(issue["key"], arg, public=True, author=AGENT)
            else:
                self.jira.transition_issue(issue["key"], arg, by=AGENT)
            time.sleep(0.2)
            _wait(lambda: self.settled(issue["id"]), SETTLE_SECONDS)
        return issue

    def report(self, issue: dict[str, Any], sample: Sample, policy: Policy) -> None:
        from app.policy.events import comment_text
        from app.policy.sla import evaluate
        from app.storage.audit import AuditLog
        from app.storage.tickets import TicketStore

        record = TicketStore(self.services.session_factory).get(self.client_key, issue["id"])
        self.out(f"  {issue['key']} {sample.summary!r}")
        if record is None:
            self.out("    (not processed)")
            return
        self.out(f"    tier {record.tier} ({record.tier_rule}); severity {record.severity} ({record.severity_rule})")
        state = evaluate(policy, record.history(), datetime.now(UTC))
        self.out(f"    phase {state.phase}")
        for name in ("first_response", "next_update", "resolution"):
            target = getattr(state, name)
            at, word = (target.due, "due") if target.due else (target.met_at, "answered")
            due = f"{word} {at.astimezone(UTC):%Y-%m-%d %H:%M}Z" if at else "no deadline"
            self.out(f"    {name.replace('_', ' '):15} {due:22} {state_word(target, state)}")
        for step, arg in sample.steps:
            self.out(f"    agent {step}: {arg}")
        for index, comment in enumerate(self.app_comments(issue["key"])):
            kind = ("internal note" if not comment.get("jsdPublic", True)
                    else "acknowledgement" if index < issue.get("acknowledged", 0) else "follow-up")
            self.out(f"    Tierwise {kind}: {comment_text(comment.get('body')).splitlines()[0]}")
        for entry in reversed(AuditLog(self.services.session_factory).recent(self.client_key, issue["id"], 50)):
            if entry.action in ("transition", "transition_missing", "page", "breached", "warned", "gave_up"):
                detail = {k: v for k, v in entry.detail.items() if k in ("transition", "target", "deadline", "url")}
                self.out(f"    {entry.action}: {json.dumps(detail)}")

    def run(self) -> None:
        from app.schemas.policy import load_policy
        from app.schemas.presets import preset_document

        self.out(LEGEND)
        for preset, samples in SAMPLES.items():
            self.use_policy(preset_document(preset))
            self.out(f"\nPreset {preset}:")
            for sample in samples:
                self.report(self.replay(sample), sample, load_policy(preset_document(preset)))
        self.out("\nA breach, for real: one-minute first response, a ticket raised 55 s ago.")
        self.use_policy(breach_policy(), oncall=True)
        breach = load_policy(breach_policy())
        self.lag = timedelta(seconds=55)
        sample = Sample("Checkout is down", {"priority": {"name": "Highest"}})
        issue = self.jira.create_issue(sample.summary, fields=sample.fields)
        self.lag = timedelta(0)
        _wait(lambda: self.jira.issue(issue["key"])["fields"]["status"]["name"] == "In Progress" and self.pages, 30)
        _wait(lambda: self.settled(issue["id"]), SETTLE_SECONDS)
        self.report(issue, sample, breach)
        for page in self.pages:
            self.out(f"    on-call received: {json.dumps(page)}")
        calls = [c for c in self.jira.requests if c.app_key]
        kinds = sorted({f"{c.method} {c.path}" for c in calls if "/myself" in c.path or c.method != "GET"})
        self.out(f"\nJira calls made by Tierwise: {len(calls)} ({len(kinds)} distinct).")


@click.command("demo")
@click.option("--keep", is_flag=True, help="Keep the demo's instance directory (database, logs).")
def demo_cmd(keep: bool) -> None:
    """Run Tierwise against a local Jira stand-in and replay sample tickets across the presets."""
    instance = Path(tempfile.mkdtemp(prefix="tierwise-demo-"))
    started = time.monotonic()
    demo = Demo(instance, click.echo)
    try:
        demo.start()
        demo.run()
    finally:
        demo.stop()
        if keep:
            click.echo(f"Instance kept in {instance}")
        else:
            shutil.rmtree(instance, ignore_errors=True)
    click.echo(f"Done in {time.monotonic() - started:.0f} s.")


def register(group: click.Group) -> None:
    group.add_command(demo_cmd)
