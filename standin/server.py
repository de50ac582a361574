"""`JiraStandin`: a Jira Cloud site with Service Management on 127.0.0.1, for Tierwise's tests and demo."""

from __future__ import annotations

import fnmatch
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import requests
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from standin import handlers, seed, specs
from standin.adf import adf_to_wiki, text_to_adf
from standin.connect import (
    ConnectAuthError,
    InstalledApp,
    InstallKeys,
    app_account_id,
    app_token,
    install_token,
    new_client_key,
    new_shared_secret,
    verify_inbound,
)
from standin.seed import User
from standin.state import Event, JiraError, Site, jira_time
from standin.webhooks import Delivery, WebhookSender

if TYPE_CHECKING:
    from standin.forge import ForgePlatform

log = logging.getLogger(__name__)

#: Webhook filters the stand-in understands: `project = KEY` and `project in (A, B)`.
_PROJECT_FILTER = re.compile(r"^\s*project\s*(=\s*\"?(\w+)\"?|in\s*\(([^)]*)\))\s*$", re.IGNORECASE)


class InstallError(Exception):
    """The app's descriptor could not be fetched or its `installed` callback refused the install."""


@dataclass
class RecordedRequest:
    """One REST call the site received (faults and refusals included)."""

    method: str
    path: str  # relative to the site's base URL
    query: dict[str, list[str]]
    body: Any
    status: int
    app_key: str | None = None
    injected: bool = False


@dataclass
class Fault:
    """An injected failure or delay for calls whose path matches `pattern` (fnmatch, e.g. `*/comment`)."""

    pattern: str
    status: int | None = 429
    times: int = 1
    retry_after: float | None = None
    rate_limit_reset: float | None = None  # seconds from now, sent as X-RateLimit-Reset (ISO 8601)
    method: str | None = None
    latency: float = 0.0

    def matches(self, method: str, path: str) -> bool:
        return (self.times > 0 and fnmatch.fnmatchcase(path, self.pattern)
                and (self.method is None or self.method.upper() == method))


@dataclass
class Notification:
    """An e-mail Jira would send for an issue change (none when the app asked notifyUsers=false)."""

    issue_key: str
    event: str
    actor: str


@dataclass
class _Config:
    context_path: str = ""
    validate_responses: bool = True
    comment_fires_issue_updated: bool = False
    faults: list[Fault] = field(default_factory=list)


