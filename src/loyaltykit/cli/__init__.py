"""The ``loyaltykit`` command: administration, imports, look-ups, reports and the demo.

One small module per command group; :mod:`loyaltykit.cli.console` holds what they share,
including the exit statuses (0 done, 1 refused, 2 usage, 3 storage, 4 rows refused).
Run ``loyaltykit --help`` or see ``docs/guides/command-line.md``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import NoReturn

import click

from loyaltykit.cli.console import OK, USAGE, report_error
from loyaltykit.cli.database import db, init
from loyaltykit.cli.demo import demo
from loyaltykit.cli.imports import import_group
from loyaltykit.cli.jobs import run_due
from loyaltykit.cli.members import customer, explain, statement
from loyaltykit.cli.outbox import outbox
from loyaltykit.cli.partners import settlement
from loyaltykit.cli.programs import program
from loyaltykit.cli.reports import report
from loyaltykit.cli.whatif import replay_command as replay

__all__ = ["cli", "main", "run"]


def _version() -> str:
    from loyaltykit import __version__

    return __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version=_version(), prog_name="loyaltykit", message="%(prog)s %(version)s")
def cli() -> None:
    """loyaltykit: run a customer loyalty programme from the shell."""


for command in (init, db, program, import_group, run_due, customer, statement, explain):
    cli.add_command(command)
cli.add_command(outbox)
for command in (replay, report, settlement, demo):
    cli.add_command(command)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments:
        print("loyaltykit: error: a command is needed (see 'loyaltykit --help')", file=sys.stderr)
        return USAGE
    try:
        cli.main(arguments, prog_name="loyaltykit", standalone_mode=False)
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.Abort:
        return 130
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        return report_error(error)
    return OK


def run() -> NoReturn:
    """The console script's entry point."""
    sys.exit(main())
