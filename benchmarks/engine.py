"""Policy engine throughput: engine alone, through the facade, against hand-written Python.

Run: ``.venv/bin/python benchmarks/engine.py`` (``--events N`` to scale; the facade run
uses the first ``--facade-events`` of the same purchases). Ratios are against baselines
measured in the same run. All three sides run the same programme (the ``gold`` multiplier
applies to members tagged ``gold``, one in four) on the same members, each with a history
of ``events / customers`` purchases, and must grant the same points: checked. Also times
a three-clause condition against a lambda doing the same test.

``--instructions`` counts instead, with callgrind (needs ``valgrind``), the instructions per
event of ``evaluate`` (traced, the trace not read), of ``evaluate`` with its
``explain()`` read on every event (as ``record_purchase`` does for the receipt), of
``evaluate(explain=False)`` and of the hand-written function: repeatable where CPU times
are not. Each side runs in its own process; the set-up it shares with the others (the
workload and, for the engine, the members) is counted alone and taken off.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
import timeit
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

from loyaltykit import Customer, Loyalty, Money, Profile, Program
from loyaltykit.domain.activity import Item, Purchase
from loyaltykit.policy.conditions import Condition
from loyaltykit.policy.engine import CounterIncrement, CustomerState, PolicyEngine

T0 = datetime(2026, 5, 1, 9, tzinfo=UTC)
# the programme of every side (and of benchmarks/kernel.py): 8 rules, 4 with conditions,
# 3 caps, in the dict form both the current tree and older ones read
RETAIL = Program.from_dict(json.loads((Path(__file__).parent / "retail.json").read_text()))


def baskets() -> list[Purchase]:
    """The three baskets the workload cycles through."""
    return [
        Purchase(
            amount=Money.of("59.90", "CNY"),
            items=(Item(sku="latte", category="coffee", quantity=2),),
        ),
        Purchase(amount=Money.of("699.00", "CNY"), items=(Item(sku="runner", category="shoes"),)),
        Purchase(
            amount=Money.of("128.50", "CNY"),
            items=(Item(sku="tee", category="clothes", quantity=3),),
        ),
    ]


def events(count: int, customers: int) -> list[tuple[int, Purchase, datetime]]:
    kinds = baskets()
    return [(n % customers, kinds[n % 3], T0 + timedelta(minutes=7 * n)) for n in range(count)]


def hand_written(
    customer: int,
    purchase: Purchase,
    at: datetime,
    tier: str,
    purchases: int,
    counters: dict[str, int],
) -> int:
    """The same program as plain Python: what a developer would write without loyaltykit."""
    amount = purchase.amount.amount
    points = (amount / 10).quantize(Decimal(1), rounding=ROUND_DOWN)
    points += 5 * sum(i.quantity for i in purchase.items if i.category == "coffee")
    if any(i.category == "shoes" for i in purchase.items):
        points += 20
    if amount >= 500:
        points += 200
    if purchases == 0:
        points += 50
    if at.isoweekday() >= 6:
        points += 10
    if tier == "gold":
        points = (points * Decimal("1.5")).quantize(Decimal(1), rounding=ROUND_DOWN)
    if at.day == 8 and amount >= 100:
        points = (points * 2).quantize(Decimal(1), rounding=ROUND_DOWN)
    granted = int(points)
    day, month = f"d{at:%Y-%m-%d}", f"m{at:%Y-%m}"
    granted = min(granted, 800, 1000 - counters.get(day, 0), 5000 - counters.get(month, 0))
    granted = max(granted, 0)
    counters[day] = counters.get(day, 0) + granted
    counters[month] = counters.get(month, 0) + granted
    return granted


def gold(customer: int) -> bool:
    """One member in four is tagged ``gold``."""
    return customer % 4 == 0


def profile(customer: int) -> Profile:
    return Profile(tags=frozenset({"gold"} if gold(customer) else {"silver"}))


def run_baseline(plan: list[tuple[int, Purchase, datetime]]) -> tuple[float, int]:
    counters: dict[int, dict[str, int]] = {}
    purchases: dict[int, int] = {}
    total = 0
    start = time.process_time()
    for customer, purchase, at in plan:
        tier = "gold" if gold(customer) else "silver"
        mine = counters.setdefault(customer, {})
        total += hand_written(customer, purchase, at, tier, purchases.get(customer, 0), mine)
        purchases[customer] = purchases.get(customer, 0) + 1
    return time.process_time() - start, total


def run_engine(
    plan: list[tuple[int, Purchase, datetime]], *, explain: bool = True, read: bool = False
) -> tuple[float, int]:
    """The engine over ``plan``; with ``read``, each decision's ``explain()`` is read too."""
    engine = PolicyEngine()
    people = {c: Customer(id=f"c{c}", enrolled_at=T0, profile=profile(c)) for c, _, _ in plan}
    counters: dict[int, dict[str, int]] = {}
    purchases: dict[int, int] = {}
    total = 0
    start = time.process_time()
    for customer, purchase, at in plan:
        state = CustomerState(
            customer=people[customer],
            counters=counters.get(customer, {}),
            purchases=purchases.get(customer, 0),
        )
        decision = engine.evaluate(RETAIL, state, purchase, at, explain=explain)
        total += decision.points()
        if read:
            decision.explain()
        mine = counters.setdefault(customer, {})
        for effect in decision.effects:
            if isinstance(effect, CounterIncrement):
                prefix = effect.key.rsplit(":", 1)[0] + ":"
                for key in [k for k in mine if k.startswith(prefix) and k != effect.key]:
                    del mine[key]
                mine[effect.key] = mine.get(effect.key, 0) + effect.amount
        purchases[customer] = purchases.get(customer, 0) + 1
    return time.process_time() - start, total


