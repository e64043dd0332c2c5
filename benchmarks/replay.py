"""What-if replay of a large history through the pure engine, streamed (no storage).

Issue 19's goal: 1,000,000 historical events replayed under a new programme in under 60 s
on 2 cores. The history is generated as it is read (members first, then purchases in time
order over a year, each member with a realistic history of purchases), and goes through
:func:`loyaltykit.policy.replay.replay_stream` under the retail programme of
benchmarks/engine.py and a proposed one that doubles the base rate, once, as ``loyaltykit
replay`` does. Both programmes are evaluated for every event.

    .venv/bin/python benchmarks/replay.py                       # 1,000,000 events
    .venv/bin/python benchmarks/replay.py --events 20000        # a quick run, projected

It runs twice: once in one process (both programmes per event), once with each programme
in a process of its own (two cores, as ``loyaltykit replay --jobs 2``), and checks the two
agree. The "projected" figure scales the two-process rate to 1,000,000 events (the pass
is linear: a constant amount of work per event, state per member only); the process
start is counted.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from engine import RETAIL, baskets

from loyaltykit import Customer, Program
from loyaltykit.policy.replay import HistoricEvent, Outcome, compare, replay_one, replay_stream

T0 = datetime(2026, 1, 1, tzinfo=UTC)
YEAR = timedelta(days=365)


def history(events: int, customers: int) -> Iterator[Customer | HistoricEvent]:
    """``customers`` members enrolled at T0, then ``events`` purchases spread over a year."""
    for c in range(customers):
        yield Customer(id=f"c{c}", enrolled_at=T0)
    step = YEAR / events
    kinds = baskets()
    for n in range(events):
        yield HistoricEvent(customer_id=f"c{n % customers}", event=kinds[n % 3], at=T0 + n * step)


def proposed() -> Program:
    """The retail programme with a base rate of 2 points per 10 spent instead of 1."""
    data: dict[str, Any] = RETAIL.to_dict()
    data["rules"] = [
        {**rule, "rate": 2} if rule["id"] == "base" else rule for rule in data["rules"]
    ]
    return Program.from_dict(data)


def one_side(events: int, customers: int, side: str) -> Outcome:
    """One programme's side in a worker process, reading the generated history itself
    (as ``loyaltykit replay --jobs 2`` has each worker read the feed)."""
    program = RETAIL if side == "current" else proposed()
    return replay_one(history(events, customers), program)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=50_000)
    args = parser.parse_args()
    if args.events < 1 or args.customers < 1:
        parser.error("--events and --customers must be positive")
    new = proposed()
    wall, cpu = time.perf_counter(), time.process_time()
    report = replay_stream(history(args.events, args.customers), current=RETAIL, proposed=new)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    current_total, proposed_total = report.total()
    assert proposed_total > current_total > 0, report.total()
    parallel = time.perf_counter()
    with ProcessPoolExecutor(max_workers=2) as pool:
        sides = [pool.submit(one_side, args.events, args.customers, s) for s in ("current", "new")]
        again = compare(sides[0].result(), sides[1].result())
    parallel = time.perf_counter() - parallel
    assert again == report, "the two processes disagree with the single pass"
    print(
        f"{args.events:,} events over {args.customers:,} members, two programmes each: "
        f"{current_total:,} -> {proposed_total:,} points"
    )
    print(f"  one process, both programmes per event {args.events / wall:>14,.0f} events/s")
    print(f"  CPU per event, both programmes         {cpu / args.events * 1e6:>14,.1f} us")
    print(f"  one process, seconds per 1,000,000     {1e6 * wall / args.events:>14,.1f} s")
    print(f"  two processes, one programme each      {args.events / parallel:>14,.0f} events/s")
    print(f"  projected seconds for 1,000,000 events {1e6 * parallel / args.events:>14,.1f} s")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak RSS                               {rss:>14,.0f} MiB")


if __name__ == "__main__":
    main()
