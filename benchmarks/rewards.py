"""What a catalogue redemption costs next to a plain points redemption, per backend.

Run: ``.venv/bin/python benchmarks/rewards.py`` (``--customers 2000``; ``--postgres URL``
adds a PostgreSQL server, used in a schema of its own that is dropped afterwards; memory
and a SQLite file always run).
Each customer earns once, then redeems a catalogue reward with stock, a member limit and
a global limit (``redeem``), and, on a second account, the same points with
``redeem_points``; half the redemptions are then cancelled. Figures are commands per
second and the ratio of the two redemptions, since absolute times on shared machines
are not comparable. Not a test: it checks that the stock and the balances add up.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench_databases import postgres_schema

from loyaltykit import Loyalty, Program, RedemptionLimit, Reward, RewardCatalog

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def program(customers: int) -> Program:
    gift = Reward(
        id="gift",
        kind="gift",
        price=50,
        stock=customers,
        member_limits=(RedemptionLimit(count=1, period="month"),),
        global_limits=(RedemptionLimit(count=customers, period="day"),),
    )
    return Program(catalog=RewardCatalog.of(gift))


def timed(count: int, command: Callable[[int], object]) -> float:
    start = time.perf_counter()
    for n in range(count):
        command(n)
    return count / (time.perf_counter() - start)


def run(url: str, customers: int) -> dict[str, float]:
    loyalty = Loyalty(program(customers), storage=url)
    at = T0 + timedelta(hours=1)
    for n in range(customers):
        for who in (f"c{n}", f"p{n}"):
            loyalty.enroll(who, at=T0, idempotency_key="enroll")
            loyalty.earn(who, 100, at=T0, idempotency_key="fund")
    rates = {
        "redeem": timed(
            customers, lambda n: loyalty.redeem(f"c{n}", "gift", at=at, idempotency_key="r")
        ),
        "redeem_points": timed(
            customers, lambda n: loyalty.redeem_points(f"p{n}", 50, at=at, idempotency_key="r")
        ),
        "cancel_redemption": timed(
            customers // 2,
            lambda n: loyalty.cancel_redemption(f"c{2 * n}", "r", at=at, idempotency_key="c"),
        ),
    }
    assert loyalty.stock_left("gift", at=at) == customers // 2
    assert sum(loyalty.balance(f"c{n}").available for n in range(customers)) == (
        customers * 50 + customers // 2 * 50
    )
    loyalty.close()
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--postgres", help="a PostgreSQL server URL (a schema is made)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        urls = {"memory": "memory://", "sqlite": f"sqlite:///{Path(folder) / 'bench.db'}"}
        print(f"{options.customers} customers; commands per second")
        print(f"{'backend':<12}{'redeem':>10}{'points':>10}{'ratio':>8}{'cancel':>10}")
        for name, url in urls.items():
            show(name, run(url, options.customers))
        if options.postgres:
            url, drop = postgres_schema(options.postgres)
            try:
                show("postgresql", run(url, options.customers))
            finally:
                drop()


def show(name: str, rates: dict[str, float]) -> None:
    ratio = rates["redeem"] / rates["redeem_points"]
    print(
        f"{name:<12}{rates['redeem']:>10.0f}{rates['redeem_points']:>10.0f}"
        f"{ratio:>8.2f}{rates['cancel_redemption']:>10.0f}"
    )


if __name__ == "__main__":
    main()
