"""A Forge manifest as the stand-in's platform reads it: endpoints, triggers, UI modules, scopes, Connect key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Connect webhook → the Forge product event for the same change.
FORGE_EVENT_FOR = {
    "jira:issue_created": "avi:jira:created:issue",
    "jira:issue_updated": "avi:jira:updated:issue",
    "comment_created": "avi:jira:commented:issue",
}
#: UI modules whose resolver may be a remote endpoint, and so call `invokeRemote`.
UI_MODULE_TYPES = ("jira:issuePanel", "jira:adminPage", "jira:issueContext")


class ForgeInstallError(Exception):
    """The remote refused the installed lifecycle call, or the manifest cannot be read."""


@dataclass
class Endpoint:
    """A manifest `endpoint` module: its route (None for a UI resolver) and whether it gets the system token."""

    key: str
    path: str | None
    system_token: bool


@dataclass
class Manifest:
    """What the platform reads from a Forge manifest."""

    events: dict[str, Endpoint]  # Forge event name -> endpoint
    scheduled: Endpoint | None
    ui: Endpoint | None
    ui_modules: dict[str, str]  # UI module key -> module type
    scopes: list[str]
    connect_key: str | None  # app.connect.key: the Connect app this app adopts
    ignore_self: bool


def read_manifest(manifest: Mapping[str, Any]) -> Manifest:
    """The endpoints, triggers, UI modules, scopes and Connect key of a Forge manifest mapping."""
    modules = manifest.get("modules") or {}
    endpoints: dict[str, Endpoint] = {}
    for entry in modules.get("endpoint") or []:
        auth = (entry.get("auth") or {}).get("appSystemToken") or {}
        route = (entry.get("route") or {}).get("path")
        endpoints[entry["key"]] = Endpoint(entry["key"], route, bool(auth.get("enabled")))
    try:
        events = {name: endpoints[t["endpoint"]] for t in modules.get("trigger") or [] for name in t["events"]}
        scheduled = [endpoints[t["endpoint"]] for t in modules.get("scheduledTrigger") or []]
        ui_entries = [(kind, m) for kind in UI_MODULE_TYPES for m in modules.get(kind) or []
                      if (m.get("resolver") or {}).get("endpoint")]
        ui = [endpoints[m["resolver"]["endpoint"]] for _, m in ui_entries]
    except KeyError as exc:
        raise ForgeInstallError(f"the manifest names an endpoint it does not declare: {exc}") from None
    ignore_self = any((t.get("filter") or {}).get("ignoreSelf") is True for t in modules.get("trigger") or []
                      if set(t["events"]) & set(FORGE_EVENT_FOR.values()))
    return Manifest(events, scheduled[0] if scheduled else None, ui[0] if ui else None,
                    {m["key"]: kind for kind, m in ui_entries},
                    list((manifest.get("permissions") or {}).get("scopes") or []),
                    ((manifest.get("app") or {}).get("connect") or {}).get("key"), ignore_self)
