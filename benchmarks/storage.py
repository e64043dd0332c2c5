"""SQL storage throughput against the raw driver doing the same statements.

Run: ``.venv/bin/python benchmarks/storage.py [--commands N] [--postgres URL]``.
SQLite runs on a temporary file; PostgreSQL runs when ``--postgres`` (or
LOYALTYKIT_TEST_POSTGRES_URL) names a server, in a schema of its own. Ratios are against
baselines measured in the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from loyaltykit import Loyalty
from loyaltykit.errors import InsufficientPoints

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def workload(commands: int, customers: int) -> list[tuple[str, int, int, datetime]]:
    return [
        (
            "redeem" if n % 10 == 9 else "earn",
            n % customers,
            5 if n % 10 == 9 else 10,
            T0 + timedelta(seconds=5 * n),
        )
        for n in range(commands)
    ]


def run_facade(
    url: str, plan: list[tuple[str, int, int, datetime]], customers: int, batch: int = 1
) -> float:
    loyalty = Loyalty(storage=url)
    for c in range(customers):
        loyalty.enroll(f"c{c}", at=T0, idempotency_key=f"e{c}")
    start = time.perf_counter()
    for first in range(0, len(plan), batch):
        if batch == 1:
            _facade_commands(loyalty, plan, first, first + 1)
        else:
            with loyalty.batch():
                _facade_commands(loyalty, plan, first, first + batch)
    elapsed = time.perf_counter() - start
    loyalty.close()
    return elapsed


def _facade_commands(
    loyalty: Loyalty, plan: list[tuple[str, int, int, datetime]], first: int, last: int
) -> None:
    for n in range(first, min(last, len(plan))):
        command, customer, points, at = plan[n]
        if command == "earn":
            loyalty.earn(
                f"c{customer}",
                points,
                at=at,
                idempotency_key=f"k{n}",
                expires_at=at + timedelta(days=30),
            )
        else:
            with contextlib.suppress(InsufficientPoints):
                loyalty.redeem_points(f"c{customer}", points, at=at, idempotency_key=f"k{n}")


def raw_sqlite(
    path: Path, plan: list[tuple[str, int, int, datetime]], customers: int, batch: int = 1
) -> float:
    """stdlib sqlite3: per command, the lock, the key check, the reads and the writes."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(
        "CREATE TABLE c(id TEXT PRIMARY KEY);"
        "CREATE TABLE a(c TEXT PRIMARY KEY, available INT, seq INT);"
        "CREATE TABLE e(c TEXT, seq INT, amount INT, at TEXT, key TEXT, PRIMARY KEY(c, seq));"
        "CREATE TABLE l(c TEXT, seq INT, remaining INT, expires TEXT, PRIMARY KEY(c, seq));"
        "CREATE INDEX l_spend ON l(c, expires);"
        "CREATE TABLE i(c TEXT, key TEXT, outcome TEXT, PRIMARY KEY(c, key));"
    )
    db.executemany("INSERT INTO c VALUES (?)", [(f"c{n}",) for n in range(customers)])
    start = time.perf_counter()
    for n, (command, customer, points, at) in enumerate(plan):
        cid, key = f"c{customer}", f"k{n}"
        if n % batch == 0:
            db.execute("BEGIN IMMEDIATE")
        db.execute("SELECT id FROM c WHERE id = ?", (cid,)).fetchone()
        if db.execute("SELECT outcome FROM i WHERE c = ? AND key = ?", (cid, key)).fetchone():
            raise AssertionError("keys are unique in the plan")
        row = db.execute("SELECT available, seq FROM a WHERE c = ?", (cid,)).fetchone() or (0, 0)
        available, seq = row
        if command == "earn":
            db.execute(
                "INSERT INTO l VALUES (?, ?, ?, ?)",
                (cid, seq + 1, points, (at + timedelta(days=30)).isoformat()),
            )
            available += points
        else:
            if available < points:
                if n % batch == batch - 1:
                    db.execute("COMMIT")
                continue
            left = points
            for lot_seq, remaining in db.execute(
                "SELECT seq, remaining FROM l WHERE c = ? AND remaining > 0 ORDER BY expires",
                (cid,),
            ).fetchall():
                take = min(left, remaining)
                db.execute(
                    "UPDATE l SET remaining = remaining - ? WHERE c = ? AND seq = ?",
                    (take, cid, lot_seq),
                )
                left -= take
                if not left:
                    break
            available -= points
        db.execute(
            "INSERT INTO e VALUES (?, ?, ?, ?, ?)", (cid, seq + 1, points, at.isoformat(), key)
        )
        db.execute("INSERT OR REPLACE INTO a VALUES (?, ?, ?)", (cid, available, seq + 1))
        db.execute("INSERT INTO i VALUES (?, ?, ?)", (cid, key, json.dumps({"seq": seq + 1})))
        if n % batch == batch - 1:
            db.execute("COMMIT")
    if db.in_transaction:
        db.execute("COMMIT")
    elapsed = time.perf_counter() - start
    db.close()
    return elapsed


