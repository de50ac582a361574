"""The REST operations the stand-in answers, in Jira's shapes. Each takes a `Call` and returns a `Reply`."""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from standin import seed
from standin.adf import text_to_adf
from standin.state import JiraError, date_dto, issue_status_category

if TYPE_CHECKING:
    from standin.connect import InstalledApp
    from standin.server import JiraStandin

#: Project permissions a user of each kind holds in the seeded projects.
AGENT_PERMISSIONS = {"BROWSE_PROJECTS", "EDIT_ISSUES", "TRANSITION_ISSUES", "ADD_COMMENTS", "ASSIGN_ISSUES",
                     "SERVICEDESK_AGENT", "CREATE_ISSUES", "RESOLVE_ISSUES", "CLOSE_ISSUES"}
CUSTOMER_PERMISSIONS = {"BROWSE_PROJECTS", "ADD_COMMENTS", "CREATE_ISSUES"}
NOTIFY_MESSAGE = "To discard the user notification either admin or project admin permissions are required."


@dataclass
class Call:
    method: str
    path: str  # relative to the site's base URL
    params: Mapping[str, str]  # path parameters
    query: Any  # MultiDict
    body: Any
    app: InstalledApp


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def permissions_of(standin: JiraStandin, account_id: str) -> tuple[set[str], set[str]]:
    """(global, project) permissions of a user."""
    user = standin.site.user(account_id)
    if user.account_type == "app":
        app = next(a for a in standin.apps.values() if a.user.account_id == account_id)
        project: set[str] = set()
        glob: set[str] = set()
        if app.has_scope("READ"):
            project |= {"BROWSE_PROJECTS"}
        if app.has_scope("WRITE"):
            project |= AGENT_PERMISSIONS
        if app.has_scope("PROJECT_ADMIN"):
            project |= {"ADMINISTER_PROJECTS"}
        if app.has_scope("ADMIN"):
            glob |= {"ADMINISTER"}
        return glob, project
    if user.admin:
        return {"ADMINISTER", "USER_PICKER"}, AGENT_PERMISSIONS | {"ADMINISTER_PROJECTS"}
    if user.agent:
        return {"USER_PICKER"}, set(AGENT_PERMISSIONS)
    return set(), set(CUSTOMER_PERMISSIONS)


def server_info(s: JiraStandin, c: Call) -> Reply:
    return Reply(200, {"baseUrl": s.base_url, "displayUrl": s.base_url, "version": "1001.0.0-SNAPSHOT",
                       "versionNumbers": [1001, 0, 0], "deploymentType": "Cloud", "buildNumber": 100250,
                       "buildDate": "2026-11-20T00:00:00.000+0000", "serverTime": s.site.now().isoformat(),
                       "scmInfo": "standin", "serverTitle": "Jira"})


def myself(s: JiraStandin, c: Call) -> Reply:
    return Reply(200, _user_detail(s, c.app.user.account_id))


def get_user(s: JiraStandin, c: Call) -> Reply:
    account_id = c.query.get("accountId")
    if not account_id:
        raise JiraError(400, ["You must specify an accountId."])
    return Reply(200, _user_detail(s, account_id))


def _user_detail(s: JiraStandin, account_id: str) -> dict[str, Any]:
    user = s.site.user(account_id)
    out = s.site.user_json(user, s.base_url)
    out.update({"locale": "en_US", "expand": "groups,applicationRoles",
                "groups": {"size": 1 if user.admin else 0, "items": []},
                "applicationRoles": {"size": 1, "items": []}})
    if user.account_type == "app":
        out.pop("emailAddress", None)
    return out


