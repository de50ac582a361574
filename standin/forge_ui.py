"""Forge's Custom UI bridge as the stand-in plays it: the host side that `@forge/bridge` talks to.

In a real site a Custom UI page (an iframe) imports `@forge/bridge`, which calls
`window.__bridge.callBridge(name, payload)`; Jira's frontend (the host) answers, and for `invokeRemote`
Forge's platform calls the app's remote. This module is that host and platform for one page:

- `getContext`: the module's context as `view.getContext()` resolves it: `accountId`, `cloudId`,
  `siteUrl`, `moduleKey`, `localId`, `environmentId`/`environmentType`, the user's `locale` and
  `timezone` (their Jira profile), `theme` (`colorMode`), and `extension` (for `jira:issuePanel`: `type`,
  `issue` {id, key, type, typeId}, `project` {id, key, type}; for `jira:adminPage`: `type`);
- `invoke` with `invokeType: "ui-remote-fetch"` (what `invokeRemote` sends): `METHOD <remote baseUrl><path>`
  (the path is appended to the remote's baseUrl; the endpoint's `route` is for backend modules), with
  `Authorization: Bearer <FIT>` signed for this UI module, its `context.extension` and the user as
  `principal`, `x-forge-oauth-system` when the resolver endpoint enables `appSystemToken`, the caller's
  own headers, and the body as JSON. The answer is `{status, headers (name → [values]), body}`; a 401
  from the remote, or a response that is not JSON, rejects the promise instead (25 s timeout);
- `showFlag` / `closeFlag`: the host's flags, recorded in `flags`; `enableTheming`: acknowledged (the
  browser side puts the theme's `data-color-mode` on `<html>`).

The browser side is `static/test-support/forge-bridge-host.js`: it defines `window.__bridge` before the
page's bundle (the production bundle with the real `@forge/bridge`) loads, and forwards each call here.
Every behaviour and its Atlassian doc are listed in `standin/README.md` ("Forge UI bridge").
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
import requests

from standin.forge import ForgeInstallation, ForgePlatform

#: `invokeType` of a bridge `invoke` made by `invokeRemote` (`invokeService` sends `ui-container-fetch`).
REMOTE_FETCH = "ui-remote-fetch"
#: Methods `invokeRemote` accepts.
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
#: Forge waits this long for a remote answering a UI module (Forge Remote essentials: 25 s).
UI_TIMEOUT_S = 25


class BridgeRejected(Exception):
    """The bridge call's promise rejects in the page (message as the page sees it)."""


@dataclass(frozen=True)
class UiModule:
    """A Custom UI module of the manifest: its key, type and the extension context the host gives it."""

    key: str
    type: str
    extension: dict[str, Any]


def issue_panel(issue_id: str, issue_key: str, *, key: str = "tierwise-sla-panel", issue_type: str = "Support",
                issue_type_id: str = "10002", project_id: str = "10000", project_key: str = "SUP",
                project_type: str = "service_desk") -> UiModule:
    """The `jira:issuePanel` module as opened on one issue."""
    return UiModule(key, "jira:issuePanel", {
        "type": "jira:issuePanel",
        "issue": {"id": issue_id, "key": issue_key, "type": issue_type, "typeId": issue_type_id},
        "project": {"id": project_id, "key": project_key, "type": project_type},
        "isNewToIssue": False,
    })


def admin_page(*, key: str = "tierwise-admin") -> UiModule:
    """The `jira:adminPage` module."""
    return UiModule(key, "jira:adminPage", {"type": "jira:adminPage"})


@dataclass(frozen=True)
class UiUser:
    """Who looks at the page, with their Jira profile's locale and time zone and Jira's colour mode."""

    account_id: str
    locale: str = "en-US"
    timezone: str = "UTC"
    color_mode: str = "light"


