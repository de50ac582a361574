"""The site the stand-in starts with: users, statuses, workflows, fields and projects.

Shapes and the first users come from the real webhook payloads in `../shared/peers/webhooks/`
(the admin "Test User" and the agent "Sample User" are the accounts found there); the Service Management
pieces (organizations, participants, SLA date fields, tier and severity selects) are built on those shapes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: statusCategory key -> (id, name, colorName), as Jira Cloud reports them.
STATUS_CATEGORIES: dict[str, tuple[int, str, str]] = {
    "new": (2, "To Do", "blue-gray"),
    "indeterminate": (4, "In Progress", "yellow"),
    "done": (3, "Done", "green"),
}


@dataclass(frozen=True)
class User:
    account_id: str
    display_name: str
    email: str | None
    account_type: str = "atlassian"  # "atlassian" | "app" | "customer"
    time_zone: str = "Etc/UTC"
    admin: bool = False
    agent: bool = False
    legacy_name: str | None = None  # the `name`/`key` older payloads still carry


@dataclass(frozen=True)
class Status:
    id: str
    name: str
    category: str


@dataclass(frozen=True)
class Transition:
    id: str
    name: str
    to_status: str  # status id
    from_statuses: tuple[str, ...] = ()  # empty: available from every status (a global transition)


@dataclass(frozen=True)
class Workflow:
    name: str
    transitions: tuple[Transition, ...]


@dataclass(frozen=True)
class FieldDef:
    id: str
    name: str
    kind: str  # datetime | select | string | number | user | users | organizations | priority | labels | adf | readonly
    custom: bool = False
    custom_type: str | None = None
    options: tuple[tuple[str, str], ...] = ()  # (option id, value) for selects


@dataclass(frozen=True)
class Organization:
    id: str
    name: str


@dataclass
class Project:
    id: str
    key: str
    name: str
    workflow: Workflow
    service_desk_id: str
    project_type: str = "service_desk"
    request_type_id: str = "10"
    customers: list[str] = field(default_factory=list)


ADMIN = User("5c5f880629be9642ba529340", "Test User", "some-instance-test@gmail.com",
             time_zone="America/Los_Angeles", admin=True, agent=True, legacy_name="admin")
AGENT = User("5cedcb4355a88a0fc86388ba", "Sample User", "user@example.com",
             time_zone="America/Vancouver", agent=True, legacy_name="sample.user")
CUSTOMER = User("qm:4c1e6d2a-8d5b-4f1f-9a5e-0d3c1f2b7a10:5f9e2a71", "Casey Customer",
                "casey@acme.example", account_type="customer", time_zone="Europe/Berlin")
CUSTOMER_2 = User("qm:4c1e6d2a-8d5b-4f1f-9a5e-0d3c1f2b7a10:7b12c0de", "Robin Regulated",
                  "robin@bank.example", account_type="customer", time_zone="Europe/London")

STATUSES = (
    Status("10001", "Open", "new"),
    Status("3", "In Progress", "indeterminate"),
    Status("10002", "Waiting for customer", "indeterminate"),
    Status("10003", "Mitigated", "indeterminate"),
    Status("10005", "Pending", "indeterminate"),
    Status("10004", "Resolved", "done"),
    Status("6", "Closed", "done"),
)
OPEN, IN_PROGRESS, WAITING, MITIGATED, PENDING, RESOLVED, CLOSED = (s.id for s in STATUSES)

#: The service desk workflow; transition ids differ from the ops workflow's on purpose
#: (an app must resolve transitions by name per workflow).
SUPPORT_WORKFLOW = Workflow("SUP: Jira Service Management default workflow", (
    Transition("11", "Start progress", IN_PROGRESS, (OPEN, WAITING, MITIGATED, PENDING)),
    Transition("21", "Wait for customer", WAITING, (OPEN, IN_PROGRESS, MITIGATED)),
    Transition("31", "Respond to support", IN_PROGRESS, (WAITING,)),
    Transition("41", "Mitigate", MITIGATED, (OPEN, IN_PROGRESS, WAITING)),
    Transition("51", "Resolve", RESOLVED, (OPEN, IN_PROGRESS, WAITING, MITIGATED)),
    Transition("61", "Close", CLOSED, (RESOLVED,)),
    Transition("71", "Reopen", OPEN, (RESOLVED, CLOSED)),
    Transition("81", "Pending", PENDING, (OPEN, IN_PROGRESS)),
))
OPS_WORKFLOW = Workflow("OPS: incident workflow", (
    Transition("711", "Start progress", IN_PROGRESS, (OPEN,)),
    Transition("721", "Mitigate", MITIGATED, (OPEN, IN_PROGRESS)),
    Transition("761", "Resolve", RESOLVED, ()),
    Transition("781", "Reopen", OPEN, (RESOLVED,)),
))

ORGANIZATIONS = (Organization("1", "Acme Corp"), Organization("2", "Globex Bank"), Organization("3", "Initech"),
                 Organization("4", "Solution Partners"), Organization("5", "Marketplace Partners"))

PRIORITIES = (("1", "Highest"), ("2", "High"), ("3", "Medium"), ("4", "Low"), ("5", "Lowest"))

_DT = "com.atlassian.jira.plugin.system.customfieldtypes:datetime"
_SELECT = "com.atlassian.jira.plugin.system.customfieldtypes:select"
FIELDS = (
    FieldDef("summary", "Summary", "string"),
    FieldDef("description", "Description", "adf"),
    FieldDef("priority", "Priority", "priority"),
    FieldDef("status", "Status", "readonly"),
    FieldDef("resolution", "Resolution", "readonly"),
    FieldDef("reporter", "Reporter", "user"),
    FieldDef("assignee", "Assignee", "user"),
    FieldDef("labels", "Labels", "labels"),
    FieldDef("created", "Created", "readonly"),
    FieldDef("updated", "Updated", "readonly"),
    FieldDef("issuetype", "Issue Type", "readonly"),
    FieldDef("project", "Project", "readonly"),
    FieldDef("customfield_10002", "Organizations", "organizations", True,
             "com.atlassian.servicedesk:sd-customer-organizations"),
    FieldDef("customfield_10003", "Request participants", "users", True,
             "com.atlassian.servicedesk:sd-request-participants"),
    FieldDef("customfield_10100", "First response due", "datetime", True, _DT),
    FieldDef("customfield_10101", "Next update due", "datetime", True, _DT),
    FieldDef("customfield_10102", "Resolution due", "datetime", True, _DT),
    FieldDef("customfield_10103", "Tier", "select", True, _SELECT,
             (("10200", "Standard"), ("10201", "Premium"), ("10202", "Strategic"))),
    FieldDef("customfield_10104", "Severity", "select", True, _SELECT,
             (("10210", "Sev-1"), ("10211", "Sev-2"), ("10212", "Sev-3"), ("10213", "Sev-4"))),
    # Impact, Urgency and Plan use the ids Tierwise's presets name (customfield_10004/10005/10050).
    FieldDef("customfield_10004", "Impact", "select", True, _SELECT,
             (("10220", "Extensive / Widespread"), ("10221", "Significant / Large"),
              ("10222", "Moderate / Limited"), ("10223", "Minor / Localized"))),
    FieldDef("customfield_10005", "Urgency", "select", True, _SELECT,
             (("10230", "Critical"), ("10231", "High"), ("10232", "Medium"), ("10233", "Low"))),
    FieldDef("customfield_10050", "Plan", "select", True, _SELECT,
             (("10240", "Essentials"), ("10241", "Enterprise"), ("10242", "Regulated"), ("10243", "Community"),
              ("10244", "Basic"), ("10245", "Standard"), ("10246", "Premium"))),
    FieldDef("customfield_10108", "SLA state", "string", True,
             "com.atlassian.jira.plugin.system.customfieldtypes:textfield"),
    FieldDef("customfield_10072", "Story points", "number", True,
             "com.atlassian.jira.plugin.system.customfieldtypes:float"),
)


def projects() -> list[Project]:
    """Two service desk projects with different workflows."""
    return [
        Project("10000", "SUP", "Customer Support", SUPPORT_WORKFLOW, "1",
                customers=[CUSTOMER.account_id, CUSTOMER_2.account_id]),
        Project("10001", "OPS", "Operations Desk", OPS_WORKFLOW, "2", customers=[CUSTOMER.account_id]),
    ]


def users() -> list[User]:
    return [ADMIN, AGENT, CUSTOMER, CUSTOMER_2]


def avatar_urls(account_id: str) -> dict[str, Any]:
    base = f"https://avatar-management--avatars.us-west-2.prod.public.atl-paas.net/{account_id}/128"
    return {f"{n}x{n}": f"{base}?size={n}&s={n}" for n in (48, 24, 16, 32)}
