"""The site's data in memory: issues, fields, comments, entity properties, statuses and workflows.

No HTTP here: the server turns requests into calls on `Site`, and each change comes back as an `Event`
that the webhook sender turns into Jira's webhook body.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from standin import seed
from standin.adf import adf_errors, adf_to_wiki, text_to_adf
from standin.seed import FieldDef, Project, Status, Transition, User

#: Jira's limit on one entity property value, in bytes of JSON.
MAX_PROPERTY_BYTES = 32768


class JiraError(Exception):
    """A request Jira would refuse: carries the status and Jira's error body."""

    def __init__(self, status: int, messages: list[str] | None = None,
                 errors: dict[str, str] | None = None) -> None:
        super().__init__("; ".join((messages or []) + [f"{k}: {v}" for k, v in (errors or {}).items()]))
        self.status = status
        self.body = {"errorMessages": messages or [], "errors": errors or {}}


def jira_time(moment: datetime) -> str:
    """Jira's timestamp format, e.g. 2019-02-15T19:01:52.971-0800."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}" + moment.strftime("%z")


@dataclass
class Comment:
    id: str
    author: User
    body: dict[str, Any]  # ADF
    created: datetime
    internal: bool = False


@dataclass
class Issue:
    id: str
    key: str
    project: Project
    values: dict[str, Any]  # field id -> value in Jira's REST representation
    created: datetime
    updated: datetime
    comments: list[Comment] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass
class Event:
    """Something that happened on the site that Jira announces by webhook."""

    webhook_event: str  # jira:issue_created | jira:issue_updated | comment_created
    type_name: str | None  # issue_event_type_name
    issue_key: str
    actor: User
    changelog: list[dict[str, Any]] = field(default_factory=list)
    changelog_id: str | None = None
    comment: Comment | None = None
    timestamp: datetime | None = None


class Site:
    """One Jira Cloud site with Service Management, in memory and thread-safe."""

    def __init__(self, now: Callable[[], datetime] | None = None) -> None:
        self.now = now or (lambda: datetime.now(UTC))
        self.lock = threading.RLock()
        self.users: dict[str, User] = {u.account_id: u for u in seed.users()}
        self.fields: dict[str, FieldDef] = {f.id: f for f in seed.FIELDS}
        self.statuses: dict[str, Status] = {s.id: s for s in seed.STATUSES}
        self.projects: dict[str, Project] = {p.key: p for p in seed.projects()}
        self.organizations = {o.id: o for o in seed.ORGANIZATIONS}
        self.issues: dict[str, Issue] = {}
        self._ids = itertools.count(10040)
        self._comment_ids = itertools.count(10019)
        self._changelog_ids = itertools.count(10222)
        self._issue_numbers: dict[str, itertools.count[int]] = {}

    # --- look-ups -------------------------------------------------------------------------------
    def issue(self, id_or_key: str) -> Issue:
        with self.lock:
            if id_or_key in self.issues:
                return self.issues[id_or_key]
            for issue in self.issues.values():
                if issue.id == id_or_key:
                    return issue
        raise JiraError(404, ["Issue does not exist or you do not have permission to see it."])

    def user(self, account_id: str) -> User:
        if account_id not in self.users:
            raise JiraError(404, [f"Specified user does not exist or you do not have access to it: {account_id}"])
        return self.users[account_id]

    def status_named(self, name: str) -> Status:
        for status in self.statuses.values():
            if status.name.casefold() == name.casefold():
                return status
        raise KeyError(name)

    def field_named(self, name: str) -> FieldDef:
        for f in self.fields.values():
            if f.name.casefold() == name.casefold() or f.id == name:
                return f
        raise KeyError(name)

    def is_customer(self, issue: Issue, account_id: str) -> bool:
        reporter = issue.values.get("reporter") or {}
        participants = issue.values.get("customfield_10003") or []
        return account_id == reporter.get("accountId") or any(
            p.get("accountId") == account_id for p in participants)

    # --- representations ------------------------------------------------------------------------
    def user_json(self, user: User, base_url: str, api: str = "3") -> dict[str, Any]:
        out: dict[str, Any] = {
            "self": f"{base_url}/rest/api/{api}/user?accountId={user.account_id}",
            "accountId": user.account_id,
            "accountType": user.account_type,
            "avatarUrls": seed.avatar_urls(user.account_id),
            "displayName": user.display_name,
            "active": True,
            "timeZone": user.time_zone,
        }
        if user.email:
            out["emailAddress"] = user.email
        if api == "2" and user.legacy_name:
            out["name"] = out["key"] = user.legacy_name
        return out

    def status_json(self, status: Status, base_url: str, api: str = "3") -> dict[str, Any]:
        cat_id, cat_name, colour = seed.STATUS_CATEGORIES[status.category]
        return {
            "self": f"{base_url}/rest/api/{api}/status/{status.id}",
            "description": "",
            "iconUrl": f"{base_url}/",
            "name": status.name,
            "id": status.id,
            "statusCategory": {"self": f"{base_url}/rest/api/{api}/statuscategory/{cat_id}", "id": cat_id,
                               "key": status.category, "colorName": colour, "name": cat_name},
        }

    def _select_json(self, f: FieldDef, option_id: str, value: str, base_url: str) -> dict[str, Any]:
        return {"self": f"{base_url}/rest/api/3/customFieldOption/{option_id}", "value": value, "id": option_id}

    def issue_fields(self, issue: Issue, base_url: str, api: str = "3") -> dict[str, Any]:
        """The issue's fields in the REST representation of `api` (2: wiki text, 3: ADF)."""
        out: dict[str, Any] = {}
        for fid, value in issue.values.items():
            if fid == "description" and api == "2" and isinstance(value, dict):
                value = adf_to_wiki(value)
            out[fid] = _absolute(value, base_url)
        out["status"] = self.status_json(self.statuses[issue.values["status"]], base_url, api)
        for fid in ("reporter", "assignee", "creator"):
            if out.get(fid):
                out[fid] = self.user_json(self.user(out[fid]["accountId"]), base_url, api)
        out["project"] = {
            "self": f"{base_url}/rest/api/{api}/project/{issue.project.id}", "id": issue.project.id,
            "key": issue.project.key, "name": issue.project.name, "projectTypeKey": issue.project.project_type,
            "simplified": False,
        }
        out["issuetype"] = {"self": f"{base_url}/rest/api/{api}/issuetype/10100", "id": "10100",
                            "description": "For customer support issues.", "name": "Support",
                            "subtask": False, "hierarchyLevel": 0,
                            "iconUrl": f"{base_url}/images/icons/issuetypes/support.svg"}
        out["created"] = jira_time(issue.created)
        out["updated"] = jira_time(issue.updated)
        out["customfield_10010"] = {"requestType": {"id": issue.project.request_type_id,
                                                    "name": "Get IT help",
                                                    "serviceDeskId": issue.project.service_desk_id},
                                    "currentStatus": {"status": out["status"]["name"],
                                                      "statusCategory": issue_status_category(out["status"])}}
        return out

    def issue_json(self, issue: Issue, base_url: str, *, fields: list[str] | None = None,
                   properties: list[str] | None = None, expand: str = "") -> dict[str, Any]:
        all_fields = self.issue_fields(issue, base_url)
        if fields and "*all" not in fields and "*navigable" not in fields:
            wanted = {f for f in fields if not f.startswith("-")}
            all_fields = {k: v for k, v in all_fields.items() if k in wanted}
        out: dict[str, Any] = {"expand": "renderedFields,names,schema,operations,editmeta,changelog",
                               "id": issue.id, "self": f"{base_url}/rest/api/3/issue/{issue.id}",
                               "key": issue.key, "fields": all_fields}
        if properties:
            keys = issue.properties if "*all" in properties else properties
            out["properties"] = {k: issue.properties[k] for k in keys if k in issue.properties}
        if "names" in expand:
            out["names"] = {fid: self.fields[fid].name for fid in all_fields if fid in self.fields}
        return out

    def comment_json(self, issue: Issue, c: Comment, base_url: str) -> dict[str, Any]:
        """A comment as the platform API v3 returns it (ADF body)."""
        author = self.user_json(c.author, base_url)
        return {"self": f"{base_url}/rest/api/3/issue/{issue.id}/comment/{c.id}", "id": c.id,
                "author": author, "body": c.body, "updateAuthor": author,
                "created": jira_time(c.created), "updated": jira_time(c.created), "jsdPublic": not c.internal,
                "properties": [{"key": "sd.public.comment", "value": {"internal": c.internal}}]}

    def jsm_comment_json(self, c: Comment, base_url: str) -> dict[str, Any]:
        """A comment as the servicedeskapi returns it (CommentDTO: plain text body)."""
        return {"id": c.id, "body": adf_to_wiki(c.body), "public": not c.internal,
                "author": self.jsm_user_json(c.author, base_url), "created": date_dto(c.created),
                "_links": {"self": f"{base_url}/rest/servicedeskapi/request/comment/{c.id}"}}

    def jsm_user_json(self, user: User, base_url: str) -> dict[str, Any]:
        out: dict[str, Any] = {"accountId": user.account_id, "displayName": user.display_name, "active": True,
                               "timeZone": user.time_zone,
                               "_links": {"self": f"{base_url}/rest/api/2/user?accountId={user.account_id}",
                                          "avatarUrls": seed.avatar_urls(user.account_id)}}
        if user.email:
            out["emailAddress"] = user.email
        return out

    # --- changes --------------------------------------------------------------------------------
    def create_issue(self, project_key: str, summary: str, *, reporter: User, actor: User | None = None,
                     fields: dict[str, Any] | None = None, description: str | None = None,
                     status: str | None = None) -> tuple[Issue, Event]:
        """Create an issue (as a customer raising a request, by default) and return its created event."""
        with self.lock:
            project = self.projects[project_key]
            number = next(self._issue_numbers.setdefault(project_key, itertools.count(1)))
            now = self.now()
            status_id = self.status_named(status).id if status else seed.OPEN
            issue = Issue(str(next(self._ids)), f"{project_key}-{number}", project,
                          {"summary": summary, "status": status_id, "priority": _priority("3", "Medium"),
                           "reporter": {"accountId": reporter.account_id}, "creator": {"accountId": reporter.account_id},
                           "assignee": None, "resolution": None, "resolutiondate": None, "labels": [],
                           "description": text_to_adf(description) if description else None,
                           **{f.id: None for f in self.fields.values() if f.custom}},
                          now, now)
            issue.values["customfield_10003"] = []
            self.issues[issue.key] = issue
            items = [_item("summary", "jira", "summary", None, None, None, summary),
                     _item("Status", "jira", "status", None, None, status_id, self.statuses[status_id].name),
                     _item("reporter", "jira", "reporter", None, None, reporter.account_id, reporter.display_name)]
            if fields:
                items += self.apply_fields(issue, fields, base_url="")
            event = Event("jira:issue_created", "issue_created", issue.key, actor or reporter, items,
                          str(next(self._changelog_ids)), timestamp=now)
            return issue, event

    def apply_fields(self, issue: Issue, fields: dict[str, Any], base_url: str) -> list[dict[str, Any]]:
        """Check and apply `fields` like Jira's edit; return the changelog items (400 on a bad value)."""
        with self.lock:
            errors: dict[str, str] = {}
            converted: dict[str, Any] = {}
            for fid, raw in fields.items():
                f = self.fields.get(fid)
                if f is None or f.kind == "readonly":
                    errors[fid] = (f"Field '{fid}' cannot be set. It is not on the appropriate screen, "
                                   "or unknown.")
                    continue
                try:
                    converted[fid] = self._convert(f, raw, base_url)
                except ValueError as exc:
                    errors[fid] = str(exc)
            if errors:
                raise JiraError(400, [], errors)
            items = []
            for fid, value in converted.items():
                old = issue.values.get(fid)
                if old == value:
                    continue
                f = self.fields[fid]
                items.append(self._change_item(f, old, value))
                issue.values[fid] = value
            if items:
                issue.updated = self.now()
            return items

    def _convert(self, f: FieldDef, raw: Any, base_url: str) -> Any:
        """A request value -> the stored REST value, with Jira's complaints for bad ones."""
        if raw is None:
            return [] if f.kind in ("labels", "users", "organizations") else None
        if f.kind == "string":
            if not isinstance(raw, str):
                raise ValueError("Operation value must be a string")
            if len(raw) > 255 and f.id == "summary":
                raise ValueError("Summary must be less than 255 characters.")
            return raw
        if f.kind == "number":
            if isinstance(raw, bool) or not isinstance(raw, int | float):
                raise ValueError("Operation value must be a number")
            return raw
        if f.kind == "datetime":
            if not isinstance(raw, str):
                raise ValueError("Operation value must be a string")
            try:
                moment = datetime.fromisoformat(raw)
            except ValueError:
                raise ValueError(f"Invalid date format. Please enter the date in the format "
                                 f"\"yyyy-MM-dd'T'HH:mm:ss.SSSZ\". Got {raw!r}.") from None
            if moment.tzinfo is None:
                raise ValueError(f"{f.name}: a date-time needs a UTC offset. Got {raw!r}.")
            return jira_time(moment.astimezone(UTC))
        if f.kind == "select":
            if not isinstance(raw, dict) or not ({"id", "value"} & raw.keys()):
                raise ValueError(f"Specify a valid 'id' or 'name' for {f.name}")
            for oid, value in f.options:
                if raw.get("id") == oid or raw.get("value") == value:
                    return self._select_json(f, oid, value, base_url)
            raise ValueError(f"Option value '{raw.get('value', raw.get('id'))}' is not valid")
        if f.kind == "priority":
            if not isinstance(raw, dict):
                raise ValueError("Specify the Priority (name or id) in the correct format")
            for pid, name in seed.PRIORITIES:
                if raw.get("id") == pid or raw.get("name") == name:
                    return _priority(pid, name)
            raise ValueError("Specify a valid Priority")
        if f.kind == "user":
            if not isinstance(raw, dict) or not isinstance(raw.get("accountId"), str):
                raise ValueError(f"Specify a valid value for {f.name}")
            self.user(raw["accountId"])
            return {"accountId": raw["accountId"]}
        if f.kind == "users":
            if not isinstance(raw, list) or not all(isinstance(u, dict) and u.get("accountId") in self.users
                                                    for u in raw):
                raise ValueError(f"Specify valid users for {f.name}")
            return [{"accountId": u["accountId"]} for u in raw]
        if f.kind == "labels":
            if not isinstance(raw, list) or not all(isinstance(x, str) and " " not in x for x in raw):
                raise ValueError("The label must not contain spaces.")
            return list(raw)
        if f.kind == "organizations":
            if not isinstance(raw, list):
                raise ValueError("Organizations must be a list of organization ids")
            out = []
            for org in raw:
                oid = str(org.get("id") if isinstance(org, dict) else org)
                if oid not in self.organizations:
                    raise ValueError(f"Organization {oid} does not exist")
                out.append({"id": int(oid), "name": self.organizations[oid].name,
                            "_links": {"self": f"{base_url}/rest/servicedeskapi/organization/{oid}"}})
            return out
        if f.kind == "adf":
            problems = adf_errors(raw)
            if problems:
                raise ValueError("Operation value must be an Atlassian Document (see the Atlassian Document "
                                 f"Format): {problems[0]}")
            return raw
        raise ValueError(f"Field {f.id} cannot be set")

    def _change_item(self, f: FieldDef, old: Any, new: Any) -> dict[str, Any]:
        fieldtype = "custom" if f.custom else "jira"
        name = f.name if f.custom else f.id

        def describe(v: Any) -> tuple[str | None, str | None]:
            if v is None or v == []:
                return None, None
            if f.kind in ("select", "priority"):
                return v["id"], v.get("value", v.get("name"))
            if f.kind == "user":
                return v["accountId"], self.users[v["accountId"]].display_name
            if f.kind == "users":
                return (", ".join(u["accountId"] for u in v),
                        ", ".join(self.users[u["accountId"]].display_name for u in v))
            if f.kind == "organizations":
                return ", ".join(str(o["id"]) for o in v), ", ".join(o["name"] for o in v)
            if f.kind == "labels":
                return None, " ".join(v)
            if f.kind == "adf":
                return None, adf_to_wiki(v)
            return None, str(v)

        fr, frs = describe(old)
        to, tos = describe(new)
        return _item(name, fieldtype, f.id, fr, frs, to, tos)

    def set_properties(self, issue: Issue, properties: dict[str, Any]) -> list[str]:
        """Set entity properties; return which were created (Jira answers 201 for those, else 200)."""
        with self.lock:
            created = []
            for key, value in properties.items():
                if not key or len(key) > 255:
                    raise JiraError(400, ["The property key cannot be longer than 255 characters."])
                if len(json.dumps(value).encode()) > MAX_PROPERTY_BYTES:
                    raise JiraError(400, [f"The property '{key}' exceeds the {MAX_PROPERTY_BYTES} bytes limit."])
                if key not in issue.properties:
                    created.append(key)
                issue.properties[key] = value
            return created

    def transitions(self, issue: Issue) -> list[Transition]:
        current = issue.values["status"]
        return [t for t in issue.project.workflow.transitions
                if (not t.from_statuses or current in t.from_statuses) and t.to_status != current]

    def transition(self, issue: Issue, transition_id: str, actor: User,
                   fields: dict[str, Any] | None = None, base_url: str = "") -> Event:
        with self.lock:
            chosen = next((t for t in self.transitions(issue) if t.id == transition_id), None)
            if chosen is None:
                raise JiraError(400, [f"Transition id '{transition_id}' is not valid for this issue."])
            items = self.apply_fields(issue, fields, base_url) if fields else []
            old = self.statuses[issue.values["status"]]
            new = self.statuses[chosen.to_status]
            if new.category == "done" and not issue.values.get("resolution"):
                issue.values["resolution"] = {"self": f"{base_url}/rest/api/3/resolution/10000", "id": "10000",
                                              "description": "Work has been completed on this issue.",
                                              "name": "Done"}
                issue.values["resolutiondate"] = jira_time(self.now())
                items.append(_item("resolution", "jira", "resolution", None, None, "10000", "Done"))
            elif new.category != "done" and issue.values.get("resolution"):
                items.append(_item("resolution", "jira", "resolution", "10000", "Done", None, None))
                issue.values["resolution"] = None
                issue.values["resolutiondate"] = None
            issue.values["status"] = new.id
            issue.updated = self.now()
            items.append(_item("status", "jira", "status", old.id, old.name, new.id, new.name))
            return Event("jira:issue_updated", "issue_generic", issue.key, actor, items,
                         str(next(self._changelog_ids)), timestamp=issue.updated)

    def update_event(self, issue: Issue, actor: User, items: list[dict[str, Any]]) -> Event:
        type_name = "issue_assigned" if [i["fieldId"] for i in items] == ["assignee"] else "issue_updated"
        return Event("jira:issue_updated", type_name, issue.key, actor, items,
                     str(next(self._changelog_ids)), timestamp=self.now())

    def add_comment(self, issue: Issue, body: Any, author: User, *, internal: bool) -> tuple[Comment, Event]:
        with self.lock:
            problems = adf_errors(body)
            if problems:
                raise JiraError(400, ["Comment body is not valid!"], {"comment": problems[0]})
            comment = Comment(str(next(self._comment_ids)), author, body, self.now(), internal)
            issue.comments.append(comment)
            issue.updated = comment.created
            return comment, Event("comment_created", None, issue.key, author, comment=comment,
                                  timestamp=comment.created)


