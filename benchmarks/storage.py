"""SQL storage throughput against the raw driver doing the same statements.

Run: ``.venv/bin/python benchmarks/storage.py [--commands N] [--postgres URL]``.
SQLite runs on a temporary file; PostgreSQL runs when ``--postgres`` (or
LOYALTYKIT_TEST_POSTGRES_URL) names a server, in a schema of its own. Ratios are against
baselines measured in the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench_databases import postgres_schema
from sqlalchemy.engine import make_url

from loyaltykit import Loyalty
from loyaltykit.errors import InsufficientPoints
from loyaltykit.testing.invariants import ledger_violations

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def workload(commands: int, customers: int) -> list[tuple[str, int, int, datetime]]:
    """Earns of 10 points with a 30-day expiry; every 10th command a redemption of 5 by
    the customer who earned just before, so that it succeeds (as in benchmarks/ledger.py)."""
    return [
        (
            "redeem" if n % 10 == 9 else "earn",
            (n - 1) % customers if n % 10 == 9 else n % customers,
            5 if n % 10 == 9 else 10,
            T0 + timedelta(seconds=5 * n),
        )
        for n in range(commands)
    ]


def run_facade(
    url: str,
    plan: list[tuple[str, int, int, datetime]],
    customers: int,
    batch: int = 1,
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    loyalty = Loyalty(storage=url)
    for c in range(customers):
        loyalty.enroll(f"c{c}", at=T0, idempotency_key=f"e{c}")
    start = clock()
    for first in range(0, len(plan), batch):
        if batch == 1:
            _facade_commands(loyalty, plan, first, first + 1)
        else:
            with loyalty.batch():
                _facade_commands(loyalty, plan, first, first + batch)
    elapsed = clock() - start
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


# The raw baselines run on the facade's own schema (created by its migrations: the same
# tables, columns and indexes) and execute, per command, the statements the facade needs:
# the customer lock (its status decides whether the command is allowed), the idempotency
# lookup, the account, the due lots (settlement), the spendable lots in spending order
# (redemptions), then the entry, lot, account and idempotency writes with every column,
# the outcome stored as JSON; in batched mode a savepoint around each command, as
# Loyalty.batch() keeps per-command atomicity. They skip what a hand-written program can
# skip: domain objects, validation, mapping rows to objects and back.
_ENTRY_COLUMNS = (
    "customer_id, point_type, seq, kind, amount, pending_delta, deficit_delta, occurred_at,"
    " recorded_at, idempotency_key, reason, actor, reverses, reversed_portion, shortfall,"
    " lots, metadata"
)
_LOT_COLUMNS = (
    "customer_id, point_type, seq, idx, amount, remaining, earned_at, expires_at,"
    " available_from, pending, expired, withdrawn, forgiven, shortfall"
)
_ACCOUNT_COLUMNS = (
    "available, pending, deficit, lifetime_earned, lifetime_redeemed, lifetime_expired, last_seq"
)
# every statement names the default programme's rows, as the facade's do (0012)
RAW = {
    "lock": "SELECT id, status FROM lk_customers WHERE tenant = 'default' AND id = ?",
    "key": "SELECT command, fingerprint, outcome FROM lk_idempotency"
    " WHERE tenant = 'default' AND customer_id = ? AND key = ?",
    "account": f"SELECT {_ACCOUNT_COLUMNS} FROM lk_accounts"
    " WHERE tenant = 'default' AND customer_id = ? AND point_type = ?",
    "due": f"SELECT {_LOT_COLUMNS} FROM lk_lots"
    " WHERE tenant = 'default' AND customer_id = ? AND point_type = ?"
    " AND remaining > 0 AND (expires_at <= ? OR (pending = ? AND available_from <= ?))",
    "spendable": "SELECT seq, idx, remaining FROM lk_lots"
    " WHERE tenant = 'default' AND customer_id = ? AND point_type = ? AND pending = ?"
    " AND remaining > 0"
    " AND (expires_at IS NULL OR expires_at > ?)"
    " ORDER BY CASE WHEN expires_at IS NULL THEN 1 ELSE 0 END, expires_at, earned_at, seq, idx",
    "entry": f"INSERT INTO lk_entries (tenant, {_ENTRY_COLUMNS})"
    f" VALUES ('default', {', '.join(['?'] * 17)})",
    "lot": f"INSERT INTO lk_lots (tenant, {_LOT_COLUMNS})"
    f" VALUES ('default', {', '.join(['?'] * 14)})",
    "spend": "UPDATE lk_lots SET remaining = ?"
    " WHERE tenant = 'default' AND customer_id = ? AND point_type = ?"
    " AND seq = ? AND idx = ?",
    "new account": f"INSERT INTO lk_accounts (tenant, customer_id, point_type, {_ACCOUNT_COLUMNS})"
    " VALUES ('default', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "save account": "UPDATE lk_accounts SET available = ?, pending = ?, deficit = ?,"
    " lifetime_earned = ?, lifetime_redeemed = ?, lifetime_expired = ?, last_seq = ?"
    " WHERE tenant = 'default' AND customer_id = ? AND point_type = ?",
    "outcome": "INSERT INTO lk_idempotency (tenant, customer_id, key, command, fingerprint,"
    " outcome, recorded_at) VALUES ('default', ?, ?, ?, ?, ?, ?)",
}

# SQLite holds the default programme's key as '' (0016)
SQLITE_RAW = {
    name: text.replace("tenant = 'default'", "tenant = ''").replace("('default',", "('',")
    for name, text in RAW.items()
}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def raw_commands(
    db: Any,
    plan: list[tuple[str, int, int, datetime]],
    batch: int,
    *,
    sql: dict[str, str],
    stamp: Callable[[datetime], Any],
    begin: Callable[[], None],
    commit: Callable[[], None],
    rollback: Callable[[], None],
) -> None:
    """The plan through a DB-API connection ``db``, with the facade's statements."""
    for first in range(0, len(plan), batch):
        begin()
        kept = True
        for n in range(first, min(first + batch, len(plan))):
            kept = raw_command(db, n, *plan[n], batched=batch > 1, sql=sql, stamp=stamp)
        if kept or batch > 1:
            commit()
        else:  # one command per transaction: a refused command rolls its transaction back
            rollback()


