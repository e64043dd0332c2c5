"""What every command shares: exit statuses, one-line errors, JSON or rich output.

Exit statuses a shell script can rely on:

=====  ==========================================================================
0      done
1      refused: bad input, an unknown customer or key, a rule that forbids it
2      a wrong command line (unknown command, missing argument, bad option value)
3      storage: the database is unreachable, or its schema is missing or behind
4      an import finished, but some rows were refused (each reported with its line)
130    interrupted (Ctrl-C)
=====  ==========================================================================
"""

from __future__ import annotations

import enum
import json
import sys
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any, TypeVar

import attrs
import click
from rich.console import Console

from loyaltykit.errors import LoyaltyError, StorageError
from loyaltykit.values import Money

__all__ = [
    "OK",
    "PARTLY",
    "REFUSED",
    "STORAGE",
    "USAGE",
    "Failure",
    "console",
    "emit",
    "instant",
    "one_line",
    "plain",
    "report_error",
    "status_of",
]

OK, REFUSED, USAGE, STORAGE, PARTLY = 0, 1, 2, 3, 4
PROG = "loyaltykit"

T = TypeVar("T")


class Failure(Exception):
    """A command's own refusal, with the exit status it ends with."""

    def __init__(self, message: str, status: int = REFUSED) -> None:
        super().__init__(message)
        self.status = status


def console() -> Console:
    """Rich output on standard output; plain text (no colours) when it is not a terminal."""
    return Console(highlight=False, soft_wrap=True)


def one_line(message: object) -> str:
    """A message on one line: drivers' messages may span several."""
    return " ".join(str(message).split())


def status_of(error: BaseException) -> int:
    """The exit status for an error a command raised."""
    if isinstance(error, Failure):
        return error.status
    if isinstance(error, StorageError):
        return STORAGE
    return REFUSED


def plain(value: Any) -> Any:
    """``value`` as JSON-compatible data: attrs classes as objects, money as
    ``{"amount": "12.50", "currency": "CNY"}``, instants in ISO 8601, decimals as text."""
    if isinstance(value, Money):
        return {"amount": str(value.amount), "currency": value.currency}
    if attrs.has(type(value)):
        return {
            field.name: plain(getattr(value, field.name))
            for field in attrs.fields(type(value))
            if field.repr is not False  # personal fields stay out of every output
        }
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal | Fraction):
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [plain(item) for item in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    return value


def emit(as_json: bool, data: T, show: Callable[[T], None]) -> None:
    """Print ``data`` as JSON (``--json``) or with ``show`` for people."""
    if as_json:
        click.echo(json.dumps(plain(data), ensure_ascii=False, indent=2))
    else:
        show(data)


def instant(text: str | None, *, option: str = "--at") -> datetime:
    """An aware instant from the command line (ISO 8601 with an offset), or now."""
    if text is None:
        from datetime import UTC

        # the shell is the one place that reads the clock: the library never does
        return datetime.now(UTC)
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not an ISO 8601 instant", param_hint=option
        ) from None
    if at.tzinfo is None:
        raise click.BadParameter(f"{text!r} has no UTC offset, e.g. +08:00", param_hint=option)
    return at


def report_error(error: BaseException) -> int:
    """Print ``error`` as one line on standard error; return its exit status."""
    if isinstance(error, click.UsageError):
        where = error.ctx.command_path if error.ctx is not None else PROG
        print(
            f"{PROG}: error: {one_line(error.format_message())} (see '{where} --help')",
            file=sys.stderr,
        )
        return USAGE
    if isinstance(error, LoyaltyError | Failure | click.ClickException):
        message = error.format_message() if isinstance(error, click.ClickException) else error
        print(f"{PROG}: error: {one_line(message)}", file=sys.stderr)
        return status_of(error)
    if isinstance(error, OSError):  # a file that cannot be read or written
        print(f"{PROG}: error: {one_line(error)}", file=sys.stderr)
        return REFUSED
    raise error