def _item(field_name: str, fieldtype: str, field_id: str, fr: Any, frs: Any, to: Any, tos: Any) -> dict[str, Any]:
    return {"field": field_name, "fieldtype": fieldtype, "fieldId": field_id, "from": fr, "fromString": frs,
            "to": to, "toString": tos}


def _priority(pid: str, name: str) -> dict[str, Any]:
    return {"self": f"/rest/api/3/priority/{pid}", "iconUrl": f"/images/icons/priorities/{name.lower()}.svg",
            "name": name, "id": pid}


def _absolute(value: Any, base_url: str) -> Any:
    """Prefix the site's base URL to the relative `self` links stored with values."""
    if isinstance(value, dict) and isinstance(value.get("self"), str) and value["self"].startswith("/"):
        return {**value, "self": base_url + value["self"]}
    if isinstance(value, list):
        return [_absolute(v, base_url) for v in value]
    return value


def issue_status_category(status_json: dict[str, Any]) -> str:
    return {"new": "NEW", "indeterminate": "INDETERMINATE", "done": "DONE"}[status_json["statusCategory"]["key"]]


def date_dto(moment: datetime) -> dict[str, Any]:
    """JSM's DateDTO."""
    return {"iso8601": moment.strftime("%Y-%m-%dT%H:%M:%S%z"), "jira": jira_time(moment),
            "friendly": moment.strftime("%d/%b/%y %I:%M %p"), "epochMillis": int(moment.timestamp() * 1000)}
