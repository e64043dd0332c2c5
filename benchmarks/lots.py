"""Does a command's cost depend on how many lots the account holds?

Two figures, each a ratio of the same command on a big account and on a small one,
measured in the same run (only ratios mean much on a shared machine):

- a redemption of a few points from an account with ``--lots`` live lots (each of 10
  points, soonest expiry first) against one with 10: a debit reads the lots it takes,
  not the account's every lot;
- an earn into an account with ``--lots`` expired lots against one with 10: a command's
  settlement reads the lots with points left, not the account's history.

    .venv/bin/python benchmarks/lots.py                         # SQLite file
    .venv/bin/python benchmarks/lots.py --url mysql+pymysql://root@127.0.0.1:3306/test
    .venv/bin/python benchmarks/lots.py --url postgresql+psycopg://postgres@127.0.0.1/test

A server URL is used for a throwaway schema or database of its own. Without ``--url``,
MariaDB runs too when LOYALTYKIT_TEST_MARIADB_URL names a server.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench_databases import server_database

from loyaltykit import Loyalty

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SMALL = 10


def seeded(loyalty: Loyalty, name: str, lots: int, *, expired: bool) -> None:
    """``name`` with ``lots`` lots of 1,000 points: live ones expiring from day 100 on,
    or lots that expired on day 1 (``expire_due`` settled them)."""
    loyalty.enroll(name, at=T0, idempotency_key=f"e-{name}")
    for first in range(0, lots, 1000):
        with loyalty.batch():
            for n in range(first, min(first + 1000, lots)):
                expiry = T0 + timedelta(days=1 if expired else 100 + n)
                loyalty.earn(name, 1000, at=T0, idempotency_key=f"{name}-{n}", expires_at=expiry)
    if expired:
        loyalty.expire_due(at=T0 + timedelta(days=2))


def per_command(
    loyalty: Loyalty,
    name: str,
    numbers: range,
    run: Callable[[Loyalty, str, int], object],
) -> float:
    """Seconds per command, one per number (its key), one unit of work each."""
    start = time.perf_counter()
    for n in numbers:
        run(loyalty, name, n)
    return (time.perf_counter() - start) / len(numbers)


def redeem(loyalty: Loyalty, name: str, n: int) -> object:
    at = T0 + timedelta(days=3, seconds=n)
    return loyalty.redeem_points(name, 3, at=at, idempotency_key=f"{name}-r{n}")


def earn(loyalty: Loyalty, name: str, n: int) -> object:
    at = T0 + timedelta(days=3, seconds=n)
    return loyalty.earn(name, 1, at=at, idempotency_key=f"{name}-x{n}")


def measure(url: str, lots: int, commands: int, repeat: int, backend: str) -> list[tuple[str, str]]:
    loyalty = Loyalty(storage=url)
    rows: list[tuple[str, str]] = []
    for label, run, expired in (("redeem", redeem, False), ("earn", earn, True)):
        kind = "expired" if expired else "live"
        small, big = f"{label}-small", f"{label}-big"
        seeded(loyalty, small, SMALL, expired=expired)
        seeded(loyalty, big, lots, expired=expired)
        times = {small: float("inf"), big: float("inf")}
        for attempt in range(repeat):  # alternating, each side's best
            for name in (small, big):
                numbers = range(attempt * commands, (attempt + 1) * commands)
                times[name] = min(times[name], per_command(loyalty, name, numbers, run))
        rows += [
            (f"{label}, {SMALL} {kind} lots", f"{times[small] * 1e6:,.0f} us"),
            (f"{label}, {lots:,} {kind} lots", f"{times[big] * 1e6:,.0f} us"),
            (
                f"  {backend} ratio {label} {lots:,} / {SMALL} {kind} lots",
                f"{times[big] / times[small]:.2f}x",
            ),
        ]
    loyalty.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=None, help="a server to use (default: a SQLite file)")
    parser.add_argument("--lots", type=int, default=10_000)
    parser.add_argument("--commands", type=int, default=100, help="timed commands per side")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    runs: list[tuple[str, str | None]] = [("SQLite", None)] if args.url is None else []
    if args.url is not None:
        runs.append(("PostgreSQL" if "postgres" in args.url else "MariaDB", args.url))
    elif os.environ.get("LOYALTYKIT_TEST_MARIADB_URL"):  # as benchmarks/run.py passes it
        runs.append(("MariaDB", os.environ["LOYALTYKIT_TEST_MARIADB_URL"]))
    for backend, server in runs:
        if server is None:
            with tempfile.TemporaryDirectory() as folder:
                url = f"sqlite:///{Path(folder) / 'lots.db'}"
                rows = measure(url, args.lots, args.commands, args.repeat, backend)
        else:
            url, drop = server_database(server)
            try:
                rows = measure(url, args.lots, args.commands, args.repeat, backend)
            finally:
                drop()
        print(f"{backend}:")
        for label, figure in rows:
            print(f"  {label:<45} {figure:>12}")


if __name__ == "__main__":
    main()