def raw_command(
    db: Any,
    n: int,
    command: str,
    customer: int,
    points: int,
    at: datetime,
    *,
    batched: bool,
    sql: dict[str, str],
    stamp: Callable[[datetime], Any],
) -> bool:
    """One command; False if refused (its savepoint rolled back when ``batched``)."""
    cid, key, when = f"c{customer}", f"k{n}", stamp(at)
    if batched:
        db.execute("SAVEPOINT command")
    status = db.execute(sql["lock"], (cid,)).fetchone()[1]
    assert status == "active"
    if db.execute(sql["key"], (cid, key)).fetchone():
        raise AssertionError("keys are unique in the plan")
    row = db.execute(sql["account"], (cid, "points")).fetchone()
    db.execute(sql["due"], (cid, "points", when, True, when)).fetchall()
    available, pending, deficit, earned, redeemed, expired, seq = row or (0,) * 7
    arguments = {"customer": cid, "points": points, "point_type": "points"}
    changes = []
    if command == "earn":
        expiry = at + timedelta(days=30)
        arguments["expires_at"] = expiry.isoformat()
        db.execute(
            sql["lot"],
            (cid, "points", seq + 1, 0, points, points, when, stamp(expiry), None, False)
            + (0,) * 4,
        )
        available, earned, amount = available + points, earned + points, points
    else:
        if available < points:  # refused: undone, as the facade undoes it
            if batched:
                db.execute("ROLLBACK TO SAVEPOINT command")
                db.execute("RELEASE SAVEPOINT command")
            return False
        left = points
        lots = db.execute(sql["spendable"], (cid, "points", False, when)).fetchall()
        for lot_seq, index, remaining in lots:
            take = min(left, remaining)
            db.execute(sql["spend"], (remaining - take, cid, "points", lot_seq, index))
            # SQLite names a lot of the entry's own account by its position (0016)
            lot = f"{lot_seq}.{index}" if sql is SQLITE_RAW else f"{cid}:points:{lot_seq}.{index}"
            changes.append([lot, -take])
            left -= take
            if not left:
                break
        available, redeemed, amount = available - points, redeemed + points, -points
    seq += 1
    entry = {
        "customer_id": cid,
        "point_type": "points",
        "seq": seq,
        "kind": command,
        "amount": amount,
        "occurred_at": at.isoformat(),
        "recorded_at": at.isoformat(),
        "idempotency_key": key,
        "lots": changes,
    }
    head = (cid, "points", seq, command, amount, 0, 0, when, when, key, "", None, None, None)
    db.execute(sql["entry"], (*head, 0, json.dumps(changes), "[]"))
    counts = (available, pending, deficit, earned, redeemed, expired, seq)
    if row is None:
        db.execute(sql["new account"], (cid, "points", *counts))
    else:
        db.execute(sql["save account"], (*counts, cid, "points"))
    digest = hashlib.sha256(json.dumps([command, arguments], sort_keys=True).encode())
    # SQLite holds the facade's fingerprints as bytes, the servers as hex text (0016)
    fingerprint = digest.digest() if sql is SQLITE_RAW else digest.hexdigest()
    outcome = {"command": command, "at": at.isoformat(), "entries": [entry]}
    outcome["balances"] = [dict(zip(_ACCOUNT_COLUMNS.split(", "), counts, strict=True))]
    db.execute(sql["outcome"], (cid, key, command, fingerprint, json.dumps(outcome), when))
    if batched:
        db.execute("RELEASE SAVEPOINT command")
    return True


