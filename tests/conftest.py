"""Test-suite configuration: hypothesis profiles and shared fixtures."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

pytest_plugins = ["loyaltykit.testing.pytest_plugin"]

settings.register_profile(
    "ci",
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") == "true" else "dev")


# --- databases: one schema (PostgreSQL) or database (MariaDB) per run ----------------
# URLs come from LOYALTYKIT_TEST_POSTGRES_URL / LOYALTYKIT_TEST_MARIADB_URL; without them
# the tests skip, except under CI=true, where a missing or unreachable database fails.

IN_CI = os.environ.get("CI") == "true"


def _server_url(variable: str) -> str:
    url = os.environ.get(variable)
    if not url:
        if IN_CI:
            pytest.fail(f"{variable} is not set; CI must run the database tests")
        pytest.skip(f"{variable} is not set")
    return url


def _reachable(url: str) -> None:
    try:
        engine = create_engine(url)
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as error:  # any driver error means: not reachable
        if IN_CI:
            pytest.fail(f"database {url} is unreachable under CI: {error}")
        pytest.skip(f"database {url} is unreachable: {error}")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a schema of this run only."""
    server = _server_url("LOYALTYKIT_TEST_POSTGRES_URL")
    _reachable(server)
    schema = f"lk_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    url = make_url(server).update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(scope="session")
def mariadb_url() -> Iterator[str]:
    """A MariaDB URL naming a database of this run only."""
    server = _server_url("LOYALTYKIT_TEST_MARIADB_URL")
    _reachable(server)
    database = f"lk_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {database} CHARACTER SET utf8mb4"))
    url = make_url(server).set(database=database)
    yield url.render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE {database}"))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite file of this run."""
    path: Path = tmp_path_factory.mktemp("sqlite") / "loyalty.db"
    return f"sqlite:///{path}"


# --- brokers (issue 18): the outbox relays' tests -------------------------------------
# URLs come from LOYALTYKIT_TEST_NATS_URL / LOYALTYKIT_TEST_RABBITMQ_URL; skipped without
# them, failed under CI=true, like the databases.


def _broker_url(variable: str) -> str:
    import socket
    from urllib.parse import urlsplit

    url = _server_url(variable)
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), 2):
            pass
    except OSError as error:
        if IN_CI:
            pytest.fail(f"broker {parts.hostname}:{parts.port} is unreachable under CI: {error}")
        pytest.skip(f"broker {parts.hostname}:{parts.port} is unreachable: {error}")
    return url


@pytest.fixture(scope="session")
def nats_url() -> str:
    """A NATS server with JetStream (each test names streams of its own)."""
    return _broker_url("LOYALTYKIT_TEST_NATS_URL")


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    """A RabbitMQ server (each test names exchanges and queues of its own)."""
    return _broker_url("LOYALTYKIT_TEST_RABBITMQ_URL")
