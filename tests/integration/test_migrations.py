"""A database created at the first revision keeps its data when upgraded to head."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, create_engine, inspect, text

from loyaltykit import Loyalty, Money
from loyaltykit.domain.activity import Purchase
from loyaltykit.policy.program import Program
from loyaltykit.policy.rules import BaseRate
from loyaltykit.storage.sql import SqlStorage, upgrade
from tests.databases import emptied

T0 = datetime(2026, 2, 1, 10, tzinfo=UTC)
TABLES = (
    "lk_counters",
    "lk_records",
    "lk_customer_state",
    "lk_idempotency",
    "lk_lots",
    "lk_entries",
    "lk_accounts",
    "lk_customers",
    "lk_alembic_version",
)


def dropped(engine: Engine) -> None:
    """Drop loyaltykit's tables, so that a test can build the schema from an old revision."""
    with engine.begin() as connection:
        for table in TABLES:
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")


@pytest.mark.parametrize("kind", ["sqlite", "postgres", "mariadb"])
def test_upgrading_from_the_first_revision_keeps_the_data(
    kind: str, request: pytest.FixtureRequest
) -> None:
    url: str = request.getfixturevalue(f"{kind}_url")
    engine = create_engine(url)
    dropped(engine)
    upgrade(url, "0001")
    assert "lk_customer_state" not in inspect(engine).get_table_names()

    old = Loyalty(storage=SqlStorage(SqlStorage.from_url(url, migrate=False).engine))
    old.enroll("ann", at=T0, idempotency_key="enroll-ann")
    old.earn("ann", 120, at=T0, idempotency_key="o1", expires_at=T0 + timedelta(days=30))
    old.redeem_points("ann", 20, at=T0, idempotency_key="r1")
    before = old.statement("ann")
    old.close()

    upgrade(url)  # to head
    assert "lk_customer_state" in inspect(engine).get_table_names()
    program = Program(rules=(BaseRate(id="base", per=Money.of(10, "CNY")),))
    new = Loyalty(program, storage=url)
    assert new.statement("ann") == before
    assert new.balance("ann").available == 100
    receipt = new.record_purchase(
        "ann", Purchase(amount=Money.of(50, "CNY")), at=T0, idempotency_key="p1"
    )
    assert receipt.balance.available == 105
    new.close()
    emptied(engine)
    engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgres", "mariadb"])
def test_upgrading_an_existing_database_makes_identifiers_compare_exactly(
    kind: str, request: pytest.FixtureRequest
) -> None:
    url: str = request.getfixturevalue(f"{kind}_url")
    engine = create_engine(url)
    dropped(engine)
    upgrade(url, "0004")
    with engine.begin() as connection:  # a customer enrolled before the upgrade
        connection.execute(
            text(
                "INSERT INTO lk_customers (id, enrolled_at, status, profile) "
                "VALUES ('ALICE', :at, 'active', '{}')"
            ),
            {"at": T0.replace(tzinfo=None)},
        )
        connection.execute(text("INSERT INTO lk_counters (name, value) VALUES ('stock:café', 3)"))
    upgrade(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO lk_customers (id, enrolled_at, status, profile) "
                "VALUES ('alice', :at, 'active', '{}')"
            ),
            {"at": T0.replace(tzinfo=None)},
        )
        found = connection.execute(text("SELECT id FROM lk_customers WHERE id = 'alice'"))
        assert [row[0] for row in found] == ["alice"]
        counted = connection.execute(text("SELECT name FROM lk_counters WHERE name = 'stock:cafe'"))
        assert list(counted) == []
    emptied(engine)
    engine.dispose()
