"""A database created at the first revision keeps its data when upgraded to head."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, inspect

from loyaltykit import Loyalty, Money
from loyaltykit.domain.activity import Purchase
from loyaltykit.policy.program import Program
from loyaltykit.policy.rules import BaseRate
from loyaltykit.storage.sql import SqlStorage, upgrade
from tests.databases import emptied

T0 = datetime(2026, 2, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize("kind", ["sqlite", "postgres", "mariadb"])
def test_upgrading_from_the_first_revision_keeps_the_data(
    kind: str, request: pytest.FixtureRequest
) -> None:
    url: str = request.getfixturevalue(f"{kind}_url")
    engine = create_engine(url)
    with engine.begin() as connection:
        for table in (
            "lk_counters",
            "lk_records",
            "lk_customer_state",
            "lk_idempotency",
            "lk_lots",
            "lk_entries",
            "lk_accounts",
            "lk_customers",
            "lk_alembic_version",
        ):
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
    upgrade(url, "0001")
    assert "lk_customer_state" not in inspect(engine).get_table_names()

    # an engine of our own: opening the URL would refuse a schema that is behind
    old = Loyalty(storage=SqlStorage(create_engine(url)))
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
