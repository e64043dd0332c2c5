"""Reads on SQLite take no write lock: a reader holding its transaction open never makes
a writer wait, and keeps seeing the state it started from."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from loyaltykit import Loyalty
from loyaltykit.domain.ledger import Account
from loyaltykit.errors import ReadOnlyViolation
from loyaltykit.storage.base import read_unit_of_work
from loyaltykit.storage.sql import SqlStorage
from tests.databases import storage_factory

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def test_a_reader_holding_its_read_does_not_block_a_writer(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'reads.db'}"
    reader, writer = SqlStorage.from_url(url), SqlStorage.from_url(url)
    facade = Loyalty(storage=writer)
    facade.enroll("ann", at=T0, idempotency_key="e-ann")
    facade.earn("ann", 10, at=T0, idempotency_key="o1")
    done = threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        try:
            facade.earn("ann", 5, at=T0, idempotency_key="o2")
            done.set()
        except BaseException as error:  # collected: the test reports it
            errors.append(error)

    with read_unit_of_work(reader) as uow:
        before = uow.ledger.account("ann", "points")
        thread = threading.Thread(target=write)
        thread.start()
        # a reader with the write lock would keep the writer waiting for its busy
        # timeout (30 s): the commit lands while the read is still open
        committed = done.wait(10)
        during = uow.ledger.account("ann", "points")
    thread.join()
    assert errors == [] and committed
    assert before is not None and during is not None
    assert before.available == during.available == 10  # one snapshot for the whole read
    assert Loyalty(storage=reader).balance("ann").available == 15
    reader.close()
    writer.close()


def test_a_query_inside_a_batch_sees_the_batch(tmp_path: Path) -> None:
    with Loyalty(storage=f"sqlite:///{tmp_path / 'batch.db'}") as loyalty:
        loyalty.enroll("ann", at=T0, idempotency_key="e-ann")
        with loyalty.batch():
            loyalty.earn("ann", 7, at=T0, idempotency_key="o1")
            assert loyalty.balance("ann").available == 7
            assert len(loyalty.statement("ann").lines) == 1


@pytest.fixture(scope="module", params=["sqlite", "sqlite-memory", "postgres", "mariadb"])
def factory(request: pytest.FixtureRequest) -> Iterator[Callable[[], SqlStorage]]:
    if request.param == "sqlite-memory":
        storage = SqlStorage.from_url("sqlite://")
        yield lambda: storage
        storage.close()
        return
    make = storage_factory(request.getfixturevalue(f"{request.param}_url"))
    yield make
    make().close()


def test_the_database_refuses_a_write_in_a_read_unit_of_work(
    factory: Callable[[], SqlStorage],
) -> None:
    # the backend's own read-only unit, without the service's ReadOnlyUnit in front:
    # SQLite's query_only, PostgreSQL's and MariaDB's READ ONLY transaction refuse it
    storage = factory()
    facade = Loyalty(storage=storage)
    facade.enroll("ann", at=T0, idempotency_key="e-ann")
    for _ in range(2):  # and again on the connection the first read unit gave back
        with storage.read_unit_of_work() as uow, pytest.raises(ReadOnlyViolation):
            uow.ledger.save_account(Account(customer_id="ann", point_type="points", available=3))
    with storage.read_unit_of_work() as uow:
        assert uow.ledger.account("ann", "points") is None
    # a writer after a reader, on the same connections: writes as before
    facade.earn("ann", 4, at=T0, idempotency_key="o1")
    assert facade.balance("ann").available == 4
    assert storage.ledger_totals("points")[0].available == 4  # batch work writes too
