"""Threads racing for the last units of a reward, on the memory backend and SQLite."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from loyaltykit import Loyalty, MemoryStorage, Storage
from loyaltykit.errors import LimitReached, OutOfStock
from loyaltykit.testing.invariants import ledger_violations
from tests.databases import storage_factory
from tests.integration import workers

THREADS = 16


def _race(attempt: Callable[[int], str]) -> list[str]:
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(number: int) -> None:
        barrier.wait()
        try:
            outcome = attempt(number)
        except Exception as error:  # report, never hang
            outcome = f"error: {error!r}"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(outcomes)


@pytest.fixture(params=["memory", "sqlite"])
def storage(request: pytest.FixtureRequest) -> Storage:
    if request.param == "memory":
        return MemoryStorage()
    made = storage_factory(request.getfixturevalue("sqlite_url"))()
    if not made.capabilities.concurrent_threads:
        pytest.skip("backend does not declare concurrent_threads")
    return made


def test_threads_never_take_more_than_the_stock(storage: Storage) -> None:
    loyalty = Loyalty(workers.flash_program(), storage=storage)
    for n in range(THREADS):
        loyalty.enroll(f"m{n}", at=workers.T0, idempotency_key="enroll")
        loyalty.earn(f"m{n}", 100, at=workers.T0, idempotency_key="fund")

    def grab(number: int) -> str:
        try:
            loyalty.redeem(f"m{number}", "flash", at=workers.T0, idempotency_key="grab")
        except OutOfStock:
            return "sold out"
        return "ok"

    assert _race(grab) == ["ok"] * 3 + ["sold out"] * 13
    assert loyalty.stock_left("flash", at=workers.T0) == 0
    spent = sum(100 - loyalty.balance(f"m{n}").available for n in range(THREADS))
    assert spent == 300


def test_one_member_racing_themselves_gets_the_member_limit_once(storage: Storage) -> None:
    loyalty = Loyalty(workers.flash_program(), storage=storage)
    loyalty.enroll("solo", at=workers.T0, idempotency_key="enroll")
    loyalty.earn("solo", 10_000, at=workers.T0, idempotency_key="fund")

    def grab(number: int) -> str:
        try:
            loyalty.redeem("solo", "flash", at=workers.T0, idempotency_key=f"grab-{number}")
        except LimitReached:
            return "limit"
        return "ok"

    assert _race(grab) == ["limit"] * (THREADS - 1) + ["ok"]
    assert loyalty.balance("solo").available == 9_900
    assert loyalty.stock_left("flash", at=workers.T0) == 2
    assert ledger_violations(loyalty.storage, "solo", "points") == []
