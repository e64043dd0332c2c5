"""One Loyalty shared by many threads, and an event loop that a row lock never blocks.

The thread model (docs/guides/async.md): a ``Loyalty`` holds no per-call state outside
its storage (an open ``batch()`` lives in a context variable of its thread), and every
command is one transaction under the customer's lock, so threads may share one facade.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import anyio
import pytest

from loyaltykit import Loyalty
from loyaltykit.aio import AsyncLoyalty
from loyaltykit.errors import InsufficientPoints
from loyaltykit.testing.invariants import ledger_violations

AT = datetime(2026, 5, 1, 12, tzinfo=UTC)
CUSTOMERS = ("ann", "ben", "cat")
THREADS = 6
STEPS = 25


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh store of each kind (PostgreSQL when LOYALTYKIT_TEST_POSTGRES_URL is set)."""
    if request.param == "memory":
        return "memory://"
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'loyalty.db'}"
    url: str = request.getfixturevalue("postgres_url")
    from tests.databases import storage_factory

    storage_factory(url)().close()  # migrated and emptied
    return url


def test_threads_hammering_one_loyalty_leave_balances_that_reconcile(storage_url: str) -> None:
    loyalty = Loyalty(storage=storage_url)
    for customer in CUSTOMERS:
        loyalty.enroll(customer, at=AT, idempotency_key=f"enroll-{customer}")
    earned: Counter[str] = Counter()
    redeemed: Counter[str] = Counter()
    tally = threading.Lock()
    start = threading.Barrier(THREADS)
    failures: list[BaseException] = []

    def work(worker: int) -> None:
        chooser = random.Random(worker)
        start.wait()
        try:
            for step in range(STEPS):
                customer = chooser.choice(CUSTOMERS)
                amount = chooser.randint(1, 40)
                key = f"w{worker}-{step}"
                if chooser.random() < 0.6:
                    loyalty.earn(customer, amount, at=AT, idempotency_key=key)
                    with tally:
                        earned[customer] += amount
                else:
                    try:
                        loyalty.redeem_points(customer, amount, at=AT, idempotency_key=key)
                    except InsufficientPoints:
                        continue
                    with tally:
                        redeemed[customer] += amount
                # a replay from another thread's point of view changes nothing
                if step % 5 == 0:
                    loyalty.balance(customer)
        except BaseException as error:  # reported below, in the test's thread
            failures.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    assert sum(earned.values()) > 0 and sum(redeemed.values()) > 0
    for customer in CUSTOMERS:
        balance = loyalty.balance(customer)
        assert balance.available == earned[customer] - redeemed[customer]
        assert balance.lifetime_earned == earned[customer]
        assert balance.lifetime_redeemed == redeemed[customer]
        assert ledger_violations(loyalty.storage, customer, "points") == []
    loyalty.close()


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_command_waiting_for_a_row_lock_never_blocks_the_event_loop(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'loyalty.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
        from tests.databases import storage_factory

        storage_factory(url)().close()
    loyalty = AsyncLoyalty(storage=url)
    sync = loyalty.loyalty
    sync.enroll("ann", at=AT, idempotency_key="enroll-ann")
    held = threading.Event()
    hold_for = 1.0
    tick = 0.01

    def hold_the_lock() -> None:
        # the batch keeps ann's lock (and on SQLite the write lock) until it ends
        with sync.batch():
            sync.earn("ann", 1, at=AT, idempotency_key="held")
            held.set()
            time.sleep(hold_for)

    async def main() -> tuple[int, float, float]:
        ticks = 0
        holder = threading.Thread(target=hold_the_lock)
        holder.start()
        await anyio.to_thread.run_sync(held.wait)
        done = anyio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not done.is_set():
                await anyio.sleep(tick)
                ticks += 1

        started = time.monotonic()
        async with anyio.create_task_group() as group:
            group.start_soon(ticker)
            await loyalty.earn("ann", 5, at=AT, idempotency_key="waits")
            waited = time.monotonic() - started
            done.set()
        await anyio.to_thread.run_sync(holder.join)
        return ticks, waited, time.monotonic() - started

    ticks, waited, _ = anyio.run(main)
    # the command really waited for the lock...
    assert waited >= hold_for * 0.5
    # ...and meanwhile the loop ran the ticker at (nearly) its rate: a blocked loop
    # would have ticked once or twice
    assert ticks >= 0.5 * waited / tick, (ticks, waited)
    assert sync.balance("ann").available == 6
    sync.close()


def test_the_control_a_sync_call_in_a_coroutine_does_freeze_the_loop(tmp_path: Path) -> None:
    # what AsyncLoyalty prevents, measured the same way: the ticker stops while the
    # synchronous call waits for the lock
    sync = Loyalty(storage=f"sqlite:///{tmp_path / 'loyalty.db'}")
    sync.enroll("ann", at=AT, idempotency_key="enroll-ann")
    held = threading.Event()

    def hold_the_lock() -> None:
        with sync.batch():
            sync.earn("ann", 1, at=AT, idempotency_key="held")
            held.set()
            time.sleep(0.5)

    async def main() -> int:
        ticks = 0
        holder = threading.Thread(target=hold_the_lock)
        holder.start()
        await anyio.to_thread.run_sync(held.wait)

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await anyio.sleep(0.01)
                ticks += 1

        async with anyio.create_task_group() as group:
            group.start_soon(ticker)
            await anyio.sleep(0)  # let the ticker start
            sync.earn("ann", 5, at=AT, idempotency_key="waits")  # blocks the loop
            group.cancel_scope.cancel()
        await anyio.to_thread.run_sync(holder.join)
        return ticks

    assert anyio.run(main) <= 2
    sync.close()
