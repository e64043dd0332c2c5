"""The ``loyaltykit`` command: database administration from the shell.

``loyaltykit db upgrade URL [--revision REV]`` creates or upgrades a database's schema;
``loyaltykit db current URL`` prints the revision a database is at. Errors are one line on
standard error and a non-zero exit status (1 for a refused operation, 2 for a wrong
command line), never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn, TextIO

from loyaltykit.errors import LoyaltyError

__all__ = ["main", "run"]

PROG = "loyaltykit"


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line, like every other error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _shown(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # a malformed URL is reported by the command itself
        return url


def _upgrade(arguments: argparse.Namespace, out: TextIO) -> int:
    from loyaltykit.storage import sql

    sql.upgrade(arguments.url, arguments.revision)
    now = sql.revision(arguments.url)
    label = " (head)" if now == sql.head() else ""
    print(f"{_shown(arguments.url)} is at schema revision {now}{label}", file=out)
    return 0


def _current(arguments: argparse.Namespace, out: TextIO) -> int:
    from loyaltykit.storage import sql

    now = sql.revision(arguments.url)
    if now is None:
        print("none", file=out)
    else:
        print(f"{now} (head)" if now == sql.head() else now, file=out)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="loyaltykit administration.")
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    database = commands.add_parser("db", help="create, upgrade and inspect a SQL database's schema")
    actions = database.add_subparsers(title="actions", required=True, metavar="ACTION")
    upgrade = actions.add_parser(
        "upgrade",
        help="create or upgrade a database's schema",
        description="Create the loyaltykit schema in an empty database, or upgrade it.",
    )
    upgrade.add_argument("url", metavar="URL", help="e.g. sqlite:///loyalty.db")
    upgrade.add_argument(
        "--revision", default="head", metavar="REV", help="target revision (default: head)"
    )
    upgrade.set_defaults(action=_upgrade)
    current = actions.add_parser(
        "current",
        help="print a database's schema revision",
        description="Print the schema revision, with '(head)' when it is the latest, "
        "or 'none' when the database has no loyaltykit schema.",
    )
    current.add_argument("url", metavar="URL")
    current.set_defaults(action=_current)
    return parser


def main(
    argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run the command line ``argv``; return the exit status."""
    arguments = _parser().parse_args(argv)
    action: Callable[[argparse.Namespace, TextIO], int] = arguments.action
    try:
        return action(arguments, out or sys.stdout)
    except LoyaltyError as error:
        # the message names the bad value; the traceback would add nothing for a user.
        # Drivers' messages may span lines: one line is easier to log and to grep
        print(f"{PROG}: error: {' '.join(str(error).split())}", file=err or sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def run() -> NoReturn:
    """The console script's entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
