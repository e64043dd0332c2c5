"""The facade now against the facade of an older tree: CPU time per command, same workload.

Issue 10 asks that the command kernel leave the facade no slower than the service before it
(commit be9c89b). Each side runs in a fresh interpreter of its own with its tree's ``src``
first on ``sys.path``, the two sides alternating round by round, and each keeps its best
round (the machine is shared: the best round is the least disturbed). The figures are CPU
time (``time.process_time``) per command, so another process taking the core does not count.

    .venv/bin/python benchmarks/kernel.py                      # against be9c89b
    .venv/bin/python benchmarks/kernel.py --against /tmp/old/src --rounds 6
    .venv/bin/python benchmarks/kernel.py --against 5f3c2a1      # any commit of this repo

``--against`` is a ``src`` folder or a commit (extracted with ``git archive`` into a
temporary folder). Both sides must end with the same balances, checked.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
NEW = HERE.parent / "src"
COMMANDS = ("earn", "record_purchase", "redeem_points")
T0 = datetime(2026, 5, 1, 9, tzinfo=UTC)

# the retail programme of benchmarks/engine.py, in the dict form both trees read (its
# gold multiplier is for members tagged gold: none are here)
RETAIL: dict[str, Any] = json.loads((HERE / "retail.json").read_text())
BASKETS = (
    ("59.90", "latte", "coffee", 2),
    ("699.00", "runner", "shoes", 1),
    ("128.50", "tee", "clothes", 3),
)


def worker(command: str, commands: int, customers: int) -> dict[str, Any]:
    """Run ``commands`` of ``command`` through the facade of the tree on ``sys.path``."""
    from loyaltykit import Item, Loyalty, Money, Program, Purchase

    loyalty = Loyalty(Program.from_dict(RETAIL))
    for c in range(customers):
        loyalty.enroll(f"c{c}", at=T0, idempotency_key=f"e{c}")
    # benchmarks/engine.py's three baskets (that module cannot be imported by an old tree)
    baskets = [
        Purchase(
            amount=Money.of(amount, "CNY"),
            items=(Item(sku=sku, category=category, quantity=quantity),),
        )
        for amount, sku, category, quantity in BASKETS
    ]
    if command == "redeem_points":  # something to redeem: 100 points each, before the clock
        for c in range(customers):
            loyalty.earn(f"c{c}", 10 * commands, at=T0, idempotency_key=f"seed{c}")
    # each customer's commands follow one another 7 minutes apart across the months
    ats = [T0 + timedelta(minutes=7 * n) for n in range(commands)]
    # the set-up's garbage collected first, on both trees: a short window otherwise
    # measures whether a full collection of the set-up's objects happens to fall in it
    gc.collect()
    started = time.process_time()
    for n, at in enumerate(ats):
        customer, key = f"c{n % customers}", f"k{n}"
        if command == "earn":
            loyalty.earn(customer, 10, at=at, idempotency_key=key, expires_at=at + timedelta(30))
        elif command == "record_purchase":
            loyalty.record_purchase(customer, baskets[n % 3], at=at, idempotency_key=key)
        else:
            loyalty.redeem_points(customer, 5, at=at, idempotency_key=key)
    seconds = time.process_time() - started
    import loyaltykit

    total = sum(loyalty.balance(f"c{c}").available for c in range(customers))
    return {"cpu": seconds / commands, "total": total, "tree": str(Path(loyaltykit.__file__))}


def tree_of(against: str, folder: Path) -> Path:
    """The ``src`` folder of ``against``: a folder as given, or a commit extracted."""
    given = Path(against)
    if given.is_dir():
        return given
    archive = subprocess.run(
        ["git", "-C", str(HERE.parent), "archive", against, "src"],
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder / "src"


def measure(src: Path, command: str, commands: int, customers: int) -> dict[str, Any]:
    """One round in a fresh interpreter with ``src`` first on its path."""
    environment = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--worker",
            command,
            *("--commands", str(commands)),
            *("--customers", str(customers)),
        ],
        capture_output=True,
        text=True,
        env=environment,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(result["tree"]).is_relative_to(src.resolve()), (result["tree"], src)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default="be9c89b", help="a src folder or a commit")
    parser.add_argument("--commands", type=int, default=5_000, help="commands per round")
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=4, help="rounds per side; best kept")
    parser.add_argument("--only", nargs="+", choices=COMMANDS, default=list(COMMANDS))
    parser.add_argument("--worker", choices=COMMANDS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.commands, args.customers)))
        return
    with tempfile.TemporaryDirectory() as folder:
        old = tree_of(args.against, Path(folder))
        print(f"new: {NEW.resolve()}; old: {args.against}; best of {args.rounds} rounds")
        for command in args.only:
            best = {"new": float("inf"), "old": float("inf")}
            totals = set()
            for _ in range(args.rounds):
                for side, src in (("new", NEW), ("old", old)):
                    result = measure(src, command, args.commands, args.customers)
                    best[side] = min(best[side], result["cpu"])
                    totals.add(result["total"])
            assert len(totals) == 1, f"{command}: the trees end with different balances {totals}"
            print(f"{command} new: {best['new'] * 1e6:,.1f} us CPU")
            print(f"{command} old: {best['old'] * 1e6:,.1f} us CPU")
            print(f"{command} ratio new / old: {best['new'] / best['old']:.2f}x", flush=True)


if __name__ == "__main__":
    main()