def run_facade(plan: list[tuple[int, Purchase, datetime]]) -> tuple[float, int]:
    loyalty = Loyalty(RETAIL)
    members = sorted({c for c, _, _ in plan})
    for customer in members:
        loyalty.enroll(
            f"c{customer}", at=T0, idempotency_key=f"e{customer}", profile=profile(customer)
        )
    start = time.process_time()
    for n, (customer, purchase, at) in enumerate(plan):
        loyalty.record_purchase(f"c{customer}", purchase, at=at, idempotency_key=f"o{n}")
    seconds = time.process_time() - start
    total = sum(loyalty.balance(f"c{customer}").available for customer in members)
    return seconds, total


def condition_cost() -> tuple[float, float]:
    text = "event.amount >= 100 and customer.tier in ['gold', 'platinum'] and day_of_week(at) == 6"
    condition = Condition.parse(text)
    context: dict[str, Any] = {
        "event": {"amount": Decimal("120")},
        "customer": {"tier": "gold"},
        "at": datetime(2026, 1, 3, tzinfo=UTC),
    }

    def by_hand(ctx: dict[str, Any]) -> bool:
        return (
            ctx["event"]["amount"] >= 100
            and ctx["customer"]["tier"] in ["gold", "platinum"]
            and ctx["at"].isoweekday() == 6
        )

    assert condition.evaluate(context) is by_hand(context) is True
    number = 200_000
    ours = min(timeit.repeat(lambda: condition.evaluate(context), number=number, repeat=5))
    theirs = min(timeit.repeat(lambda: by_hand(context), number=number, repeat=5))
    return ours / number, theirs / number


SIDES = ("setup", "members", "hand-written", "engine", "engine-traced", "engine-explained")


def run_side(side: str, count: int, customers: int) -> None:
    """One side of the workload under callgrind (``setup`` and ``members`` build only
    what the other two build before they start)."""
    plan = events(count, customers)
    if side == "hand-written":
        run_baseline(plan)
    elif side == "engine":
        run_engine(plan, explain=False)  # builds the members, then evaluates
    elif side == "engine-traced":
        run_engine(plan)
    elif side == "engine-explained":
        run_engine(plan, read=True)
    elif side == "members":
        {c: Customer(id=f"c{c}", enrolled_at=T0, profile=profile(c)) for c, _, _ in plan}


