"""Migrating is an explicit step, taken under a database lock; opening never migrates."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from loyaltykit import Loyalty
from loyaltykit.errors import InvalidArgument, SchemaNotReady, StorageError
from loyaltykit.storage.sql import SqlStorage, head, revision, shown, upgrade
from tests.integration import workers

WORKERS = 8


@pytest.fixture(params=["sqlite", "postgres", "mariadb"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of each kind with nothing in it, made for this test only."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'new.db'}"
        return
    session_url: str = request.getfixturevalue(f"{request.param}_url")
    server = make_url(session_url)
    name = f"lk_init_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    if request.param == "postgres":
        with admin.connect() as connection:
            connection.execute(text(f"CREATE SCHEMA {name}"))
        url = server.update_query_dict({"options": f"-csearch_path={name}"})
        drop = f"DROP SCHEMA {name} CASCADE"
    else:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4"))
        url = server.set(database=name)
        drop = f"DROP DATABASE {name}"
    yield url.render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(drop))
    admin.dispose()


def test_eight_workers_initialising_an_empty_database_at_once_all_succeed(
    empty_database: str,
) -> None:
    outcomes = workers.run_all(workers.initialise, empty_database, WORKERS, timeout=240)
    assert outcomes == ["ok"] * WORKERS
    assert revision(empty_database) == head()


def test_opening_a_server_database_without_the_schema_fails_at_once(
    empty_database: str,
) -> None:
    if empty_database.startswith("sqlite"):
        pytest.skip("a brand-new SQLite database is created on first use (next test)")
    with pytest.raises(SchemaNotReady, match=r"has no loyaltykit schema.*run loyaltykit init --db"):
        Loyalty(storage=empty_database)
    engine = create_engine(empty_database, poolclass=NullPool)
    assert inspect(engine).get_table_names() == []  # nothing was created
    engine.dispose()


def test_a_brand_new_sqlite_database_is_created_but_an_old_one_is_never_migrated(
    tmp_path: Path,
) -> None:
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    Loyalty(storage=fresh).close()  # the embedded default: created at the latest schema
    assert revision(fresh) == head()
    empty = tmp_path / "empty.db"
    empty.touch()  # an empty file (e.g. from tempfile) is a new database too
    Loyalty(storage=f"sqlite:///{empty}").close()
    old = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(old, "0002")
    with pytest.raises(SchemaNotReady) as refused:
        Loyalty(storage=old)
    assert refused.value.current == "0002" and refused.value.required == head()
    assert refused.value.command == f"loyaltykit db upgrade '{old}'"
    assert revision(old) == "0002"  # untouched
    SqlStorage.from_url(old, migrate=True).close()  # the explicit way
    assert revision(old) == head()


def test_engine_settings_reach_sqlalchemy(postgres_url: str) -> None:
    upgrade(postgres_url)
    storage = SqlStorage.from_url(postgres_url, pool_size=3, max_overflow=1, pool_timeout=7)
    try:
        pool = storage.engine.pool
        assert (pool.size(), pool._max_overflow, pool._timeout) == (3, 1, 7)  # type: ignore[attr-defined]
    finally:
        storage.close()
    with pytest.raises(InvalidArgument, match="engine settings"):
        SqlStorage.from_url(postgres_url, no_such_setting=1)


def test_an_engine_of_your_own(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'own.db'}")
    upgrade(engine)
    with Loyalty(storage=SqlStorage(engine)) as loyalty:
        loyalty.enroll("c-1", at=workers.T0, idempotency_key="e-1")
        assert loyalty.customer("c-1").id == "c-1"


def test_passwords_never_reach_a_message() -> None:
    with pytest.raises(StorageError) as refused:  # nothing listens on port 1
        SqlStorage.from_url("postgresql+psycopg://ann:s3cret@127.0.0.1:1/x")
    assert "s3cret" not in str(refused.value)
    assert shown("postgresql+psycopg://ann:s3cret@db/x") == "postgresql+psycopg://ann:***@db/x"
    assert "s3cret" not in shown("not a url://ann:s3cret@db")
