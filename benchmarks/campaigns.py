"""What campaigns cost: the engine with 0, 1 and 8 campaigns, and purchases through the
facade with a budgeted campaign on memory and SQLite.

Run: ``.venv/bin/python benchmarks/campaigns.py`` (``--events N`` to scale).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from loyaltykit import Customer, Loyalty, Money, Program, Purchase
from loyaltykit.policy.engine import CustomerState, PolicyEngine

T0 = datetime(2026, 5, 8, 4, tzinfo=UTC)
START = "2026-01-01T00:00:00+08:00"
KINDS: list[dict[str, Any]] = [
    {
        "schedule": {"start": START, "recurrence": "FREQ=MONTHLY;BYMONTHDAY=8"},
        "effects": [{"kind": "multiply", "factor": "2"}],
    },
    {
        "schedule": {"start": START, "recurrence": "FREQ=WEEKLY;BYDAY=SA,SU;BYMONTH=12"},
        "effects": [{"kind": "multiply", "factor": "3"}],
    },
    {
        "schedule": {"start": START},
        "audience": {"tags": ["vip"]},
        "effects": [{"kind": "bonus", "points": 5}],
    },
    {
        "schedule": {"start": START},
        "audience": {"condition": "event.amount >= 300"},
        "effects": [{"kind": "spend_bonus", "threshold": "300", "points": 50, "repeat": True}],
    },
]


def program(campaigns: int, *, budget: int | None = None) -> Program:
    """The retail base rate and ``campaigns`` campaigns drawn from four kinds."""
    items = []
    for n in range(campaigns):
        item = {
            "id": f"c{n}",
            **KINDS[n % len(KINDS)],
            "member_limit": {"times": 1000, "period": "day"},
        }
        if budget is not None:
            item["budget"] = {"points": budget}
        items.append(item)
    return Program.from_dict(
        {
            "timezone": "Asia/Shanghai",
            "rules": [{"id": "base", "kind": "base_rate", "per": "10"}],
            "campaigns": items,
        }
    )


def engine_rate(campaigns: int, events: int) -> float:
    """Events per second through ``PolicyEngine.evaluate``."""
    rules = program(campaigns)
    state = CustomerState(customer=Customer(id="c", enrolled_at=T0))
    engine = PolicyEngine()
    purchases = [Purchase(amount=Money.of(100 + n % 400, "CNY")) for n in range(events)]
    started = time.perf_counter()
    for n, purchase in enumerate(purchases):
        engine.evaluate(rules, state, purchase, T0 + timedelta(minutes=n))
    return events / (time.perf_counter() - started)


def facade_rate(storage: str | None, campaigns: int, events: int) -> float:
    """Purchases per second through the facade, every campaign budgeted."""
    loyalty = Loyalty(program(campaigns, budget=10**9), storage=storage)
    members = [f"m{n}" for n in range(50)]
    for member in members:
        loyalty.enroll(member, at=T0, idempotency_key=f"e-{member}")
    started = time.perf_counter()
    for n in range(events):
        loyalty.record_purchase(
            members[n % len(members)],
            Purchase(amount=Money.of(120, "CNY")),
            at=T0,
            idempotency_key=f"p-{n}",
        )
    rate = events / (time.perf_counter() - started)
    loyalty.close()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=5_000)
    events = parser.parse_args().events
    for count in (0, 1, 8):
        print(f"engine, {count} campaigns: {engine_rate(count, events):>9,.0f} events/s")
    for count in (0, 1):
        rate = facade_rate(None, count, events // 5)
        print(f"memory facade, {count} campaigns: {rate:>7,.0f} purchases/s")
    with tempfile.TemporaryDirectory() as folder:
        for count in (0, 1):
            url = f"sqlite:///{Path(folder) / f'bench-{count}.db'}"
            rate = facade_rate(url, count, events // 10)
            print(f"SQLite facade, {count} campaigns: {rate:>7,.0f} purchases/s")


if __name__ == "__main__":
    main()
