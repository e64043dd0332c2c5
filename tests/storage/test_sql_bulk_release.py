"""Set-based pending release writes exactly what per-account settlement writes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyaltykit import Loyalty, Program, RefundPolicy
from loyaltykit.storage.base import BulkChunk, BulkRelease
from loyaltykit.storage.memory import MemoryStorage
from loyaltykit.storage.sql import SqlStorage
from loyaltykit.testing.invariants import ledger_violations
from tests.databases import storage_factory
from tests.storage.settlement_scenarios import CUSTOMERS, T0, Step, play, release_step, snapshot


@pytest.fixture(scope="module", params=["sqlite", "postgres", "mariadb"])
def factory(request: pytest.FixtureRequest) -> Iterator[Callable[[], SqlStorage]]:
    make = storage_factory(request.getfixturevalue(f"{request.param}_url"))
    yield make
    make().close()


def test_the_sql_backend_offers_bulk_release(factory: Callable[[], SqlStorage]) -> None:
    assert isinstance(factory(), BulkRelease)
    assert not isinstance(MemoryStorage(), BulkRelease)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(release_step, min_size=1, max_size=25),
    later=st.integers(1, 12),
    after=st.integers(0, 20),
    negative=st.booleans(),
)
def test_bulk_release_matches_the_domain(
    factory: Callable[[], SqlStorage], steps: list[Step], later: int, after: int, negative: bool
) -> None:
    policy = RefundPolicy.NEGATIVE_BALANCE if negative else RefundPolicy.TAKE_AVAILABLE
    reference = Loyalty(Program(refund_policy=policy), storage=MemoryStorage())
    play(reference, steps)
    bulk = Loyalty(Program(refund_policy=policy), storage=factory())
    play(bulk, steps)
    at = T0 + timedelta(days=later)
    expected = reference.release_pending(at=at)
    seen = bulk.release_pending(at=at)
    assert (seen.accounts, seen.entries, seen.released, seen.expired) == (
        expected.accounts,
        expected.entries,
        expected.released,
        expected.expired,
    )
    assert snapshot(bulk) == snapshot(reference)
    for customer in CUSTOMERS:
        assert ledger_violations(bulk.storage, customer, "points") == []
    assert bulk.release_pending(at=at).entries == 0  # idempotent
    # and the whole periodic run later on, both set-based paths after each other
    then = at + timedelta(days=after)
    assert bulk.run_due(at=then).released == reference.run_due(at=then).released
    assert snapshot(bulk) == snapshot(reference)


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
                available_from=T0 + timedelta(days=n + 1),
                expires_at=None if n == 2 else T0 + timedelta(days=30),
            )
    # "d" also has a lot due to expire: it must take the per-account path
    loyalty.earn("d", 5, at=T0, idempotency_key="d-x", expires_at=T0 + timedelta(hours=1))
    at = T0 + timedelta(days=10)
    first = storage.release_in_bulk(at, accounts=2)
    assert first == BulkChunk(accounts=2, entries=6, points=66, last=("b", "points"))
    # the next chunk starts where the first one stopped; "d" is not eligible
    second = storage.release_in_bulk(at, accounts=10, after=first.last)
    assert second == BulkChunk(accounts=1, entries=3, points=33, last=("c", "points"))
    assert storage.release_in_bulk(at, accounts=10, after=second.last) == BulkChunk()
    assert storage.release_in_bulk(at, accounts=10) == BulkChunk()  # nothing left: idempotent
    lines = loyalty.statement("a").lines
    assert [(line.entry.kind.value, line.entry.amount) for line in lines[-3:]] == [
        ("release", 10),
        ("release", 11),
        ("release", 12),
    ]
    assert [line.entry.occurred_at for line in lines[-3:]] == [
        T0 + timedelta(days=n + 1) for n in range(3)
    ]
    rest = loyalty.release_pending(at=at)
    assert (rest.accounts, rest.released, rest.expired) == (1, 33, 5)
    for customer in CUSTOMERS:
        assert ledger_violations(storage, customer, "points") == []
        assert loyalty.balance(customer).available == 33
        assert loyalty.balance(customer).pending == 0


def test_an_account_with_a_deficit_is_settled_one_by_one(
    factory: Callable[[], SqlStorage],
) -> None:
    storage = factory()
    loyalty = Loyalty(Program(refund_policy=RefundPolicy.NEGATIVE_BALANCE), storage=storage)
    loyalty.enroll("a", at=T0, idempotency_key="e-a")
    loyalty.earn("a", 40, at=T0, idempotency_key="earn")
    loyalty.redeem_points("a", 40, at=T0, idempotency_key="spend")
    loyalty.earn("a", 30, at=T0, idempotency_key="later", available_from=T0 + timedelta(days=1))
    loyalty.reverse("a", "earn", at=T0, idempotency_key="refund")  # deficit of 40
    assert loyalty.balance("a").available == -40
    at = T0 + timedelta(days=2)
    assert storage.release_in_bulk(at, accounts=10) == BulkChunk()
    report = loyalty.release_pending(at=at)
    assert (report.accounts, report.released) == (1, 30)
    assert loyalty.balance("a").available == -10
    assert ledger_violations(storage, "a", "points") == []
