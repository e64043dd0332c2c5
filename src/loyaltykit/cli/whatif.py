"""``loyaltykit replay``: what-if, a feed's history under another programme."""

from __future__ import annotations

import multiprocessing
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from pathlib import Path
from queue import Empty, Queue
from typing import Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from loyaltykit.cli.console import Failure, console, emit
from loyaltykit.cli.options import json_option, load_program
from loyaltykit.domain.customer import Customer
from loyaltykit.errors import InvalidArgument
from loyaltykit.feed import BadRow, FeedRow, event_of, read_feed
from loyaltykit.policy.replay import (
    HistoricEvent,
    Outcome,
    ReplayReport,
    compare,
    replay_one,
    replay_stream,
)
from loyaltykit.values import Money

__all__ = ["history_of", "replay_command", "stream_of", "what_if"]


def history_of(rows: Iterable[FeedRow | BadRow]) -> tuple[list[Customer], list[HistoricEvent]]:
    """The members (enrolment rows) and the events (purchases, custom events) of a feed.
    Refunds, redemptions and gifts earn nothing, so a what-if leaves them out."""
    customers: list[Customer] = []
    history: list[HistoricEvent] = []
    for item in stream_of(rows):
        if isinstance(item, Customer):
            customers.append(item)
        else:
            history.append(item)
    return customers, history


def stream_of(rows: Iterable[FeedRow | BadRow]) -> Iterator[Customer | HistoricEvent]:
    """The members and events of a feed as they are read (see :func:`history_of`), for
    :func:`~loyaltykit.policy.replay.replay_stream`."""
    for row in rows:
        if isinstance(row, BadRow):
            raise Failure(f"line {row.line}: {row.reason}")
        if row.kind == "enrol":
            fields = row.fields
            yield Customer(
                id=row.customer, enrolled_at=row.at, referred_by=fields.get("referred_by")
            )
        elif row.kind in ("purchase", "event"):
            yield HistoricEvent(customer_id=row.customer, event=event_of(row), at=row.at)


def _lines(path: Path) -> int:
    """The lines of a file (the progress bar's total: one row a line, headers aside)."""
    with path.open("rb") as handle:
        return sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))


def _side(events: Path, program_file: Path | None, progress: Queue[int] | None) -> Outcome:
    """One programme's side of the replay, in a worker process (it loads the programme
    and reads the feed itself: neither crosses the process boundary)."""
    report = None if progress is None else progress.put
    return replay_one(stream_of(read_feed(events)), load_program(program_file), progress=report)


def _in_two_processes(
    events: Path,
    programs: tuple[Path | None, Path],
    progress: Callable[[int], None],
) -> ReplayReport:
    """The replay with the current and the proposed programme in two processes; the
    first one's progress is shown."""
    with multiprocessing.Manager() as manager, ProcessPoolExecutor(max_workers=2) as pool:
        counts: Queue[int] = manager.Queue()
        first = pool.submit(_side, events, programs[0], counts)
        second = pool.submit(_side, events, programs[1], None)
        while not first.done():
            try:
                progress(counts.get(timeout=0.2))
            except Empty:
                continue
        while not counts.empty():  # the counts sent as the first side finished
            progress(counts.get())
        return compare(first.result(), second.result())


def what_if(report: ReplayReport, *, cost_per_point: Money, top: int = 20) -> dict[str, Any]:
    """The replay's differences in total, per tier move and for the biggest changes."""
    current, proposed = report.total()
    moves = Counter(f"{row.current} -> {row.proposed}" for row in report.tier_changes())
    biggest = sorted(report.changed(), key=lambda row: (-abs(row.delta), row.customer_id))

    def money(points: int) -> Money:
        return Money.of(cost_per_point.amount * points, cost_per_point.currency)

    return {
        "points": {"current": current, "proposed": proposed, "delta": proposed - current},
        "liability": {
            "current": money(current),
            "proposed": money(proposed),
            "delta": money(proposed - current),
        },
        "customers_changed": len({row.customer_id for row in report.changed()}),
        "tier_moves": dict(moves.most_common()),
        "biggest_changes": [
            {
                "customer_id": r.customer_id,
                "point_type": r.point_type,
                "current": r.current,
                "proposed": r.proposed,
                "delta": r.delta,
            }
            for r in biggest[:top]
        ],
    }


@click.command("replay")
@click.argument("events", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--program",
    "proposed_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="the proposed programme",
)
@click.option(
    "--current",
    "current_file",
    envvar="LOYALTYKIT_PROGRAM",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="the programme in force (or $LOYALTYKIT_PROGRAM; default: the default programme)",
)
@click.option("--cost-per-point", default="0.01", show_default=True)
@click.option("--top", default=20, show_default=True, help="customers to list")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="a progress bar on stderr (default: when stderr is a terminal)",
)
@click.option(
    "--jobs",
    type=click.IntRange(1, 2),
    default=1,
    show_default=True,
    help="2: each programme in a process of its own, each reading the feed (two cores)",
)
@json_option
def replay_command(
    events: Path,
    proposed_file: Path,
    current_file: Path | None,
    cost_per_point: str,
    top: int,
    progress: bool | None,
    jobs: int,
    as_json: bool,
) -> None:
    """What-if: the points and tiers a feed's history would have earned under another
    programme, per customer and in total, and the liability difference.

    The feed is read once, in one streaming pass (members before their events, events in
    time order), so its size is bounded by the disk, not by memory."""
    current = load_program(current_file)
    proposed = load_program(proposed_file)
    shown = sys.stderr.isatty() if progress is None else progress
    bar = Progress(
        TextColumn("replay"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("events"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not shown,
        transient=False,
    )
    with bar:
        task = bar.add_task("replay", total=_lines(events) if shown else None)
        try:
            if jobs == 1:
                done = replay_stream(
                    stream_of(read_feed(events)),
                    current=current,
                    proposed=proposed,
                    progress=lambda count: bar.update(task, completed=count),
                )
            else:
                done = _in_two_processes(
                    events, (current_file, proposed_file), lambda n: bar.update(task, completed=n)
                )
        except InvalidArgument as error:
            raise Failure(f"{events}: {error}") from error
    data = what_if(done, cost_per_point=Money.of(cost_per_point, current.currency), top=top)

    def show(result: dict[str, Any]) -> None:
        out = console()
        points, liability = result["points"], result["liability"]
        out.print(
            f"points: {points['current']:,} -> {points['proposed']:,} ({points['delta']:+,}); "
            f"liability {liability['current'].amount:,.2f} -> {liability['proposed'].amount:,.2f} "
            f"{liability['delta'].currency} ({Decimal(liability['delta'].amount):+,.2f}); "
            f"{result['customers_changed']:,} customers change"
        )
        for move, count in result["tier_moves"].items():
            out.print(f"  tier {move}: {count:,} members")
        table = Table("customer", "type", "current", "proposed", "delta", title="biggest changes")
        for row in result["biggest_changes"]:
            table.add_row(
                row["customer_id"],
                row["point_type"],
                str(row["current"]),
                str(row["proposed"]),
                f"{row['delta']:+d}",
            )
        out.print(table)

    emit(as_json, data, show)
