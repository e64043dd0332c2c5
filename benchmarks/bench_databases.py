"""Throwaway PostgreSQL schemas for the benchmarks, so a run never touches real tables."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from loyaltykit.storage.sql import upgrade


def postgres_schema(server: str) -> tuple[str, Callable[[], None]]:
    """A URL on a new schema of ``server`` with loyaltykit's tables, and the function
    that drops it."""
    schema = f"lk_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    url = make_url(server).update_query_dict({"options": f"-csearch_path={schema}"})
    upgrade(url.render_as_string(hide_password=False))  # opening never migrates

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()

    return url.render_as_string(hide_password=False), drop
