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


def mariadb_database(server: str) -> tuple[str, Callable[[], None]]:
    """A URL on a new database of the MariaDB ``server`` with loyaltykit's tables, and
    the function that drops it."""
    name = f"lk_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    upgrade(url)

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE {name}"))
        admin.dispose()

    return url, drop


def server_database(url: str) -> tuple[str, Callable[[], None]]:
    """A throwaway schema (PostgreSQL) or database (MariaDB) on the server ``url`` names."""
    if make_url(url).get_backend_name() == "mysql":
        return mariadb_database(url)
    return postgres_schema(url)
