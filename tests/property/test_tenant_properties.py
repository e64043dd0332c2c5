"""Two tenants of one store are two stores: any interleaving of commands in programmes
sharing a store leaves each programme exactly as the same commands leave a store of its
own (balances, statements, outcomes and refusals), on the memory and SQLite backends."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltykit import Loyalty, MemoryStorage, Storage
from loyaltykit.errors import LoyaltyError
from loyaltykit.storage.base import tenant_of
from loyaltykit.storage.sql import SqlStorage

T0 = datetime(2026, 4, 1, 9, tzinfo=UTC)
MEMBERS = ("c1", "c2")
TENANTS = ("a", "b", "c")

# (tenant, command, member, points, key): the same few keys and members in every tenant
steps = st.lists(
    st.tuples(
        st.sampled_from(TENANTS),
        st.sampled_from(["enroll", "earn", "redeem", "transfer", "expire"]),
        st.sampled_from(MEMBERS),
        st.integers(min_value=1, max_value=120),
        st.sampled_from(["k1", "k2", "k3"]),
    ),
    max_size=30,
)


def _run(loyalty: Loyalty, step: int, command: str, member: str, points: int, key: str) -> str:
    """What one command did, as text (its outcome or its refusal)."""
    at = T0 + timedelta(days=step)
    try:
        if command == "enroll":
            return repr(loyalty.enroll(member, at=at, idempotency_key=f"enroll-{member}"))
        if command == "earn":
            expiry = at + timedelta(days=3)
            receipt = loyalty.earn(member, points, at=at, idempotency_key=key, expires_at=expiry)
        elif command == "redeem":
            receipt = loyalty.redeem_points(member, points, at=at, idempotency_key=key)
        elif command == "transfer":
            other = MEMBERS[1 - MEMBERS.index(member)]
            receipt = loyalty.transfer(member, other, points, at=at, idempotency_key=key)
        else:
            return repr(loyalty.expire_due(at=at))
        return repr((receipt.balance, receipt.replayed))
    except LoyaltyError as error:
        return f"{type(error).__name__}: {error}"


def _seen(loyalty: Loyalty) -> list[str]:
    found = []
    for member in MEMBERS:
        try:
            found.append(repr((loyalty.balance(member), loyalty.statement(member))))
        except LoyaltyError as error:
            found.append(type(error).__name__)
    return found


_numbers = itertools.count()


@pytest.fixture(scope="module", params=["memory", "sqlite"])
def shared(request: pytest.FixtureRequest) -> Iterator[Callable[[], Storage]]:
    """A fresh store of the backend per call: the memory backend's, or new tenants of one
    in-memory SQLite database (each example's tenants are its own)."""
    if request.param == "memory":
        yield MemoryStorage
        return
    database = SqlStorage.from_url("sqlite://")

    def fresh() -> Storage:
        return database.for_tenant(f"run-{next(_numbers)}")

    yield fresh
    database.close()


@settings(max_examples=40, deadline=None)
@given(steps=steps)
def test_tenants_of_one_store_behave_as_stores_of_their_own(
    shared: Callable[[], Storage], steps: list[tuple[str, str, str, int, str]]
) -> None:
    store = shared()
    together = {
        tenant: Loyalty(storage=store, tenant=f"{tenant_of(store)}-{tenant}") for tenant in TENANTS
    }
    apart = {tenant: Loyalty() for tenant in TENANTS}
    for number, (tenant, command, member, points, key) in enumerate(steps):
        done = _run(together[tenant], number, command, member, points, key)
        assert done == _run(apart[tenant], number, command, member, points, key)
    for tenant in TENANTS:
        assert _seen(together[tenant]) == _seen(apart[tenant])
