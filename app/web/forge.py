"""Forge Remote endpoints: lifecycle, product events, and the UI resolvers' proxy point.

Every call is authenticated by its Forge Invocation Token (`app.forge.fit`); the tenant comes only
from the verified token. `/forge/api/<path>` serves the Forge UI the same page APIs (`/api/panel/…`,
`/api/admin/…`) the Connect pages use. Events are mapped to the Connect webhook shape and handed to the same
ingest (dedupe + enqueue in one Redis round trip) as Connect webhooks. Forge gives an event
endpoint 5 s and retries non-2xx answers 4 times, a minute apart: answer 204 fast, 503 only when
the event could not be queued.

The blueprint reads its collaborators from `flask_app.extensions["tierwise.forge"]`, set by
`init_forge(flask_app, ForgeServices(...))`; without it every endpoint answers 503.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from app.forge.errors import ForgeAuthError, ForgeError
from app.forge.events import delivery_id, event_payload, retry_count, to_connect_webhook
from app.forge.fit import ForgeContext, JwksCache, bearer_token, normalize_app_id, verify_fit
from app.forge.installations import (
    ForgeInstallation,
    ForgeTenants,
    client_key_for,
    cloud_id_from_api_base_url,
)
from app.forge.system_token import SystemTokenStore, keep_invocation_token
from app.web.auth import active_tenant, require_context_jwt

if TYPE_CHECKING:
    from app.bootstrap import Services

log = logging.getLogger(__name__)

bp = Blueprint("forge", __name__, url_prefix="/forge")

_EXTENSION_KEY = "tierwise.forge"
#: Header carrying the app system token (present when the endpoint has auth.appSystemToken).
SYSTEM_TOKEN_HEADER = "x-forge-oauth-system"
#: Route argument naming an issue (`/api/panel/<issue_id>`): must be the FIT's `context.extension` issue.
ISSUE_ARGUMENT = "issue_id"

#: (tenant key, delivery id, Connect-shaped event) → True if queued, False if a duplicate.
#: Production: `lambda t, d, e: ingest_event(redis, queue_name, t, d, e)` (app.queueing.ingest).
Ingest = Callable[[str, str, dict[str, Any]], bool]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class ForgeServices:
    """What the Forge endpoints need; built once at start-up."""

    app_id: str | None
    keys: JwksCache
    tenants: ForgeTenants
    tokens: SystemTokenStore
    ingest: Ingest
    clock: Callable[[], datetime] = field(default=_utcnow)
    #: Runs now the tenant's jobs that wait for a fresh system token; returns how many (0: none waiting).
    wake_waiting: Callable[[str], int] = field(default=lambda tenant_key: 0)


def init_forge(flask_app: Flask, services: ForgeServices | Callable[[], ForgeServices]) -> None:
    """Give the Forge blueprint its collaborators, or a factory called once on the first Forge call."""
    if isinstance(services, ForgeServices):
        _normalize(services)
        flask_app.extensions[_EXTENSION_KEY] = services
    else:
        flask_app.extensions[_EXTENSION_KEY] = _LazyServices(services)


def init_forge_from_services(flask_app: Flask, shared: Services) -> None:
    """Wire the blueprint to the process's shared services: tenant store, system tokens, ingest.

    Nothing is built until the first Forge call (no database or Redis at start-up).
    """

    def build() -> ForgeServices:
        from app.queueing.ingest import ingest_event

        settings = shared.settings

        def ingest(tenant_key: str, delivery: str, event: dict[str, Any]) -> bool:
            return ingest_event(shared.redis, settings.queue_name, tenant_key, delivery, event)

        def wake_waiting(tenant_key: str) -> int:
            return run_waiting_jobs_now(shared.redis, settings.queue_name, tenant_key, now=_utcnow())

        return ForgeServices(
            app_id=settings.forge_app_id,
            keys=JwksCache(settings.forge_jwks_url),
            tenants=shared.tenants,
            tokens=shared.system_tokens,
            ingest=ingest,
            wake_waiting=wake_waiting,
        )

    init_forge(flask_app, build)


def _normalize(services: ForgeServices) -> ForgeServices:
    if services.app_id:
        services.app_id = normalize_app_id(services.app_id)
    return services


class _LazyServices:
    def __init__(self, factory: Callable[[], ForgeServices]) -> None:
        self._factory = factory
        self._built: ForgeServices | None = None
        self._lock = threading.Lock()

    def get(self) -> ForgeServices:
        with self._lock:
            if self._built is None:
                self._built = _normalize(self._factory())
            return self._built


def _services() -> ForgeServices:
    found = current_app.extensions.get(_EXTENSION_KEY)
    if isinstance(found, _LazyServices):
        found = found.get()
    if not isinstance(found, ForgeServices) or not found.app_id:
        raise _NotConfigured()
    return found


class _NotConfigured(ForgeError):
    status = 503

    def as_json(self) -> dict[str, str]:
        return {"error": "forge_not_configured", "message": "FORGE_APP_ID is not set on this server"}


@bp.errorhandler(ForgeError)
def _forge_error(exc: ForgeError) -> ResponseReturnValue:
    status = getattr(exc, "status", 500)
    body = exc.as_json() if hasattr(exc, "as_json") else {"error": "forge_error", "message": str(exc)}
    if status == 401:
        log.info("forge call refused: %s", body["error"])
    return jsonify(body), status


def _authenticate(svc: ForgeServices) -> ForgeContext:
    token = bearer_token(request.headers.get("Authorization"))
    assert svc.app_id is not None  # checked by _services
    return verify_fit(token, app_id=svc.app_id, keys=svc.keys)


def _remember_token(svc: ForgeServices, context: ForgeContext, key: str) -> None:
    """Keep the invocation's system token for later jobs; a storage hiccup must not lose the event.

    When it ends a time without a fresh token, the jobs of tenant `key` that were retrying for want of
    one run now instead of at their next scheduled attempt.
    """
    try:
        kept = keep_invocation_token(svc.tokens, context, request.headers.get(SYSTEM_TOKEN_HEADER), now=svc.clock())
    except Exception:  # noqa: BLE001 - logged; the next invocation brings another token
        log.warning("could not store the Forge system token for %s", key)
        return
    if not kept.revived:
        return
    try:
        woken = svc.wake_waiting(key)
    except Exception:  # noqa: BLE001 - they still run at their scheduled retry
        log.warning("could not wake the jobs waiting for a Forge system token for %s", key)
        return
    if woken:
        log.info("fresh Forge system token for %s: %d waiting job(s) run now", key, woken)


def run_waiting_jobs_now(redis: Any, queue_name: str, tenant_key: str, *, now: datetime) -> int:
    """Move the tenant's scheduled (retrying) jobs to `now`; rq's scheduler enqueues them within a second.

    Scans the queue's scheduled jobs: called only when a tenant had no fresh token, which is rare.
    """
    from rq import Queue
    from rq.job import Job

    registry = Queue(queue_name, connection=redis).scheduled_job_registry
    jobs = Job.fetch_many(registry.get_job_ids(), connection=redis)
    waiting = [job for job in jobs if job is not None and job.args and job.args[0] == tenant_key]
    for job in waiting:
        registry.schedule(job, now)
    return len(waiting)


def _known_tenant(svc: ForgeServices, context: ForgeContext, *, record: bool = False) -> str:
    """The tenant of the calling installation (one per site, whichever door installed it).

    An installation Tierwise never recorded is refused (401) unless `record` (the hourly trigger heals a
    missed installed event); a site's Connect tenant from before installation ids were stored is tied to
    the installation at its first call, so its events come from Forge from then on.
    """
    key = svc.tenants.find_forge_tenant(context.installation_id, None, None)
    if key is not None:
        return key
    untied = svc.tenants.find_forge_tenant(context.installation_id, context.cloud_id, context.site_url)
    if untied is None and not record:
        raise ForgeAuthError("unknown_installation", "this Forge installation is not installed in Tierwise")
    key = _record_installation(svc, context, None)
    log.info("forge installation recorded from a %s call for %s", "scheduled" if record else "first", key)
    return key


def _record_installation(svc: ForgeServices, context: ForgeContext, installer: str | None) -> str:
    """Record the installation on its site's tenant (created only for a site Tierwise never saw)."""
    return svc.tenants.upsert_forge_installation(
        ForgeInstallation(
            client_key=client_key_for(context.installation_id),
            installation_id=context.installation_id,
            api_base_url=context.api_base_url,
            cloud_id=context.cloud_id or cloud_id_from_api_base_url(context.api_base_url),
            site_url=context.site_url,
            environment_id=context.environment_id,
            installer_account_id=installer,
        )
    )


