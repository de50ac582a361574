"""Policy commands: `tierwise due`, `presets`, `policy show|validate`, `simulate`.

A stable interface: results are JSON on stdout, times in UTC ISO 8601 with `Z`. Exit status:
0 done; 2 a usage or input error (a missing or malformed option, an unknown preset, tier, severity
or phase, a file that cannot be read) with ONE line on stderr; 1 a validation failure (a policy
document or ticket history that was read but is invalid): one line on stderr, except for
`policy validate`, whose result (every error with its path) is its JSON on stdout. Never a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import click

from app.policy.errors import PolicyError
from app.policy.instants import utc_iso
from app.policy.model import Policy
from app.policy.phases import known_phases
from app.schemas.policy import PolicyDocumentError, load_policy, parse_document_text
from app.schemas.presets import list_presets, load_preset, preset_document

#: Years a ticket's times may fall in (deadlines a year past the latest still fit in a date).
EARLIEST_YEAR, LATEST_YEAR = 1970, 2200
#: Inputs at least this large get a progress bar on stderr.
PROGRESS_THRESHOLD = 5_000


class OneLineError(click.ClickException):
    """A validation failure, printed as a single `Error: …` line (exit status 1)."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


class OneLineUsageError(OneLineError):
    """A usage or input error, printed as a single line (exit status 2)."""

    exit_code = 2


class OneLineCommand(click.Command):
    """A command whose usage errors are one line on stderr (no usage block)."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as exc:
            raise OneLineUsageError(exc.format_message()) from None


def _fail(message: str, exit_code: int = 1) -> NoReturn:
    raise OneLineUsageError(message) if exit_code == 2 else OneLineError(message)


def _emit(data: object) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _utc(at: datetime | None) -> str | None:
    return None if at is None else utc_iso(at)


def _instant(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        _fail(f'{option}: "{text}" is not an ISO 8601 time (e.g. 2026-11-17T15:00:00+01:00)', 2)
    if at.utcoffset() is None:
        _fail(f'{option}: "{text}" needs a time zone offset (e.g. +01:00 or Z)', 2)
    if not EARLIEST_YEAR <= at.year <= LATEST_YEAR:
        _fail(f'{option}: "{text}" is not between the years {EARLIEST_YEAR} and {LATEST_YEAR}', 2)
    return at


def _starts(values: tuple[str, ...]) -> dict[str, datetime]:
    """`--start TARGET=ISO8601` values as target id → instant."""
    found: dict[str, datetime] = {}
    for value in values:
        target_id, sep, text = value.partition("=")
        if not sep or not target_id:
            _fail(f'--start: "{value}" is not TARGET=ISO8601', 2)
        at = _instant(text, f"--start {target_id}")
        assert at is not None
        found[target_id] = at
    return found


def _read_text(path: str) -> str:
    """The file's text; a usage error (exit 2) naming it when it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        _fail(f"cannot read {path}: {exc.strerror}", 2)
    except UnicodeDecodeError:
        _fail(f"cannot read {path}: not UTF-8 text", 2)


def read_policy_file(path: str) -> Policy:
    """Load a policy document file (JSON or YAML): exit 2 when unreadable, PolicyError when invalid."""
    return load_policy(parse_document_text(_read_text(path), path))


def _preset(preset_id: str) -> Policy:
    try:
        return load_preset(preset_id)
    except PolicyError as exc:  # an unknown id: the command line is wrong
        _fail(str(exc), 2)


def _choose_policy(preset: str | None, policy_file: str | None, what: str = "--preset or --policy") -> Policy:
    if (preset is None) == (policy_file is None):
        _fail(f"give exactly one of {what}", 2)
    return _preset(preset) if preset is not None else read_policy_file(policy_file)  # type: ignore[arg-type]


def _known(kind: str, value: str, known: list[str]) -> None:
    """A usage error (exit 2) unless `value` is one of `known`, listing them."""
    if value not in known:
        _fail(f'--{kind}: unknown {kind} "{value}" (known: {", ".join(known)})', 2)


def _check_ticket(policy: Policy, tier: str, severity: str, phase: str,
                  created_at: datetime, responded_at: datetime | None) -> None:
    """Usage errors (exit 2) for a tier, severity or phase the policy does not have, or a reply before creation."""
    _known("tier", tier, list(policy.tiers))
    _known("severity", severity, [s.id for s in policy.severities])
    _known("phase", phase, list(known_phases(policy)))
    if responded_at is not None and responded_at < created_at:
        _fail(f"--responded: {responded_at.isoformat()} is earlier than --created {created_at.isoformat()}", 2)


def _guarded(run: Callable[[], None]) -> None:
    """Run a command body, turning policy errors into one line on stderr."""
    try:
        run()
    except PolicyDocumentError as exc:
        _fail(exc.first_line())
    except PolicyError as exc:
        _fail(str(exc))
    except OverflowError as exc:
        _fail(f"a deadline falls outside the dates Tierwise can compute ({exc})")


