"""Every benchmark in benchmarks/, with one command, in one table.

    python benchmarks/run.py                  # small sizes, SQLite and memory only (minutes)
    python benchmarks/run.py --only ledger engine
    python benchmarks/run.py --databases      # PostgreSQL too, from LOYALTYKIT_TEST_POSTGRES_URL
    python benchmarks/run.py --only kernel    # the facade against the pre-kernel tree (be9c89b)

Each benchmark runs in its own process at the small size below (each script's own
options give the full sizes of docs/performance.md). Every figure it prints becomes a row;
the ``ratio`` rows compare loyaltykit with the baseline the same script measured in the
same run (a hand-written equivalent, raw driver calls), so they hold on a loaded machine
where absolute figures do not.

After the rows of every benchmark, the figures of the performance issue (issue 19, and the
kernel's "no worse than before" of issue 10) are printed as one table with their goals:
:data:`FIGURES` says which benchmark row holds each one. A benchmark that adds a figure adds
its row here (one ``Figure`` line), so the table stays the one place that lists them.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).parent

# benchmark -> its options at the small default size
SMALL: dict[str, list[str]] = {
    "ledger": [
        *("--events", "20000", "--customers", "2000"),
        *("--expire-every", "5000", "--big-account", "2000"),
    ],
    "engine": ["--events", "20000", "--facade-events", "2000", "--customers", "100"],
    "storage": [
        *("--commands", "2000", "--customers", "200"),
        *("--big-account", "2000", "--expire-lots", "2000"),
    ],
    "aging": ["--bands", "3", "--band", "1000", "--days", "1200", "--purchase-band", "50"],
    "lots": ["--lots", "2000", "--commands", "50", "--repeat", "2"],
    "baselines": ["--commands", "1000", "--customers", "100", "--repeat", "1"],
    "campaigns": ["--events", "1000"],
    "money_off": ["--orders", "200"],
    "rewards": ["--customers", "300"],
    "complaints": ["--cases", "60"],
    "import_time": ["--runs", "5"],
    "kernel": ["--commands", "2000", "--rounds", "3"],
    "replay": ["--events", "20000", "--customers", "2000"],
    "workers": ["--workers", "8", "--rounds", "1"],
    "scale": [
        *("--customers", "2000", "--commands", "30"),
        *("--processes", "1", "2", "--relay-events", "100"),
    ],
}
COLUMNS = re.compile(r"\s{2,}")


class Figure(NamedTuple):
    """One figure of the issue's table: where it is measured, and its goal.

    ``measure`` is a regular expression matched (``re.search``) against the labels of the
    rows ``benchmark`` printed; the first matching row gives the figure. ``goal`` is
    ``"<= 10x"``, ``">= 1.0x"`` (compared with the first number of the figure) or words
    (printed, not compared).
    """

    name: str
    benchmark: str
    measure: str
    goal: str


# The registry: every figure of issue 19's table (and issue 10's "facade no worse than before
# the kernel"), in the table's order. Add a line when a benchmark measures a new one.
FIGURES: tuple[Figure, ...] = (
    # the kernel against the pre-kernel service (issue 10): CPU time, new / old, same workload
    Figure("earn, CPU new kernel / pre-kernel", "kernel", r"^earn ratio new / old", "<= 1.0x"),
    Figure(
        "record_purchase, CPU new kernel / pre-kernel",
        "kernel",
        r"^record_purchase ratio new / old",
        "<= 1.0x",
    ),
    # in-process (memory, engine)
    Figure(
        "facade on memory vs hand-written dict/list ledger",
        "ledger",
        r"^ratio facade / baseline time",
        "<= 10x",
    ),
    Figure(
        "PolicyEngine.evaluate vs hand-written function",
        "engine",
        r"^ratio engine / hand-written time",
        "<= 3x",
    ),
    Figure(
        "PolicyEngine.evaluate(explain=False) vs hand-written function",
        "engine",
        r"^ratio fast path / hand-written time",
        "<= 3x",
    ),
    Figure(
        "record_purchase on memory vs hand-written, per event",
        "engine",
        r"^ratio facade / hand-written time",
        "<= 10x",
    ),
    # SQL (helper perfsql's rows: benchmark and measure are theirs to set)
    Figure(
        "facade on SQLite, one command per transaction, vs SQLAlchemy Core",
        "baselines",
        r"ratio facade / SQLAlchemy Core, one per transaction",
        "<= 1.0x",
    ),
    Figure(
        "facade on SQLite, one command per transaction, vs minimal raw sqlite3",
        "baselines",
        r"ratio facade / raw sqlite3, one per transaction",
        "<= 3x",
    ),
    Figure(
        "facade on SQLite, batched, vs SQLAlchemy Core",
        "baselines",
        r"ratio facade / SQLAlchemy Core, batched",
        "<= 1.0x",
    ),
    Figure(
        "facade on SQLite, batched, vs minimal raw sqlite3",
        "baselines",
        r"ratio facade / raw sqlite3, batched",
        "<= 3x",
    ),
    Figure(
        "empty SQL unit of work vs raw BEGIN IMMEDIATE / COMMIT",
        "storage",
        r"^ratio unit of work / raw",
        "<= 3x",
    ),
    # a member's history: the first days against the last (the young member against the
    # aged one), and the middle days against the last (whether anything still grows once
    # the history holds all the months the programme reads)
    Figure(
        "record_purchase, aged member (--days), last vs first days, memory (CPU)",
        "aging",
        r"^memory CPU ratio last / first",
        "<= 1.5x",
    ),
    Figure(
        "record_purchase, aged member (--days), last vs first days, SQLite",
        "aging",
        r"^SQLite ratio last / first",
        "<= 1.5x",
    ),
    Figure(
        "record_purchase, aged member (--days), last vs first days, PostgreSQL",
        "aging",
        r"^PostgreSQL ratio last / first",
        "<= 1.5x",
    ),
    Figure(
        "record_purchase, aged member, last vs middle days, memory",
        "aging",
        r"^memory ratio last / middle",
        "<= 1.1x",
    ),
    Figure(
        "record_purchase, aged member, last vs middle days, SQLite",
        "aging",
        r"^SQLite ratio last / middle",
        "<= 1.1x",
    ),
    Figure(
        "record_purchase, aged member, last vs middle days, PostgreSQL",
        "aging",
        r"^PostgreSQL ratio last / middle",
        "<= 1.1x",
    ),
    Figure(
        "redemption on SQLite, 10,000 live lots vs 10",
        "lots",
        r"^SQLite ratio redeem [\d,]+ / 10 live lots",
        "<= 1.5x",
    ),
    Figure(
        "earn on MariaDB, 10,000 expired lots vs 10",
        "lots",
        r"^MariaDB ratio earn [\d,]+ / 10 expired lots",
        "<= 1.5x",
    ),
    # memory per entry
    Figure(
        "memory backend, bytes retained per ledger entry",
        "ledger",
        r"^bytes retained per entry",
        "<= 400",
    ),
    Figure(
        "SQLite, bytes on disk per ledger entry", "storage", r"bytes on disk per entry", "<= 400"
    ),
    # replay
    Figure(
        "replay / what-if of 1M historical events, 2 cores",
        "replay",
        r"^projected seconds for 1,000,000 events",
        "<= 60",
    ),
)
GOAL = re.compile(r"^(<=|>=)\s*([\d.,]+)")
NUMBER = re.compile(r"-?[\d,]*\.?\d+")


def verdict(figure: str, goal: str) -> str:
    """``met`` / ``MISSED`` when the goal is a bound and the figure a number, else ``""``."""
    bound, found = GOAL.match(goal), NUMBER.search(figure)
    if bound is None or found is None:
        return ""
    value, limit = float(found.group().replace(",", "")), float(bound[2].replace(",", ""))
    met = value <= limit if bound[1] == "<=" else value >= limit
    return "met" if met else "MISSED"


def figure_table(rows: dict[str, list[tuple[str, str]]]) -> list[tuple[str, str, str, str]]:
    """(figure, measured, goal, verdict) for every :data:`FIGURES` line, in its order; a
    figure whose benchmark did not run, or printed no matching row, reads "not measured"."""
    table = []
    for figure in FIGURES:
        pattern = re.compile(figure.measure)
        found = next(
            (value for label, value in rows.get(figure.benchmark, []) if pattern.search(label)),
            None,
        )
        measured = found if found is not None else "not measured"
        table.append((figure.name, measured, figure.goal, verdict(measured, figure.goal)))
    return table


def print_table(header: tuple[str, ...], table: list[tuple[str, ...]]) -> None:
    widths = [max([len(title), *(len(row[n]) for row in table)]) for n, title in enumerate(header)]
    print("  ".join(title.ljust(width) for title, width in zip(header, widths, strict=True)))
    print("  ".join("-" * width for width in widths))
    for row in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


def _row(line: str) -> tuple[str, str] | None:
    """``label: figure`` or ``label   figure``, the label with a letter, the figure a digit."""
    text = line.strip()
    if ": " in text:
        label, figure = text.rsplit(": ", 1)
    else:
        parts = COLUMNS.split(text, maxsplit=1)
        if len(parts) != 2:
            return None
        label, figure = parts
    label = " ".join(label.split())
    if not re.search(r"[a-zA-Z]", label) or not re.search(r"\d", figure):
        return None
    return label, figure.strip()


def rows_of(output: str) -> list[tuple[str, str]]:
    """The (measure, figure) rows a benchmark printed. A table with a header of names
    (``backend  redeem  points``) gives one row per cell; rules are skipped."""
    found = []
    header: list[str] = []
    for line in output.splitlines():
        cells = line.split()
        if len(cells) > 2 and not re.search(r"\d", line):
            header = cells
            continue
        numbers = all(re.search(r"\d", cell) for cell in cells[1:])
        if header and len(cells) == len(header) and numbers and not re.search(r"\d", cells[0]):
            found.extend(
                (f"{cells[0]} {name}", cell)
                for name, cell in zip(header[1:], cells[1:], strict=True)
            )
            continue
        header = []
        row = _row(line)
        if row is not None:
            found.append(row)
    return found


def run(name: str, *, databases: bool) -> tuple[list[tuple[str, str]], float, str]:
    """Run one benchmark; its rows, its wall time and its error output if it failed."""
    environment = dict(os.environ)
    if not databases:
        environment.pop("LOYALTYKIT_TEST_POSTGRES_URL", None)
        environment.pop("LOYALTYKIT_TEST_MARIADB_URL", None)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(HERE / f"{name}.py"), *SMALL[name]],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )
    seconds = time.perf_counter() - started
    failure = "" if done.returncode == 0 else done.stderr.strip().splitlines()[-1:][0]
    return rows_of(done.stdout), seconds, failure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(SMALL), default=list(SMALL))
    parser.add_argument("--databases", action="store_true", help="PostgreSQL too (if set)")
    options = parser.parse_args()
    print(
        f"Python {platform.python_version()} on {platform.machine()}, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; small sizes"
    )
    table: list[tuple[str, str, str]] = []
    measured: dict[str, list[tuple[str, str]]] = {}
    failed = False
    for name in options.only:
        rows, seconds, failure = run(name, databases=options.databases)
        measured[name] = rows
        if failure:
            failed = True
            table.append((name, "FAILED", failure))
        table.extend((name, label, figure) for label, figure in rows)
        table.append((name, "(wall time)", f"{seconds:.1f} s"))
    print_table(("benchmark", "measure", "figure"), table)
    print()
    print_table(("figure (issue 19)", "measured", "goal", ""), figure_table(measured))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
