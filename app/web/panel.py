"""The issue SLA panel (Connect `webPanels` at `atl.jira.view.issue.right.context` and `jiraIssueContexts`).

`GET /panel` serves the shell; `GET /api/panel/<issue_id>` answers what is due and why. It reads the
stored SLA record (kept by the worker) and re-evaluates it with the engine at request time, so the
states are live even between webhook events. Three indexed reads: the record, its policy version
(compiled policies are cached by document), and the newest audit entries.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, g, jsonify, request, url_for
from flask.typing import ResponseReturnValue

from app.policy.errors import PolicyError
from app.policy.model import CALENDAR_24X7, TARGETS, Policy
from app.policy.sla import SlaState, TargetState, evaluate
from app.policy.timefmt import utc_iso as _iso
from app.schemas.compiled import compiled_policy
from app.schemas.fields import dump_hours
from app.storage.audit import AuditEntry, AuditLog
from app.storage.policies import PolicyStore, PolicyVersion
from app.storage.tickets import TicketRecord, TicketStore
from app.web.auth import require_connect_jwt, require_context_jwt
from app.web.pages import refuse, render_page
from app.web.services import services

#: Audit entries the panel lists.
PANEL_AUDIT_ENTRIES = 5
#: Holidays ahead the "why" section names per calendar.
UPCOMING_HOLIDAYS = 3
#: Days ahead searched for those holidays.
HOLIDAY_HORIZON_DAYS = 90
#: Labels of the targets, for people.
TARGET_LABELS = {"first_response": "First response", "next_update": "Next update", "resolution": "Resolution"}

bp = Blueprint("panel", __name__)

def policy_for(document: Mapping[str, Any]) -> Policy:
    """The compiled policy of a stored document (the process's one compiled-policy cache)."""
    return compiled_policy(document)


@bp.get("/panel")
@require_connect_jwt()
def page() -> Response:
    """The panel shell for one issue (`issueId`, `issueKey` from the descriptor's URL template)."""
    return render_page(
        "panel.html",
        issue_id=request.args.get("issueId", ""),
        issue_key=request.args.get("issueKey", ""),
        api_root=url_for("panel.page").rsplit("/panel", 1)[0],
    )


@bp.get("/api/panel/<issue_id>")
@require_context_jwt()
def panel_data(issue_id: str) -> ResponseReturnValue:
    """What is due on the issue, its state, and why."""
    svc = services()
    tenant_key = g.tenant.client_key
    record = TicketStore(svc.session_factory).get(tenant_key, issue_id)
    if record is None:
        return jsonify(tracked=False, issue_id=issue_id,
                       message="Tierwise has not seen this ticket yet: it starts when the ticket is created or updated.")
    version = _version_of(svc.session_factory, record)
    try:
        policy = policy_for(version.document)
        state = evaluate(policy, record.history(), datetime.now(UTC)) if record.tier and record.severity else None
    except PolicyError as exc:
        return refuse(409, "policy_mismatch", f"the ticket's SLA cannot be evaluated under its policy: {exc}")
    audit = AuditLog(svc.session_factory).recent(tenant_key, issue_id, PANEL_AUDIT_ENTRIES)
    response = jsonify(panel_json(record, version, policy, state, audit))
    response.headers["Cache-Control"] = "no-store"
    return response


def _version_of(session_factory: Any, record: TicketRecord) -> PolicyVersion:
    return PolicyStore(session_factory).ticket_version(record.tenant_key, record.policy_version_id)


def _target_json(t: TargetState) -> dict[str, Any]:
    return {
        "id": t.target,
        "label": TARGET_LABELS.get(t.target, t.target),
        "state": t.state,
        "due": _iso(t.due),
        "met_at": _iso(t.met_at),
        "warn_at": _iso(t.warn_at),
        "remaining_seconds": int(t.remaining.total_seconds()) if t.remaining is not None else None,
        "calendar": t.calendar,
        "note": t.note,
    }


def _calendar_json(policy: Policy, cal_id: str, today: date) -> dict[str, Any]:
    if cal_id == CALENDAR_24X7 and cal_id not in policy.calendars:
        return {"id": cal_id, "timezone": "UTC", "hours": "24x7", "holidays": None, "upcoming_holidays": []}
    spec = policy.calendars[cal_id]
    holidays = None
    if spec.holiday_country:
        holidays = {"country": spec.holiday_country, "subdivision": spec.holiday_subdivision,
                    "closes_desk": spec.holidays_close}
    horizon = today + timedelta(days=HOLIDAY_HORIZON_DAYS)
    upcoming = [{"date": d.isoformat(), "name": name}
                for d, name in sorted(spec.holidays.items()) if today <= d <= horizon][:UPCOMING_HOLIDAYS]
    return {"id": cal_id, "timezone": spec.timezone, "hours": dump_hours(spec.weekly), "holidays": holidays,
            "upcoming_holidays": upcoming if spec.holidays_close else []}


def _audit_json(entry: AuditEntry) -> dict[str, Any]:
    parts = [f"{k}: {v}" for k, v in entry.detail.items() if isinstance(v, str | int | float) and not isinstance(v, bool)]
    return {"at": _iso(entry.at), "action": entry.action, "summary": "; ".join(parts[:4])}


def panel_json(
    record: TicketRecord, version: PolicyVersion, policy: Policy, state: SlaState | None, audit: list[AuditEntry]
) -> dict[str, Any]:
    """The panel API's body."""
    tier = policy.tiers.get(record.tier or "")
    severity = next((s for s in policy.severities if s.id == record.severity), None)
    targets = [_target_json(getattr(state, name)) for name in TARGETS] if state else []
    used = sorted({t["calendar"] for t in targets if t["calendar"]})
    today = datetime.now(UTC).date()
    return {
        "tracked": True,
        "issue_id": record.issue_id,
        "issue_key": record.issue_key,
        "tier": {"id": record.tier, "name": tier.name if tier else record.tier},
        "severity": {"id": record.severity, "name": severity.name if severity else record.severity,
                     "definition": severity.definition if severity else ""},
        "phase": state.phase if state else record.phase,
        "targets": targets,
        "why": {
            "tier_rule": record.tier_rule,
            "severity_rule": record.severity_rule,
            "policy": {"id": policy.id, "name": policy.name, "version": version.number,
                       "version_id": version.id, "is_default": version.is_default},
            "calendars": [_calendar_json(policy, cal_id, today) for cal_id in used],
            "pauses": [{"start": _iso(a), "end": _iso(b)} for a, b in (state.pauses if state else ())],
        },
        "audit": [_audit_json(e) for e in audit],
        "server_time": _iso(datetime.now(UTC)),
    }
