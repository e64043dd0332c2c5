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


def run_facade(url: str, plan: list[tuple[str, int, int, datetime]], customers: int) -> float:
    loyalty = Loyalty(storage=url)
    for c in range(customers):
        loyalty.enroll(f"c{c}", at=T0, idempotency_key=f"e{c}")
    start = time.perf_counter()
    for n, (command, customer, points, at) in enumerate(plan):
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
    elapsed = time.perf_counter() - start
    loyalty.close()
    return elapsed


def raw_sqlite(path: Path, plan: list[tuple[str, int, int, datetime]], customers: int) -> float:
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
        db.execute("BEGIN IMMEDIATE")
        db.execute("SELECT id FROM c WHERE id = ?", (cid,)).fetchone()
        if db.execute("SELECT outcome FROM i WHERE c = ? AND key = ?", (cid, key)).fetchone():
            db.execute("COMMIT")
            continue
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
                db.execute("ROLLBACK")
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
        db.execute("COMMIT")
    elapsed = time.perf_counter() - start
    db.close()
    return elapsed


def raw_postgres(url: str, plan: list[tuple[str, int, int, datetime]], customers: int) -> float:
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
        start = time.perf_counter()
        for n, (command, customer, points, at) in enumerate(plan):
            cid, key = f"c{customer}", f"k{n}"
            with db.transaction():
                db.execute("SELECT id FROM c WHERE id = %s FOR UPDATE", (cid,)).fetchone()
                if db.execute(
                    "SELECT outcome FROM i WHERE c = %s AND key = %s", (cid, key)
                ).fetchone():
                    continue
                row = db.execute(
                    "SELECT available, seq FROM a WHERE c = %s", (cid,)
                ).fetchone() or (0, 0)
                available, seq = row
                if command == "earn":
                    db.execute(
                        "INSERT INTO l VALUES (%s, %s, %s, %s)",
                        (cid, seq + 1, points, at + timedelta(days=30)),
                    )
                    available += points
                else:
                    if available < points:
                        continue
                    left = points
                    lots = db.execute(
                        "SELECT seq, remaining FROM l WHERE c = %s AND remaining > 0"
                        " ORDER BY expires",
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
                db.execute(
                    "INSERT INTO e VALUES (%s, %s, %s, %s, %s)", (cid, seq + 1, points, at, key)
                )
                db.execute(
                    "INSERT INTO a VALUES (%s, %s, %s) ON CONFLICT (c) DO UPDATE "
                    "SET available = EXCLUDED.available, seq = EXCLUDED.seq",
                    (cid, available, seq + 1),
                )
                db.execute(
                    "INSERT INTO i VALUES (%s, %s, %s)", (cid, key, json.dumps({"seq": seq + 1}))
                )
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
    facade: float,
    raw: float,
    commands: int,
    balances: tuple[float, float],
    expiry: float,
    big: int,
) -> None:
    print(f"{name}:")
    rows: list[tuple[str, Any]] = [
        ("facade, one command per transaction", f"{commands / facade:,.0f} commands/s"),
        ("raw driver, same statements", f"{commands / raw:,.0f} commands/s"),
        ("ratio facade / raw time", f"{facade / raw:.1f}x"),
        ("balance(), 1 entry", f"{balances[0] * 1e6:,.0f} us"),
        (f"balance(), {big:,} entries", f"{balances[1] * 1e6:,.0f} us"),
        ("expire_due", f"{expiry:,.0f} lots/s"),
    ]
    for label, value in rows:
        print(f"  {label:<38} {value:>20}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commands", type=int, default=20_000)
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--big-account", type=int, default=10_000)
    parser.add_argument("--expire-lots", type=int, default=20_000)
    parser.add_argument("--postgres", default=os.environ.get("LOYALTYKIT_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    plan = workload(args.commands, args.customers)
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        raw = raw_sqlite(base / "raw.db", plan, args.customers)
        facade = run_facade(f"sqlite:///{base / 'facade.db'}", plan, args.customers)
        balances = balance_times(f"sqlite:///{base / 'balance.db'}", args.big_account)
        expiry = expiry_rate(f"sqlite:///{base / 'expiry.db'}", args.expire_lots)
        report("SQLite file", facade, raw, args.commands, balances, expiry, args.big_account)
    if args.postgres:
        for step in ("raw", "facade", "balance", "expiry"):
            url, drop = postgres_schema(args.postgres)
            try:
                if step == "raw":
                    raw = raw_postgres(url, plan, args.customers)
                elif step == "facade":
                    facade = run_facade(url, plan, args.customers)
                elif step == "balance":
                    balances = balance_times(url, args.big_account)
                else:
                    expiry = expiry_rate(url, args.expire_lots)
            finally:
                drop()
        report("PostgreSQL", facade, raw, args.commands, balances, expiry, args.big_account)


if __name__ == "__main__":
    main()
