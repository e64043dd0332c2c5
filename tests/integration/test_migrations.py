"""A database created at the first revision keeps its data when upgraded to head."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, Engine, create_engine, insert, inspect, text

from loyaltykit import Loyalty, Money
from loyaltykit.domain.activity import Purchase
from loyaltykit.domain.ledger import Entry, EntryKind
from loyaltykit.errors import OutOfOrder
from loyaltykit.formats.programs import Program
from loyaltykit.outcomes import Statement
from loyaltykit.policy.rules import BaseRate
from loyaltykit.storage.sql import schema, upgrade
from loyaltykit.storage.sql.repositories import Customers, Ledger, Session
from tests.databases import emptied

T0 = datetime(2026, 2, 1, 10, tzinfo=UTC)
TABLES = (
    "lk_lookups",
    "lk_member_cards",
    "lk_stored_value_entries",
    "lk_stored_value",
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


# the account columns of revision 0001: today's, without the one 0006 added
ACCOUNT_0001 = tuple(column.name for column in schema.accounts.columns if column.name != "last_at")


def dropped(engine: Engine) -> None:
    """Drop loyaltykit's tables, so that a test can build the schema from an old revision."""
    with engine.begin() as connection:
        for table in TABLES:
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")


def at_revision(kind: str, request: pytest.FixtureRequest, revision: str) -> tuple[str, Engine]:
    """The URL and an engine of the ``kind`` database, emptied and built up to ``revision``."""
    url: str = request.getfixturevalue(f"{kind}_url")
    engine = create_engine(url)
    dropped(engine)
    upgrade(url, revision)
    return url, engine


def enrolled_raw(connection: Connection, customer_id: str) -> None:
    """A customer row written with plain SQL (valid at every revision)."""
    connection.execute(
        text(
            "INSERT INTO lk_customers (id, enrolled_at, status, profile) "
            "VALUES (:id, :at, 'active', '{}')"
        ),
        {"id": customer_id, "at": T0.replace(tzinfo=None)},
    )


def written_as_at_0001(engine: Engine) -> Statement:
    """ann enrolled, earned and redeemed, in the tables of revision 0001 (the same rows
    today's repositories write, without the columns later revisions added)."""
    reference = Loyalty()
    reference.enroll("ann", at=T0, idempotency_key="enroll-ann")
    reference.earn("ann", 120, at=T0, idempotency_key="o1", expires_at=T0 + timedelta(days=30))
    reference.redeem_points("ann", 20, at=T0, idempotency_key="r1")
    with reference.storage.unit_of_work() as uow:
        customer = uow.customers.get("ann")
        account = uow.ledger.account("ann", "points")
        entries = uow.ledger.entries("ann", "points")
        lots = uow.ledger.lots("ann", "points")
    assert customer is not None and account is not None
    with engine.begin() as connection:
        session = Session(connection)
        Customers(session).add(customer)
        Ledger(session).add_entries(entries)
        Ledger(session).save_lots(lots)
        counts = {name: getattr(account, name) for name in ACCOUNT_0001}
        connection.execute(insert(schema.accounts).values(**counts))
    return reference.statement("ann")


@pytest.mark.parametrize("kind", ["sqlite", "postgres", "mariadb"])
def test_upgrading_from_the_first_revision_keeps_the_data(
    kind: str, request: pytest.FixtureRequest
) -> None:
    url, engine = at_revision(kind, request, "0001")
    assert "lk_customer_state" not in inspect(engine).get_table_names()

    before = written_as_at_0001(engine)

    upgrade(url)  # to head
    assert "lk_customer_state" in inspect(engine).get_table_names()
    program = Program(rules=(BaseRate(id="base", per=Money.of(10, "CNY")),))
    new = Loyalty(program, storage=url)
    assert new.statement("ann") == before
    assert new.balance("ann").available == 100
    # 0006 backfilled when the account's latest entry took effect
    with pytest.raises(OutOfOrder):
        new.earn("ann", 1, at=T0 - timedelta(hours=1), idempotency_key="backdated")
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
    url, engine = at_revision(kind, request, "0004")
    with engine.begin() as connection:  # a customer enrolled before the upgrade
        enrolled_raw(connection, "ALICE")
        connection.execute(text("INSERT INTO lk_counters (name, value) VALUES ('stock:café', 3)"))
    upgrade(url)
    with engine.begin() as connection:
        enrolled_raw(connection, "alice")
        found = connection.execute(text("SELECT id FROM lk_customers WHERE id = 'alice'"))
        assert [row[0] for row in found] == ["alice"]
        counted = connection.execute(text("SELECT name FROM lk_counters WHERE name = 'stock:cafe'"))
        assert list(counted) == []
    emptied(engine)
    engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgres", "mariadb"])