def raw_postgres(
    url: str, plan: list[tuple[str, int, int, datetime]], customers: int, batch: int = 1
) -> float:
    """psycopg 3: the same statements as the SQLite baseline, with row locks."""
    import psycopg

    parsed = make_url(url)
    dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as db:
        db.execute("CREATE TABLE c(id TEXT PRIMARY KEY)")
        db.execute("CREATE TABLE a(c TEXT PRIMARY KEY, available BIGINT, seq BIGINT)")
        db.execute(
            "CREATE TABLE e(c TEXT, seq BIGINT, amount BIGINT, at TIMESTAMP, key TEXT,"
            " PRIMARY KEY(c, seq))"
        )
        db.execute(
            "CREATE TABLE l(c TEXT, seq BIGINT, remaining BIGINT, expires TIMESTAMP,"
            " PRIMARY KEY(c, seq))"
        )
        db.execute("CREATE INDEX l_spend ON l(c, expires)")
        db.execute("CREATE TABLE i(c TEXT, key TEXT, outcome TEXT, PRIMARY KEY(c, key))")
        with db.cursor() as cursor:
            cursor.executemany("INSERT INTO c VALUES (%s)", [(f"c{n}",) for n in range(customers)])
        db.commit()

        def one(n: int, command: str, customer: int, points: int, at: datetime) -> None:
            cid, key = f"c{customer}", f"k{n}"
            db.execute("SELECT id FROM c WHERE id = %s FOR UPDATE", (cid,)).fetchone()
            if db.execute("SELECT outcome FROM i WHERE c = %s AND key = %s", (cid, key)).fetchone():
                return
            row = db.execute("SELECT available, seq FROM a WHERE c = %s", (cid,)).fetchone() or (
                0,
                0,
            )
            available, seq = row
            if command == "earn":
                db.execute(
                    "INSERT INTO l VALUES (%s, %s, %s, %s)",
                    (cid, seq + 1, points, at + timedelta(days=30)),
                )
                available += points
            else:
                if available < points:
                    return
                left = points
                lots = db.execute(
                    "SELECT seq, remaining FROM l WHERE c = %s AND remaining > 0 ORDER BY expires",
                    (cid,),
                ).fetchall()
                for lot_seq, remaining in lots:
                    take = min(left, remaining)
                    db.execute(
                        "UPDATE l SET remaining = remaining - %s WHERE c = %s AND seq = %s",
                        (take, cid, lot_seq),
                    )
                    left -= take
                    if not left:
                        break
                available -= points
            db.execute("INSERT INTO e VALUES (%s, %s, %s, %s, %s)", (cid, seq + 1, points, at, key))
            db.execute(
                "INSERT INTO a VALUES (%s, %s, %s) ON CONFLICT (c) DO UPDATE "
                "SET available = EXCLUDED.available, seq = EXCLUDED.seq",
                (cid, available, seq + 1),
            )
            db.execute(
                "INSERT INTO i VALUES (%s, %s, %s)", (cid, key, json.dumps({"seq": seq + 1}))
            )

        start = time.perf_counter()
        for first in range(0, len(plan), batch):
            with db.transaction():
                for n in range(first, min(first + batch, len(plan))):
                    one(n, *plan[n])
        return time.perf_counter() - start


