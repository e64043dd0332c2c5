"""``loyaltykit init`` and ``loyaltykit db``: create, upgrade and inspect a schema."""

from __future__ import annotations

import click

from loyaltykit.cli.console import emit
from loyaltykit.cli.options import database, json_option

__all__ = ["db", "init"]


def _upgraded(url: str, revision: str) -> str:
    from loyaltykit.storage import sql

    sql.upgrade(url, revision)
    now = sql.revision(url)
    label = " (head)" if now == sql.head() else ""
    return f"{sql.shown(url)} is at schema revision {now}{label}"


@click.command()
@database
def init(url: str) -> None:
    """Create the loyaltykit schema in a database, or upgrade it to the latest revision.

    Safe to run from several processes at once: they take the database's migration
    lock in turn, and all but the first find nothing to do.
    """
    click.echo(_upgraded(url, "head"))


@click.group()
def db() -> None:
    """Create, upgrade and inspect a SQL database's schema."""


@db.command()
@click.argument("url", metavar="URL")
@click.option("--revision", default="head", metavar="REV", help="target revision (default: head)")
def upgrade(url: str, revision: str) -> None:
    """Create the loyaltykit schema in an empty database, or upgrade it."""
    click.echo(_upgraded(url, revision))


@db.command()
@click.argument("url", metavar="URL")
@json_option
def current(url: str, as_json: bool) -> None:
    """Print the schema revision, with '(head)' when it is the latest, or 'none' when the
    database has no loyaltykit schema."""
    from loyaltykit.storage import sql

    now = sql.revision(url)
    latest = sql.head()

    def show(_: object) -> None:
        if now is None:
            click.echo("none")
        else:
            click.echo(f"{now} (head)" if now == latest else now)

    emit(as_json, {"revision": now, "head": latest, "up_to_date": now == latest}, show)