def sign_ui_invocation(forge: ForgePlatform, inst: ForgeInstallation, module: UiModule, principal: str) -> str:
    """A Forge Invocation Token for a UI call: the platform's usual claims, with `app.module` the UI module
    (type and key), `context.moduleKey`, `context.extension` and `principal` the user."""
    usual = jwt.decode(forge.invocation_token(inst, module.key, principal=principal),
                       options={"verify_signature": False})
    app = {**usual["app"], "module": {"type": module.type, "key": module.key}}
    context = {**usual["context"], "moduleKey": module.key, "extension": module.extension}
    return forge.invocation_token(inst, module.key, principal=principal, app=app, context=context)


@dataclass
class SentRequest:
    """One request Forge made to the remote for `invokeRemote` (for tests to look at)."""

    method: str
    url: str
    headers: dict[str, str]
    body: Any


@dataclass
class ForgeUiHost:
    """The host and platform side of one Custom UI page of `inst` (module, user)."""

    forge: ForgePlatform
    inst: ForgeInstallation
    module: UiModule
    user: UiUser
    local_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    flags: list[dict[str, Any]] = field(default_factory=list)
    sent: list[SentRequest] = field(default_factory=list)

    def call(self, name: str, payload: Any = None) -> Any:
        """Answer `callBridge(name, payload)`; raises BridgeRejected where the page's promise rejects."""
        if name == "getContext":
            return self.context()
        if name == "invoke":
            return self.invoke(payload if isinstance(payload, dict) else {})
        if name == "showFlag":
            self.flags.append(dict(payload or {}))
            return True
        if name in ("closeFlag", "enableTheming"):
            return True
        raise BridgeRejected(f"the stand-in host does not implement the bridge call {name!r}")

    def context(self) -> dict[str, Any]:
        """What `view.getContext()` resolves with on this page."""
        return {
            "accountId": self.user.account_id,
            "cloudId": self.inst.cloud_id,
            "siteUrl": self.forge.standin.base_url,
            "environmentId": self.inst.environment_id,
            "environmentType": "DEVELOPMENT",
            "localId": self.local_id,
            "moduleKey": self.module.key,
            "locale": self.user.locale,
            "timezone": self.user.timezone,
            "theme": {"colorMode": self.user.color_mode},
            "extension": self.module.extension,
        }

    def invoke(self, payload: dict[str, Any]) -> dict[str, Any]:
        """`invokeRemote`: call the remote as Forge does and hand back `{success, payload}`."""
        if payload.get("invokeType") != REMOTE_FETCH:
            raise BridgeRejected(f"unsupported invokeType {payload.get('invokeType')!r}")
        method, path = str(payload.get("method") or ""), str(payload.get("path") or "")
        if method not in METHODS or not path.startswith("/"):
            raise BridgeRejected(f"invalid invokeRemote input: method {method!r}, path {path!r}")
        endpoint = self.inst.ui
        if endpoint is None:
            raise BridgeRejected("the module has no resolver endpoint: invokeRemote is not allowed")
        headers = {str(k): str(v) for k, v in (payload.get("headers") or {}).items()}
        headers["Authorization"] = f"Bearer {sign_ui_invocation(self.forge, self.inst, self.module, self.user.account_id)}"
        if endpoint.system_token:
            headers["x-forge-oauth-system"] = self.forge.issue_system_token(self.inst)
        data = None
        if "body" in payload and payload["body"] is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(payload["body"])
        url = self.inst.remote_url.rstrip("/") + path
        self.sent.append(SentRequest(method, url, dict(headers), payload.get("body")))
        try:
            resp = requests.request(method, url, data=data, headers=headers, timeout=UI_TIMEOUT_S,
                                    allow_redirects=False)
        except requests.RequestException as exc:
            raise BridgeRejected(f"the remote could not be reached: {exc.__class__.__name__}") from None
        self.forge.invocations.append((path, resp.status_code))
        if resp.status_code == 401:
            raise BridgeRejected("the remote answered 401")
        try:
            body = resp.json() if resp.content else None
        except ValueError:
            raise BridgeRejected(f"the remote's response is not JSON (status {resp.status_code})") from None
        answer: dict[str, Any] = {"status": resp.status_code,
                                  "headers": {k.lower(): [v] for k, v in resp.headers.items()}}
        if body is not None:
            answer["body"] = body
        return {"success": True, "payload": answer}
