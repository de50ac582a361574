"""The admin settings page (Connect `adminPages` / `configurePage`) and its JSON API under `/api/admin/`.

Every API call carries a context token from `AP.context.getToken()` AND its user must be a Jira
administrator (checked with Jira's permissions API through `SiteDirectory`): anyone else gets 403,
whatever the page's display condition says.
"""

from __future__ import annotations

import functools
import json
import zoneinfo
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, ParamSpec, TypeVar

from flask import Blueprint, Response, g, jsonify, url_for
from flask.typing import ResponseReturnValue

from app.keys import REAPPLY_JOB, reapply_key
from app.policy.errors import PolicyError
from app.policy.field_ids import is_field_id
from app.schemas.holidays_source import available_holiday_regions
from app.schemas.policy import PolicyDocumentError, load_policy, parse_document_text
from app.schemas.presets import list_presets, preset_document
from app.storage.chat_webhooks import ChatWebhooks
from app.storage.policies import BINDING_KEYS, PolicyStore, PolicyVersion, SettingsError
from app.web.auth import json_body, require_connect_jwt, require_context_jwt
from app.web.docdiff import diff_documents
from app.web.pages import refuse, render_page
from app.web.policy_preview import STRIP_DAYS, calendar_strips, preview_rows
from app.web.services import services, site_directory

P = ParamSpec("P")
R = TypeVar("R")

#: Largest imported file (characters).
MAX_IMPORT_CHARS = 512 * 1024

bp = Blueprint("admin", __name__)


def _store() -> PolicyStore:
    return PolicyStore(services().session_factory)


def require_admin() -> Callable[[Callable[P, R]], Callable[P, R]]:
    """After `require_context_jwt`: refuse (403) a caller who is not a Jira administrator."""

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
            from app.site_directory import SiteDirectoryError

            try:
                allowed = site_directory().is_admin(g.tenant, g.user)
            except SiteDirectoryError:
                return refuse(503, "jira_unavailable", "Jira could not confirm that you are an administrator; try again")  # type: ignore[return-value]
            if not allowed:
                return refuse(403, "not_admin", "Only Jira administrators can change Tierwise's settings")  # type: ignore[return-value]
            return view(*args, **kwargs)

        return wrapped

    return decorate


def _admin_api(rule: str, **options: Any) -> Callable[[Callable[..., ResponseReturnValue]], Callable[..., ResponseReturnValue]]:
    """Route an admin API view: context token, then the admin check."""

    def decorate(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
        guarded = require_context_jwt()(require_admin()(view))
        bp.add_url_rule(rule, view_func=guarded, **options)
        return guarded

    return decorate


def _version_json(version: PolicyVersion, *, document: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": version.id,
        "number": version.number,
        "name": version.document.get("name"),
        "created_at": version.created_at.isoformat() if version.created_at else None,
        "created_by": version.created_by,
        "note": version.note,
        "is_default": version.is_default,
    }
    if document:
        body["document"] = _plain(version.document)
    return body


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=dict))


def _invalid(exc: PolicyDocumentError) -> ResponseReturnValue:
    errors = [{"path": path, "message": message} for path, message in exc.errors]
    return refuse(422, "invalid_policy", exc.first_line(), errors=errors)


def _document_from_body() -> Mapping[str, Any]:
    document = json_body().get("document")
    if not isinstance(document, dict):
        from app.web.errors import BadBody

        raise BadBody('the body needs a "document" object')
    return document


# --- the page -------------------------------------------------------------------------------------


@bp.get("/admin")
@require_connect_jwt()
def page() -> Response:
    """The settings page shell (its data comes from the API below)."""
    return render_page("admin.html", api_root=url_for("admin.page").rsplit("/admin", 1)[0])


# --- reference data -------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _reference() -> dict[str, Any]:
    return {
        "timezones": sorted(zoneinfo.available_timezones()),
        "holiday_regions": available_holiday_regions(),
        "presets": list_presets(),
        "binding_keys": list(BINDING_KEYS),
    }


@_admin_api("/api/admin/reference", methods=["GET"])
def reference() -> ResponseReturnValue:
    """Time zones, holiday regions, presets and SLA values the form offers."""
    response = jsonify(_reference())
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@_admin_api("/api/admin/site", methods=["GET"])
def site() -> ResponseReturnValue:
    """The tenant's Jira fields and statuses (empty lists and a message when Jira cannot answer)."""
    from app.site_directory import SiteDirectoryError

    directory = site_directory()
    try:
        return jsonify(fields=directory.fields(g.tenant), statuses=directory.statuses(g.tenant), message=None)
    except SiteDirectoryError as exc:
        return jsonify(fields=[], statuses=[], message=f"Jira did not list its fields and statuses ({exc})")