def fields(s: JiraStandin, c: Call) -> Reply:
    out = []
    for f in s.site.fields.values():
        schema: dict[str, Any] = {"type": _schema_type(f.kind)}
        if f.custom:
            schema.update({"custom": f.custom_type, "customId": int(f.id.split("_")[1])})
        else:
            schema["system"] = f.id
        if f.kind in ("users", "organizations", "labels"):
            schema["items"] = {"users": "user", "organizations": "sd-customerorganization",
                               "labels": "string"}[f.kind]
        out.append({"id": f.id, "key": f.id, "name": f.name, "custom": f.custom, "orderable": True,
                    "navigable": True, "searchable": True,
                    "clauseNames": [f"cf[{f.id.split('_')[1]}]", f.name] if f.custom else [f.id],
                    "schema": schema})
    return Reply(200, out)


def _schema_type(kind: str) -> str:
    return {"datetime": "datetime", "select": "option", "string": "string", "number": "number",
            "user": "user", "users": "array", "organizations": "array", "priority": "priority",
            "labels": "array", "adf": "string"}.get(kind, "string")


def _custom_field(s: JiraStandin, field_id: str) -> seed.FieldDef:
    f = s.site.fields.get(field_id)
    if f is None or not f.custom:
        raise JiraError(404, ["The custom field was not found."])
    return f


def field_contexts(s: JiraStandin, c: Call) -> Reply:
    f = _custom_field(s, c.params["fieldId"])
    ctx = {"id": f"1{f.id.split('_')[1]}", "name": f"Default Configuration Scheme for {f.name}",
           "description": "Default configuration scheme generated by Jira", "isGlobalContext": True,
           "isAnyIssueType": True}
    return Reply(200, {"maxResults": 50, "startAt": 0, "total": 1, "isLast": True, "values": [ctx]})


def field_options(s: JiraStandin, c: Call) -> Reply:
    f = _custom_field(s, c.params["fieldId"])
    if c.params["contextId"] != f"1{f.id.split('_')[1]}":
        raise JiraError(404, ["The context was not found."])
    if f.kind != "select":
        raise JiraError(400, ["The custom field doesn't support options."])
    values = [{"id": oid, "value": value, "disabled": False} for oid, value in f.options]
    return Reply(200, {"maxResults": 100, "startAt": 0, "total": len(values), "isLast": True,
                       "values": values})


def statuses(s: JiraStandin, c: Call) -> Reply:
    return Reply(200, [s.site.status_json(st, s.base_url) for st in s.site.statuses.values()])


def get_issue(s: JiraStandin, c: Call) -> Reply:
    issue = s.site.issue(c.params["issueIdOrKey"])
    fields_q = ",".join(c.query.getlist("fields")).split(",") if c.query.get("fields") else None
    props_q = ",".join(c.query.getlist("properties")).split(",") if c.query.get("properties") else None
    return Reply(200, s.site.issue_json(issue, s.base_url, fields=fields_q, properties=props_q,
                                        expand=c.query.get("expand", "")))


def edit_issue(s: JiraStandin, c: Call) -> Reply:
    issue = s.site.issue(c.params["issueIdOrKey"])
    notify = c.query.get("notifyUsers", "true").lower() != "false"
    glob, project = permissions_of(s, c.app.user.account_id)
    if "EDIT_ISSUES" not in project:
        raise JiraError(403, ["You do not have permission to edit issues in this project."])
    if not notify and "ADMINISTER" not in glob and "ADMINISTER_PROJECTS" not in project:
        # The spec documents 403 only for the override flags, so this refusal is a 400.
        raise JiraError(400, [NOTIFY_MESSAGE])
    body = c.body or {}
    fields_in = dict(body.get("fields") or {})
    for fid, ops in (body.get("update") or {}).items():
        if fid in fields_in:
            raise JiraError(400, [], {fid: "Field cannot be set in both 'fields' and 'update'."})
        for op in ops:
            if "set" in op:
                fields_in[fid] = op["set"]
            elif fid == "labels" and ("add" in op or "remove" in op):
                current = list(fields_in.get("labels", issue.values.get("labels") or []))
                if "add" in op and op["add"] not in current:
                    current.append(op["add"])
                if "remove" in op and op["remove"] in current:
                    current.remove(op["remove"])
                fields_in["labels"] = current
            else:
                raise JiraError(400, [], {fid: f"Unsupported operation {sorted(op)} (the stand-in knows set)."})
    properties = {p["key"]: p.get("value") for p in body.get("properties") or []}
    with s.site.lock:
        items = s.site.apply_fields(issue, fields_in, s.base_url) if fields_in else []
        if properties:
            s.site.set_properties(issue, properties)
        event = s.site.update_event(issue, c.app.user, items) if items else None
    if event is not None:
        s.publish(event, notify=notify)
    if c.query.get("returnIssue", "false").lower() == "true":
        return Reply(200, s.site.issue_json(issue, s.base_url))
    return Reply(204)