def instructions(side: str, count: int, customers: int) -> int:
    """The instructions callgrind counts for one side, in a process of its own."""
    with tempfile.TemporaryDirectory() as folder:
        done = subprocess.run(
            [
                *("valgrind", "--tool=callgrind", f"--callgrind-out-file={Path(folder) / 'out'}"),
                *(sys.executable, __file__, "--side", side),
                *("--events", str(count), "--customers", str(customers)),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    found = re.search(r"refs:\s+([\d,]+)", done.stderr)
    if found is None:
        raise SystemExit(f"no instruction count from valgrind:\n{done.stderr}")
    return int(found.group(1).replace(",", ""))


def count_instructions(count: int, customers: int) -> None:
    counts = {side: instructions(side, count, customers) for side in SIDES}
    hand = (counts["hand-written"] - counts["setup"]) / count
    engine = (counts["engine"] - counts["members"]) / count
    traced = (counts["engine-traced"] - counts["members"]) / count
    explained = (counts["engine-explained"] - counts["members"]) / count
    rows = [
        ("hand-written Python", f"{hand:,.0f}"),
        ("PolicyEngine.evaluate", f"{traced:,.0f}"),
        ("ratio engine / hand-written", f"{traced / hand:.2f}x"),
        ("evaluate, explain() read", f"{explained:,.0f}"),
        ("ratio explained / hand-written", f"{explained / hand:.2f}x"),
        ("PolicyEngine.evaluate, explain=False", f"{engine:,.0f}"),
        ("ratio fast path / hand-written", f"{engine / hand:.2f}x"),
    ]
    print(f"{count:,} purchases over {customers:,} customers, instructions per event")
    for name, value in rows:
        print(f"  {name:<36} {value:>18}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--facade-events", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--instructions", action="store_true", help="count, with callgrind")
    parser.add_argument("--side", choices=SIDES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side is not None:
        run_side(args.side, args.events, args.customers)
        return
    if args.instructions:
        count_instructions(args.events, args.customers)
        return

    plan = events(args.events, args.customers)
    base_seconds, base_total = run_baseline(plan)
    engine_seconds, engine_total = run_engine(plan)
    assert engine_total == base_total, (engine_total, base_total)  # same program, same points
    read_seconds, read_total = run_engine(plan, read=True)
    assert read_total == base_total, (read_total, base_total)
    fast_seconds, fast_total = run_engine(plan, explain=False)
    assert fast_total == base_total, (fast_total, base_total)
    facade_plan = plan[: args.facade_events]
    facade_seconds, facade_total = run_facade(facade_plan)
    expected = run_baseline(facade_plan)[1]
    assert facade_total == expected, (facade_total, expected)  # the facade's points too
    ours, lambda_cost = condition_cost()
    print(
        f"{args.events:,} purchases over {args.customers:,} customers "
        f"({args.events / args.customers:,.0f} each); {base_total:,} points"
    )
    rows = [
        ("hand-written Python", f"{args.events / base_seconds:,.0f} events/s"),
        ("PolicyEngine.evaluate", f"{args.events / engine_seconds:,.0f} events/s"),
        ("ratio engine / hand-written time", f"{engine_seconds / base_seconds:.1f}x"),
        ("evaluate, explain() read", f"{args.events / read_seconds:,.0f} events/s"),
        ("ratio explained / hand-written time", f"{read_seconds / base_seconds:.1f}x"),
        ("PolicyEngine.evaluate, explain=False", f"{args.events / fast_seconds:,.0f} events/s"),
        ("ratio fast path / hand-written time", f"{fast_seconds / base_seconds:.1f}x"),
        (
            f"facade, memory ({len(facade_plan):,} events)",
            f"{len(facade_plan) / facade_seconds:,.0f} events/s",
        ),
        (
            "ratio facade / hand-written time",
            f"{(facade_seconds / len(facade_plan)) / (base_seconds / args.events):.1f}x",
        ),
        ("3-clause condition", f"{ours * 1e9:,.0f} ns"),
        ("same test as a lambda", f"{lambda_cost * 1e9:,.0f} ns"),
        ("ratio condition / lambda", f"{ours / lambda_cost:.2f}x"),
    ]
    for name, value in rows:
        print(f"  {name:<36} {value:>18}")


if __name__ == "__main__":
    main()
