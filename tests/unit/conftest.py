"""Fixtures the unit tests share."""

from __future__ import annotations

import pytest

from loyaltykit.storage.base import Storage
from loyaltykit.storage.memory import MemoryStorage


@pytest.fixture(params=["memory", "sqlite"])
def memory_or_sqlite(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Storage:
    """An empty storage of the reference backend, then of SQLite (a migrated file)."""
    if request.param == "memory":
        return MemoryStorage()
    from tests.databases import storage_factory

    path = tmp_path_factory.mktemp("unit") / "loyalty.db"
    return storage_factory(f"sqlite:///{path}")()