@_admin_api("/api/admin/site/fields/<field_id>/options", methods=["GET"])
def field_options(field_id: str) -> ResponseReturnValue:
    """The values a Jira select field offers (empty for other fields; a message when Jira cannot answer)."""
    from app.site_directory import SiteDirectoryError

    if not is_field_id(field_id):
        return refuse(404, "unknown_field", f"{field_id!r} is not a Jira field id")
    try:
        options = site_directory().field_options(g.tenant, field_id)
    except SiteDirectoryError as exc:
        return jsonify(field_id=field_id, options=[], message=f"Jira did not list the options of {field_id} ({exc})")
    return jsonify(field_id=field_id, options=options, message=None)


@_admin_api("/api/admin/presets/<preset_id>", methods=["GET"])
def preset(preset_id: str) -> ResponseReturnValue:
    """One preset's policy document."""
    try:
        return jsonify(document=preset_document(preset_id))
    except PolicyError as exc:
        return refuse(404, "unknown_preset", str(exc))


@_admin_api("/api/admin/import", methods=["POST"])
def import_file() -> ResponseReturnValue:
    """Parse an uploaded policy file (JSON or YAML) into a document; it is validated, not saved."""
    body = json_body()
    text = body.get("text")
    if not isinstance(text, str) or len(text) > MAX_IMPORT_CHARS:
        return refuse(400, "bad_body", f'"text" must be the file\'s text (at most {MAX_IMPORT_CHARS} characters)')
    try:
        document = parse_document_text(text, str(body.get("filename") or ""))
    except PolicyDocumentError as exc:
        return _invalid(exc)
    errors: list[dict[str, str]] = []
    try:
        load_policy(document)
    except PolicyDocumentError as exc:
        errors = [{"path": p, "message": m} for p, m in exc.errors]
    return jsonify(document=document, errors=errors)


# --- the policy -----------------------------------------------------------------------------------


@_admin_api("/api/admin/policy", methods=["GET"])
def active_policy() -> ResponseReturnValue:
    """The active version with its document (the built-in default when none was saved)."""
    store = _store()
    return jsonify(version=_version_json(store.effective(g.tenant.client_key), document=True),
                   settings=store.get_settings(g.tenant.client_key).as_json())


@_admin_api("/api/admin/policy", methods=["POST"])
def save_policy() -> ResponseReturnValue:
    """Save the document as a new version, effective now (422 with every error when invalid)."""
    document = _document_from_body()
    note = json_body().get("note")
    try:
        version = _store().save(g.tenant.client_key, document, g.user, note if isinstance(note, str) else "")
    except PolicyDocumentError as exc:
        return _invalid(exc)
    return jsonify(version=_version_json(version)), 201


@_admin_api("/api/admin/validate", methods=["POST"])
def validate_policy() -> ResponseReturnValue:
    """Every problem of a draft document, with its path (200 either way)."""
    try:
        load_policy(_document_from_body())
    except PolicyDocumentError as exc:
        return jsonify(valid=False, errors=[{"path": p, "message": m} for p, m in exc.errors])
    return jsonify(valid=True, errors=[])


@_admin_api("/api/admin/preview", methods=["POST"])
def preview() -> ResponseReturnValue:
    """For a draft: when a ticket opened now would be due, per tier × severity, and the calendar strip."""
    body = json_body()
    at = _parse_at(body.get("at"))
    try:
        policy = load_policy(_document_from_body())
    except PolicyDocumentError as exc:
        return jsonify(valid=False, errors=[{"path": p, "message": m} for p, m in exc.errors], rows=[], calendars=[])
    return jsonify(valid=True, errors=[], at=at.isoformat(), rows=preview_rows(policy, at),
                   calendars=calendar_strips(policy, at.date(), STRIP_DAYS))


def _parse_at(value: Any) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if parsed.tzinfo is not None:
                return parsed.astimezone(UTC)
        except ValueError:
            pass
    return datetime.now(UTC).replace(microsecond=0)


# --- versions -------------------------------------------------------------------------------------


@_admin_api("/api/admin/versions", methods=["GET"])
def versions() -> ResponseReturnValue:
    """The tenant's saved versions, newest first."""
    return jsonify(versions=[_version_json(v) for v in _store().history(g.tenant.client_key)])


def _version_or_404(version_id: int) -> PolicyVersion | None:
    return _store().get(g.tenant.client_key, version_id)


@_admin_api("/api/admin/versions/<int:version_id>", methods=["GET"])
def version(version_id: int) -> ResponseReturnValue:
    found = _version_or_404(version_id)
    if found is None:
        return refuse(404, "unknown_version", f"no policy version {version_id}")
    return jsonify(version=_version_json(found, document=True))


@_admin_api("/api/admin/versions/<int:old_id>/diff/<int:new_id>", methods=["GET"])
def diff(old_id: int, new_id: int) -> ResponseReturnValue:
    """What changed from one version to another, path by path."""
    old, new = _version_or_404(old_id), _version_or_404(new_id)
    if old is None or new is None:
        return refuse(404, "unknown_version", f"no policy version {old_id if old is None else new_id}")
    changes = diff_documents(_plain(old.document), _plain(new.document))
    return jsonify(old=_version_json(old), new=_version_json(new), changes=[c.as_json() for c in changes])


