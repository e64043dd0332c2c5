"""Set-based expiry writes exactly what per-account settlement writes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyaltykit import Loyalty, Program, RefundPolicy
from loyaltykit.storage.base import BulkChunk, BulkExpiry
from loyaltykit.storage.memory import MemoryStorage
from loyaltykit.storage.sql import SqlStorage
from loyaltykit.testing.invariants import ledger_violations
from tests.databases import storage_factory
from tests.storage.settlement_scenarios import CUSTOMERS, T0, Step, play, snapshot, step


@pytest.fixture(scope="module", params=["sqlite", "postgres", "mariadb"])
def factory(request: pytest.FixtureRequest) -> Iterator[Callable[[], SqlStorage]]:
    make = storage_factory(request.getfixturevalue(f"{request.param}_url"))
    yield make
    make().close()


def test_the_sql_backend_offers_bulk_expiry(factory: Callable[[], SqlStorage]) -> None:
    assert isinstance(factory(), BulkExpiry)
    assert not isinstance(MemoryStorage(), BulkExpiry)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(step, min_size=1, max_size=25), later=st.integers(1, 40), negative=st.booleans()
)
def test_bulk_expiry_matches_the_domain(
    factory: Callable[[], SqlStorage],
    steps: list[Step],
    later: int,
    negative: bool,
) -> None:
    policy = RefundPolicy.NEGATIVE_BALANCE if negative else RefundPolicy.TAKE_AVAILABLE
    reference = Loyalty(Program(refund_policy=policy), storage=MemoryStorage())
    play(reference, steps)
    bulk = Loyalty(Program(refund_policy=policy), storage=factory())
    play(bulk, steps)
    at = T0 + timedelta(days=later)
    expected = reference.expire_due(at=at)
    seen = bulk.expire_due(at=at)
    assert (seen.entries, seen.expired) == (expected.entries, expected.expired)
    assert snapshot(bulk) == snapshot(reference)
    for customer in CUSTOMERS:
        assert ledger_violations(bulk.storage, customer, "points") == []
    assert bulk.expire_due(at=at).entries == 0


def test_eligible_accounts_take_the_set_based_path(factory: Callable[[], SqlStorage]) -> None:
    storage = factory()
    loyalty = Loyalty(storage=storage)
    for customer in CUSTOMERS:
        loyalty.enroll(customer, at=T0, idempotency_key=f"e-{customer}")
        for n in range(3):
            loyalty.earn(
                customer,
                10 + n,
                at=T0,
                idempotency_key=f"{customer}-{n}",
                expires_at=T0 + timedelta(days=n + 1),
            )
    # "d" has a pending lot due for release: it must take the per-account path
    loyalty.earn("d", 5, at=T0, idempotency_key="d-p", available_from=T0 + timedelta(hours=1))
    at = T0 + timedelta(days=10)
    first = storage.expire_in_bulk(at, accounts=2)
    assert first == BulkChunk(accounts=2, entries=6, points=66, last=("b", "points"))
    # the next chunk starts where the first one stopped; "d" is not eligible
    second = storage.expire_in_bulk(at, accounts=10, after=first.last)
    assert second == BulkChunk(accounts=1, entries=3, points=33, last=("c", "points"))
    assert storage.expire_in_bulk(at, accounts=10, after=second.last) == BulkChunk()
    assert storage.expire_in_bulk(at, accounts=10) == BulkChunk()  # nothing left: idempotent
    rest = loyalty.expire_due(at=at)
    assert (rest.accounts, rest.expired, rest.released) == (1, 33, 5)
    for customer in CUSTOMERS:
        assert ledger_violations(storage, customer, "points") == []
        assert loyalty.balance(customer).available == (5 if customer == "d" else 0)