def get_transitions(s: JiraStandin, c: Call) -> Reply:
    issue = s.site.issue(c.params["issueIdOrKey"])
    out = []
    for t in s.site.transitions(issue):
        to = s.site.status_json(s.site.statuses[t.to_status], s.base_url)
        out.append({"id": t.id, "name": t.name, "to": to, "hasScreen": False, "isGlobal": not t.from_statuses,
                    "isInitial": False, "isAvailable": True, "isConditional": False, "isLooped": False})
    return Reply(200, {"expand": "transitions", "transitions": out})


def do_transition(s: JiraStandin, c: Call) -> Reply:
    issue = s.site.issue(c.params["issueIdOrKey"])
    body = c.body or {}
    tid = (body.get("transition") or {}).get("id")
    if not tid:
        raise JiraError(400, ["Missing 'transition' identifier"])
    if "TRANSITION_ISSUES" not in permissions_of(s, c.app.user.account_id)[1]:
        raise JiraError(403, ["You do not have permission to transition this issue."])
    event = s.site.transition(issue, str(tid), c.app.user, body.get("fields"), s.base_url)
    if body.get("properties"):
        s.site.set_properties(issue, {p["key"]: p.get("value") for p in body["properties"]})
    s.publish(event)
    return Reply(204)


def get_comments(s: JiraStandin, c: Call) -> Reply:
    issue = s.site.issue(c.params["issueIdOrKey"])
    start = int(c.query.get("startAt", 0))
    size = int(c.query.get("maxResults", 5000))
    page = issue.comments[start:start + size]
    return Reply(200, {"startAt": start, "maxResults": size, "total": len(issue.comments),
                       "comments": [s.site.comment_json(issue, cm, s.base_url) for cm in page]})


def add_comment(s: JiraStandin, c: Call) -> Reply:
    issue = s.site.issue(c.params["issueIdOrKey"])
    body = c.body or {}
    internal = any(p.get("key") == "sd.public.comment" and (p.get("value") or {}).get("internal") is True
                   for p in body.get("properties") or [])
    comment, event = s.site.add_comment(issue, body.get("body"), c.app.user, internal=internal)
    s.publish(event)
    return Reply(201, s.site.comment_json(issue, comment, s.base_url))


def list_properties(s: JiraStandin, c: Call) -> Reply:
    issue = s.site.issue(c.params["issueIdOrKey"])
    base = f"{s.base_url}/rest/api/3/issue/{issue.id}/properties"
    return Reply(200, {"keys": [{"key": k, "self": f"{base}/{k}"} for k in issue.properties]})


def get_property(s: JiraStandin, c: Call) -> Reply:
    issue = s.site.issue(c.params["issueIdOrKey"])
    key = c.params["propertyKey"]
    if key not in issue.properties:
        raise JiraError(404, [f"The property with key '{key}' does not exist."])
    return Reply(200, {"key": key, "value": issue.properties[key]})


def put_property(s: JiraStandin, c: Call) -> Reply:
    issue = s.site.issue(c.params["issueIdOrKey"])
    created = s.site.set_properties(issue, {c.params["propertyKey"]: c.body})
    return Reply(201 if created else 200)