@click.command(cls=OneLineCommand)
@click.option("--preset", help="A built-in preset id (see `tierwise presets`).")
@click.option("--policy", "policy_file", type=str, help="A policy document (JSON or YAML).")
@click.option("--tier", required=True, help="A tier id of the policy (e.g. standard); see `tierwise policy show`.")
@click.option("--severity", required=True, help="A severity id of the policy (e.g. sev1).")
@click.option("--created", required=True, help="ISO 8601 with an offset, e.g. 2026-11-17T15:00:00+01:00")
@click.option("--responded", help="The last customer-facing update (ISO 8601 with an offset).")
@click.option(
    "--phase", default="active", show_default=True, help="The phase the ticket is in since --responded."
)
@click.option(
    "--custom", "show_custom", is_flag=True, help="Also print the custom targets' deadlines (`custom_targets`)."
)
@click.option(
    "--start",
    "starts",
    multiple=True,
    metavar="TARGET=ISO8601",
    help="When a custom target's clock started (repeatable); implies --custom.",
)
def due(
    preset: str | None,
    policy_file: str | None,
    tier: str,
    severity: str,
    created: str,
    responded: str | None,
    phase: str,
    show_custom: bool,
    starts: tuple[str, ...],
) -> None:
    """Print the first response, next update and resolution deadlines of a ticket (and custom targets')."""
    from app.policy.custom_targets import custom_deadlines
    from app.policy.sla import deadlines

    created_at = _instant(created, "--created")
    responded_at = _instant(responded, "--responded")
    started = _starts(starts)

    def run() -> None:
        policy = _choose_policy(preset, policy_file)
        assert created_at is not None
        _check_ticket(policy, tier, severity, phase, created_at, responded_at)
        result: dict[str, Any] = {
            key: _utc(at) for key, at in deadlines(policy, tier, severity, created_at, responded_at, phase).items()
        }
        if show_custom or started:
            custom = custom_deadlines(policy, tier, severity, created_at, started)
            unknown = sorted(set(started) - set(custom))
            if unknown:
                known = ", ".join(custom) or "none"
                _fail(f'--start: "{unknown[0]}" is not a custom target of {tier} × {severity} (known: {known})', 2)
            result["custom_targets"] = {target_id: _utc(at) for target_id, at in custom.items()}
        _emit(result)

    _guarded(run)


@click.command(cls=OneLineCommand)
def presets() -> None:
    """List the built-in presets (id, name, description)."""
    _emit(list_presets())


@click.group()
def policy() -> None:
    """Show and validate policy documents."""


@policy.command(name="show", cls=OneLineCommand)
@click.argument("preset_id")
def show(preset_id: str) -> None:
    """Print a built-in preset as a policy document."""
    _preset(preset_id)
    _guarded(lambda: _emit(preset_document(preset_id)))


@policy.command(name="validate", cls=OneLineCommand)
@click.argument("file", type=str)
def validate(file: str) -> None:
    """Check a policy document; JSON on stdout: every problem with its path (exit 1), or a summary (exit 0)."""
    try:
        loaded = read_policy_file(file)
    except PolicyDocumentError as exc:
        _emit({"valid": False, "errors": [{"path": p, "message": m} for p, m in exc.errors]})
        sys.exit(1)
    except PolicyError as exc:
        _fail(str(exc))
    except OverflowError as exc:
        _fail(f"a deadline falls outside the dates Tierwise can compute ({exc})")
    _emit(
        {
            "valid": True,
            "id": loaded.id,
            "name": loaded.name,
            "calendars": list(loaded.calendars),
            "severities": [s.id for s in loaded.severities],
            "tiers": list(loaded.tiers),
        }
    )


@click.command(cls=OneLineCommand)
@click.option("--preset", help="A built-in preset id.")
@click.option("--policy", "policy_file", help="A policy document (JSON or YAML).")
@click.option("--tickets", "tickets_file", required=True, help="Ticket histories, one JSON object per line.")
@click.option("--against", "against_file", help="A second policy document to compare with.")
@click.option("--against-preset", help="A built-in preset to compare with.")
@click.option("--as-of", help="Judge open tickets at this time (default: the latest time in the input).")
def simulate(
    preset: str | None,
    policy_file: str | None,
    tickets_file: str,
    against_file: str | None,
    against_preset: str | None,
    as_of: str | None,
) -> None:
    """Back-test a policy on ticket histories: met/breached per tier × severity (and the difference)."""
    from tqdm import tqdm

    from app.policy import simulate as sim

    as_of_at = _instant(as_of, "--as-of")

    def run() -> None:
        policy = _choose_policy(preset, policy_file)
        against = None
        if against_file is not None or against_preset is not None:
            against = _choose_policy(against_preset, against_file, "--against or --against-preset")
        tickets = list(sim.read_tickets(_read_text(tickets_file).splitlines(keepends=True)))
        if not tickets:
            raise PolicyError(f"{tickets_file} holds no tickets")
        when = as_of_at or sim.default_as_of(tickets)
        progress = tqdm(
            tickets,
            desc="simulating",
            unit="ticket",
            file=sys.stderr,
            disable=len(tickets) < PROGRESS_THRESHOLD,
        )
        if against is None:
            _emit(sim.report_json(sim.simulate(policy, progress, when)))
        else:
            _emit(sim.comparison_json(sim.compare(policy, against, progress, when)))

    _guarded(run)


def register(group: click.Group) -> None:
    """Add the policy commands to the `tierwise` group."""
    for command in (due, presets, policy, simulate):
        group.add_command(command)
