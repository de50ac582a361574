"""Forge as the stand-in plays it: installations, app system tokens, invocation tokens, product events.

A Forge app installed here is read from its `manifest.yml` (as a mapping): which endpoint (and so which
remote path) each trigger event goes to, which endpoints get the app system token, the scopes. The
platform then does what Forge does for a Forge Remote:

- issues **app system tokens** (`x-forge-oauth-system`): opaque to the app (JWT-shaped, so the app can
  read their `exp`), remembered here with their expiry; `Authorization: Bearer <token>` on the site's
  REST API acts as the app's user, with the same spec checks as Connect calls; unknown or expired → 401;
- signs **Forge Invocation Tokens** (RS256, `kid`; `iss` `forge/invocation-token`, `aud` the app id,
  `iat`/`nbf`/`exp` 25 s, `app.installationId`, `app.apiBaseUrl` = the site's base URL, `app.environment`,
  `app.module`, `context.cloudId`/`siteUrl`, `principal` for UI calls) with a key whose JWKS it serves at
  `jwks_url` (point Tierwise's `FORGE_JWKS_URL` there);
- calls the lifecycle endpoint (`avi:forge:installed:app`), the scheduled trigger (`refresh`), and
  delivers `avi:jira:created:issue` / `avi:jira:updated:issue` / `avi:jira:commented:issue` for the same
  site changes that fire Connect webhooks, through the stand-in's webhook sender (in order, retried on
  408/409/425/429/5xx, a fresh FIT and system token per attempt, `retryContext` on retries).

Shapes follow Atlassian's Forge docs ("Forge Remote essentials", the Jira events reference); values such
as ids and versions are made up.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from werkzeug.wrappers import Request, Response

from standin.connect import ConnectAuthError, InstalledApp, app_account_id
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
#: Connect webhook → the Forge product event for the same change.
FORGE_EVENT_FOR = {
    "jira:issue_created": "avi:jira:created:issue",
    "jira:issue_updated": "avi:jira:updated:issue",
    "comment_created": "avi:jira:commented:issue",
}
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


class ForgeTokenRefused(ConnectAuthError):
    """A Bearer token on the REST API that is not a live system token of an installed Forge app (401)."""


class ForgeInstallError(Exception):
    """The remote refused the installed lifecycle call, or the manifest cannot be read."""


@dataclass
class Endpoint:
    """A manifest `endpoint` module: the remote path and whether it gets the app system token."""

    key: str
    path: str
    system_token: bool


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


def read_manifest(manifest: Mapping[str, Any]) -> tuple[dict[str, Endpoint], Endpoint | None, Endpoint | None,
                                                         list[str]]:
    """(event → endpoint, scheduled endpoint, UI endpoint, scopes) from a Forge manifest mapping."""
    modules = manifest.get("modules") or {}
    endpoints: dict[str, Endpoint] = {}
    for entry in modules.get("endpoint") or []:
        auth = (entry.get("auth") or {}).get("appSystemToken") or {}
        endpoints[entry["key"]] = Endpoint(entry["key"], entry["route"]["path"], bool(auth.get("enabled")))
    try:
        events = {name: endpoints[t["endpoint"]] for t in modules.get("trigger") or [] for name in t["events"]}
        scheduled = [endpoints[t["endpoint"]] for t in modules.get("scheduledTrigger") or []]
        ui = [endpoints[m["resolver"]["endpoint"]] for kind in ("jira:issuePanel", "jira:adminPage")
              for m in modules.get(kind) or [] if (m.get("resolver") or {}).get("endpoint")]
    except KeyError as exc:
        raise ForgeInstallError(f"the manifest names an endpoint it does not declare: {exc}") from None
    scopes = list((manifest.get("permissions") or {}).get("scopes") or [])
    return events, (scheduled[0] if scheduled else None), (ui[0] if ui else None), scopes


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
    def install(self, remote_url: str, manifest: Mapping[str, Any], *, app_id: str | None = None,
                installer: User = ADMIN) -> ForgeInstallation:
        """Install the app (its remote at `remote_url`) and call its installed lifecycle endpoint."""
        events, scheduled, ui, scopes = read_manifest(manifest)
        app_id = app_id or str((manifest.get("app") or {}).get("id") or "")
        if not app_id:
            raise ForgeInstallError("no app id (manifest app.id or app_id=)")
        previous = self.installations.get(app_id)
        installation_id = (previous.installation_id if previous
                           else f"ari:cloud:ecosystem::installation/{uuid.uuid4()}")
        uid = installation_id.rsplit("/", 1)[-1]
        user = previous.app.user if previous else User(app_account_id(uid, app_id),
                                                       str((manifest.get("app") or {}).get("name") or "Forge app"),
                                                       None, account_type="app")
        app = InstalledApp(key=app_id, base_url=remote_url.rstrip("/"), descriptor={"modules": {}},
                           client_key=uid, shared_secret=secrets.token_urlsafe(32), user=user,
                           oauth_client_id=uid[:32], installed=False, platform="forge",
                           scopes={CONNECT_SCOPE_FOR[s] for s in scopes if s in CONNECT_SCOPE_FOR})
        app_uuid = app_id.rsplit("/", 1)[-1]
        inst = ForgeInstallation(
            app=app, app_id=app_id, installation_id=installation_id,
            environment_id=previous.environment_id if previous
            else f"ari:cloud:ecosystem::environment/{app_uuid}/{uuid.uuid4()}",
            cloud_id=previous.cloud_id if previous else str(uuid.uuid4()),
            remote_url=remote_url.rstrip("/"), events=events, scheduled=scheduled, ui=ui)
        self.standin.site.users[user.account_id] = user
        self.standin.apps[app_id] = app
        self.installations[app_id] = inst
        endpoint = events.get(INSTALLED)
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
                         lifetime_s: int = FIT_LIFETIME_S, **overrides: Any) -> str:
        """A signed FIT for a call into `inst`'s remote; `overrides` replace top-level claims."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "app": {"id": inst.app_id, "version": "1", "appVersion": "1.0.0",
                    "installationId": inst.installation_id, "apiBaseUrl": self.standin.base_url,
                    "environment": {"type": "DEVELOPMENT", "id": inst.environment_id},
                    "module": {"type": "core:endpoint", "key": module_key}},
            "context": {"cloudId": inst.cloud_id, "siteUrl": self.standin.base_url},
            "aud": inst.app_id, "iss": FIT_ISSUER, "iat": now, "nbf": now, "exp": now + lifetime_s,
            "jti": secrets.token_hex(20),
        }
        if principal:
            claims["principal"] = principal
        claims.update(overrides)
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})

    def headers(self, inst: ForgeInstallation, endpoint: Endpoint, module_key: str, *,
                principal: str | None = None) -> dict[str, str]:
        """What Forge sends with an invocation: the FIT, and the system token when the endpoint asks."""
        out = {"Authorization": f"Bearer {self.invocation_token(inst, module_key, principal=principal)}",
               "Content-Type": "application/json", "User-Agent": "Forge-Remote (stand-in)"}
        if endpoint.system_token:
            out["x-forge-oauth-system"] = self.issue_system_token(inst)
        return out

    # --- invocations ------------------------------------------------------------------------------
    def invoke(self, inst: ForgeInstallation, endpoint: Endpoint | str, body: Any = None, *,
               module_key: str = "tierwise-ui", method: str = "POST", principal: str | None = None,
               ) -> requests.Response:
        """Call the remote now (lifecycle, scheduled trigger, a UI resolver); `endpoint` may be a path."""
        if isinstance(endpoint, str):
            base = inst.ui or Endpoint(module_key, "", True)
            endpoint = Endpoint(base.key, endpoint, base.system_token)
        url = inst.url(endpoint.path)
        resp = self._http.request(method, url, json=body, timeout=10, allow_redirects=False,
                                  headers=self.headers(inst, endpoint, module_key, principal=principal))
        self.invocations.append((endpoint.path, resp.status_code))
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
            out.append(self.standin.webhooks.send(inst.app, name, inst.url(endpoint.path), body,
                                                  sub=event.actor.account_id,
                                                  sign=self._signer(inst, endpoint)))
        return out

    def _signer(self, inst: ForgeInstallation, endpoint: Endpoint) -> Callable[[int], dict[str, str]]:
        def sign(attempt: int) -> dict[str, str]:
            return self.headers(inst, endpoint, "tierwise-ticket-events")
        return sign

    def event_body(self, name: str, event: Event, inst: ForgeInstallation) -> dict[str, Any]:
        """The payload Forge sends for `event` (issue fields as REST v3 returns them, ADF comment bodies)."""
        site, base = self.standin.site, self.standin.base_url
        issue = site.issue(event.issue_key)
        fields = site.issue_fields(issue, base)
        if name == "avi:jira:commented:issue":
            keep = ("summary", "issuetype", "project", "assignee", "priority", "status", "reporter", "created",
                    "updated")
            fields = {k: fields.get(k) for k in keep}
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

