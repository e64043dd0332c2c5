"""The SQL backend on an in-memory SQLite database (``sqlite://``): one database that
every thread of the process shares, so the conformance suite's thread tests run on it."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from unittest.mock import ANY

import pytest
from sqlalchemy import Connection, create_engine
from sqlalchemy.pool import StaticPool

from loyaltykit import Customer, Loyalty
from loyaltykit.storage.sql import SqlStorage, head, revision, upgrade
from loyaltykit.testing.conformance import StorageConformance
from loyaltykit.values import CustomerId

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


@pytest.mark.parametrize("commit", [True, False])
def test_a_view_collected_during_another_unit_of_work_leaves_that_unit_whole(
    commit: bool,
) -> None:
    """Garbage collection may finalise a dropped view of an in-memory database at any
    point of another view's unit of work, on the one connection they share: the unit
    stays one transaction (both writes, or neither)."""
    storage = SqlStorage.from_url("sqlite://")
    try:
        dropped = storage.for_tenant("dropped")
        with dropped.read_unit_of_work():  # leaves it a connection kept idle, read-only
            pass
        with storage.unit_of_work() as uow:
            uow.customers.add(Customer(id="ann", enrolled_at=T0))
            del dropped
            gc.collect()  # the view's finalizer runs here
            uow.customers.add(Customer(id="bob", enrolled_at=T0))
            if commit:
                uow.commit()
        with storage.read_unit_of_work() as uow:
            found = [uow.customers.get(CustomerId(who)) is not None for who in ("ann", "bob")]
        assert found == [commit, commit]
    finally:
        storage.close()


def _schema(connection: Connection) -> list[tuple[Any, ...]]:
    rows = connection.exec_driver_sql(
        "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
    )
    return [tuple(row) for row in rows]


def test_every_in_memory_database_starts_at_the_schema_the_migrations_make() -> None:
    """The first ``sqlite://`` of a process is migrated, the later ones are copies of it:
    each holds exactly the schema and revision the migrations give a new database."""
    migrated = create_engine("sqlite://", poolclass=StaticPool)
    upgrade(migrated)
    with migrated.connect() as connection:
        expected = _schema(connection)
    assert ("table", "lk_alembic_version", "lk_alembic_version", ANY) in expected
    for number in range(3):
        storage = SqlStorage.from_url("sqlite://")
        try:
            assert revision(storage.engine) == head()
            with storage.engine.connect() as connection:
                assert _schema(connection) == expected
            with Loyalty(storage=storage) as loyalty:  # each its own database: ann is new
                assert loyalty.enroll("ann", at=T0, idempotency_key=f"e-{number}").id == "ann"
        finally:
            storage.close()