def raw_sqlite(
    path: Path, plan: list[tuple[str, int, int, datetime]], customers: int, batch: int = 1
) -> float:
    """stdlib sqlite3 on the facade's schema, with the facade's pragmas."""
    _schema_with_customers(f"sqlite:///{path}", customers)
    db = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL"):
        db.execute(f"PRAGMA {pragma}")

    def stamp(at: datetime) -> int:  # the facade's SQLite form: microseconds since 1970
        return (at - EPOCH) // timedelta(microseconds=1)

    start = time.perf_counter()
    raw_commands(
        db,
        plan,
        batch,
        sql=SQLITE_RAW,
        stamp=stamp,
        begin=lambda: db.execute("BEGIN IMMEDIATE"),
        commit=lambda: db.execute("COMMIT"),
        rollback=lambda: db.execute("ROLLBACK"),
    )
    elapsed = time.perf_counter() - start
    db.close()
    return elapsed


def raw_postgres(
    url: str, plan: list[tuple[str, int, int, datetime]], customers: int, batch: int = 1
) -> float:
    """psycopg 3 on the facade's schema: the same statements, the lock ``FOR UPDATE``."""
    import psycopg

    _schema_with_customers(url, customers)
    parsed = make_url(url)
    dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    sql = {name: text.replace("?", "%s") for name, text in RAW.items()}
    sql["lock"] += " FOR UPDATE"
    with psycopg.connect(dsn) as db:
        db.execute("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED")
        db.commit()
        start = time.perf_counter()
        # psycopg opens a transaction at the first statement: begin is implicit
        raw_commands(
            db,
            plan,
            batch,
            sql=sql,
            stamp=lambda at: at.astimezone(UTC).replace(tzinfo=None),
            begin=lambda: None,
            commit=db.commit,
            rollback=db.rollback,
        )
        return time.perf_counter() - start


def _schema_with_customers(url: str, customers: int) -> None:
    """The facade's schema, migrated, with the customers enrolled through the facade."""
    loyalty = Loyalty(storage=url)
    for c in range(customers):
        loyalty.enroll(f"c{c}", at=T0, idempotency_key=f"e{c}")
    loyalty.close()


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


