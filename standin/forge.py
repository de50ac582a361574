"""Forge as the stand-in plays it: installations, app system tokens, invocation tokens, product events.

A Forge app installed here is read from its `manifest.yml` (as a mapping): which endpoint (and so which
remote path) each trigger event goes to, which endpoints get the app system token, the scopes. The
platform then does what Forge does for a Forge Remote:

- issues **app system tokens** (`x-forge-oauth-system`): opaque to the app (JWT-shaped, so the app can
  read their `exp`), remembered here with their expiry; `Authorization: Bearer <token>` on the site's
  REST API acts as the app's user, with the same spec checks as Connect calls; unknown or expired → 401;
- signs **Forge Invocation Tokens** (RS256, `kid`; `iss` `forge/invocation-token`, `aud` the app id,
  `iat`/`nbf`/`exp` 25 s, `app.installationId`, `app.apiBaseUrl` = `api_base_url`
  (`<site host>/ex/jira/<cloudId>`, the stand-in's API gateway, where system tokens work), `app.environment`,
  `app.module` {type, key}, `context.cloudId`/`siteUrl`, and for UI calls `context.extension` and
  `principal`: `sign_ui_invocation`) with a key whose JWKS it serves at `jwks_url` (point Tierwise's
  `FORGE_JWKS_URL` there);
- adopts a Connect app: a manifest whose `app.connect.key` names a Connect app installed on the site is
  installed as that app's upgrade (same installation id, same app user);
- calls the lifecycle endpoint (`avi:forge:installed:app`), the scheduled trigger (`refresh`), and
  delivers `avi:jira:created:issue` / `avi:jira:updated:issue` / `avi:jira:commented:issue` for the same
  site changes that fire Connect webhooks, through the stand-in's webhook sender: the event (reduced issue)
  wrapped as `{"payload", "context"}`, retried on ANY non-2xx answer or no answer, 4 times, a fresh FIT and
  system token per attempt, `retryContext` on retries; the app's own changes are not delivered when the
  trigger's `filter.ignoreSelf` is set.

Shapes follow Atlassian's Forge docs ("Forge Remote essentials", the Jira events reference, "invokeRemote");
each is cited in standin/README.md. Values such as ids and versions are made up.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from werkzeug.wrappers import Request, Response

from standin.connect import ConnectAuthError, InstalledApp, app_account_id
from standin.forge_manifest import FORGE_EVENT_FOR, Endpoint, ForgeInstallError, read_manifest
from standin.seed import ADMIN, User
from standin.state import Event

if TYPE_CHECKING:
    from standin.server import JiraStandin
    from standin.webhooks import Delivery

#: The only issuer of invocation tokens.
FIT_ISSUER = "forge/invocation-token"
#: Lifetime of one invocation token (Forge's are short; about 25 s).
FIT_LIFETIME_S = 25
#: Lifetime of the system tokens handed out unless a test asks otherwise (a scheduled trigger's: >= 2 h).
SYSTEM_TOKEN_LIFETIME = timedelta(hours=2)
#: Forge scopes → the Connect scope the stand-in's REST checks use for the same rights.
CONNECT_SCOPE_FOR = {
    "read:jira-work": "READ",
    "read:servicedesk-request": "READ",
    "write:jira-work": "WRITE",
    "write:servicedesk-request": "WRITE",
    "manage:jira-project": "PROJECT_ADMIN",
    "manage:jira-configuration": "ADMIN",
}
#: The installed and upgraded lifecycle events.
INSTALLED = "avi:forge:installed:app"
#: The issue fields a Forge issue event carries (Jira events reference, `avi:jira:created:issue`, type
#: `Issue`); no priority, no custom fields. Spelled as the reference's example payload spells them.
REDUCED_ISSUE_FIELDS = ("summary", "issuetype", "creator", "created", "project", "reporter", "assignee",
                        "updated", "status")
#: Attempts per event: the first and 4 retries ("Forge remote essentials": events and scheduled triggers).
EVENT_ATTEMPTS = 5


class ForgeTokenRefused(ConnectAuthError):
    """A Bearer token on the REST API that is not a live system token of an installed Forge app (401)."""


@dataclass
class ForgeInstallation:
    """One Forge app installed on the site, and how to reach its remote."""

    app: InstalledApp  # its row in `JiraStandin.apps` (platform "forge"): user, scopes, installed
    app_id: str  # ari:cloud:ecosystem::app/<uuid>
    installation_id: str  # ari:cloud:ecosystem::installation/<uuid>
    environment_id: str
    cloud_id: str
    remote_url: str  # the remote's baseUrl
    events: dict[str, Endpoint]  # Forge event name -> endpoint
    scheduled: Endpoint | None  # the scheduled trigger's endpoint
    ui: Endpoint | None  # the endpoint UI resolvers call (issue panel / admin page)
    ui_modules: dict[str, str] = field(default_factory=dict)  # UI module key -> module type
    ignore_self: bool = False  # the ticket trigger's filter.ignoreSelf

    @property
    def installation_uuid(self) -> str:
        return self.installation_id.rsplit("/", 1)[-1]

    def url(self, path: str) -> str:
        return self.remote_url.rstrip("/") + "/" + path.lstrip("/")


@dataclass
class SystemTokenRecord:
    app_key: str
    expires_at: float  # epoch seconds
    revoked: bool = False


@cache
def _forge_key() -> tuple[str, rsa.RSAPrivateKey]:
    """One RSA key per process for invocation tokens (generating one costs ~0.1 s)."""
    return f"standin-forge-{uuid.uuid4()}", rsa.generate_private_key(public_exponent=65537, key_size=2048)


class ForgePlatform:
    """The Forge side of one stand-in site (created on first use as `JiraStandin.forge`)."""

    def __init__(self, standin: JiraStandin) -> None:
        self.standin = standin
        self.kid, self._key = _forge_key()
        self.installations: dict[str, ForgeInstallation] = {}  # by app key (= app id)
        self.tokens: dict[str, SystemTokenRecord] = {}
        #: Lifetime of the system tokens issued from now on (tests shorten it to make tokens go stale).
        self.token_lifetime = SYSTEM_TOKEN_LIFETIME
        #: Every invocation made (path, status), lifecycle and UI calls included; events are in `deliveries`.
        self.invocations: list[tuple[str, int]] = []
        self._secret = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._http = requests.Session()

    # --- keys -------------------------------------------------------------------------------------
    @property
    def jwks_url(self) -> str:
        """What Tierwise's FORGE_JWKS_URL should be."""
        return f"http://{self.standin.host}:{self.standin.port}/_forge/jwks.json"

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(RSAAlgorithm.to_jwk(self._key.public_key()))
        jwk.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        return {"keys": [jwk]}

    def handle(self, request: Request, path: str) -> Response:
        """`/_forge/jwks.json`: the public keys that verify invocation tokens."""
        if path == "/_forge/jwks.json" and request.method == "GET":
            return Response(json.dumps(self.jwks()), 200, content_type="application/json")
        return Response(json.dumps({"error": "not found"}), 404, content_type="application/json")

    # --- installation -----------------------------------------------------------------------------
    @property
    def api_base_url(self) -> str:
        """The `app.apiBaseUrl` of every FIT: the stand-in's API gateway for this site (`/ex/jira/<cloudId>`)."""
        return f"http://{self.standin.host}:{self.standin.port}/ex/jira/{self.standin.cloud_id}"

    def install(self, remote_url: str, manifest: Mapping[str, Any], *, app_id: str | None = None,
                installer: User = ADMIN) -> ForgeInstallation:
        """Install the app (its remote at `remote_url`) and call its installed lifecycle endpoint.

        With `app.connect.key` naming a Connect app installed here, this is that app's upgrade to Forge:
        the installation id and the app user are the Connect installation's.
        """
        read = read_manifest(manifest)
        app_id = app_id or str((manifest.get("app") or {}).get("id") or "")
        if not app_id:
            raise ForgeInstallError("no app id (manifest app.id or app_id=)")
        previous = self.installations.get(app_id)
        adopted = self.standin.apps.get(read.connect_key) if read.connect_key else None
        if adopted is not None and (adopted.platform != "connect" or not adopted.installed):
            adopted = None
        if previous is not None:
            installation_id, user = previous.installation_id, previous.app.user
        elif adopted is not None:
            installation_id, user = adopted.installation_id, adopted.user
        else:
            installation_id = f"ari:cloud:ecosystem::installation/{uuid.uuid4()}"
            user = User(app_account_id(installation_id.rsplit("/", 1)[-1], app_id),
                        str((manifest.get("app") or {}).get("name") or "Forge app"), None, account_type="app")
        uid = installation_id.rsplit("/", 1)[-1]
        app = InstalledApp(key=app_id, base_url=remote_url.rstrip("/"), descriptor={"modules": {}},
                           client_key=uid, shared_secret=secrets.token_urlsafe(32), user=user,
                           oauth_client_id=uid[:32], installed=False, platform="forge",
                           scopes={CONNECT_SCOPE_FOR[s] for s in read.scopes if s in CONNECT_SCOPE_FOR},
                           installation_id=installation_id)
        app_uuid = app_id.rsplit("/", 1)[-1]
        inst = ForgeInstallation(
            app=app, app_id=app_id, installation_id=installation_id,
            environment_id=previous.environment_id if previous
            else f"ari:cloud:ecosystem::environment/{app_uuid}/{uuid.uuid4()}",
            cloud_id=self.standin.cloud_id,
            remote_url=remote_url.rstrip("/"), events=read.events, scheduled=read.scheduled, ui=read.ui,
            ui_modules=read.ui_modules, ignore_self=read.ignore_self)
        self.standin.site.users[user.account_id] = user
        self.standin.apps[app_id] = app
        self.installations[app_id] = inst
        endpoint = read.events.get(INSTALLED)
        if endpoint is not None:
            body = {"eventType": INSTALLED, "id": installation_id, "installerAccountId": installer.account_id,
                    "app": {"id": app_id, "version": "1"}, "environment": {"id": inst.environment_id},
                    "context": {"cloudId": inst.cloud_id, "siteUrl": self.standin.base_url}}
            status = self.invoke(inst, endpoint, body, module_key="tierwise-lifecycle").status_code
            if not 200 <= status < 300:
                del self.standin.apps[app_id]
                del self.installations[app_id]
                raise ForgeInstallError(f"the remote answered {status} to {INSTALLED}")
        app.installed = True
        return inst

    def uninstall(self, inst: ForgeInstallation) -> None:
        """Uninstall: Forge tells remotes nothing; the app's tokens stop working and events stop."""
        inst.app.installed = False
        with self._lock:
            for record in self.tokens.values():
                if record.app_key == inst.app.key:
                    record.revoked = True

    # --- tokens -----------------------------------------------------------------------------------
    def issue_system_token(self, inst: ForgeInstallation, lifetime: timedelta | None = None) -> str:
        """A new app system token for `inst`, remembered with its expiry."""
        now = time.time()
        expires = now + (lifetime or self.token_lifetime).total_seconds()
        token = jwt.encode({"iss": "forge/app-system-token", "sub": inst.app.user.account_id,
                            "aud": "api.atlassian.com", "iat": int(now), "exp": int(expires),
                            "jti": secrets.token_hex(16)}, self._secret, algorithm="HS256")
        with self._lock:
            self.tokens[token] = SystemTokenRecord(inst.app.key, float(int(expires)))
        return token

    def expire_tokens(self, inst: ForgeInstallation | None = None) -> None:
        """Make every system token issued so far (to `inst`) expired, as if time had passed."""
        with self._lock:
            for record in self.tokens.values():
                if inst is None or record.app_key == inst.app.key:
                    record.expires_at = min(record.expires_at, time.time() - 1)

    def authenticate(self, authorization: str) -> InstalledApp:
        """The app a `Bearer <system token>` header stands for; ForgeTokenRefused (401) otherwise."""
        token = authorization[len("Bearer "):].strip()
        with self._lock:
            record = self.tokens.get(token)
        if record is None:
            raise ForgeTokenRefused("Unknown app system token")
        if record.revoked or record.expires_at <= time.time():
            raise ForgeTokenRefused("The app system token has expired")
        app = self.standin.apps.get(record.app_key)
        if app is None or not app.installed or app.platform != "forge":
            raise ForgeTokenRefused("The app is not installed")
        return app

    def invocation_token(self, inst: ForgeInstallation, module_key: str, *, principal: str | None = None,
                         module_type: str = "core:endpoint", extension: Mapping[str, Any] | None = None,
                         lifetime_s: int = FIT_LIFETIME_S, **overrides: Any) -> str:
        """A signed FIT for a call into `inst`'s remote; `overrides` replace top-level claims."""
        now = int(time.time())
        context: dict[str, Any] = {"cloudId": inst.cloud_id, "siteUrl": self.standin.base_url}
        if extension is not None:
            context.update(moduleKey=module_key, extension=dict(extension))
        claims: dict[str, Any] = {
            "app": {"id": inst.app_id, "version": "1", "appVersion": "1.0.0",
                    "installationId": inst.installation_id, "apiBaseUrl": self.api_base_url,
                    "environment": {"type": "DEVELOPMENT", "id": inst.environment_id},
                    "module": {"type": module_type, "key": module_key}},
            "context": context,
            "aud": inst.app_id, "iss": FIT_ISSUER, "iat": now, "nbf": now, "exp": now + lifetime_s,
            "jti": secrets.token_hex(20),
        }
        if principal:
            claims["principal"] = principal
        claims.update(overrides)
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})

    def issue_extension(self, issue_key: str) -> dict[str, Any]:
        """`context.extension` of a `jira:issuePanel` shown on this issue: type, issue {id, key, type}, project."""
        issue = self.standin.site.issue(issue_key)
        return {"type": "jira:issuePanel",
                "issue": {"id": issue.id, "key": issue.key, "type": "Support"},
                "project": {"id": issue.project.id, "key": issue.project.key, "type": issue.project.project_type}}

    def sign_ui_invocation(self, inst: ForgeInstallation, module_key: str, *, principal: str | None,
                           extension: Mapping[str, Any] | None = None, lifetime_s: int = FIT_LIFETIME_S) -> str:
        """The FIT Forge sends with an `invokeRemote` call from UI module `module_key` of the manifest.

        `app.module` is the module's type and key, `context.extension` where it is shown (for an issue
        panel: `issue_extension(key)`; the admin page: `{"type": "jira:adminPage"}` by default), and
        `principal` the user looking at it. For browser tests' bridge stand-in and API tests.
        """
        module_type = inst.ui_modules.get(module_key)
        if module_type is None:
            raise ForgeInstallError(f"the manifest has no UI module {module_key!r} with a remote resolver")
        return self.invocation_token(inst, module_key, principal=principal, module_type=module_type,
                                     extension=extension if extension is not None else {"type": module_type},
                                     lifetime_s=lifetime_s)

    def headers(self, inst: ForgeInstallation, endpoint: Endpoint, module_key: str, *,
                principal: str | None = None, token: str | None = None) -> dict[str, str]:
        """What Forge sends with an invocation: the FIT, and the system token when the endpoint asks."""
        fit = token or self.invocation_token(inst, module_key, principal=principal)
        out = {"Authorization": f"Bearer {fit}", "Content-Type": "application/json",
               "User-Agent": "Forge-Remote (stand-in)"}
        if endpoint.system_token:
            out["x-forge-oauth-system"] = self.issue_system_token(inst)
        return out

    # --- invocations ------------------------------------------------------------------------------
    def invoke(self, inst: ForgeInstallation, endpoint: Endpoint, body: Any = None, *,
               module_key: str, method: str = "POST") -> requests.Response:
        """Call a backend endpoint now (lifecycle, scheduled trigger): POST to baseUrl + its route."""
        if endpoint.path is None:
            raise ForgeInstallError(f"endpoint {endpoint.key} has no route")
        resp = self._http.request(method, inst.url(endpoint.path), json=body, timeout=10, allow_redirects=False,
                                  headers=self.headers(inst, endpoint, module_key))
        self.invocations.append((endpoint.path, resp.status_code))
        return resp

    def invoke_remote(self, inst: ForgeInstallation, module_key: str, path: str, *, method: str = "GET",
                      body: Any = None, principal: str | None, extension: Mapping[str, Any] | None = None,
                      headers: Mapping[str, str] | None = None) -> requests.Response:
        """What `invokeRemote({path, method, body, headers})` from UI module `module_key` makes Forge send.

        `path` is appended to the remote's baseUrl (the UI endpoint has no route), with the module's FIT
        (`sign_ui_invocation`) and the system token if the endpoint asks for it; the body is sent as JSON.
        """
        if inst.ui is None:
            raise ForgeInstallError("the manifest has no UI resolver endpoint")
        fit = self.sign_ui_invocation(inst, module_key, principal=principal, extension=extension)
        sent = {**(headers or {}), **self.headers(inst, inst.ui, module_key, token=fit)}
        resp = self._http.request(method, inst.url(path), json=body, timeout=10, allow_redirects=False,
                                  headers=sent)
        self.invocations.append((path, resp.status_code))
        return resp

    def refresh(self, inst: ForgeInstallation) -> int:
        """Run the app's scheduled trigger once (Forge: hourly), bringing a fresh system token."""
        if inst.scheduled is None:
            raise ForgeInstallError("the manifest has no scheduledTrigger")
        body = {"context": {"cloudId": inst.cloud_id, "moduleKey": "tierwise-token-refresh"},
                "userAccess": {"enabled": False}}
        return self.invoke(inst, inst.scheduled, body, module_key="tierwise-token-refresh").status_code

    # --- product events ---------------------------------------------------------------------------
    def publish(self, event: Event) -> list[Delivery]:
        """Deliver the Forge event for `event` to every installed Forge app subscribed to it."""
        name = FORGE_EVENT_FOR.get(event.webhook_event)
        out: list[Delivery] = []
        if name is None:
            return out
        for inst in list(self.installations.values()):
            endpoint = inst.events.get(name)
            if endpoint is None or not inst.app.installed or not inst.app.enabled:
                continue
            body = self.event_body(name, event, inst)
            if inst.ignore_self and body["selfGenerated"]:
                continue  # filter.ignoreSelf: Forge drops the app's own events before delivery
            wrapped = {"payload": body, "context": {"cloudId": inst.cloud_id, "moduleKey": "tierwise-ticket-events"}}
            out.append(self.standin.webhooks.send(inst.app, name, inst.url(endpoint.path or "/"), wrapped,
                                                  sub=event.actor.account_id, sign=self._signer(inst, endpoint),
                                                  body_for=_with_retry_context(wrapped),
                                                  attempts_limit=EVENT_ATTEMPTS))
        return out

    def _signer(self, inst: ForgeInstallation, endpoint: Endpoint) -> Callable[[int], dict[str, str]]:
        def sign(attempt: int) -> dict[str, str]:
            return self.headers(inst, endpoint, "tierwise-ticket-events")
        return sign

    def event_body(self, name: str, event: Event, inst: ForgeInstallation) -> dict[str, Any]:
        """The event Forge sends for `event`: the reduced issue (REST v3 shapes), ADF comment bodies."""
        site, base = self.standin.site, self.standin.base_url
        issue = site.issue(event.issue_key)
        full = site.issue_fields(issue, base)
        fields = {k: full[k] for k in REDUCED_ISSUE_FIELDS if k in full}
        for person in ("creator", "reporter", "assignee"):  # `User` in the reference: accountId only
            if isinstance(fields.get(person), dict):
                fields[person] = {"accountId": fields[person]["accountId"]}
        body: dict[str, Any] = {
            "eventType": name,
            "issue": {"id": issue.id, "key": issue.key, "fields": fields},
            "atlassianId": event.actor.account_id,
            "associatedUsers": [{"accountId": event.actor.account_id}],
            "selfGenerated": event.actor.account_id == inst.app.user.account_id,
        }
        if name == "avi:jira:updated:issue" and event.changelog_id:
            body["changelog"] = {"id": event.changelog_id, "items": event.changelog}
        if name == "avi:jira:commented:issue" and event.comment is not None:
            full = site.comment_json(issue, event.comment, base)
            body["comment"] = {k: full[k] for k in ("id", "author", "body", "updateAuthor", "created", "updated",
                                                    "jsdPublic")}
        return body

    def close(self) -> None:
        self._http.close()


def _with_retry_context(body: dict[str, Any]) -> Callable[[int], dict[str, Any]]:
    """Attempt n's body: the first as it is, retries with `retryContext` (retryCount n)."""
    def body_for(attempt: int) -> dict[str, Any]:
        if not attempt:
            return body
        return {**body, "retryContext": {"retryCount": attempt, "retryReason": "FUNCTION_RETRY_REQUEST",
                                         "retryData": None}}
    return body_for

