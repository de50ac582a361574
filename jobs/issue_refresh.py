"""Complete a Forge event's reduced issue with one REST read before tier and severity are derived.

Forge product events carry a reduced issue (Atlassian, "Jira events" reference, `avi:jira:created:issue`:
`summary`, `issueType`, `creator`, `created`, `project`, `reporter`, `assignee`, `updated`, `status`): no
priority, no custom fields, no organizations. The mapping reads exactly those, so an issue event that came
through Forge (`IssueEvent.partial_issue`) is re-read with the app's system token first — one
`GET /rest/api/3/issue/{key}?fields=…` naming only the fields the policy's mapping and phases look at —
and the event goes on with the issue as Jira has it now. Its own time, actor, kind and changelog stay.

Comment events are not re-read: the worker takes nothing from a comment event's issue part but the key
(a comment on an issue Tierwise never saw is read in full by the seeding path anyway).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from app.policy.events import IssueEvent, JsmFieldIds, parse_webhook
from app.policy.model import EmailDomainRule, FieldRule, MatrixRule, OrganizationRule, Policy

if TYPE_CHECKING:
    from jobs.context import TenantContext

#: Fields every issue event needs whatever the policy: phases (status), customers (reporter), the
#: record's dates, the project and type the actions' transition cache is keyed by, the assignee for notes.
BASE_FIELDS = ("status", "reporter", "assignee", "created", "updated", "project", "issuetype")
#: Asked for when a rule needs JSM organizations, whose custom field id differs per site.
ALL_NAVIGABLE = "*navigable"


def fields_needed(policy: Policy) -> tuple[str, ...]:
    """The issue fields the policy's mapping and phases read, in a stable order (the `fields` parameter)."""
    wanted = list(BASE_FIELDS)
    for rule in policy.mapping.rules:
        if isinstance(rule, FieldRule):
            wanted.append(rule.field)
        elif isinstance(rule, MatrixRule):
            wanted += [rule.impact_field, rule.urgency_field]
        elif isinstance(rule, OrganizationRule):
            wanted.append(ALL_NAVIGABLE)
        elif isinstance(rule, EmailDomainRule):
            pass  # the reporter's e-mail address comes with `reporter`
    return tuple(dict.fromkeys(wanted))


def read_reduced(ctx: TenantContext, event: IssueEvent, policy: Policy,
                 jsm_fields: JsmFieldIds | None = None) -> IssueEvent:
    """The issue of a reduced `event` read once, with only the fields `policy` reads, at the event's time.

    With the site's `jsm_fields`, its Request participants and Organizations fields are read too (the
    participants are customers of the request). A Jira failure propagates (`JiraError`): the job retries
    like for any call.
    """
    ids = jsm_fields or JsmFieldIds()
    extra = tuple(f for f in (ids.request_participants, ids.organizations) if f)
    issue = ctx.jira.get_issue(event.issue_key, fields=tuple(dict.fromkeys(fields_needed(policy) + extra)))
    issue = {**issue, "id": str(issue.get("id") or event.issue_id), "key": issue.get("key") or event.issue_key}
    read = parse_webhook({"webhookEvent": "jira:issue_created", "issue": issue,
                          "timestamp": int(event.at.timestamp() * 1000)}, jsm_fields=ids)
    assert isinstance(read, IssueEvent)
    return read


def complete(event: IssueEvent, read: IssueEvent) -> IssueEvent:
    """`event` with the issue as `read` (its own time, actor, kind and changelog stay)."""
    return replace(
        event,
        issue_key=read.issue_key,
        project_key=read.project_key or event.project_key,
        status_name=read.status_name,
        status_category=read.status_category,
        fields=read.fields,
        reporter_account_id=read.reporter_account_id,
        reporter_email=read.reporter_email,
        organizations=read.organizations,
        request_participants=read.request_participants,
        created_at=event.created_at or read.created_at,
        partial_issue=False,
    )

