"""Prepared statements send what SQLAlchemy would send and read back what it would read."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from loyaltykit import Loyalty
from loyaltykit.errors import ConcurrencyConflict, InsufficientPoints
from loyaltykit.storage.base import IdempotencyRecord
from loyaltykit.storage.sql import SqlStorage
from loyaltykit.storage.sql.prepared import Cursor, prepared
from loyaltykit.storage.sql.repositories import _DUE, _SPENDABLE_PAGES
from tests.databases import storage_factory

T0 = datetime(2026, 4, 1, 8, tzinfo=UTC)


@pytest.fixture(scope="module", params=["sqlite", "postgres", "mariadb"])
def factory(request: pytest.FixtureRequest) -> Iterator[Callable[[], SqlStorage]]:
    make = storage_factory(request.getfixturevalue(f"{request.param}_url"))
    yield make
    make().close()


def test_rows_equal_what_core_returns(factory: Callable[[], SqlStorage]) -> None:
    storage = factory()
    loyalty = Loyalty(storage=storage)
    loyalty.enroll("c", at=T0, idempotency_key="e")
    for n in range(4):
        loyalty.earn(
            "c",
            5 + n,
            at=T0 + timedelta(minutes=n),
            idempotency_key=f"k{n}",
            expires_at=None if n == 3 else T0 + timedelta(days=10 - n),
            available_from=T0 + timedelta(days=1) if n == 1 else None,
        )
    # an instant in another zone is the same instant: bound as UTC, like Core binds it
    at = (T0 + timedelta(days=2)).astimezone(timezone(timedelta(hours=8)))
    values = {
        "key_tenant": "default",
        "customer_id": "c",
        "point_type": "points",
        "at": at,
        "page": 8,
    }
    after = {"after_expires": at, "after_earned": T0, "after_seq": 0, "after_idx": 0}
    statements = [_DUE, *_SPENDABLE_PAGES.values()]
    with storage.engine.connect() as connection:
        cursor = Cursor(connection.connection.dbapi_connection, connection.dialect)
        for statement in statements:
            bound = {**values, **after}
            core = [tuple(row) for row in connection.execute(statement, bound)]
            fast = cursor.rows(prepared(statement, connection.dialect, statement), bound)
            assert fast == core
            assert all(value.tzinfo is UTC for row in fast for value in row[6:9] if value)
    with storage.unit_of_work() as uow:
        spendable = list(uow.ledger.spendable_lots("c", "points", at))
    # spending order: soonest expiry first, never-expiring last; the pending lot is due
    assert [lot.remaining for lot in spendable] == [7, 5, 8]
    assert all(isinstance(lot.pending, bool) for lot in spendable)


def test_a_duplicate_key_is_a_concurrency_conflict(factory: Callable[[], SqlStorage]) -> None:
    storage = factory()
    record = IdempotencyRecord(
        customer_id="c", key="k", command="earn", fingerprint="f", outcome={}, recorded_at=T0
    )
    with storage.unit_of_work() as uow:
        uow.idempotency.add(record)
        uow.commit()
    with storage.unit_of_work() as uow, pytest.raises(ConcurrencyConflict, match="'k'"):
        uow.idempotency.add(record)


def test_a_savepoint_undoes_only_what_followed_it(factory: Callable[[], SqlStorage]) -> None:
    storage = factory()
    loyalty = Loyalty(storage=storage)
    loyalty.enroll("c", at=T0, idempotency_key="e")
    with loyalty.batch():
        loyalty.earn("c", 10, at=T0, idempotency_key="kept")
        with pytest.raises(InsufficientPoints):
            loyalty.redeem_points("c", 50, at=T0, idempotency_key="refused")
        loyalty.earn("c", 1, at=T0, idempotency_key="also-kept")
    assert loyalty.balance("c").available == 11
    assert [line.entry.amount for line in loyalty.statement("c").lines] == [10, 1]