def delete_property(s: JiraStandin, c: Call) -> Reply:
    issue = s.site.issue(c.params["issueIdOrKey"])
    key = c.params["propertyKey"]
    with s.site.lock:
        if key not in issue.properties:
            raise JiraError(404, [f"The property with key '{key}' does not exist."])
        del issue.properties[key]
    return Reply(204)


def my_permissions(s: JiraStandin, c: Call) -> Reply:
    wanted = [p for p in (c.query.get("permissions") or "").split(",") if p]
    if not wanted:
        raise JiraError(400, ["The 'permissions' query parameter is required."])
    if c.query.get("issueKey") or c.query.get("issueId"):
        s.site.issue(c.query.get("issueKey") or c.query.get("issueId"))
    glob, project = permissions_of(s, c.app.user.account_id)
    out = {p: {"id": str(zlib.crc32(p.encode()) % 1000), "key": p, "name": p.replace("_", " ").title(),
               "type": "GLOBAL" if p in ("ADMINISTER", "USER_PICKER") else "PROJECT", "description": "",
               "havePermission": p in glob or p in project} for p in wanted}
    return Reply(200, {"permissions": out})


def _may_on_issue(s: JiraStandin, account_id: str, issue_id: str, perm: str, project: set[str]) -> bool:
    """A project permission on one issue, as Jira answers it: "Invalid project and issue IDs are ignored"
    (the spec's note on POST /rest/api/3/permissions/check), so an unknown issue is never granted; a
    portal customer holds no Jira project permission on issues (they reach requests through the portal)."""
    if perm not in project:
        return False
    try:
        s.site.issue(issue_id)
    except JiraError:
        return False
    return s.site.user(account_id).account_type != "customer"


def check_permissions(s: JiraStandin, c: Call) -> Reply:
    body = c.body or {}
    account_id = body.get("accountId") or c.app.user.account_id
    if account_id not in s.site.users:
        glob: set[str] = set()  # nobody: no permission anywhere
        project: set[str] = set()
    else:
        glob, project = permissions_of(s, account_id)
    out_projects = []
    for req in body.get("projectPermissions") or []:
        for perm in req.get("permissions") or []:
            ok = perm in project
            out_projects.append({"permission": perm,
                                 "projects": [p for p in req.get("projects") or [] if ok],
                                 "issues": [i for i in req.get("issues") or []
                                            if _may_on_issue(s, account_id, str(i), perm, project)]})
    return Reply(200, {"globalPermissions": [p for p in body.get("globalPermissions") or [] if p in glob],
                       "projectPermissions": out_projects})


def jsm_request(s: JiraStandin, c: Call) -> Reply:
    issue = s.site.issue(c.params["issueIdOrKey"])
    fields_json = s.site.issue_fields(issue, s.base_url)
    reporter = s.site.user(issue.values["reporter"]["accountId"])
    return Reply(200, {
        "_expands": ["participant", "status", "sla", "requestType", "serviceDesk", "attachment", "action",
                     "comment"],
        "issueId": issue.id, "issueKey": issue.key, "requestTypeId": issue.project.request_type_id,
        "serviceDeskId": issue.project.service_desk_id, "createdDate": date_dto(issue.created),
        "reporter": s.site.jsm_user_json(reporter, s.base_url),
        "requestFieldValues": [{"fieldId": "summary", "label": "Summary", "value": issue.values["summary"]}],
        "currentStatus": {"status": fields_json["status"]["name"],
                          "statusCategory": issue_status_category(fields_json["status"]),
                          "statusDate": date_dto(issue.updated)},
        "_links": {"jiraRest": f"{s.base_url}/rest/api/2/issue/{issue.id}",
                   "web": f"{s.base_url}/servicedesk/customer/portal/{issue.project.service_desk_id}/{issue.key}",
                   "self": f"{s.base_url}/rest/servicedeskapi/request/{issue.id}"},
    })


