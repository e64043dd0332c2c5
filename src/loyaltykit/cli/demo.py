"""``loyaltykit demo``: a seeded year of a retail programme, imported, run and reported."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import click

from loyaltykit.bootstrap import Loyalty
from loyaltykit.cli.console import console
from loyaltykit.cli.imports import imported
from loyaltykit.cli.reports import summary
from loyaltykit.feed import BadRow, FeedReport, FeedRow

__all__ = ["demo"]


@click.command()
@click.option("--members", default=10_000, show_default=True, help="members to simulate")
@click.option("--seed", default=2026, show_default=True, help="the year's random seed")
@click.option(
    "--out",
    "folder",
    default="loyaltykit-demo",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="where the feed, the SQLite database and the HTML report go",
)
def demo(members: int, seed: int, folder: Path) -> None:
    """Simulate a year of a department store's programme on a new SQLite database:
    members, tiers, member days, a double-points weekend, 满减 bonuses, birthday gifts,
    referrals, redemptions, points as cash, refunds, expiry and complaints; then print
    the report and write it as HTML."""
    from loyaltykit.demo import run_demo

    out = console()
    out.print(f"[bold]loyaltykit demo[/bold]: a year of Jade Mall rewards, {members:,} members")

    def month(
        loyalty: Loyalty, rows: Iterable[FeedRow | BadRow], total: int, label: str
    ) -> FeedReport:
        return imported(loyalty, rows, total=total, label=f"importing {label}")

    result = run_demo(folder, members=members, seed=seed, importer=month)
    summary(result.report)
    out.print(
        f"{result.applied:,} of {result.rows:,} rows applied, {len(result.refused)} refused "
        f"(each with its reason), {result.complaints} complaints handled, "
        f"in {result.seconds:.1f} s"
    )
    for bad in result.refused[:5]:
        out.print(f"  refused: line {bad.line}: {bad.reason}", markup=False)
    out.print(f"feed:     {result.feed.resolve()}")
    out.print(f"database: sqlite:///{result.database.resolve()}")
    out.print(f"[bold]HTML report: {result.html.resolve()}[/bold]")