def balance_times(url: str, entries: int) -> tuple[float, float]:
    loyalty = Loyalty(storage=url)
    for name, count in (("one", 1), ("many", entries)):
        loyalty.enroll(name, at=T0, idempotency_key=f"e-{name}")
        for n in range(count):
            loyalty.earn(name, 1, at=T0 + timedelta(seconds=n), idempotency_key=f"{name}-{n}")
    times = []
    for name in ("one", "many"):
        start = time.perf_counter()
        for _ in range(200):
            loyalty.balance(name)
        times.append((time.perf_counter() - start) / 200)
    loyalty.close()
    return times[0], times[1]


def expiry_rate(url: str, lots: int) -> float:
    loyalty = Loyalty(storage=url)
    customers = max(1, lots // 10)
    for c in range(customers):
        loyalty.enroll(f"x{c}", at=T0, idempotency_key=f"ex{c}")
    for n in range(lots):
        loyalty.earn(
            f"x{n % customers}",
            3,
            at=T0,
            idempotency_key=f"xl{n}",
            expires_at=T0 + timedelta(days=1),
        )
    start = time.perf_counter()
    report = loyalty.expire_due(T0 + timedelta(days=2))
    elapsed = time.perf_counter() - start
    assert report.entries == lots
    loyalty.close()
    return lots / elapsed


def postgres_schema(server: str) -> tuple[str, Callable[[], None]]:
    schema = f"lk_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    url = make_url(server).update_query_dict({"options": f"-csearch_path={schema}"})

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()

    return url.render_as_string(hide_password=False), drop


def report(
    name: str,
    timings: dict[str, float],
    commands: int,
    balances: tuple[float, float],
    expiry: float,
    big: int,
) -> None:
    print(f"{name}:")
    rows: list[tuple[str, Any]] = []
    for mode in ("one command per transaction", f"batched, {BATCH} commands per transaction"):
        facade, raw = timings[f"facade {mode}"], timings[f"raw {mode}"]
        rows += [
            (f"facade, {mode}", f"{commands / facade:,.0f} commands/s"),
            (f"raw driver, {mode}", f"{commands / raw:,.0f} commands/s"),
            ("  ratio facade / raw time", f"{facade / raw:.1f}x"),
        ]
    rows += [
        ("balance(), 1 entry", f"{balances[0] * 1e6:,.0f} us"),
        (f"balance(), {big:,} entries", f"{balances[1] * 1e6:,.0f} us"),
        ("expire_due", f"{expiry:,.0f} lots/s"),
    ]
    for label, value in rows:
        print(f"  {label:<50} {value:>20}")


BATCH = 100
MODES = (("one command per transaction", 1), (f"batched, {BATCH} commands per transaction", BATCH))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commands", type=int, default=20_000)
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--big-account", type=int, default=10_000)
    parser.add_argument("--expire-lots", type=int, default=20_000)
    parser.add_argument("--postgres", default=os.environ.get("LOYALTYKIT_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    plan = workload(args.commands, args.customers)
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        for mode, batch in MODES:
            timings[f"raw {mode}"] = raw_sqlite(
                base / f"raw{batch}.db", plan, args.customers, batch
            )
            url = f"sqlite:///{base / f'facade{batch}.db'}"
            timings[f"facade {mode}"] = run_facade(url, plan, args.customers, batch)
        balances = balance_times(f"sqlite:///{base / 'balance.db'}", args.big_account)
        expiry = expiry_rate(f"sqlite:///{base / 'expiry.db'}", args.expire_lots)
        report("SQLite file", timings, args.commands, balances, expiry, args.big_account)
    if args.postgres:
        timings = {}
        for mode, batch in MODES:
            for side in ("raw", "facade"):
                url, drop = postgres_schema(args.postgres)
                try:
                    run = raw_postgres if side == "raw" else run_facade
                    timings[f"{side} {mode}"] = run(url, plan, args.customers, batch)
                finally:
                    drop()
        url, drop = postgres_schema(args.postgres)
        try:
            balances = balance_times(url, args.big_account)
            expiry = expiry_rate(url, args.expire_lots)
        finally:
            drop()
        report("PostgreSQL", timings, args.commands, balances, expiry, args.big_account)


if __name__ == "__main__":
    main()