class JiraStandin:
    """A local Jira Cloud site: Connect security, spec-checked REST API, signed webhooks, fault injection."""

    def __init__(self, *, context_path: str = "", host: str = "127.0.0.1", port: int = 0,
                 validate_responses: bool = True, comment_fires_issue_updated: bool = False,
                 webhook_max_attempts: int = 6, webhook_backoff_s: float = 0.05,
                 now: Callable[[], datetime] | None = None) -> None:
        self.context_path = "/" + context_path.strip("/") if context_path.strip("/") else ""
        self.host = host
        self.port = port
        self.validate_responses = validate_responses
        self.comment_fires_issue_updated = comment_fires_issue_updated
        self.site = Site(now)
        #: The site's cloud id: `cloudId` of lifecycle bodies, FITs, and the API gateway path /ex/jira/<cloudId>.
        self.cloud_id = str(uuid.uuid4())
        self.apps: dict[str, InstalledApp] = {}
        self.keys = InstallKeys()
        self.requests: list[RecordedRequest] = []
        self.response_errors: list[str] = []
        self.notifications: list[Notification] = []
        self.faults: list[Fault] = []
        self.latency = 0.0
        self._fault_lock = threading.Lock()
        self.webhooks = WebhookSender(self.apps, max_attempts=webhook_max_attempts, backoff_s=webhook_backoff_s)
        self._map = Map([Rule(rule, methods=[m], endpoint=(fn, scope)) for m, rule, fn, scope in handlers.ROUTES])
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._http = requests.Session()
        self._forge: ForgePlatform | None = None

    @property
    def forge(self) -> ForgePlatform:
        """The Forge platform of this site (system tokens, invocation tokens, Forge events); see standin/forge.py."""
        if self._forge is None:
            from standin.forge import ForgePlatform

            self._forge = ForgePlatform(self)
        return self._forge

    # --- life cycle -------------------------------------------------------------------------------
    def start(self) -> JiraStandin:
        """Load the specs (once per process) and serve on a free port in a background thread."""
        specs.warm_up()
        self._server = make_server(self.host, self.port, self.wsgi, threaded=True,
                                   request_handler=_QuietHandler)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="standin-http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.webhooks.stop()
        if self._forge is not None:
            self._forge.close()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        self._http.close()

    def __enter__(self) -> JiraStandin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """The site's baseUrl (what the app receives at install), e.g. http://127.0.0.1:PORT[/context]."""
        return f"http://{self.host}:{self.port}{self.context_path}"

    @property
    def install_keys_url(self) -> str:
        """What Tierwise's CONNECT_INSTALL_KEYS_URL should be: public keys are served at `{this}/{kid}`."""
        return f"http://{self.host}:{self.port}/connect-install-keys"

    # --- test helpers: people ---------------------------------------------------------------------
    admin: User = seed.ADMIN
    agent: User = seed.AGENT
    customer: User = seed.CUSTOMER

    def app(self, key: str | None = None) -> InstalledApp:
        """The installed app with `key` (or the only one)."""
        if key is None:
            if len(self.apps) != 1:
                raise KeyError("say which app: " + ", ".join(self.apps))
            return next(iter(self.apps.values()))
        return self.apps[key]

    # --- Connect lifecycle ------------------------------------------------------------------------
    def install_app(self, descriptor_url: str, *, scopes: list[str] | None = None) -> InstalledApp:
        """Fetch the descriptor and POST the signed `installed` callback like Jira; raise InstallError if refused."""
        try:
            resp = self._http.get(descriptor_url, timeout=10)
            resp.raise_for_status()
            descriptor = resp.json()
        except (requests.RequestException, ValueError) as exc:
            raise InstallError(f"cannot fetch the descriptor at {descriptor_url}: {exc}") from exc
        key = descriptor["key"]
        previous = self.apps.get(key)
        client_key = previous.client_key if previous else new_client_key()
        user = previous.user if previous else User(app_account_id(client_key, key), descriptor.get("name", key),
                                                   None, account_type="app")
        app = InstalledApp(key=key, base_url=descriptor["baseUrl"].rstrip("/"), descriptor=descriptor,
                           client_key=client_key, shared_secret=new_shared_secret(), user=user,
                           oauth_client_id=previous.oauth_client_id if previous else new_shared_secret()[:32],
                           scopes={s.upper() for s in (scopes or descriptor.get("scopes") or ["READ"])},
                           installed=False,
                           installation_id=previous.installation_id if previous
                           else f"ari:cloud:ecosystem::installation/{uuid.uuid4()}")
        self.site.users[user.account_id] = user
        status = self._lifecycle(app, "installed")
        if not 200 <= status < 300:
            raise InstallError(f"the app answered {status} to the installed callback")
        app.installed = True
        self.apps[key] = app
        return app

    def uninstall_app(self, key: str | None = None) -> int:
        app = self.app(key)
        status = self._lifecycle(app, "uninstalled")
        app.installed = False
        return status

    def enable_app(self, key: str | None = None) -> int:
        app = self.app(key)
        app.enabled = True
        return self._lifecycle(app, "enabled")

    def disable_app(self, key: str | None = None) -> int:
        app = self.app(key)
        status = self._lifecycle(app, "disabled")
        app.enabled = False
        return status

    def lifecycle_body(self, app: InstalledApp, event: str) -> dict[str, Any]:
        """The JSON body Jira POSTs to a lifecycle callback."""
        body: dict[str, Any] = {
            "key": app.key, "clientKey": app.client_key, "oauthClientId": app.oauth_client_id,
            "serverVersion": "100250", "pluginsVersion": "1001.0.0-SNAPSHOT",
            "baseUrl": self.base_url, "displayUrl": self.base_url,
            "displayUrlServicedeskHelpCenter": self.base_url, "productType": "jira",
            "description": "Atlassian JIRA at " + self.base_url, "serviceEntitlementNumber": "SEN-L00000001",
            "entitlementId": "c9d8e7f6-0000-4000-8000-standin00001", "entitlementNumber": "E-000-000-001",
            "eventType": event, "cloudId": self.cloud_id, "installationId": app.installation_id,
        }
        if event == "installed":
            body["sharedSecret"] = app.shared_secret
        return body

    def _lifecycle(self, app: InstalledApp, event: str) -> int:
        path = app.lifecycle.get(event)
        if not path:
            return 204
        url = app.url(path)
        if event in ("installed", "uninstalled"):  # signed-install: RS256, key served by kid
            token = install_token(self.keys, app, "POST", url)
        else:
            token = app_token(app, "POST", url)
        resp = self._http.post(url, json=self.lifecycle_body(app, event), timeout=10,
                               headers={"Authorization": f"JWT {token}"}, allow_redirects=False)
        return resp.status_code

    # --- test helpers: what people do on the site -------------------------------------------------
    def create_issue(self, summary: str = "Something is broken", *, project: str = "SUP",
                     reporter: User | None = None, fields: dict[str, Any] | None = None,
                     description: str | None = None, status: str | None = None) -> dict[str, Any]:
        """A customer raises a request; fires `jira:issue_created`. Returns the issue's REST JSON."""
        issue, event = self.site.create_issue(project, summary, reporter=reporter or seed.CUSTOMER,
                                              fields=_by_names(self.site, fields), description=description,
                                              status=status)
        self.publish(event)
        return self.site.issue_json(issue, self.base_url)

    def update_issue(self, key: str, *, fields: dict[str, Any] | None = None, status: str | None = None,
                     by: User | None = None) -> dict[str, Any]:
        """An agent edits fields (by id or name) and/or moves the issue to `status`; fires webhooks."""
        actor = by or seed.AGENT
        issue = self.site.issue(key)
        if fields:
            items = self.site.apply_fields(issue, _by_names(self.site, fields) or {}, self.base_url)
            if items:
                self.publish(self.site.update_event(issue, actor, items))
        if status:
            self.transition_issue(key, status, by=actor)
        return self.site.issue_json(issue, self.base_url)

    def transition_issue(self, key: str, name: str, *, by: User | None = None) -> dict[str, Any]:
        """Run the transition named `name` (or leading to the status `name`, or with that id)."""
        issue = self.site.issue(key)
        for t in self.site.transitions(issue):
            if name.casefold() in (t.name.casefold(), self.site.statuses[t.to_status].name.casefold()) or name == t.id:
                self.publish(self.site.transition(issue, t.id, by or seed.AGENT, base_url=self.base_url))
                return self.site.issue_json(issue, self.base_url)
        raise JiraError(400, [f"No transition {name!r} from {self.site.statuses[issue.values['status']].name}"])

    def add_comment(self, key: str, body: str | dict[str, Any], *, public: bool = True,
                    author: User | None = None) -> dict[str, Any]:
        """Someone comments (plain text or ADF); fires `comment_created` with `jsdPublic`."""
        issue = self.site.issue(key)
        doc = text_to_adf(body) if isinstance(body, str) else body
        comment, event = self.site.add_comment(issue, doc, author or seed.AGENT, internal=not public)
        self.publish(event)
        return self.site.comment_json(issue, comment, self.base_url)

    def issue(self, key: str) -> dict[str, Any]:
        """The issue's REST JSON, with all its entity properties."""
        return self.site.issue_json(self.site.issue(key), self.base_url, properties=["*all"])

    def comments(self, key: str) -> list[dict[str, Any]]:
        issue = self.site.issue(key)
        return [self.site.comment_json(issue, c, self.base_url) for c in issue.comments]

    def calls(self, method: str | None = None, path: str | None = None) -> list[RecordedRequest]:
        """Recorded REST calls, filtered by method and fnmatch path pattern."""
        return [r for r in list(self.requests) if (method is None or r.method == method.upper())
                and (path is None or fnmatch.fnmatchcase(r.path, path))]

    # --- webhooks ---------------------------------------------------------------------------------
    @property
    def deliveries(self) -> list[Delivery]:
        return self.webhooks.deliveries

    def wait_for_deliveries(self, timeout: float = 10.0) -> bool:
        return self.webhooks.wait(timeout)

    def redeliver(self, delivery: Delivery | str) -> Delivery:
        """Send an already sent webhook again, same body and same X-Atlassian-Webhook-Identifier."""
        if isinstance(delivery, str):
            delivery = next(d for d in self.deliveries if d.identifier == delivery)
        return self.webhooks.send(self.apps[delivery.app_key], delivery.event, delivery.url, delivery.body,
                                  identifier=delivery.identifier, sub=delivery.sub, redelivery=True,
                                  sign=delivery.sign, body_for=delivery.body_for,
                                  attempts_limit=delivery.attempts_limit)

    def publish(self, event: Event, *, notify: bool = True) -> list[Delivery]:
        """Announce `event` to every app subscribed to it (and record the e-mail Jira would send)."""
        if notify:
            self.notifications.append(Notification(event.issue_key, event.webhook_event, event.actor.account_id))
        out: list[Delivery] = []
        bodies = [(event.webhook_event, self.webhook_body(event))]
        if event.webhook_event == "comment_created" and self.comment_fires_issue_updated:
            extra = Event("jira:issue_updated", "issue_commented", event.issue_key, event.actor,
                          comment=event.comment, timestamp=event.timestamp)
            bodies.append(("jira:issue_updated", self.webhook_body(extra)))
        project = self.site.issue(event.issue_key).project.key
        for app in list(self.apps.values()):
            if not (app.installed and app.enabled):
                continue
            for hook in app.webhooks:
                for name, body in bodies:
                    if hook.get("event") == name and _filter_allows(hook.get("filter"), project):
                        out.append(self.webhooks.send(app, name, app.url(hook["url"]), body,
                                                      sub=event.actor.account_id))
        if self._forge is not None:
            out += self._forge.publish(event)
        return out

    def webhook_body(self, event: Event) -> dict[str, Any]:
        """The JSON Jira Cloud POSTs for `event` (API v2 representations, as in the captured payloads)."""
        site, base = self.site, self.base_url
        issue = site.issue(event.issue_key)
        moment = event.timestamp or site.now()
        fields = site.issue_fields(issue, base, api="2")
        issue_json = {"id": issue.id, "self": f"{base}/rest/api/2/issue/{issue.id}", "key": issue.key}
        body: dict[str, Any] = {"timestamp": int(moment.timestamp() * 1000), "webhookEvent": event.webhook_event}
        if event.webhook_event == "comment_created" and event.comment is not None:
            c = event.comment
            author = site.user_json(c.author, base, api="2")
            body["comment"] = {"self": f"{base}/rest/api/2/issue/{issue.id}/comment/{c.id}", "id": c.id,
                               "author": author, "body": adf_to_wiki(c.body), "updateAuthor": author,
                               "created": jira_time(c.created), "updated": jira_time(c.created),
                               "jsdPublic": not c.internal}
            keep = ("summary", "issuetype", "project", "assignee", "priority", "status")
            body["issue"] = {**issue_json, "fields": {k: fields.get(k) for k in keep}}
            return body
        body["issue_event_type_name"] = event.type_name
        body["user"] = site.user_json(event.actor, base, api="2")
        body["issue"] = {**issue_json, "fields": fields}
        if event.comment is not None:
            body["comment"] = site.comment_json(issue, event.comment, base)
        if event.changelog_id:
            body["changelog"] = {"id": event.changelog_id, "items": event.changelog}
        return body

    # --- fault injection --------------------------------------------------------------------------
    def inject(self, path_pattern: str = "*", status: int | None = 429, times: int = 1, *,
               retry_after: float | None = None, rate_limit_reset: float | None = None,
               method: str | None = None, latency: float = 0.0) -> Fault:
        """Answer the next `times` matching calls with `status` (None: only add `latency` seconds)."""
        fault = Fault(path_pattern, status, times, retry_after, rate_limit_reset, method, latency)
        with self._fault_lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._fault_lock:
            self.faults.clear()
        self.latency = 0.0

    def _take_fault(self, method: str, path: str) -> tuple[float, Fault | None]:
        delay = self.latency
        with self._fault_lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    delay += fault.latency
                    fault.times -= 1
                    if fault.status is not None:
                        return delay, fault
        return delay, None

    # --- HTTP -------------------------------------------------------------------------------------
    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        response = self._dispatch(request)
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        path = request.path
        if path.startswith("/connect-install-keys/"):
            kid = path.rsplit("/", 1)[1]
            if kid != self.keys.kid:
                return Response("Not found", 404)
            return Response(self.keys.public_pem, 200, content_type="text/plain")
        if path.startswith("/_forge/"):
            return self.forge.handle(request, path)
        gateway = f"/ex/jira/{self.cloud_id}/"
        if path.startswith(gateway):  # api.atlassian.com/ex/jira/<cloudId>: where Forge system tokens work
            return self._rest(request, "/" + path[len(gateway):], via_gateway=True)
        if path.startswith("/_standin/"):
            from standin.admin import handle_admin

            return handle_admin(self, request, path[len("/_standin/"):])
        if self.context_path and not path.startswith(self.context_path + "/"):
            return _json(404, {"errorMessages": ["Not found"], "errors": {}})
        rel = path[len(self.context_path):]
        return self._rest(request, rel)

    def _rest(self, request: Request, rel: str, *, via_gateway: bool = False) -> Response:
        method = request.method.upper()
        raw = request.get_data()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        record = RecordedRequest(method, rel, request.args.to_dict(flat=False), body, 0)
        self.requests.append(record)
        delay, fault = self._take_fault(method, rel)
        if delay:
            time.sleep(delay)
        if fault is not None:
            record.status, record.injected = fault.status or 500, True
            return self._fault_response(fault)
        query = request.query_string.decode()
        authorization = request.headers.get("Authorization")
        try:
            bearer = bool(authorization and authorization.startswith("Bearer "))
            if bearer != via_gateway:
                raise ConnectAuthError("app system tokens are accepted only at the apiBaseUrl (/ex/jira/<cloudId>), "
                                       "Connect JWTs only at the site URL")
            if authorization and bearer:
                app = self.forge.authenticate(authorization)
            else:
                app = verify_inbound(self.apps, authorization, request.args.get("jwt"),
                                     method, rel + (f"?{query}" if query else ""))
        except ConnectAuthError as exc:
            record.status = 401
            return _json(401, {"errorMessages": [f"Authentication failed: {exc}"], "errors": {}})
        record.app_key = app.key
        reply = self._handle(request, rel, method, raw, body, app)
        record.status = reply.status
        payload = b"" if reply.body is None else json.dumps(reply.body).encode()
        if self.validate_responses and reply.status < 300 and payload:
            try:
                errors = specs.response_errors(method, rel, request.args, reply.status, payload)
            except specs.SpecNotFound as exc:
                errors = [str(exc)]
            self.response_errors.extend(f"{method} {rel} -> {reply.status}: {e}" for e in errors)
        return Response(payload or None, reply.status, headers=reply.headers,
                        content_type="application/json;charset=UTF-8")

    def _handle(self, request: Request, rel: str, method: str, raw: bytes, body: Any,
                app: InstalledApp) -> handlers.Reply:
        try:
            errors = specs.request_errors(method, rel, request.args, dict(request.headers), raw,
                                          request.content_type or "application/json")
        except specs.SpecNotFound as exc:
            return handlers.Reply(exc.status, {"errorMessages": [str(exc)], "errors": {}})
        if errors:
            return handlers.Reply(400, {"errorMessages": errors, "errors": {}})
        try:
            (fn, scope), params = self._map.bind("standin").match(rel, method=method)
        except (NotFound, MethodNotAllowed):
            return handlers.Reply(501, {"errorMessages": [f"The stand-in does not implement {method} {rel} "
                                                          "(it is in Atlassian's spec)"], "errors": {}})
        if not app.has_scope(scope):
            return handlers.Reply(403, {"errorMessages": [f"The app does not have the required scope {scope}"],
                                        "errors": {}})
        try:
            return fn(self, handlers.Call(method, rel, params, request.args, body, app))
        except JiraError as exc:
            return handlers.Reply(exc.status, exc.body)

    def _fault_response(self, fault: Fault) -> Response:
        status = fault.status or 500
        headers: dict[str, str] = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = str(int(fault.retry_after) if float(fault.retry_after).is_integer()
                                         else fault.retry_after)
        if fault.rate_limit_reset is not None:
            reset = self.site.now() + timedelta(seconds=fault.rate_limit_reset)
            headers["X-RateLimit-Reset"] = reset.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
        if status == 429:
            headers.update({"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0", "RateLimit-Reason":
                            "jira-burst-based"})
            message = "Rate limit exceeded."
        else:
            message = "Internal server error (injected by the stand-in)."
        return Response(json.dumps({"errorMessages": [message], "errors": {}}), status, headers=headers,
                        content_type="application/json;charset=UTF-8")


class _QuietHandler(WSGIRequestHandler):
    """No access log: `standin.requests` records every call."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status, content_type="application/json;charset=UTF-8")


def _by_names(site: Site, fields: dict[str, Any] | None) -> dict[str, Any] | None:
    """Let test code say {"Severity": {"value": "Sev-1"}} as well as {"customfield_10104": …}."""
    if not fields:
        return fields
    return {site.field_named(k).id if k not in site.fields else k: v for k, v in fields.items()}


def _filter_allows(jql: str | None, project_key: str) -> bool:
    """Apply a webhook's JQL filter; only project filters are understood, others let everything through."""
    if not jql:
        return True
    m = _PROJECT_FILTER.match(jql)
    if not m:
        log.warning("webhook filter %r not understood by the stand-in; delivering unfiltered", jql)
        return True
    keys = [m.group(2)] if m.group(2) else [k.strip().strip('"') for k in m.group(3).split(",")]
    return project_key.upper() in {k.upper() for k in keys}
