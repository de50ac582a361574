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

from app.policy.calendar import compile_calendars
from app.policy.errors import PolicyError
from app.policy.model import CALENDAR_24X7, TARGETS, Policy
from app.policy.sla import SlaState, TargetState, calendar_for, evaluate
from app.policy.timefmt import utc_iso as _iso
from app.schemas.compiled import compiled_policy
from app.schemas.fields import dump_hours
from app.schemas.holidays_source import holidays_between
from app.storage.audit import AuditEntry, AuditLog
from app.storage.policies import PolicyStore, PolicyVersion
from app.storage.tickets import TicketRecord, TicketStore
from app.web.auth import require_connect_jwt, require_context_jwt
from app.web.issue_access import IssueAccessUnknown, connect_context_issue, may_view_issue
from app.web.pages import refuse, render_page
from app.web.services import services, site_directory

#: Audit entries the panel lists.
PANEL_AUDIT_ENTRIES = 5
#: Holidays ahead the "why" section names per calendar.
UPCOMING_HOLIDAYS = 3
#: Days ahead searched for those holidays.
HOLIDAY_HORIZON_DAYS = 90
#: Labels of the targets, for people.
TARGET_LABELS = {"first_response": "First response", "next_update": "Next update", "resolution": "Resolution"}
#: The panel's own pre-breach warning, for policies without `pre_breach` (and earlier than theirs): a
#: running target turns amber when the business time left is at most the smaller of 25 % of the target
#: and 1 h, red at the smaller of 10 % and 15 min. (share of the target, cap) per level; change them here.
WARNING_LEVELS: tuple[tuple[str, float, timedelta], ...] = (
    ("red", 0.10, timedelta(minutes=15)),
    ("amber", 0.25, timedelta(hours=1)),
)
#: Audit actions in plain words (the panel's "Recent actions"); others read as their name.
AUDIT_SENTENCES = {
    "tracked": "Started tracking the SLA",
    "recomputed": "Tier or severity changed",
    "fields_written": "Wrote the due dates to the ticket",
    "eta_comment": "Told the customer when to expect the next update",
    "promise_honoured": "Kept the promised update",
    "warned": "Warned that a target is due soon",
    "breached": "A target was breached",
    "policy_reapplied": "Applied a new policy version",
    "policy_error": "Could not classify the ticket",
    "gave_up": "Gave up writing to Jira",
}
#: The message of an issue whose classification failed (no record; the audit holds the error).
UNCLASSIFIED_HELP = ("A Jira administrator can fix this in Tierwise's policy page (Apps → Tierwise SLA policies): "
                     "add a mapping rule or a default severity, then edit the ticket.")

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
    """What is due on the issue, its state, and why (only for someone who may browse the issue)."""
    try:
        allowed = may_view_issue(g.tenant, g.user, issue_id, context_issue_id=_context_issue(),
                                 directory=site_directory())
    except IssueAccessUnknown:
        return refuse(503, "jira_unavailable", "Jira could not confirm that you may see this issue; try again")
    if not allowed:
        return refuse(403, "not_permitted", "you cannot see this issue's SLA")
    svc = services()
    tenant_key = g.tenant.client_key
    record = TicketStore(svc.session_factory).get(tenant_key, issue_id)
    if record is None:
        return jsonify(untracked_json(issue_id, AuditLog(svc.session_factory).recent(tenant_key, issue_id, 1)))
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


def _context_issue() -> str | None:
    """The issue the page's token was issued for: the Forge door's checked extension issue, or Connect's claim."""
    return g.get("context_issue_id") or connect_context_issue(g.connect_claims)


def _version_of(session_factory: Any, record: TicketRecord) -> PolicyVersion:
    return PolicyStore(session_factory).ticket_version(record.tenant_key, record.policy_version_id)


def warning_level(remaining: timedelta | None, budget: timedelta | None) -> str | None:
    """"red", "amber" or None for a running target with `remaining` business time of `budget` left."""
    if remaining is None:
        return None
    for level, share, cap in WARNING_LEVELS:
        limit = min(cap, budget * share) if budget else cap
        if remaining <= limit:
            return level
    return None


