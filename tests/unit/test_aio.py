"""AsyncLoyalty: every facade method awaitable, same results and errors, a bounded pool."""

from __future__ import annotations

import inspect
import threading
import time
from datetime import UTC, datetime

import anyio
import pytest

from loyaltykit import Loyalty, MemoryStorage, Receipt
from loyaltykit.aio import NOT_AWAITABLE, AsyncLoyalty
from loyaltykit.errors import InsufficientPoints, InvalidAmount, UnknownCustomer

AT = datetime(2026, 5, 1, 12, tzinfo=UTC)


def _public_methods() -> list[str]:
    # the facade's own methods and its area methods (descriptors wrapping a function);
    # not ``opener``, a function the composition root installs as a class attribute
    return [
        name
        for name in dir(Loyalty)
        if not name.startswith("_")
        and (
            (
                inspect.isfunction(static := inspect.getattr_static(Loyalty, name))
                and static.__qualname__.startswith("Loyalty.")
            )
            or (
                not isinstance(static, staticmethod)
                and inspect.isfunction(getattr(static, "__wrapped__", None))
            )
        )
    ]


def _function(name: str) -> object:
    static = inspect.getattr_static(Loyalty, name)
    return getattr(static, "__wrapped__", static)


def test_every_public_loyalty_method_has_a_typed_awaitable_counterpart() -> None:
    missing = [
        name
        for name in _public_methods()
        if name not in NOT_AWAITABLE and name not in vars(AsyncLoyalty)
    ]
    assert not missing, f"add `name = _awaitable(Loyalty.name)` to loyaltykit/aio.py for: {missing}"
    assert len(_public_methods()) > 80
    for name in _public_methods():
        if name in NOT_AWAITABLE:
            continue
        counterpart = getattr(AsyncLoyalty, name)
        assert inspect.iscoroutinefunction(counterpart), name
        assert inspect.signature(counterpart) == inspect.signature(_function(name)), name


def test_commands_and_queries_give_the_sync_results_and_raise_the_same_errors() -> None:
    async def main() -> None:
        async with AsyncLoyalty() as loyalty:
            await loyalty.enroll("c-1", at=AT, idempotency_key="e")
            receipt = await loyalty.earn("c-1", 120, at=AT, idempotency_key="o")
            assert isinstance(receipt, Receipt) and receipt.balance.available == 120
            replay = await loyalty.earn("c-1", 120, at=AT, idempotency_key="o")
            assert replay.replayed and replay == receipt
            with pytest.raises(InsufficientPoints):
                await loyalty.redeem_points("c-1", 500, at=AT, idempotency_key="r")
            with pytest.raises(UnknownCustomer):
                await loyalty.balance("nobody")
            assert (await loyalty.balance("c-1")) == loyalty.loyalty.balance("c-1")
            assert loyalty.versions is loyalty.loyalty.versions

    anyio.run(main)


def test_a_wrapped_facade_is_shared_with_plain_threads() -> None:
    sync = Loyalty()
    sync.enroll("c-1", at=AT, idempotency_key="e")

    async def main() -> int:
        loyalty = AsyncLoyalty.wrap(sync, max_threads=2)
        await loyalty.earn("c-1", 5, at=AT, idempotency_key="o")
        return (await loyalty.balance("c-1")).available

    assert anyio.run(main) == 5 == sync.balance("c-1").available


def test_a_batch_runs_through_run_on_one_thread() -> None:
    async def main() -> int:
        loyalty = AsyncLoyalty()
        sync = loyalty.loyalty

        def enrol_and_fund() -> int:
            with sync.batch():
                sync.enroll("c-1", at=AT, idempotency_key="e")
                sync.earn("c-1", 7, at=AT, idempotency_key="o")
            return sync.balance("c-1").available

        return await loyalty.run(enrol_and_fund)

    assert anyio.run(main) == 7
    with pytest.raises(AttributeError, match="batch"):
        AsyncLoyalty().batch  # noqa: B018


def test_at_most_max_threads_commands_run_at_once() -> None:
    running = 0
    seen = 0
    lock = threading.Lock()

    def slow() -> None:
        nonlocal running, seen
        with lock:
            running += 1
            seen = max(seen, running)
        time.sleep(0.05)
        with lock:
            running -= 1

    async def main() -> None:
        loyalty = AsyncLoyalty(max_threads=3)
        async with anyio.create_task_group() as group:
            for _ in range(12):
                group.start_soon(loyalty.run, slow)

    anyio.run(main)
    assert seen == 3


def test_a_method_without_a_typed_line_still_works_untyped() -> None:
    class Wider(Loyalty):
        def shout(self, word: str) -> str:
            return word.upper()

    async def main() -> str:
        loyalty = AsyncLoyalty.wrap(Wider())
        result: str = await loyalty.shout("hi")  # type: ignore[attr-defined]
        return result

    assert anyio.run(main) == "HI"
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        AsyncLoyalty().nothing  # type: ignore[attr-defined]  # noqa: B018


def test_max_threads_is_validated() -> None:
    with pytest.raises(InvalidAmount, match="max_threads"):
        AsyncLoyalty(max_threads=0)


def test_a_tenant_is_a_programme_of_the_store_given() -> None:
    store = MemoryStorage()

    async def main() -> tuple[str, int, int]:
        brand_a = AsyncLoyalty(storage=store, tenant="brand-a")
        brand_b = AsyncLoyalty(storage=store, tenant="brand-b")
        for loyalty in (brand_a, brand_b):
            await loyalty.enroll("c-1", at=AT, idempotency_key="e")
        await brand_a.earn("c-1", 5, at=AT, idempotency_key="o")
        a, b = await brand_a.balance("c-1"), await brand_b.balance("c-1")
        return brand_a.tenant, a.available, b.available

    assert anyio.run(main) == ("brand-a", 5, 0)