@_admin_api("/api/admin/versions/<int:version_id>/rollback", methods=["POST"])
def rollback(version_id: int) -> ResponseReturnValue:
    """Make a copy of an old version the active one."""
    try:
        created = _store().rollback(g.tenant.client_key, version_id, g.user)
    except KeyError:
        return refuse(404, "unknown_version", f"no policy version {version_id}")
    except PolicyDocumentError as exc:  # an old version the engine no longer accepts
        return _invalid(exc)
    return jsonify(version=_version_json(created)), 201


@_admin_api("/api/admin/versions/<int:version_id>/export", methods=["GET"])
def export(version_id: int) -> ResponseReturnValue:
    """The version's document as a JSON file."""
    found = _version_or_404(version_id)
    if found is None:
        return refuse(404, "unknown_version", f"no policy version {version_id}")
    text = json.dumps(_plain(found.document), indent=2, ensure_ascii=False) + "\n"
    name = f"tierwise-policy-{found.document.get('id', 'policy')}-v{found.number}.json"
    return Response(text, mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@_admin_api("/api/admin/versions/<int:version_id>/reapply", methods=["POST"])
def reapply(version_id: int) -> ResponseReturnValue:
    """Queue the re-evaluation of every open ticket under this version."""
    if _version_or_404(version_id) is None:
        return refuse(404, "unknown_version", f"no policy version {version_id}")
    svc = services()
    key = reapply_key(g.tenant.client_key, version_id)
    svc.redis.delete(key)
    job = svc.queue.enqueue(REAPPLY_JOB, g.tenant.client_key, version_id, job_timeout=3600)
    return jsonify(job_id=job.id, progress_key=key), 202


@_admin_api("/api/admin/versions/<int:version_id>/reapply", methods=["GET"])
def reapply_progress(version_id: int) -> ResponseReturnValue:
    """`{done, total}` of a re-apply (both None until the job has started)."""
    return jsonify(read_progress(services().redis, g.tenant.client_key, version_id))


def read_progress(redis: Any, tenant_key: str, version_id: int) -> dict[str, int | None]:
    """A re-apply's progress from Redis, written as a hash or as a JSON string."""
    key = reapply_key(tenant_key, version_id)
    kind = redis.type(key)
    kind = kind.decode() if isinstance(kind, bytes) else kind
    raw: Mapping[Any, Any] = {}
    if kind == "hash":
        raw = {(k.decode() if isinstance(k, bytes) else k): v for k, v in redis.hgetall(key).items()}
    elif kind == "string":
        try:
            loaded = json.loads(redis.get(key))
            raw = loaded if isinstance(loaded, dict) else {}
        except (TypeError, ValueError):
            raw = {}

    def number(value: Any) -> int | None:
        try:
            return int(value)
        except (TypeError, ValueError):
            return None

    return {"done": number(raw.get("done")), "total": number(raw.get("total"))}


# --- settings -------------------------------------------------------------------------------------


@_admin_api("/api/admin/settings", methods=["GET"])
def get_settings() -> ResponseReturnValue:
    return jsonify(settings=_store().get_settings(g.tenant.client_key).as_json())


@_admin_api("/api/admin/settings", methods=["PUT"])
def put_settings() -> ResponseReturnValue:
    """Replace the SLA field bindings and on-call webhook URL (422 with every error when invalid)."""
    try:
        saved = _store().save_settings(g.tenant.client_key, json_body(), g.user)
    except SettingsError as exc:
        return refuse(422, "invalid_settings", str(exc),
                      errors=[{"path": p, "message": m} for p, m in exc.errors])
    return jsonify(settings=saved.as_json())


def _chat_webhooks() -> ChatWebhooks:
    svc = services()
    return ChatWebhooks(svc.session_factory, svc.secrets)


@_admin_api("/api/admin/chat-webhooks/<name>", methods=["PUT"])
def put_chat_webhook(name: str) -> ResponseReturnValue:
    """Store chat webhook `name` (`{"url": …}`, kept encrypted); the answer shows its host only."""
    url = json_body().get("url")
    try:
        host = _chat_webhooks().set(g.tenant.client_key, name, url if isinstance(url, str) else "", by=g.user)
    except SettingsError as exc:
        return refuse(422, "invalid_chat_webhook", str(exc),
                      errors=[{"path": p, "message": m} for p, m in exc.errors])
    return jsonify(name=name, host=host)


@_admin_api("/api/admin/chat-webhooks/<name>", methods=["DELETE"])
def delete_chat_webhook(name: str) -> ResponseReturnValue:
    """Forget chat webhook `name` (a policy action naming it is then audited as `chat_missing`)."""
    _chat_webhooks().remove(g.tenant.client_key, name, by=g.user)
    return "", 204
