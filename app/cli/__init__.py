"""The `tierwise` command line. Subcommands live in one module per area."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Tierwise: support-policy SLAs for Jira Service Management."""


def _register() -> None:
    from app.cli import demo, ops, policy_cmds

    policy_cmds.register(main)
    ops.register(main)
    demo.register(main)


_register()
