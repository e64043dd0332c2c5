"""Options several commands take: the database, the programme, ``--json``, ``--at``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from loyaltykit.bootstrap import Loyalty
from loyaltykit.formats.programs import Program

__all__ = [
    "at_option",
    "database",
    "json_option",
    "load_program",
    "open_loyalty",
    "program",
    "tenant_option",
]

F = TypeVar("F", bound=Callable[..., Any])

database = click.option(
    "--db",
    "url",
    envvar="LOYALTYKIT_DB",
    required=True,
    metavar="URL",
    help="storage URL, e.g. sqlite:///loyalty.db (or $LOYALTYKIT_DB)",
)
tenant_option = click.option(
    "--tenant",
    envvar="LOYALTYKIT_TENANT",
    default=None,
    metavar="KEY",
    help="the programme of a database that holds several, e.g. brand-a (or $LOYALTYKIT_TENANT);"
    " default: the default programme",
)
program = click.option(
    "--program",
    "program_file",
    envvar="LOYALTYKIT_PROGRAM",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="FILE",
    help="the programme, TOML or JSON (or $LOYALTYKIT_PROGRAM); default: the default programme",
)
json_option = click.option("--json", "as_json", is_flag=True, help="print JSON instead of tables")
at_option = click.option(
    "--at", "at_text", metavar="INSTANT", help="ISO 8601 with an offset (default: now)"
)


def load_program(path: Path | None) -> Program:
    """The programme a file holds (``.json`` or TOML); the default programme for ``None``."""
    if path is None:
        return Program()
    if path.suffix.lower() == ".json":
        return Program.from_json(path.read_text(encoding="utf-8"))
    return Program.from_toml(path)


def open_loyalty(
    url: str, program_file: Path | None, tenant: str | None = None, *, outbox: bool = False
) -> Loyalty:
    """The facade on the database ``url`` (its schema must be up to date), for the
    programme ``tenant`` of it (the default one for ``None``)."""
    return Loyalty(load_program(program_file), storage=url, tenant=tenant, outbox=outbox)
