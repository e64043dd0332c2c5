"""Every benchmark in benchmarks/, with one command, in one table.

    python benchmarks/run.py                  # small sizes, SQLite and memory only (minutes)
    python benchmarks/run.py --only ledger engine
    python benchmarks/run.py --databases      # PostgreSQL too, from LOYALTYKIT_TEST_POSTGRES_URL

Each benchmark runs in its own process at the small size below (each script's own
options give the full sizes of docs/performance.md). Every figure it prints becomes a row;
the ``ratio`` rows compare loyaltykit with the baseline the same script measured in the
same run (a hand-written equivalent, raw driver calls), so they hold on a loaded machine
where absolute figures do not.
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

HERE = Path(__file__).parent

# benchmark -> its options at the small default size
SMALL: dict[str, list[str]] = {
    "ledger": [
        *("--events", "20000", "--customers", "2000"),
        *("--expire-every", "5000", "--big-account", "2000"),
    ],
    "engine": ["--events", "20000", "--facade-events", "2000", "--customers", "2000"],
    "storage": [
        *("--commands", "2000", "--customers", "200"),
        *("--big-account", "2000", "--expire-lots", "2000"),
    ],
    "aging": ["--bands", "3", "--band", "1000"],
    "campaigns": ["--events", "1000"],
    "rewards": ["--customers", "300"],
    "complaints": ["--cases", "60"],
    "import_time": ["--runs", "5"],
    "scale": [
        *("--customers", "2000", "--commands", "30"),
        *("--processes", "1", "2", "--relay-events", "100"),
    ],
}
COLUMNS = re.compile(r"\s{2,}")


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
    failed = False
    for name in options.only:
        rows, seconds, failure = run(name, databases=options.databases)
        if failure:
            failed = True
            table.append((name, "FAILED", failure))
        table.extend((name, label, figure) for label, figure in rows)
        table.append((name, "(wall time)", f"{seconds:.1f} s"))
    widths = [max(len(row[column]) for row in table) for column in range(3)]
    header = ("benchmark", "measure", "figure")
    widths = [max(width, len(title)) for width, title in zip(widths, header, strict=True)]
    print("  ".join(title.ljust(width) for title, width in zip(header, widths, strict=True)))
    print("  ".join("-" * width for width in widths))
    for benchmark, measure, figure in table:
        print(f"{benchmark:<{widths[0]}}  {measure:<{widths[1]}}  {figure:>{widths[2]}}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
