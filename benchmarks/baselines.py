"""The facade on SQLite against what a user would write by hand for the same workload.

Run: ``.venv/bin/python benchmarks/baselines.py [--commands N] [--customers N] [--repeat N]``.

The workload is benchmarks/storage.py's: earns of 10 points with a 30-day expiry, every
10th command a redemption of 5 points by the customer who earned just before. Two
hand-written baselines run it on their own small schema (a balance per customer, lots,
an entry per change), with the same SQLite settings as the facade (a file, WAL,
``synchronous=NORMAL``):

- **SQLAlchemy Core**: plain Core statements, ``engine.begin()`` per transaction,
  redemption FIFO by expiry (``SELECT`` the live lots in expiry order, take from each);
- **raw sqlite3**: the minimal statements on the standard library's driver.

Each runs one command per transaction, then 100 per transaction. The run stops unless
each baseline ends with the facade's state: every customer's balance and the remaining
points and expiry of every lot. Ratios are facade time / baseline time, best of
``--repeat`` runs alternating the sides, in CPU time of this process (the machine is
shared: waits for the disk and for other jobs are not the code's cost).
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    insert,
    select,
    update,
)

from loyaltykit import Loyalty
from storage import run_facade, workload

Plan = list[tuple[str, int, int, datetime]]
State = dict[str, tuple[int, list[tuple[int, datetime | None]]]]
EXPIRY = timedelta(days=30)

_schema = MetaData()
balances = Table(
    "balances",
    _schema,
    Column("customer", String(64), primary_key=True),
    Column("points", BigInteger, nullable=False),
)
lots = Table(
    "lots",
    _schema,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("customer", String(64), nullable=False, index=True),
    Column("remaining", BigInteger, nullable=False),
    Column("expires_at", DateTime, nullable=False),
)
entries = Table(
    "entries",
    _schema,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("customer", String(64), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("at", DateTime, nullable=False),
)


def _naive(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(tzinfo=None)


def core_engine(path: Path, customers: int) -> Engine:
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _pragmas(connection: Any, _record: Any) -> None:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")

    _schema.create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            insert(balances), [{"customer": f"c{c}", "points": 0} for c in range(customers)]
        )
    return engine


def core_command(connection: Any, command: str, customer: int, points: int, at: datetime) -> None:
    """One command with SQLAlchemy Core, as a user would write it."""
    cid, when = f"c{customer}", _naive(at)
    if command == "earn":
        connection.execute(
            insert(lots).values(customer=cid, remaining=points, expires_at=when + EXPIRY)
        )
        connection.execute(
            update(balances)
            .where(balances.c.customer == cid)
            .values(points=balances.c.points + points)
        )
        connection.execute(insert(entries).values(customer=cid, amount=points, at=when))
        return
    balance = connection.execute(
        select(balances.c.points).where(balances.c.customer == cid)
    ).scalar_one()
    if balance < points:
        return
    live = connection.execute(
        select(lots.c.id, lots.c.remaining)
        .where(lots.c.customer == cid, lots.c.remaining > 0, lots.c.expires_at > when)
        .order_by(lots.c.expires_at, lots.c.id)
    )
    left = points
    for lot_id, remaining in live.all():
        take = min(left, remaining)
        connection.execute(
            update(lots).where(lots.c.id == lot_id).values(remaining=remaining - take)
        )
        left -= take
        if not left:
            break
    connection.execute(
        update(balances).where(balances.c.customer == cid).values(points=balance - points)
    )
    connection.execute(insert(entries).values(customer=cid, amount=-points, at=when))


def run_core(path: Path, plan: Plan, customers: int, batch: int) -> tuple[float, State]:
    engine = core_engine(path, customers)
    start = time.process_time()
    for first in range(0, len(plan), batch):
        with engine.begin() as connection:
            for step in plan[first : first + batch]:
                core_command(connection, *step)
    elapsed = time.process_time() - start
    engine.dispose()
    return elapsed, _state_of(path)


def raw_command(
    db: sqlite3.Connection, command: str, customer: int, points: int, at: datetime
) -> None:
    """One command with the fewest statements on sqlite3."""
    cid, when = f"c{customer}", _naive(at).isoformat(" ")
    if command == "earn":
        expiry = (_naive(at) + EXPIRY).isoformat(" ")
        db.execute(
            "INSERT INTO lots (customer, remaining, expires_at) VALUES (?, ?, ?)",
            (cid, points, expiry),
        )
        db.execute("UPDATE balances SET points = points + ? WHERE customer = ?", (points, cid))
        db.execute(
            "INSERT INTO entries (customer, amount, at) VALUES (?, ?, ?)", (cid, points, when)
        )
        return
    (balance,) = db.execute("SELECT points FROM balances WHERE customer = ?", (cid,)).fetchone()
    if balance < points:
        return
    left = points
    for lot_id, remaining in db.execute(
        "SELECT id, remaining FROM lots WHERE customer = ? AND remaining > 0 AND expires_at > ?"
        " ORDER BY expires_at, id",
        (cid, when),
    ).fetchall():
        take = min(left, remaining)
        db.execute("UPDATE lots SET remaining = ? WHERE id = ?", (remaining - take, lot_id))
        left -= take
        if not left:
            break
    db.execute("UPDATE balances SET points = ? WHERE customer = ?", (balance - points, cid))
    db.execute("INSERT INTO entries (customer, amount, at) VALUES (?, ?, ?)", (cid, -points, when))


def run_raw(path: Path, plan: Plan, customers: int, batch: int) -> tuple[float, State]:
    core_engine(path, customers).dispose()  # the same small schema, created once
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    start = time.process_time()
    for first in range(0, len(plan), batch):
        db.execute("BEGIN IMMEDIATE")
        for step in plan[first : first + batch]:
            raw_command(db, *step)
        db.execute("COMMIT")
    elapsed = time.process_time() - start
    db.close()
    return elapsed, _state_of(path)


def _state_of(path: Path) -> State:
    """Every customer's balance and lots (remaining, expiry), from a baseline's file."""
    db = sqlite3.connect(path)
    state: State = {
        cid: (points, []) for cid, points in db.execute("SELECT customer, points FROM balances")
    }
    for cid, remaining, expiry in db.execute(
        "SELECT customer, remaining, expires_at FROM lots ORDER BY customer, expires_at, id"
    ):
        state[cid][1].append((remaining, datetime.fromisoformat(expiry).replace(tzinfo=UTC)))
    db.close()
    return state


def facade_state(url: str, customers: int) -> State:
    """The same, from the facade's store."""
    loyalty = Loyalty(storage=url)
    held = {f"c{c}": loyalty.balance(f"c{c}").available for c in range(customers)}
    state: State = {}
    with loyalty.storage.unit_of_work() as uow:
        for cid, available in held.items():
            found = sorted(uow.ledger.lots(cid, "points"), key=lambda lot: lot.consumption_key)
            state[cid] = (available, [(lot.remaining, lot.expires_at) for lot in found])
    loyalty.close()
    return state


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=20_000)
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    plan = workload(args.commands, args.customers)
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        for mode, batch in (
            ("one command per transaction", 1),
            ("batched, 100 per transaction", 100),
        ):
            short = "one per transaction" if batch == 1 else "batched"
            best: dict[str, float] = {}
            runs: dict[str, Callable[[Path, Plan, int, int], tuple[float, State]]] = {
                "SQLAlchemy Core": run_core,
                "raw sqlite3": run_raw,
            }
            for attempt in range(args.repeat):
                url = f"sqlite:///{base / f'facade-{batch}-{attempt}.db'}"
                took = run_facade(url, plan, args.customers, batch, time.process_time)
                best["facade"] = min(took, best.get("facade", took))
                expected = facade_state(url, args.customers)
                for name, run in runs.items():
                    took, state = run(
                        base / f"{name[:3]}-{batch}-{attempt}.db", plan, args.customers, batch
                    )
                    if state != expected:
                        raise SystemExit(f"{name} ({mode}) did not reach the facade's end state")
                    best[name] = min(took, best.get(name, took))
            rows.append((f"facade, {mode}", f"{args.commands / best['facade']:,.0f} commands/s"))
            for name in runs:
                rows += [
                    (f"{name}, {mode}", f"{args.commands / best[name]:,.0f} commands/s"),
                    (
                        f"  ratio facade / {name}, {short}",
                        f"{best['facade'] / best[name]:.2f}x",
                    ),
                ]
    print("SQLite file, end states checked equal:")
    for label, figure in rows:
        print(f"  {label:<55} {figure:>20}")


if __name__ == "__main__":
    main()
