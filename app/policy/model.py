"""The support policy as frozen dataclasses: calendars, severities, tiers, mapping, phases, actions.

A `Policy` is built from a policy document by `app.schemas` (which resolves holiday dates at the
edge) and is read by the engine in `app.policy.calendar` / `app.policy.sla`. Nothing here touches
the clock, the network or a database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date

from app.policy.durations import Duration

#: Phase ids with built-in meaning. Other phase ids may be declared and used as cadence keys.
ACTIVE = "active"
MITIGATED = "mitigated"
STABILIZED = "stabilized"
PAUSED = "paused"  # the clock stops
CLOSED = "closed"  # resolution met; no further updates due
BUILTIN_PHASES = (ACTIVE, MITIGATED, STABILIZED, PAUSED, CLOSED)

#: The SLA targets a ticket can have.
FIRST_RESPONSE = "first_response"
NEXT_UPDATE = "next_update"
RESOLUTION = "resolution"
TARGETS = (FIRST_RESPONSE, NEXT_UPDATE, RESOLUTION)

#: The id of the built-in round-the-clock calendar.
CALENDAR_24X7 = "24x7"

#: Minutes in a day; weekly open intervals are minute offsets within [0, 1440].
MINUTES_PER_DAY = 24 * 60

OpenInterval = tuple[int, int]
"""An open interval within a day: (start minute, end minute), 0 <= start < end <= 1440."""


@dataclass(frozen=True)
class CalendarSpec:
    """A business-hours calendar as the policy declares it, with holiday dates already resolved.

    `weekly[0]` is Monday … `weekly[6]` Sunday. `holidays` maps each resolved holiday date to its
    name (for display); they close the desk only when `holidays_close` is true. `extra_closed`
    always closes; `extra_open` opens a date that would otherwise be closed (holiday or weekend)
    with the calendar's standard day hours. `day_length_minutes` is the open time of one business
    day (None: the most common open length of a working day).
    """

    id: str
    timezone: str
    weekly: tuple[tuple[OpenInterval, ...], ...]
    holidays: Mapping[date, str] = dc_field(default_factory=dict)
    holidays_close: bool = True
    extra_closed: frozenset[date] = frozenset()
    extra_open: frozenset[date] = frozenset()
    day_length_minutes: int | None = None
    holiday_country: str | None = None
    holiday_subdivision: str | None = None
    holiday_years: tuple[int, int] | None = None  # inclusive range the holiday dates cover

    @property
    def is_24x7(self) -> bool:
        """True when open all day every day with nothing closed: elapsed time, not open time."""
        full = ((0, MINUTES_PER_DAY),)
        return (
            all(day == full for day in self.weekly)
            and not self.extra_closed
            and not (self.holidays and self.holidays_close)
        )


@dataclass(frozen=True)
class Severity:
    """One level of the severity model, most severe first in `Policy.severities`."""

    id: str
    name: str
    definition: str = ""
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Target:
    """A timed target on a calendar, or best effort (`duration is None`) with informational text."""

    duration: Duration | None
    calendar: str | None = None
    note: str | None = None

    @property
    def is_timed(self) -> bool:
        return self.duration is not None and not self.duration.at_closure


#: A target with nothing promised.
BEST_EFFORT = Target(duration=None)


@dataclass(frozen=True)
class TierTargets:
    """What one tier promises for one severity."""

    first_response: Target = BEST_EFFORT
    update_cadence: Mapping[str, Target] = dc_field(default_factory=dict)  # phase id -> cadence
    resolution: Target = BEST_EFFORT
    eta_required: bool = False
    page_on_call: bool = False

    def cadence_for(self, phase: str) -> Target | None:
        """The update cadence in `phase`, or None when the phase has none."""
        return self.update_cadence.get(phase)


@dataclass(frozen=True)
class Tier:
    id: str
    name: str
    targets: Mapping[str, TierTargets]  # severity id -> targets


# --- mapping: ticket facts -> tier and severity -------------------------------------------------


@dataclass(frozen=True)
class FieldRule:
    """A field's value (or option name) decides the severity or the tier.

    `values` maps case-folded field values to a severity/tier id. With `values` empty and
    `sets == "severity"`, the value is matched against each severity's id, name and aliases.
    """

    sets: str  # "severity" | "tier"
    field: str  # "priority", "customfield_10042", …
    values: Mapping[str, str] = dc_field(default_factory=dict)


@dataclass(frozen=True)
class OrganizationRule:
    """The JSM organization's name decides the tier (case-folded name -> tier id)."""

    values: Mapping[str, str]
    sets: str = "tier"


@dataclass(frozen=True)
class EmailDomainRule:
    """The reporter's e-mail domain decides the tier (case-folded domain -> tier id)."""

    values: Mapping[str, str]
    sets: str = "tier"


@dataclass(frozen=True)
class MatrixRule:
    """Impact × urgency decides the severity: (impact value, urgency value), case-folded -> severity id."""

    impact_field: str
    urgency_field: str
    matrix: Mapping[tuple[str, str], str]
    sets: str = "severity"


MappingRule = FieldRule | OrganizationRule | EmailDomainRule | MatrixRule


@dataclass(frozen=True)
class MappingRules:
    """Ordered rules; the first that matches decides. Defaults apply when none does."""

    rules: tuple[MappingRule, ...] = ()
    default_tier: str | None = None
    default_severity: str | None = None


# --- phases -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PhaseRule:
    """Which Jira statuses (case-folded names) or status categories (`new`, `indeterminate`, `done`) mean `phase`."""

    phase: str
    statuses: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()