@bp.post("/lifecycle/installed")
def installed() -> ResponseReturnValue:
    """`avi:forge:installed:app` / `avi:forge:upgraded:app`: create or update the installation's tenant."""
    svc = _services()
    context = _authenticate(svc)
    body = request.get_json(silent=True)
    payload = body.get("payload") if isinstance(body, dict) and isinstance(body.get("payload"), dict) else body
    installer = payload.get("installerAccountId") if isinstance(payload, dict) else None
    key = _record_installation(svc, context, installer if isinstance(installer, str) and installer else None)
    _remember_token(svc, context, key)
    log.info("forge installation recorded for %s", key)
    return "", 204


@bp.post("/lifecycle/refresh")
def refresh() -> ResponseReturnValue:
    """The hourly scheduled trigger: keep a fresh system token, and heal a missed installed event.

    Forge guarantees a scheduled trigger's system token for at least 2 hours, so an hourly call
    keeps every installation's token fresh for jobs that run when no ticket event arrives.
    """
    svc = _services()
    context = _authenticate(svc)
    key = _known_tenant(svc, context, record=True)
    _remember_token(svc, context, key)
    return "", 204


@bp.post("/events")
def events() -> ResponseReturnValue:
    """Jira product events: map to the Connect shape, dedupe and enqueue, answer 204."""
    svc = _services()
    context = _authenticate(svc)
    key = _known_tenant(svc, context)
    _remember_token(svc, context, key)
    body = request.get_json(silent=True)
    event = event_payload(body)
    retries = retry_count(body)
    if retries:
        log.info("Forge retry %d of an event for %s (queued once, whatever the attempt)", retries, key)
    mapped = to_connect_webhook(event, received_at=svc.clock())
    if mapped is None:
        return "", 204
    try:
        queued = svc.ingest(key, delivery_id(event), mapped)
    except Exception:  # noqa: BLE001 - answer 5xx so Forge redelivers
        log.exception("could not queue a Forge event for %s", key)
        return jsonify({"error": "queue_unavailable", "message": "the event could not be queued"}), 503
    if not queued:
        log.info("duplicate Forge event for %s dropped", key)
    return "", 204


