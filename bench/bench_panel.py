"""Benchmark the issue panel's API: server time for a ticket with a long history (goal: under 300 ms).

Seeds one tenant and one ticket with thousands of audit entries (also on other tickets of the
tenant), the most phase changes the worker keeps (alternating active / waiting-for-customer
pauses), many replies and a holiday calendar (Communardo: Mon-Fri 09-17 Berlin, DE/SN holidays),
then measures in the same run, through the WSGI app in-process (no network, so it is server time):

- `GET /api/panel/<issue_id>`: context-token check, three indexed reads, engine re-evaluation, JSON;
- the first (cold) call separately: it compiles the policy and its calendars;
- a peer: a bare Flask endpoint answering a small JSON object, in its own app.

Run: `.venv/bin/python bench/bench_panel.py [--audit 5000] [--requests 300] [--database-url URL]`
(default database: an SQLite file in a temporary directory; give a PostgreSQL URL to measure that).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, Response, jsonify

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from app.connect.qsh import CONTEXT_QSH  # noqa: E402
from app.connect.tokens import mint_token  # noqa: E402
from app.schemas.presets import preset_document  # noqa: E402
from app.settings import Settings  # noqa: E402
from app.storage.audit import AuditRow  # noqa: E402
from app.storage.db import migrate  # noqa: E402
from app.storage.policies import PolicyStore  # noqa: E402
from app.storage.tickets import MAX_PHASE_CHANGES, MAX_REPLIES, TicketRecord, TicketStore  # noqa: E402

CLIENT_KEY = "bench-tenant"
SECRET = "bench-shared-secret-" + "z" * 24
ISSUE_ID = "10000"


def seed(flask_app: Flask, audit_rows: int) -> None:
    svc = flask_app.extensions["tierwise"]
    if svc.settings.database_url:
        migrate(svc.engine)
    now = datetime.now(UTC)
    svc.tenants.install(CLIENT_KEY, shared_secret=SECRET, base_url="https://bench.atlassian.net", at=now)
    version = PolicyStore(svc.session_factory).save(CLIENT_KEY, preset_document("communardo"), "bench")
    created = now - timedelta(days=60)
    changes = tuple(
        (created + timedelta(hours=6 * i), "paused" if i % 2 else "active") for i in range(1, MAX_PHASE_CHANGES)
    )
    replies = tuple(created + timedelta(hours=6 * i + 1) for i in range(MAX_REPLIES))
    record = TicketRecord(
        tenant_key=CLIENT_KEY, issue_id=ISSUE_ID, issue_key="SUP-1", created_at=created,
        policy_version_id=version.id, tier="partner", severity="sev2",
        tier_rule="rule 1: organization 'Solution Partners' → partner",
        severity_rule="rule 2: field priority = 'High' → sev2",
        phase=changes[-1][1], phase_changes=changes, replies=replies,
        first_reply_at=replies[0], last_update_at=replies[-1],
    )
    TicketStore(svc.session_factory).save(record, 0)
    rows = []
    for n in range(audit_rows):
        issue = ISSUE_ID if n % 2 == 0 else str(20000 + n % 500)  # the tenant's other tickets too
        rows.append({"client_key": CLIENT_KEY, "issue_id": issue, "at": created + timedelta(minutes=n),
                     "action": "fields_written", "detail": {"target": "next_update", "deadline": "…", "n": n}})
    with svc.session_factory() as session, session.begin():
        for start in range(0, len(rows), 1000):
            session.execute(sa.insert(AuditRow), rows[start:start + 1000])


def timed(call: object, n: int) -> list[float]:
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        call()  # type: ignore[operator]
        samples.append((time.perf_counter() - t0) * 1000)
    return samples


def summary(name: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return f"{name:<34} median {statistics.median(ordered):7.2f} ms   p95 {p95:7.2f} ms   max {ordered[-1]:7.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audit", type=int, default=5000, help="audit rows to seed (half on the panel's ticket)")
    parser.add_argument("--requests", type=int, default=300, help="timed requests per endpoint")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default: SQLite in a temp dir)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env({"TIERWISE_INSTANCE_DIR": tmp, "APP_BASE_URL": "https://tierwise.bench",
                                      "TIERWISE_SECRET_KEY": "q6aYb4V2o2Yq3wqzq7sM2s6WJ9yq1Yx0c1Jt0a0v1pQ=",
                                      "LOG_FORMAT": "text", "LOG_LEVEL": "WARNING"})
        if args.database_url:
            settings = replace(settings, database_url=args.database_url)
        flask_app = create_app(settings)
        seed(flask_app, args.audit)
        client = flask_app.test_client()

        def panel() -> None:
            token = mint_token(issuer=CLIENT_KEY, secret=SECRET, qsh=CONTEXT_QSH, now=datetime.now(UTC),
                               subject="557058:agent")
            response = client.get(f"/api/panel/{ISSUE_ID}", headers={"Authorization": f"JWT {token}"})
            assert response.status_code == 200, response.data
            assert response.get_json()["tracked"]

        bare_app = Flask("bare")

        @bare_app.get("/bare")
        def bare() -> Response:
            return jsonify(ok=True, issue_id=ISSUE_ID)

        bare_client = bare_app.test_client()

        def bare_call() -> None:
            assert bare_client.get("/bare").status_code == 200

        cold = timed(panel, 1)[0]
        panel_ms = timed(panel, args.requests)
        bare_ms = timed(bare_call, args.requests)
        backend = "PostgreSQL" if args.database_url else "SQLite"
        print(f"panel API, {backend}, ticket with {MAX_PHASE_CHANGES - 1} phase changes, {MAX_REPLIES} replies, "
              f"{args.audit} audit rows ({args.audit // 2} on this ticket); {args.requests} requests each")
        print(f"{'panel API, first call (cold)':<34} {cold:7.2f} ms")
        print(summary("panel API (warm)", panel_ms))
        print(summary("bare Flask JSON endpoint (peer)", bare_ms))
        print(f"ratio panel / bare (median): {statistics.median(panel_ms) / statistics.median(bare_ms):.1f}x; "
              f"goal: under 300 ms -> {'met' if max(cold, max(panel_ms)) < 300 else 'NOT met'}")
        flask_app.extensions["tierwise"].close()


if __name__ == "__main__":
    main()
