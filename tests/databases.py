"""Database helpers for the tests: fresh, empty storages on a migrated database."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

from loyaltykit.storage.sql import SqlStorage
from loyaltykit.storage.sql.schema import metadata


def emptied(engine: Engine) -> None:
    """Delete every row, children first, keeping the schema."""
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())


def storage_factory(url: str) -> Callable[[], SqlStorage]:
    """Fresh, empty storages on one migrated database (rows deleted between uses)."""
    probe = SqlStorage.from_url(url, migrate=True)
    engine = probe.engine

    def make() -> SqlStorage:
        emptied(engine)
        return SqlStorage(engine)

    return make