@bp.route("/api/<path:path>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def api_proxy(path: str) -> ResponseReturnValue:
    """The UI resolvers' entry (`invokeRemote` from the admin page and issue panel).

    `invokeRemote({path})` appends `path` to the remote's baseUrl (Atlassian, "invokeRemote": an
    endpoint's `route` is for triggers), so the pages call `/forge/api/<the Connect API path>`.
    It answers exactly what the Connect pages get from `/api/<path>`: the same view runs, with the
    tenant and user taken from the verified FIT (`principal`, required) instead of a Connect context
    token; admin routes keep their site-directory admin check; a route naming an issue answers only
    for the issue of the FIT's `context.extension` (404 otherwise, without data). Only routes guarded
    by `require_context_jwt` (the page APIs) are reachable this way; anything else is 404.
    """
    svc = _services()
    context = _authenticate(svc)
    if context.account_id is None:
        raise ForgeAuthError("missing_principal", "a UI call must name its user (principal)")
    key = _known_tenant(svc, context)
    _remember_token(svc, context, key)
    view, args = _page_api_view(path)
    if view is None:
        return jsonify({"error": "not_found", "message": f"/forge/api/{path} is not a page API"}), 404
    issue = args.get(ISSUE_ARGUMENT)
    if issue is not None and issue not in context.extension_issue:
        # The panel is shown on one issue: its token opens that issue's data and no other's.
        return jsonify({"error": "not_found", "message": "no such issue in this view"}), 404
    tenant = active_tenant(key)
    if tenant is None:
        raise ForgeAuthError("unknown_installation", "this Forge installation is not installed in Tierwise")
    g.tenant, g.user, g.connect_claims, g.forge_context = tenant, context.account_id, {}, context
    return view(**args)


def _context_guard_code() -> Any:
    """The code object every `require_context_jwt` wrapper shares: how a page-API view is recognised."""
    return require_context_jwt()(lambda: None).__code__


_CONTEXT_GUARD_CODE = _context_guard_code()


def _page_api_view(path: str) -> tuple[Callable[..., ResponseReturnValue] | None, dict[str, Any]]:
    """The view behind `/api/<path>` for this method without its Connect token check, or None."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    try:
        endpoint, args = adapter.match("/api/" + path, method=request.method)
    except HTTPException:
        return None, {}
    view = current_app.view_functions.get(endpoint)
    if getattr(view, "__code__", None) is not _CONTEXT_GUARD_CODE:
        return None, {}
    inner = getattr(view, "__wrapped__", None)
    return (inner if callable(inner) else None), dict(args)