def test_upgrading_takes_birthdays_out_of_care_reasons(
    kind: str, request: pytest.FixtureRequest
) -> None:
    url, engine = at_revision(kind, request, "0006")

    def care_entry(seq: int, reason: str) -> Entry:
        return Entry(
            customer_id="ann",
            point_type="points",
            seq=seq,
            kind=EntryKind.EARN,
            amount=100,
            occurred_at=T0,
            recorded_at=T0,
            idempotency_key=f"care:birthday:{2024 + seq}",
            reason=reason,
        )

    with engine.begin() as connection:
        Ledger(Session(connection)).add_entries(
            [
                care_entry(1, "care birthday: birthday on 2025-11-23"),
                care_entry(2, "a caller's own reason: birthday on 2026-11-23"),
            ]
        )
    upgrade(url)
    with engine.begin() as connection:
        stored = Ledger(Session(connection)).entries("ann", "points")
    assert [entry.reason for entry in stored] == [
        "care birthday: 2025 birthday",
        "a caller's own reason: birthday on 2026-11-23",  # not ours to rewrite
    ]
    assert [entry.amount for entry in stored] == [100, 100]
    emptied(engine)
    engine.dispose()


def _downgraded(engine: Engine, revision: str) -> None:
    from alembic import command

    from loyaltykit.storage.sql.storage import _config

    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def _layout(engine: Engine) -> dict[str, str]:
    """SQLite: the SQL of the tables and indexes 0015 changes."""
    names = ("lk_entries", "lk_lots", "lk_idempotency", "lk_lots_releasing")
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL")
        ).all()
    return {name: sql for name, sql in rows if name in (*names, "lk_entries_by_reversed")}


@pytest.mark.parametrize("kind", ["sqlite", "postgres", "mariadb"])
def test_compact_rows_keep_every_row_both_ways(kind: str, request: pytest.FixtureRequest) -> None:
    url, engine = at_revision(kind, request, "0008")
    before = written_as_at_0001(engine)
    with engine.begin() as connection:  # an idempotency row, and a reversal to find
        connection.execute(
            insert(schema.idempotency).values(
                customer_id="ann",
                key="x1",
                command="earn",
                fingerprint="2:abc",
                outcome='{"v":2}',
                recorded_at=T0.replace(tzinfo=None),
            )
        )
    upgrade(url)  # to head: 0015
    if kind == "sqlite":
        layout = _layout(engine)
        for table in ("lk_entries", "lk_lots", "lk_idempotency"):
            assert layout[table].endswith("WITHOUT ROWID"), layout[table]
        assert "available_from IS NOT NULL" in layout["lk_lots_releasing"]
        assert "reverses IS NOT NULL" in layout["lk_entries_by_reversed"]
    loyalty = Loyalty(storage=url)
    assert loyalty.statement("ann") == before
    entry = before.lines[0].entry  # the earn
    reversal = loyalty.reverse("ann", "o1", at=T0, idempotency_key="undo", portion="0.5")
    assert reversal.balance.available == 40
    loyalty.close()
    with engine.connect() as connection:
        session = Session(connection)
        assert [e.id for e in Ledger(session).reversals_of("ann", entry.id)] == [
            e.id for e in reversal.entries
        ]
    _downgraded(engine, "0008")
    if kind == "sqlite":
        layout = _layout(engine)
        assert not any(sql.endswith("WITHOUT ROWID") for sql in layout.values())
        assert "WHERE" not in layout["lk_lots_releasing"]
    with engine.connect() as connection:
        session = Session(connection)
        assert len(Ledger(session).entries("ann", "points")) == 3
        assert len(Ledger(session).reversals_of("ann", entry.id)) == 1
        count = connection.execute(text("SELECT count(*) FROM lk_idempotency")).scalar()
        assert count == 2  # ours, and the reversal's
    upgrade(url)
    emptied(engine)
    engine.dispose()