def expiry_rate(url: str, lots: int, per_account: int = 10) -> tuple[float, float]:
    """``expire_due`` over ``lots`` lots of ``per_account`` per account: (lots/s, seconds).

    One account is built through the facade (enroll, then an earn per lot, expiring the
    next day); its rows — customer, account, entries, lots, idempotency records — are
    copied for the other accounts with the customer id replaced, in bulk, so seeding a
    million lots takes minutes instead of hours. Only ``expire_due`` is timed; afterwards
    the run checks the report and the ledger invariants of a sample of accounts.
    """
    loyalty = Loyalty(storage=url)
    accounts = max(1, lots // per_account)
    loyalty.enroll("x0", at=T0, idempotency_key="ex0")
    for n in range(per_account):
        loyalty.earn("x0", 3, at=T0, idempotency_key=f"xl{n}", expires_at=T0 + timedelta(days=1))
    _replicate(loyalty.storage, "x0", [f"x{c}" for c in range(1, accounts)])
    start = time.perf_counter()
    report = loyalty.expire_due(at=T0 + timedelta(days=2))
    elapsed = time.perf_counter() - start
    total = accounts * per_account
    assert (report.entries, report.expired) == (total, 3 * total), report
    for c in range(0, accounts, max(1, accounts // 50)):
        assert ledger_violations(loyalty.storage, f"x{c}", "points") == []
        assert loyalty.balance(f"x{c}").available == 0
    loyalty.close()
    return total / elapsed, elapsed


def _replicate(storage: Any, template: str, customers: list[str]) -> None:
    """Copy every row of customer ``template`` for each of ``customers``."""
    from loyaltykit.storage.sql.schema import metadata

    engine = storage.engine
    with engine.connect() as connection:
        rows = {}
        for table in metadata.sorted_tables:
            key = table.c.id if "id" in table.c and "customer_id" not in table.c else None
            column = key if key is not None else table.c.get("customer_id")
            if column is None:
                continue
            rows[table] = [
                dict(row._mapping)
                for row in connection.execute(table.select().where(column == template))
            ]
    prefix = f"{template}:"
    step = 5_000
    for first in range(0, len(customers), step):
        with engine.begin() as connection:
            for table, originals in rows.items():
                if not originals:
                    continue
                copies = []
                for customer in customers[first : first + step]:
                    for row in originals:
                        copy = dict(row)
                        for name in ("id", "customer_id"):
                            if copy.get(name) == template:
                                copy[name] = customer
                        if isinstance(copy.get("lots"), str):
                            copy["lots"] = copy["lots"].replace(prefix, f"{customer}:")
                        copies.append(copy)
                connection.execute(table.insert(), copies)


def unit_costs(folder: Path, units: int = 20_000) -> list[tuple[str, str]]:
    """CPU time of an empty unit of work (enter, commit, exit) on a SQLite file against
    the raw driver's ``BEGIN IMMEDIATE`` / ``COMMIT``, and of a read-only one against
    ``BEGIN`` / ``COMMIT``; each side's best of three."""
    from loyaltykit.storage.sql import SqlStorage

    storage = SqlStorage.from_url(f"sqlite:///{folder / 'units.db'}")
    db = sqlite3.connect(folder / "units-raw.db", isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL"):
        db.execute(f"PRAGMA {pragma}")

    def timed(body: Callable[[], None]) -> float:
        times = []
        for _ in range(3):
            start = time.process_time()
            for _ in range(units):
                body()
            times.append((time.process_time() - start) / units)
        return min(times)

    def unit(opened: Callable[[], Any]) -> Callable[[], None]:
        def body() -> None:
            with opened() as uow:
                uow.commit()

        return body

    def raw(begin: str) -> Callable[[], None]:
        def body() -> None:
            db.execute(begin)
            db.execute("COMMIT")

        return body

    write, read = timed(unit(storage.unit_of_work)), timed(unit(storage.read_unit_of_work))
    raw_write, raw_read = timed(raw("BEGIN IMMEDIATE")), timed(raw("BEGIN"))
    storage.close()
    db.close()
    return [
        ("empty unit of work (CPU)", f"{write * 1e6:.1f} us"),
        ("raw BEGIN IMMEDIATE / COMMIT (CPU)", f"{raw_write * 1e6:.1f} us"),
        ("  ratio unit of work / raw", f"{write / raw_write:.1f}x"),
        ("empty read-only unit of work (CPU)", f"{read * 1e6:.1f} us"),
        ("raw BEGIN / COMMIT (CPU)", f"{raw_read * 1e6:.1f} us"),
        ("  ratio read-only unit of work / raw", f"{read / raw_read:.1f}x"),
    ]


def disk_bytes(folder: Path, entries: int = 4_000, customers: int = 200) -> list[tuple[str, str]]:
    """Bytes of a SQLite file per ledger entry: ``entries`` earns with an expiry in one
    batch, the file checkpointed and vacuumed, divided by the entries."""
    path = folder / "disk.db"
    loyalty = Loyalty(storage=f"sqlite:///{path}")
    for c in range(customers):
        loyalty.enroll(f"c{c}", at=T0, idempotency_key=f"e{c}")
    with loyalty.batch():
        for n in range(entries):
            at = T0 + timedelta(seconds=n)
            loyalty.earn(
                f"c{n % customers}",
                10,
                at=at,
                idempotency_key=f"k{n}",
                expires_at=at + timedelta(days=30),
            )
    loyalty.close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute("VACUUM")
    db.close()
    return [("bytes on disk per entry", f"{path.stat().st_size / entries:,.0f} B")]


def report(name: str, rows: list[tuple[str, str]]) -> None:
    print(f"{name}:")
    for label, value in rows:
        print(f"  {label:<50} {value:>20}", flush=True)


def best(timings: dict[str, float], name: str, seconds: float) -> None:
    """Keep the shortest time measured for ``name``."""
    timings[name] = min(seconds, timings.get(name, seconds))


def command_rows(timings: dict[str, float], commands: int) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for mode, _ in MODES:
        facade, raw = timings[f"facade {mode}"], timings[f"raw {mode}"]
        rows += [
            (f"facade, {mode}", f"{commands / facade:,.0f} commands/s"),
            (f"raw driver, {mode}", f"{commands / raw:,.0f} commands/s"),
            ("  ratio facade / raw time", f"{facade / raw:.1f}x"),
        ]
    return rows


def other_rows(
    url: Callable[[str], tuple[str, Callable[[], None]]], args: argparse.Namespace
) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    if "balance" in args.only:
        where, drop = url("balance")
        try:
            one, many = balance_times(where, args.big_account)
        finally:
            drop()
        rows += [
            ("balance(), 1 entry", f"{one * 1e6:,.0f} us"),
            (f"balance(), {args.big_account:,} entries", f"{many * 1e6:,.0f} us"),
        ]
    if "expiry" in args.only:
        where, drop = url("expiry")
        try:
            rate, seconds = expiry_rate(where, args.expire_lots)
        finally:
            drop()
        rows.append(
            (f"expire_due, {args.expire_lots:,} lots", f"{rate:,.0f} lots/s ({seconds:,.1f} s)")
        )
    return rows


BATCH = 100
MODES = (("one command per transaction", 1), (f"batched, {BATCH} commands per transaction", BATCH))
PARTS = ("commands", "balance", "expiry", "units", "disk")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commands", type=int, default=20_000)
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--big-account", type=int, default=10_000)
    parser.add_argument("--expire-lots", type=int, default=20_000)
    parser.add_argument(
        "--only",
        nargs="+",
        choices=PARTS,
        default=list(PARTS),
        help="run only these parts (e.g. --only expiry --expire-lots 1000000)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run each command measurement N times, raw and facade alternating, and keep "
        "each one's best time (the machine is shared: the best run is the least disturbed)",
    )
    parser.add_argument("--no-sqlite", action="store_true", help="skip SQLite")
    parser.add_argument("--postgres", default=os.environ.get("LOYALTYKIT_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    plan = workload(args.commands, args.customers)
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as folder:
            base = Path(folder)
            rows = []
            if "commands" in args.only:
                timings: dict[str, float] = {}
                for attempt in range(args.repeat):
                    for mode, batch in MODES:
                        raw = base / f"raw{batch}-{attempt}.db"
                        best(timings, f"raw {mode}", raw_sqlite(raw, plan, args.customers, batch))
                        url = f"sqlite:///{base / f'facade{batch}-{attempt}.db'}"
                        took = run_facade(url, plan, args.customers, batch)
                        best(timings, f"facade {mode}", took)
                rows += command_rows(timings, args.commands)

            def sqlite_file(name: str) -> tuple[str, Callable[[], None]]:
                return f"sqlite:///{base / f'{name}.db'}", lambda: None

            if "units" in args.only:
                rows += unit_costs(base)
            if "disk" in args.only:
                rows += disk_bytes(base)
            report("SQLite file", rows + other_rows(sqlite_file, args))
    if args.postgres:
        rows = []
        if "commands" in args.only:
            timings = {}
            for _ in range(args.repeat):
                for mode, batch in MODES:
                    for side in ("raw", "facade"):
                        url, drop = postgres_schema(args.postgres)
                        try:
                            run = raw_postgres if side == "raw" else run_facade
                            best(timings, f"{side} {mode}", run(url, plan, args.customers, batch))
                        finally:
                            drop()
            rows += command_rows(timings, args.commands)
        server = args.postgres
        report("PostgreSQL", rows + other_rows(lambda _: postgres_schema(server), args))


if __name__ == "__main__":
    main()
