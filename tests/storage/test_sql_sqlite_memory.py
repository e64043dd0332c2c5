"""The SQL backend on an in-memory SQLite database (``sqlite://``): one database that
every thread of the process shares, so the conformance suite's thread tests run on it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from loyaltykit import Loyalty
from loyaltykit.storage.sql import SqlStorage
from loyaltykit.testing.conformance import StorageConformance

T0 = datetime(2026, 3, 1, tzinfo=UTC)


class TestSqliteInMemoryConformance(StorageConformance):
    @pytest.fixture(params=["sqlite://", "sqlite:///:memory:"])
    def storage(self, request: pytest.FixtureRequest) -> Iterator[SqlStorage]:
        backend = SqlStorage.from_url(request.param)
        yield backend
        backend.close()


def test_threads_of_the_facade_see_one_database() -> None:
    with Loyalty(storage="sqlite://") as loyalty:
        assert loyalty.storage.capabilities.concurrent_threads
        loyalty.enroll("ann", at=T0, idempotency_key="e-ann")
        errors: list[BaseException] = []

        def earn(number: int) -> None:
            try:
                loyalty.earn("ann", 1, at=T0, idempotency_key=f"o{number}")
            except BaseException as error:  # collected: a thread's error must fail the test
                errors.append(error)

        threads = [threading.Thread(target=earn, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert loyalty.balance("ann").available == 8


def test_two_storages_on_sqlite_memory_do_not_share_data() -> None:
    first, second = SqlStorage.from_url("sqlite://"), SqlStorage.from_url("sqlite://")
    Loyalty(storage=first).enroll("ann", at=T0, idempotency_key="e-ann")
    with second.unit_of_work() as uow:
        assert uow.customers.get("ann") is None
    first.close()
    second.close()