# --- warnings and actions (carried out by the worker) -------------------------------------------


@dataclass(frozen=True)
class PreBreach:
    """When to warn before a breach: a lead time before the deadline, or a share of the target elapsed."""

    lead: Duration | None = None
    share: float | None = None  # 0 < share < 1


@dataclass(frozen=True)
class Action:
    """Something the worker does on an SLA event.

    `on` is `created`, `pre_breach` or `breach`; `targets` limits it to some targets (empty: all);
    `severities` / `tiers` limit it likewise. `kind` is `note` (internal note mentioning the
    assignee), `transition` (params: `name`), `set_field` (params: `field`, `value`) or `page`
    (params: `url`; posts ticket, tier, severity and target to an on-call webhook).
    """

    on: str
    kind: str
    params: Mapping[str, str] = dc_field(default_factory=dict)
    targets: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()


# --- custom targets (start / stop / pause conditions) ---------------------------------------------

#: Condition kinds (`Condition.kind`); `values` holds what each one names.
CREATED = "created"  # the ticket was created (no values)
ENTERED_STATUS = "entered_status"  # the ticket entered one of these Jira statuses (case-folded names)
ENTERED_PHASE = "entered_phase"  # the ticket entered one of these phases (ids)
FIELD_SET = "field_set"  # one of these fields got a value after having none (field ids)
FIELD_CHANGED = "field_changed"  # one of these fields changed value, set or cleared (field ids)
CUSTOMER_COMMENT = "customer_comment"  # a customer commented (no values)
AGENT_REPLY = "agent_reply"  # an agent replied publicly, customer-facing (no values)
LINKED_ISSUE = "linked_issue_created"  # an issue of one of these types was linked (case-folded names)
LABEL_ADDED = "label_added"  # one of these labels was added (case-folded)
CONDITION_KINDS = (
    CREATED, ENTERED_STATUS, ENTERED_PHASE, FIELD_SET, FIELD_CHANGED, CUSTOMER_COMMENT, AGENT_REPLY,
    LINKED_ISSUE, LABEL_ADDED,
)  # fmt: skip
#: Kinds that take no values (`{"created": true}`).
FLAG_CONDITIONS = (CREATED, CUSTOMER_COMMENT, AGENT_REPLY)
#: Kinds a stop condition may not use (a ticket is created once, before anything can start).
START_ONLY_CONDITIONS = (CREATED,)


@dataclass(frozen=True)
class Condition:
    """One start, stop or restart condition of a custom target (kind and what it names)."""

    kind: str
    values: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CustomTarget:
    """A target defined by conditions: its clock starts on any `start`, stops on any `stop`.

    The clock runs on `target`'s calendar and duration, stops while the ticket is in one of
    `pause_phases`, and applies to the listed `tiers` / `severities` only (empty: all). Without
    `recurring` it runs once (the first start); with it, each start after a stop begins a new
    cycle ("answer every customer comment within 4 business hours").
    """

    id: str
    name: str
    target: Target
    start: tuple[Condition, ...]
    stop: tuple[Condition, ...]
    pause_phases: frozenset[str] = frozenset()
    recurring: bool = False
    tiers: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    description: str = ""

    def applies_to(self, tier: str, severity: str) -> bool:
        return (not self.tiers or tier in self.tiers) and (not self.severities or severity in self.severities)


# --- what the published policy says beyond targets -----------------------------------------------

#: `PolicyNote.when` values: always, or only on a holiday of the note's calendar.
ALWAYS = "always"
ON_HOLIDAYS = "holidays"
NOTE_OCCASIONS = (ALWAYS, ON_HOLIDAYS)


@dataclass(frozen=True)
class PolicyNote:
    """A sentence of the published policy for agents to see, enforced by Tierwise or not.

    `enforced` says whether the targets implement it (False: shown only, e.g. "times may be
    moderately delayed on holidays"). `when` is `always` or `holidays` (only on a holiday of
    `calendar`); `tiers` / `severities` narrow it (empty: all).
    """

    id: str
    text: str
    enforced: bool = False
    when: str = ALWAYS
    calendar: str | None = None
    tiers: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    source: str = ""  # the section of the published policy it comes from


@dataclass(frozen=True)
class Policy:
    """A whole support policy, ready for the engine."""

    id: str
    name: str
    description: str
    calendars: Mapping[str, CalendarSpec]
    severities: tuple[Severity, ...]
    tiers: Mapping[str, Tier]
    mapping: MappingRules = MappingRules()
    phases: tuple[PhaseRule, ...] = ()
    pre_breach: PreBreach = PreBreach()
    actions: tuple[Action, ...] = ()
    source: str = ""  # where the published policy comes from (URL or citation)
    custom_targets: tuple[CustomTarget, ...] = ()
    notes: tuple[PolicyNote, ...] = ()

    def custom_targets_for(self, tier: str, severity: str) -> tuple[CustomTarget, ...]:
        """The custom targets a ticket of `tier` × `severity` has, in policy order."""
        return tuple(t for t in self.custom_targets if t.applies_to(tier, severity))

    def targets_for(self, tier: str, severity: str) -> TierTargets:
        """The targets of `tier` × `severity` (KeyError when either is unknown)."""
        return self.tiers[tier].targets[severity]

    def severity(self, severity_id: str) -> Severity:
        for s in self.severities:
            if s.id == severity_id:
                return s
        raise KeyError(severity_id)