def _budget(policy: Policy, record: TicketRecord, name: str, phase: str) -> timedelta | None:
    """The business time target `name` allows on the ticket (None when it has none)."""
    try:
        targets = policy.targets_for(record.tier or "", record.severity or "")
    except KeyError:
        return None
    target = targets.cadence_for(phase) if name == "next_update" else getattr(targets, name, None)
    if target is None or not target.is_timed or target.duration is None:
        return None
    try:
        return calendar_for(policy, target).open_time(target.duration)
    except PolicyError:
        return None


def _target_json(t: TargetState, budget: timedelta | None = None, open_now: bool | None = None) -> dict[str, Any]:
    warning = warning_level(t.remaining, budget) if t.state in ("on_track", "due_soon") else None
    if warning is None and t.state == "due_soon":
        warning = "amber"  # the policy's own pre_breach warned first
    late = t.met_at - t.due if t.met_at is not None and t.due is not None and t.met_at > t.due else None
    return {
        "id": t.target,
        "label": TARGET_LABELS.get(t.target, t.target),
        "state": t.state,
        "status": t.status,  # the word the tierwise.sla property carries (on_time / late / running / …)
        "due": _iso(t.due),
        "met_at": _iso(t.met_at),
        "warn_at": _iso(t.warn_at),
        "remaining_seconds": int(t.remaining.total_seconds()) if t.remaining is not None else None,
        "calendar": t.calendar,
        "note": t.note,
        # additive (issue #11): the target's business time, the panel's warning, lateness, desk hours
        "budget_seconds": int(budget.total_seconds()) if budget is not None else None,
        "warning": warning,
        "late_seconds": int(late.total_seconds()) if late is not None else None,
        "open_now": open_now,
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
                for d, name in holidays_between(spec.holidays, today, horizon)][:UPCOMING_HOLIDAYS]
    return {"id": cal_id, "timezone": spec.timezone, "hours": dump_hours(spec.weekly), "holidays": holidays,
            "upcoming_holidays": upcoming if spec.holidays_close else []}


def _audit_json(entry: AuditEntry) -> dict[str, Any]:
    parts = [f"{k}: {v}" for k, v in entry.detail.items() if isinstance(v, str | int | float) and not isinstance(v, bool)]
    return {"at": _iso(entry.at), "action": entry.action, "summary": "; ".join(parts[:4]),
            "sentence": AUDIT_SENTENCES.get(entry.action, entry.action.replace("_", " ").capitalize())}


def untracked_json(issue_id: str, audit: list[AuditEntry]) -> dict[str, Any]:
    """The panel API's body for an issue without an SLA record: never seen, or its classification failed."""
    failed = next((e for e in audit if e.action == "policy_error"), None)
    if failed is not None:
        return {"tracked": False, "issue_id": issue_id, "reason": "classification_failed",
                "error": str(failed.detail.get("error", "")), "failed_at": _iso(failed.at),
                "message": f"Tierwise could not classify this ticket: {failed.detail.get('error', 'unknown error')}.",
                "help": UNCLASSIFIED_HELP}
    return {"tracked": False, "issue_id": issue_id, "reason": "not_seen",
            "message": "Tierwise has not seen this ticket yet: it starts when the ticket is created or updated."}


def _targets_json(policy: Policy, record: TicketRecord, state: SlaState, now: datetime) -> list[dict[str, Any]]:
    calendars = compile_calendars(policy)
    out = []
    for name in TARGETS:
        t = getattr(state, name)
        cal = calendars.get(t.calendar) if t.calendar else None
        out.append(_target_json(t, _budget(policy, record, name, state.phase), cal.is_open(now) if cal else None))
    return out


def panel_json(
    record: TicketRecord, version: PolicyVersion, policy: Policy, state: SlaState | None, audit: list[AuditEntry]
) -> dict[str, Any]:
    """The panel API's body."""
    tier = policy.tiers.get(record.tier or "")
    severity = next((s for s in policy.severities if s.id == record.severity), None)
    now = datetime.now(UTC)
    today = now.date()
    targets = _targets_json(policy, record, state, now) if state else []
    used = sorted({t["calendar"] for t in targets if t["calendar"]})
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
        "server_time": _iso(now),
    }
