"""Ledger throughput on the memory backend, against a plain-Python baseline.

Run: ``.venv/bin/python benchmarks/ledger.py`` (``--events`` and ``--customers`` to
scale). It prints ratios against a baseline measured in the same run, because absolute
times on shared machines are not comparable. Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import resource
import time
from datetime import UTC, datetime, timedelta

from loyaltykit import Loyalty

T0 = datetime(2026, 1, 1, tzinfo=UTC)
LIFETIME = timedelta(days=30)


def workload(events: int, customers: int) -> list[tuple[str, int, int, datetime]]:
    """(command, customer, points, at): earns, every 10th a redemption, time moving on."""
    plan = []
    for n in range(events):
        at = T0 + timedelta(seconds=n * 5)
        customer = n % customers
        if n % 10 == 9:
            plan.append(("redeem", customer, 5, at))
        else:
            plan.append(("earn", customer, 10, at))
    return plan


def run_facade(
    plan: list[tuple[str, int, int, datetime]], customers: int, expire_every: int
) -> tuple[float, int]:
    loyalty = Loyalty()
    for c in range(customers):
        loyalty.enroll(f"c{c}", at=T0, idempotency_key=f"e{c}")
    refused = 0
    start = time.perf_counter()
    for n, (command, customer, points, at) in enumerate(plan):
        key = f"k{n}"
        if command == "earn":
            loyalty.earn(
                f"c{customer}", points, at=at, idempotency_key=key, expires_at=at + LIFETIME
            )
        else:
            try:
                loyalty.redeem_points(f"c{customer}", points, at=at, idempotency_key=key)
            except Exception:
                refused += 1
        if n % expire_every == expire_every - 1:
            loyalty.expire_due(at)
    return time.perf_counter() - start, refused


def run_baseline(
    plan: list[tuple[str, int, int, datetime]], customers: int, expire_every: int
) -> tuple[float, int]:
    """The same arithmetic on dicts and lists: lots in expiry order, keys remembered."""
    lots: list[list[list[object]]] = [[] for _ in range(customers)]  # [expires_at, remaining]
    balance = [0] * customers
    seen: dict[str, int] = {}
    entries: list[tuple[int, int]] = []
    refused = 0
    start = time.perf_counter()
    for n, (command, customer, points, at) in enumerate(plan):
        key = f"k{n}"
        if key in seen:
            continue
        seen[key] = customer
        mine = lots[customer]
        while mine and mine[0][0] <= at:  # type: ignore[operator]
            balance[customer] -= mine[0][1]  # type: ignore[operator]
            mine.pop(0)
        if command == "earn":
            mine.append([at + LIFETIME, points])
            balance[customer] += points
            entries.append((customer, points))
        elif balance[customer] >= points:
            left = points
            while left:
                take = min(left, mine[0][1])  # type: ignore[type-var]
                mine[0][1] -= take  # type: ignore[operator]
                left -= take
                if mine[0][1] == 0:
                    mine.pop(0)
            balance[customer] -= points
            entries.append((customer, -points))
        else:
            refused += 1
        if n % expire_every == expire_every - 1:
            for c, owned in enumerate(lots):
                while owned and owned[0][0] <= at:  # type: ignore[operator]
                    balance[c] -= owned[0][1]  # type: ignore[operator]
                    owned.pop(0)
    return time.perf_counter() - start, refused


def balance_time(entries: int, repeat: int = 2000) -> float:
    loyalty = Loyalty()
    loyalty.enroll("big", at=T0, idempotency_key="e")
    for n in range(entries):
        loyalty.earn("big", 1, at=T0 + timedelta(seconds=n), idempotency_key=f"k{n}")
    start = time.perf_counter()
    for _ in range(repeat):
        loyalty.balance("big")
    return (time.perf_counter() - start) / repeat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--expire-every", type=int, default=50_000)
    parser.add_argument("--big-account", type=int, default=100_000)
    args = parser.parse_args()

    plan = workload(args.events, args.customers)
    base_seconds, base_refused = run_baseline(plan, args.customers, args.expire_every)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    facade_seconds, refused = run_facade(plan, args.customers, args.expire_every)
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert refused == base_refused, (refused, base_refused)  # the two did the same work

    small, big = balance_time(10), balance_time(args.big_account)
    per_million = (rss_after - rss_before) / 1024 / (args.events / 1_000_000)
    rows = [
        ("facade (memory backend)", f"{args.events / facade_seconds:,.0f} commands/s"),
        ("baseline (dicts and lists)", f"{args.events / base_seconds:,.0f} commands/s"),
        ("ratio facade / baseline time", f"{facade_seconds / base_seconds:.1f}x"),
        ("balance(), 10 entries", f"{small * 1e6:.1f} us"),
        (f"balance(), {args.big_account:,} entries", f"{big * 1e6:.1f} us"),
        ("ratio big / small balance()", f"{big / small:.2f}x"),
        ("peak RSS growth per 1M commands", f"{per_million:,.0f} MiB"),
    ]
    print(
        f"{args.events:,} commands over {args.customers:,} customers, "
        f"{refused:,} refused redemptions"
    )
    for name, value in rows:
        print(f"  {name:<34} {value:>20}")


if __name__ == "__main__":
    main()
