"""A SQLite store keeps its connections between units of work, never the pool's last
ones, and gives them back when closed."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.pool import QueuePool

from loyaltykit import Loyalty
from loyaltykit.storage.sql import SqlStorage

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _pool(storage: SqlStorage) -> QueuePool:
    pool = storage.engine.pool
    assert isinstance(pool, QueuePool)
    return pool


def test_units_of_work_reuse_a_kept_connection_and_close_gives_it_back(tmp_path: Path) -> None:
    storage = SqlStorage.from_url(f"sqlite:///{tmp_path / 'kept.db'}")
    loyalty = Loyalty(storage=storage)
    loyalty.enroll("ann", at=T0, idempotency_key="e-ann")
    for n in range(5):
        loyalty.earn("ann", 1, at=T0, idempotency_key=f"o{n}")
        assert loyalty.balance("ann").available == n + 1
    # one writer's connection and one reader's, kept out of the pool between units
    assert _pool(storage).checkedout() == 2
    storage.close()
    assert _pool(storage).checkedout() == 0


def test_threads_never_wait_for_connections_lying_idle(tmp_path: Path) -> None:
    # a pool of two and no overflow, with a short wait: a thread left waiting while the
    # store kept an idle connection to itself would fail with the pool's timeout
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    storage = SqlStorage.from_url(url, pool_size=2, max_overflow=0, pool_timeout=5)
    loyalty = Loyalty(storage=storage)
    members = [f"m{n}" for n in range(4)]
    for member in members:
        loyalty.enroll(member, at=T0, idempotency_key=f"e-{member}")
    errors: list[BaseException] = []

    def work(member: str) -> None:
        try:
            for n in range(25):
                loyalty.earn(member, 1, at=T0, idempotency_key=f"{member}-{n}")
                loyalty.balance(member)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(member,)) for member in members]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [loyalty.balance(member).available for member in members] == [25] * 4
    assert _pool(storage).checkedout() <= 2
    storage.close()
