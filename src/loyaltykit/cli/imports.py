"""``loyaltykit import events``: load a feed file through the facade, with a progress bar."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import click
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from loyaltykit.bootstrap import Loyalty
from loyaltykit.cli.console import PARTLY, Failure, console, emit
from loyaltykit.cli.options import database, json_option, open_loyalty, program, tenant_option
from loyaltykit.feed import BadRow, FeedReport, FeedRow, apply_feed, read_feed

__all__ = ["import_group", "imported", "progress_bar"]


def progress_bar(*, hidden: bool = False) -> Progress:
    """A rich progress bar with rows done, rows per second and time elapsed."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]:>6} rows/s"),
        TimeElapsedColumn(),
        console=console(),
        disable=hidden,
        transient=False,
    )


def _rows_in(path: Path) -> int:
    with path.open(encoding="utf-8") as handle:
        lines = sum(1 for line in handle if line.strip())
    return lines - 1 if path.suffix.lower() == ".csv" else lines


def imported(
    loyalty: Loyalty,
    rows: Iterable[FeedRow | BadRow],
    *,
    total: int,
    label: str,
    hidden: bool = False,
    chunk: int = 500,
) -> FeedReport:
    """Apply ``rows`` with a progress bar showing rows/s (what ``import events`` and the
    demo both run)."""
    with progress_bar(hidden=hidden) as bar:
        task = bar.add_task(label, total=total, rate="-")

        def advance(done: int) -> None:
            bar.advance(task, done)
            state = bar.tasks[task]
            elapsed = state.elapsed or 0.0
            # rich's own speed estimate needs several updates; a chunk is one update
            rate = f"{state.completed / elapsed:,.0f}" if elapsed > 0 else "-"
            bar.update(task, rate=rate)

        return apply_feed(loyalty, rows, chunk=chunk, progress=advance)


@click.group("import")
def import_group() -> None:
    """Load data from files."""


@import_group.command("events")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@database
@tenant_option
@program
@click.option("--chunk", default=500, show_default=True, help="rows per transaction")
@json_option
def events(
    file: Path,
    url: str,
    program_file: Path | None,
    chunk: int,
    as_json: bool,
    tenant: str | None,
) -> None:
    """Import a CSV or JSON Lines file of enrolments, purchases, refunds and other events.

    Each row is one command under its own key: a re-run of the same file changes
    nothing, so an interrupted import is resumed by running it again. A row that cannot
    be applied is reported with its line number and changes nothing; the others go on.
    """
    loyalty = open_loyalty(url, program_file, tenant)
    try:
        report = imported(
            loyalty,
            read_feed(file),
            total=_rows_in(file),
            label=f"importing {file.name}",
            hidden=as_json,
            chunk=chunk,
        )
    finally:
        loyalty.close()

    def show(done: FeedReport) -> None:
        out = console()
        fresh = done.applied - done.replayed
        out.print(
            f"{done.applied} rows applied ({fresh} new, {done.replayed} already there), "
            f"{len(done.bad)} refused"
        )
        for bad in done.bad:
            out.print(f"  line {bad.line}: {bad.reason}", style="red", markup=False)

    emit(as_json, report, show)
    if report.bad:
        count = len(report.bad)
        raise Failure(f"{file}: {count} row{'s' * (count != 1)} refused", PARTLY)