def jsm_comments(s: JiraStandin, c: Call) -> Reply:
    issue = s.site.issue(c.params["issueIdOrKey"])
    public = c.query.get("public", "true").lower() != "false"
    internal = c.query.get("internal", "true").lower() != "false"
    chosen = [cm for cm in issue.comments if (public and not cm.internal) or (internal and cm.internal)]
    values = [s.site.jsm_comment_json(cm, s.base_url) for cm in chosen]
    return Reply(200, {"_expands": [], "size": len(values), "start": 0, "limit": 50, "isLastPage": True,
                       "values": values,
                       "_links": {"base": s.base_url, "context": "", "self": f"{s.base_url}{c.path}"}})


def jsm_add_comment(s: JiraStandin, c: Call) -> Reply:
    issue = s.site.issue(c.params["issueIdOrKey"])
    body = c.body or {}
    text = body.get("body")
    if not isinstance(text, str) or not text.strip():
        raise JiraError(400, ["The comment body is required."])
    public = body.get("public", True)
    if "SERVICEDESK_AGENT" not in permissions_of(s, c.app.user.account_id)[1] and not public:
        raise JiraError(403, ["Only agents can add internal comments."])
    comment, event = s.site.add_comment(issue, text_to_adf(text), c.app.user, internal=not public)
    s.publish(event)
    return Reply(201, s.site.jsm_comment_json(comment, s.base_url))


#: (method, werkzeug rule, handler, Connect scope needed)
ROUTES = [
    ("GET", "/rest/api/3/serverInfo", server_info, "READ"),
    ("GET", "/rest/api/3/myself", myself, "READ"),
    ("GET", "/rest/api/3/user", get_user, "READ"),
    ("GET", "/rest/api/3/field", fields, "READ"),
    ("GET", "/rest/api/3/field/<fieldId>/context", field_contexts, "READ"),
    ("GET", "/rest/api/3/field/<fieldId>/context/<contextId>/option", field_options, "READ"),
    ("GET", "/rest/api/3/status", statuses, "READ"),
    ("GET", "/rest/api/3/issue/<issueIdOrKey>", get_issue, "READ"),
    ("PUT", "/rest/api/3/issue/<issueIdOrKey>", edit_issue, "WRITE"),
    ("GET", "/rest/api/3/issue/<issueIdOrKey>/transitions", get_transitions, "READ"),
    ("POST", "/rest/api/3/issue/<issueIdOrKey>/transitions", do_transition, "WRITE"),
    ("GET", "/rest/api/3/issue/<issueIdOrKey>/comment", get_comments, "READ"),
    ("POST", "/rest/api/3/issue/<issueIdOrKey>/comment", add_comment, "WRITE"),
    ("GET", "/rest/api/3/issue/<issueIdOrKey>/properties", list_properties, "READ"),
    ("GET", "/rest/api/3/issue/<issueIdOrKey>/properties/<propertyKey>", get_property, "READ"),
    ("PUT", "/rest/api/3/issue/<issueIdOrKey>/properties/<propertyKey>", put_property, "WRITE"),
    ("DELETE", "/rest/api/3/issue/<issueIdOrKey>/properties/<propertyKey>", delete_property, "WRITE"),
    ("GET", "/rest/api/3/mypermissions", my_permissions, "READ"),
    ("POST", "/rest/api/3/permissions/check", check_permissions, "READ"),
    ("GET", "/rest/servicedeskapi/request/<issueIdOrKey>", jsm_request, "READ"),
    ("GET", "/rest/servicedeskapi/request/<issueIdOrKey>/comment", jsm_comments, "READ"),
    ("POST", "/rest/servicedeskapi/request/<issueIdOrKey>/comment", jsm_add_comment, "WRITE"),
]
