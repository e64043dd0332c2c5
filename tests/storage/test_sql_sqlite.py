"""The SQL backend on a SQLite file."""

from __future__ import annotations

import pytest

from tests.storage.sql_suites import SqlConformance


class TestSqliteConformance(SqlConformance):
    machine_examples = 60

    @pytest.fixture(scope="class")
    @classmethod
    def database_url(cls, sqlite_url: str) -> str:
        return sqlite_url
