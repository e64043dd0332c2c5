"""The SQL backend on PostgreSQL (psycopg 3)."""

from __future__ import annotations

import pytest

from tests.storage.sql_suites import SqlConformance


class TestPostgresConformance(SqlConformance):
    machine_examples = 25
    redemption_examples = 5

    @pytest.fixture(scope="class")
    @classmethod
    def database_url(cls, postgres_url: str) -> str:
        return postgres_url
