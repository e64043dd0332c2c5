"""A database created at the first revision keeps its data when upgraded to head."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    Connection,
    Engine,
    Table,
    column,
    create_engine,
    insert,
    inspect,
    select,
    table,
    text,
)

from loyaltykit import Loyalty, Money
from loyaltykit.domain.activity import Purchase
from loyaltykit.domain.ledger import Entry, EntryKind
from loyaltykit.domain.rewards import Reward, RewardCatalog, VoucherTerms
from loyaltykit.errors import CustomerAlreadyExists, OutOfOrder
from loyaltykit.formats.programs import Program
from loyaltykit.outcomes import Statement
from loyaltykit.policy.rules import BaseRate
from loyaltykit.storage.sql import SqlStorage, schema, upgrade
from loyaltykit.storage.sql.repositories import (
    Ledger,
    Session,
    _customer_row,
    _entry_row,
    _lot_row,
)
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
ACCOUNT_0001 = tuple(c.name for c in schema.fields(schema.accounts) if c.name != "last_at")


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


def enrolled_raw(connection: Connection, customer_id: str, *, tenant: str | None = None) -> None:
    """A customer row written with plain SQL: without a tenant before 0012, with one since."""
    named = "" if tenant is None else ", tenant"
    connection.execute(
        text(
            f"INSERT INTO lk_customers (id, enrolled_at, status, profile{named}) "
            f"VALUES (:id, :at, 'active', '{{}}'{named and ', :tenant'})"
        ),
        {"id": customer_id, "at": T0.replace(tzinfo=None), "tenant": tenant},
    )


def before_tenants(connection: Connection, of: Table, rows: Iterable[Mapping[str, Any]]) -> None:
    """Rows of ``of`` written as a revision before 0012 held them: without a tenant."""
    columns = [column(c.name, c.type) for c in schema.fields(of)]
    rows = [{k: v for k, v in row.items() if k != "tenant"} for row in rows]
    if rows:
        connection.execute(insert(table(of.name, *columns)), rows)


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
        before_tenants(connection, schema.customers, [_customer_row(customer)])
        before_tenants(connection, schema.entries, [_entry_row(entry) for entry in entries])
        before_tenants(connection, schema.lots, [_lot_row(lot) for lot in lots])
        counts = {name: getattr(account, name) for name in ACCOUNT_0001}
        accounts = table("lk_accounts", *(column(name) for name in counts))
        connection.execute(insert(accounts).values(**counts))
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
        enrolled_raw(connection, "alice", tenant="default")
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
        written = [
            care_entry(1, "care birthday: birthday on 2025-11-23"),
            care_entry(2, "a caller's own reason: birthday on 2026-11-23"),
        ]
        before_tenants(connection, schema.entries, [_entry_row(entry) for entry in written])
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


def a_programme_of_every_kind_of_row(url: str) -> tuple[Loyalty, str]:
    """A programme run on ``url`` (at head) that writes a row in every table: members,
    points, a voucher (a record with a lookup), reward stock (a counter), the outbox,
    idempotency keys, a gift card and its entries, a member card; and the gift card's code."""
    coffee = Reward(id="coffee", kind="coupon", price=50, stock=10, voucher=VoucherTerms())
    program = Program(
        rules=(BaseRate(id="base", per=Money.of(10, "CNY")),), catalog=RewardCatalog.of(coffee)
    )
    loyalty = Loyalty(program, storage=url, outbox=True)
    loyalty.code_source = random.Random(7).choice
    loyalty.voucher_source = random.Random(8).choice
    for member in ("ann", "ben"):
        loyalty.enroll(member, at=T0, idempotency_key=f"enroll-{member}")
    loyalty.record_purchase(
        "ann", Purchase(amount=Money.of(1290, "CNY")), at=T0, idempotency_key="p1"
    )
    loyalty.earn("ben", 70, at=T0, idempotency_key="e1", expires_at=T0 + timedelta(days=90))
    loyalty.redeem("ann", "coffee", at=T0, idempotency_key="coffee-1")
    loyalty.issue_card("ann", at=T0, idempotency_key="card-ann")
    gift = loyalty.issue_stored_value(
        "gift_card", Money.of(100, "CNY"), at=T0, idempotency_key="gift-1"
    )
    loyalty.pay_with_stored_value(gift.code, Money.of(30, "CNY"), at=T0, idempotency_key="pay-1")
    return loyalty, gift.code


