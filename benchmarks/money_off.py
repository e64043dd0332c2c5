"""What money-off campaigns cost at checkout: checkouts with no campaign, with one money-off
campaign (满减) without a budget, and with one whose money budget each checkout takes
from, on memory and SQLite. CPU time (``time.process_time``): compare the ratios of one run.

Run: ``.venv/bin/python benchmarks/money_off.py`` (``--orders N`` to scale).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from loyaltykit import Budget, Campaign, Item, Loyalty, Money, MoneyOff, Program, Purchase, Schedule
from loyaltykit.policy.rules import BaseRate

AT = datetime(2026, 5, 1, 12, tzinfo=UTC)


def cny(amount: int) -> Money:
    return Money.of(amount, "CNY")


def program(kind: str) -> Program:
    """The base rate alone, or with a 满200减20 campaign (``budgeted`` from a money budget)."""
    campaigns = ()
    if kind != "none":
        campaigns = (
            Campaign(
                id="spend-200",
                schedule=Schedule(start=datetime(2026, 1, 1, tzinfo=UTC)),
                effects=(MoneyOff(amount=cny(20), minimum=cny(200)),),
                budget=Budget(money=cny(10**9)) if kind == "budgeted" else None,
            ),
        )
    return Program(rules=(BaseRate(id="base", per=cny(1)),), campaigns=campaigns)


BASKET = Purchase(
    amount=cny(300),
    items=(
        Item(sku="run-1", category="shoes", unit_price=cny(200)),
        Item(sku="tee-1", category="shirts", quantity=2, unit_price=cny(50)),
    ),
)


def rate(kind: str, storage: str | None, orders: int) -> float:
    """Checkouts per CPU second."""
    loyalty = Loyalty(program(kind), storage=storage)
    loyalty.enroll("c-1", at=AT, idempotency_key="enroll")
    started = time.process_time()
    for n in range(orders):
        loyalty.checkout("c-1", BASKET, at=AT, idempotency_key=f"o{n}")
    return orders / (time.process_time() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=400)
    orders = parser.parse_args().orders
    kinds = ("none", "unbudgeted", "budgeted")
    print(f"{orders} checkouts on memory, {orders // 4} on SQLite, per CPU second")
    print(f"{'backend':<10}" + "".join(f"{kind:>14}" for kind in kinds))
    ratios = []
    with tempfile.TemporaryDirectory() as folder:
        for backend in ("memory", "sqlite"):
            rates = {}
            for kind in kinds:
                url = None if backend == "memory" else f"sqlite:///{Path(folder)}/{kind}.db"
                rates[kind] = rate(kind, url, orders if backend == "memory" else orders // 4)
            print(f"{backend:<10}" + "".join(f"{rates[kind]:>14,.0f}" for kind in kinds))
            ratios += [
                (f"ratio {kind} / none, {backend}", rates[kind] / rates["none"])
                for kind in kinds[1:]
            ]
    print()
    for name, value in ratios:
        print(f"{name:<36}{value:>8.2f}x")


if __name__ == "__main__":
    main()
