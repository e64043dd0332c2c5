"""Citus's rules, proven on plain PostgreSQL: the schema with every distributed table
hash-partitioned by its distribution column (PostgreSQL then refuses a primary or unique
key without it, as Citus does), the conformance suite and the machines run on it, and
each statement of a single-customer command prunes to one partition."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import attrs
import pytest
from sqlalchemy import Column, Index, MetaData, String, Table, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from loyaltykit import Loyalty, Money, Program, Purchase
from loyaltykit.storage.sql import SqlStorage
from loyaltykit.storage.sql.distribution import (
    DISTRIBUTION,
    create_partitioned,
    partitioned_tables,
    rule_breaches,
)
from loyaltykit.storage.sql.schema import metadata
from tests.integration import workers
from tests.storage.sql_suites import SqlConformance

PARTITIONS = 4


def test_every_table_is_classified_and_its_keys_hold_its_distribution_column() -> None:
    assert rule_breaches() == []
    assert set(DISTRIBUTION) == set(metadata.tables)


def test_the_check_catches_an_unclassified_table_and_a_key_without_the_customer() -> None:
    wrong = MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(wrong)
    Table("lk_new", wrong, Column("id", String(8), primary_key=True))
    Index("lk_by_code", wrong.tables["lk_accounts"].c.point_type, unique=True)
    assert rule_breaches(wrong) == [
        "lk_accounts: unique index lk_by_code ['point_type'] lacks 'customer_id'",
        "lk_new: not classified in DISTRIBUTION",
    ]


def test_postgresql_refuses_a_partitioned_table_whose_unique_key_lacks_the_customer(
    postgres_url: str,
) -> None:
    tables, _ = partitioned_tables(2)
    Index("lk_by_type", tables.tables["lk_accounts"].c.point_type, unique=True)
    engine = create_engine(postgres_url)
    name = f"lkr_{uuid.uuid4().hex[:12]}"
    try:
        with engine.connect() as connection:
            # a schema of its own, in a transaction rolled back: the run's schema may
            # hold the migrated tables already
            connection.execute(text(f"CREATE SCHEMA {name}"))
            connection.execute(text(f"SET LOCAL search_path TO {name}"))
            with pytest.raises(DBAPIError, match="partition"):
                tables.tables["lk_accounts"].create(connection)
            connection.rollback()
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def partitioned_url(postgres_url: str) -> Iterator[str]:
    """A schema of its own holding the partitioned tables, at the latest revision."""
    name = f"lkp_{uuid.uuid4().hex[:12]}"
    base = make_url(postgres_url)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {name}"))
    url = base.update_query_dict({"options": f"-csearch_path={name}"})
    engine = create_engine(url)
    with engine.begin() as connection:
        create_partitioned(connection, partitions=PARTITIONS)
    engine.dispose()
    yield url.render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f"DROP SCHEMA {name} CASCADE"))
    admin.dispose()


class TestPartitionedConformance(SqlConformance):
    """The whole suite, its multi-process race and the machines on the partitioned schema
    (fewer machine examples: the plain PostgreSQL run explores the same machines)."""

    machine_examples = 4
    redemption_examples = 2

    @pytest.fixture(scope="class")
    @classmethod
    def database_url(cls, partitioned_url: str) -> str:
        return partitioned_url


# --- one shard per single-customer command ------------------------------------------


class _Recorder:
    """Every statement sent on the engine's connections, with its parameters. The
    prepared command path runs on the driver's cursor, below SQLAlchemy's
    ``before_cursor_execute`` event, so the driver's cursor class is wrapped instead:
    it sees the Core statements and the prepared ones alike."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, Any]] = []
        self.on = False

    def install(self, storage: SqlStorage) -> None:
        import psycopg

        recorder = self

        class Recording(psycopg.Cursor[Any]):
            def execute(self, query: Any, params: Any = None, **kw: Any) -> Any:
                if recorder.on:
                    recorder.statements.append((str(query), params))
                return super().execute(query, params, **kw)

            def executemany(self, query: Any, params_seq: Any, **kw: Any) -> None:
                if recorder.on:
                    recorder.statements.extend((str(query), p) for p in list(params_seq))
                super().executemany(query, params_seq, **kw)

        storage.engine.dispose()

        @event.listens_for(storage.engine, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.cursor_factory = Recording


def _relations(plan: Any) -> list[str]:
    found: list[str] = []
    if isinstance(plan, dict):
        if "Relation Name" in plan:
            found.append(plan["Relation Name"])
        for value in plan.values():
            found.extend(_relations(value))
    elif isinstance(plan, list):
        for value in plan:
            found.extend(_relations(value))
    return found


_PARTITIONED = {name for name, placed in DISTRIBUTION.items() if placed.column is not None}


def _partitions_touched(plan: Any) -> dict[str, set[str]]:
    """Per partitioned table, the partitions the plan reads or writes."""
    touched: dict[str, set[str]] = {}
    for relation in _relations(plan):
        parent, _, number = relation.rpartition("_p")
        if parent in _PARTITIONED and number.isdigit():
            touched.setdefault(parent, set()).add(relation)
        elif relation in _PARTITIONED:  # the parent itself: an INSERT routes row by row
            touched.setdefault(relation, set())
    return touched


def test_each_statement_of_a_single_customer_command_prunes_to_one_partition(
    partitioned_url: str,
) -> None:
    import psycopg

    storage = SqlStorage.from_url(partitioned_url)
    recorder = _Recorder()
    recorder.install(storage)
    rules = Program.from_dict({"rules": [{"id": "base", "kind": "base_rate", "per": "10"}]})
    program = attrs.evolve(rules, catalog=workers.flash_program().catalog)
    at = workers.T0
    with Loyalty(program, storage=storage, outbox=True) as loyalty:
        for member in ("ann", "bob"):
            loyalty.enroll(member, at=at, idempotency_key=f"enroll-{member}")
        recorder.on = True
        loyalty.enroll("cy", at=at, idempotency_key="enroll-cy")
        loyalty.record_purchase(
            "ann", Purchase(amount=Money.of("1290", "CNY")), at=at, idempotency_key="o-1"
        )
        loyalty.earn("ann", 50, at=at, idempotency_key="e-1")
        loyalty.earn("ann", 50, at=at, idempotency_key="e-1")  # a replay
        loyalty.redeem_points("ann", 20, at=at, idempotency_key="r-1")
        loyalty.redeem("ann", "flash", at=at, idempotency_key="g-1")
        loyalty.balance("ann")
        loyalty.statement("ann")
        recorder.on = False
    storage.close()
    writes = recorder.statements
    assert len(writes) > 20
    url = make_url(partitioned_url)
    plans: list[tuple[str, dict[str, set[str]]]] = []
    with psycopg.connect(
        host=url.host,
        port=url.port,
        user=url.username,
        dbname=url.database,
        options=url.query["options"],
    ) as connection:
        for sql, params in writes:
            if not sql.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE")):
                continue  # the pool's ping (";"), transaction control
            row = connection.execute(f"EXPLAIN (FORMAT JSON) {sql}", params).fetchone()
            assert row is not None
            plan = row[0] if not isinstance(row[0], str) else json.loads(row[0])
            plans.append((sql, _partitions_touched(plan)))
            connection.rollback()
        # a query across customers (the relay's read of pending events) reads them all
        row = connection.execute(
            "EXPLAIN (FORMAT JSON) SELECT * FROM lk_records WHERE kind = 'outbox'"
        ).fetchone()
        assert row is not None
        assert len(_partitions_touched(row[0])["lk_records"]) == PARTITIONS
    assert len(plans) > 20, plans
    spread = [(sql, touched) for sql, touched in plans if any(len(p) > 1 for p in touched.values())]
    assert spread == []
    # the plans did name partitions: the check above can fail
    assert any(touched for _, touched in plans)