@pytest.mark.parametrize("kind", ["sqlite", "postgres", "mariadb"])
def test_a_database_of_one_programme_is_the_default_programme_after_0012(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url, engine = at_revision(kind, request, "0008")
    # every row the programme writes, copied as 0008 held it
    reference, code = a_programme_of_every_kind_of_row(f"sqlite:///{tmp_path / 'reference.db'}")
    source = reference.storage
    assert isinstance(source, SqlStorage)
    with source.engine.connect() as read, engine.begin() as write:
        for each in schema.metadata.sorted_tables:
            rows = read.execute(each.select()).mappings().all()
            assert rows or each.name == "lk_customer_state", each.name
            before_tenants(write, each, rows)
    gift = reference.stored_value_entries(code)

    upgrade(url)  # 0008 -> head
    columns = {c["name"]: c for c in inspect(engine).get_columns("lk_records")}
    assert columns["tenant"]["default"] is None  # no row is ever filed by a default
    with engine.connect() as connection:
        tenants = {
            each.name: sorted(
                # read as the schema reads it: SQLite holds the default as '' (0016)
                set(connection.execute(select(each.c.tenant)).scalars())
            )
            for each in schema.metadata.sorted_tables
        }
    assert set(map(tuple, tenants.values())) <= {("default",), ()}
    program = reference.versions
    upgraded = Loyalty(program, storage=url, outbox=True)
    assert upgraded.tenant == "default"
    for member in ("ann", "ben"):
        assert upgraded.statement(member) == reference.statement(member)
        assert upgraded.cards_of(member) == reference.cards_of(member)
        assert upgraded.vouchers(member) == reference.vouchers(member)
    assert upgraded.pending_events() == reference.pending_events()
    assert upgraded.stored_value_entries(code) == gift
    assert upgraded.stored_value_balance(code, at=T0).balance == Money.of(70, "CNY")
    card = reference.cards_of("ann")[0].number
    assert upgraded.member_by_card(card) == "ann"
    assert upgraded.stock_left("coffee", at=T0) == reference.stock_left("coffee", at=T0) == 9
    # a replay of a key written before the upgrade is a replay
    again = upgraded.record_purchase(
        "ann", Purchase(amount=Money.of(1290, "CNY")), at=T0, idempotency_key="p1"
    )
    assert again.replayed
    with pytest.raises(CustomerAlreadyExists):
        upgraded.enroll("ann", at=T0, idempotency_key="enroll-ann-again")
    # a second programme in the same database starts empty, and takes the same ids
    brand_b = Loyalty(program, storage=url, tenant="brand-b", outbox=True)
    brand_b.enroll("ann", at=T0, idempotency_key="enroll-ann")
    brand_b.earn("ann", 5, at=T0, idempotency_key="p1")
    assert brand_b.balance("ann").available == 5
    assert upgraded.balance("ann").available == reference.balance("ann").available
    assert brand_b.stock_left("coffee", at=T0) == 10
    for each in (reference, upgraded, brand_b):
        each.close()
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
        row = {
            "customer_id": "ann",
            "key": "x1",
            "command": "earn",
            "fingerprint": "2:abc",
            "outcome": '{"v":2}',
            "recorded_at": T0.replace(tzinfo=None),
        }
        before_tenants(connection, schema.idempotency, [row])
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
    _downgraded(engine, "0012")  # the revision before 0015
    if kind == "sqlite":
        layout = _layout(engine)
        assert not any(sql.endswith("WITHOUT ROWID") for sql in layout.values())
        assert "WHERE" not in layout["lk_lots_releasing"]
    with engine.connect() as connection:  # in plain SQL: the rows as 0012 holds them
        ann = "customer_id = 'ann' AND tenant = 'default'"
        found = connection.execute(text(f"SELECT count(*) FROM lk_entries WHERE {ann}"))
        assert found.scalar() == 3
        reversing = text(f"SELECT count(*) FROM lk_entries WHERE {ann} AND reverses = :id")
        assert connection.execute(reversing, {"id": entry.id}).scalar() == 1
        count = connection.execute(text("SELECT count(*) FROM lk_idempotency")).scalar()
        assert count == 2  # ours, and the reversal's
    upgrade(url)
    emptied(engine)
    engine.dispose()


def _rows(connection: Connection, of: Table) -> list[dict[str, Any]]:
    """Every row of ``of`` as today's schema reads it, in primary-key order."""
    query = of.select().order_by(*of.primary_key.columns)
    return [dict(row._mapping) for row in connection.execute(query)]


def _as_before_0016(of: Table) -> Any:
    """``of`` with the column types of revision 0013: instants as SQLAlchemy's own
    ``DateTime`` (on SQLite its text form), the programme and fingerprints as text."""
    from sqlalchemy import DateTime, String

    def before(c: Any) -> Any:
        if isinstance(c.type, schema.UtcDateTime):
            return DateTime()
        if isinstance(c.type, schema.Tenant | schema.Fingerprint):
            return String()
        return c.type

    return table(of.name, *(column(c.name, before(c)) for c in of.columns))


def _naive(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        name: value.astimezone(UTC).replace(tzinfo=None) if isinstance(value, datetime) else value
        for name, value in row.items()
    }


def _stored(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows as the database holds them (the driver's own values: on
    SQLite the texts, integers and bytes themselves)."""
    with engine.connect() as connection:
        return {
            of.name: sorted(
                (tuple(row) for row in connection.exec_driver_sql(f"SELECT * FROM {of.name}")),
                key=repr,
            )
            for of in schema.metadata.sorted_tables
        }


@pytest.mark.parametrize("kind", ["sqlite", "postgres", "mariadb"])
def test_0016_reads_back_every_row_written_before_it(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    # every kind of row, written at head on a file of its own, read as today's schema
    # reads it: the values the upgraded database must give back
    reference, code = a_programme_of_every_kind_of_row(f"sqlite:///{tmp_path / 'head.db'}")
    reference_engine = reference.storage.engine  # type: ignore[attr-defined]
    with reference_engine.connect() as connection:
        expected = {of.name: _rows(connection, of) for of in schema.metadata.sorted_tables}
    expected["lk_entries"] = _full_lot_ids(expected["lk_entries"])  # as 0013 wrote them
    extra = [  # the edges: before 1970, the first instant, fingerprints of other shapes
        ("old-1", "2:abc", datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)),
        ("old-2", "v1-3f2a", datetime(1, 1, 1, tzinfo=UTC)),
        ("old-3", "2:00ff", datetime(9999, 12, 31, 23, 59, 59, 1, tzinfo=UTC)),
    ]
    for key, fingerprint, at in extra:
        expected["lk_idempotency"].append(
            {
                "tenant": "default",
                "customer_id": "ben",
                "key": key,
                "command": "earn",
                "fingerprint": fingerprint,
                "outcome": "{}",
                "recorded_at": at,
            }
        )
    expected["lk_idempotency"].sort(key=lambda row: (row["customer_id"], row["key"]))

    url, engine = at_revision(kind, request, "0013")
    with engine.begin() as connection:  # as revision 0013 wrote them
        for of in schema.metadata.sorted_tables:
            if expected[of.name]:
                rows = [_naive(row) for row in expected[of.name]]
                connection.execute(insert(_as_before_0016(of)), rows)
        # an instant as the driver's own adapter writes it: no fraction
        enrolled_raw(connection, "zed", tenant="default")
    expected["lk_customers"] = _rows_of(url, schema.customers)  # zed's row, as 0013 read it
    before = _stored(engine)

    upgrade(url)  # to head: 0016
    with engine.connect() as connection:
        for of in schema.metadata.sorted_tables:
            found = _rows(connection, of)
            if of is schema.entries:
                found = _full_lot_ids(found)
            assert found == expected[of.name], of.name
        if kind == "sqlite":
            kinds = connection.exec_driver_sql(
                "SELECT DISTINCT typeof(occurred_at), typeof(recorded_at), tenant FROM lk_entries"
            ).all()
            assert kinds == [("integer", "integer", "")]
            changes = connection.exec_driver_sql("SELECT lots FROM lk_entries").scalars()
            assert all(":" not in text for text in changes)  # every lot the entry's own
            fingerprints = connection.exec_driver_sql(
                "SELECT key, typeof(fingerprint) FROM lk_idempotency WHERE key LIKE 'old-%'"
            ).all()
            assert sorted(fingerprints) == [("old-1", "blob"), ("old-2", "text"), ("old-3", "blob")]
    upgraded = Loyalty(storage=url)
    assert upgraded.statement("ann") == reference.statement("ann")
    assert upgraded.statement("ben") == reference.statement("ben")
    assert upgraded.stored_value_balance(code, at=T0) == reference.stored_value_balance(code, at=T0)
    # a replayed command returns its first outcome, and the next one is dated after it
    again = upgraded.earn(
        "ben", 70, at=T0, idempotency_key="e1", expires_at=T0 + timedelta(days=90)
    )
    first = reference.earn(
        "ben", 70, at=T0, idempotency_key="e1", expires_at=T0 + timedelta(days=90)
    )
    assert again == first
    with pytest.raises(OutOfOrder):
        upgraded.earn("ben", 1, at=T0 - timedelta(seconds=1), idempotency_key="backdated")
    upgraded.close()
    reference.close()

    _downgraded(engine, "0013")  # every value as it was stored, byte for byte
    if kind == "sqlite":  # but zed's: in the form SQLAlchemy writes, with its fraction
        before["lk_customers"] = [
            (row[0], "2026-02-01 10:00:00.000000", *row[2:]) if row[0] == "zed" else row
            for row in before["lk_customers"]
        ]
    assert _stored(engine) == before
    upgrade(url)
    emptied(engine)
    engine.dispose()


def _rows_of(url: str, of: Table) -> list[dict[str, Any]]:
    """``of``'s rows as revision 0013's types read them (aware instants in UTC)."""
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = [
            {
                name: value.replace(tzinfo=UTC) if isinstance(value, datetime) else value
                for name, value in row._mapping.items()
            }
            for row in connection.execute(
                _as_before_0016(of).select().order_by(*(column(c.name) for c in of.primary_key))
            )
        ]
    engine.dispose()
    return rows


def _full_lot_ids(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Entry rows with every lot id in full (``ann:points:1.0``), as before 0016."""
    full = []
    for row in rows:
        prefix = f"{row['customer_id']}:{row['point_type']}:"
        changes = [
            [lot_id if ":" in lot_id else prefix + lot_id, delta]
            for lot_id, delta in json.loads(row["lots"])
        ]
        full.append({**row, "lots": json.dumps(changes, separators=(",", ":"))})
    return full
