"""The SQL backend on MariaDB (PyMySQL)."""

from __future__ import annotations

import pytest

from tests.storage.sql_suites import SqlConformance


class TestMariaDbConformance(SqlConformance):
    machine_examples = 25
    redemption_examples = 5

    @pytest.fixture(scope="class")
    @classmethod
    def database_url(cls, mariadb_url: str) -> str:
        return mariadb_url
