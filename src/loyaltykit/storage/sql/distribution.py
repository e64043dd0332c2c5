"""How the schema spreads over many database nodes (distributed PostgreSQL: Citus).

Every table is listed once, in :data:`DISTRIBUTION`, with the column it is distributed by
and whether it is co-located with the customers (the customer id is its distribution
column, so one customer's rows of every table sit on one shard), distributed apart by a
key of its own, or a reference table (one copy on every node). A distributed table's
primary key and every unique key must hold its distribution column: Citus refuses any
other, as PostgreSQL refuses one on a hash-partitioned table.
:func:`partitioned_tables` builds the schema with every distributed table declared
``PARTITION BY HASH`` of its distribution column, so that PostgreSQL itself checks the
rule, and the tests run the conformance suite on it. See ``docs/concepts/scaling.md``.

The ``tenant`` column (0012) leads every key but distributes nothing: each table keeps
its distribution column, which every key still holds, so the same customer id in two
programmes sits on one shard, as do that member's rows of both.
"""

from __future__ import annotations

import enum

import attrs
from sqlalchemy import Connection, MetaData, Table, UniqueConstraint, text

from loyaltykit.storage.sql import schema
from loyaltykit.storage.sql.storage import VERSION_TABLE, head

__all__ = [
    "DISTRIBUTION",
    "Placement",
    "TableDistribution",
    "create_partitioned",
    "partitioned_tables",
    "rule_breaches",
]


class Placement(enum.Enum):
    """Where a table's rows live in a distributed deployment."""

    #: distributed by the customer id, co-located: a customer's rows on one shard
    CUSTOMER = "customer"
    #: distributed by a key of its own, apart from the customers
    SEPARATE = "separate"
    #: one full copy on every node
    REFERENCE = "reference"


@attrs.frozen(kw_only=True)
class TableDistribution:
    """One table's placement: its distribution column (``None`` for a reference table)
    and why."""

    placement: Placement
    column: str | None
    reason: str


DISTRIBUTION: dict[str, TableDistribution] = {
    "lk_customers": TableDistribution(
        placement=Placement.CUSTOMER,
        column="id",
        reason="the member: every command locks this row first",
    ),
    "lk_accounts": TableDistribution(
        placement=Placement.CUSTOMER,
        column="customer_id",
        reason="a member's balances, per point type",
    ),
    "lk_entries": TableDistribution(
        placement=Placement.CUSTOMER, column="customer_id", reason="a member's ledger"
    ),
    "lk_lots": TableDistribution(
        placement=Placement.CUSTOMER, column="customer_id", reason="a member's earned lots"
    ),
    "lk_idempotency": TableDistribution(
        placement=Placement.CUSTOMER,
        column="customer_id",
        reason="keys are per customer, checked in the command's own transaction",
    ),
    "lk_customer_state": TableDistribution(
        placement=Placement.CUSTOMER,
        column="customer_id",
        reason="the member aggregate's documents (counters, tier status, metrics)",
    ),
    "lk_records": TableDistribution(
        placement=Placement.CUSTOMER,
        column="owner",
        reason=(
            "records are owned by a member (redemptions, vouchers, complaints, outbox "
            "events) or by a partition key of their own (campaign:spring): a member's "
            "records sit with the member, a campaign's on the shard its key hashes to"
        ),
    ),
    "lk_lookups": TableDistribution(
        placement=Placement.SEPARATE,
        column="lookup",
        reason=(
            "voucher codes and complaint ids are unique across members: found by the "
            "code alone, so distributed by the code, then the record by its owner"
        ),
    ),
    "lk_stored_value": TableDistribution(
        placement=Placement.SEPARATE,
        column="code",
        reason=(
            "a gift card may have no holder and is found by its code: distributed by "
            "the code, its entries co-located with it"
        ),
    ),
    "lk_stored_value_entries": TableDistribution(
        placement=Placement.SEPARATE,
        column="code",
        reason="a card's ledger, co-located with its card (the same distribution column)",
    ),
    "lk_member_cards": TableDistribution(
        placement=Placement.SEPARATE,
        column="number",
        reason=(
            "a card number is unique across members and found by the number alone "
            "(member_by_card): distributed by the number"
        ),
    ),
    "lk_counters": TableDistribution(
        placement=Placement.SEPARATE,
        column="name",
        reason=(
            "reward stock and campaign budgets are shared by every member and written "
            "by their commands: one counter on one shard (a reference table would "
            "write every node on each redemption)"
        ),
    ),
}


def _unique_keys(table: Table) -> list[tuple[str, list[str]]]:
    keys = [("primary key", [column.name for column in table.primary_key.columns])]
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint):
            keys.append((f"unique {constraint.name}", [c.name for c in constraint.columns]))
    for index in table.indexes:
        if index.unique:
            keys.append((f"unique index {index.name}", [c.name for c in index.columns]))
    return keys


def rule_breaches(metadata: MetaData = schema.metadata) -> list[str]:
    """What in ``metadata`` breaks the distribution rule: a table :data:`DISTRIBUTION`
    does not list, a distributed table without its distribution column, or a primary or
    unique key of a distributed table that lacks it. Empty when the schema keeps it."""
    problems: list[str] = []
    for table in metadata.sorted_tables:
        placed = DISTRIBUTION.get(table.name)
        if placed is None:
            problems.append(f"{table.name}: not classified in DISTRIBUTION")
            continue
        if placed.placement is Placement.REFERENCE:
            continue
        if placed.column is None or placed.column not in table.columns:
            problems.append(f"{table.name}: no distribution column {placed.column!r}")
            continue
        for name, columns in _unique_keys(table):
            if placed.column not in columns:
                problems.append(f"{table.name}: {name} {columns} lacks {placed.column!r}")
    problems.extend(
        f"{name}: classified but not in the schema"
        for name in DISTRIBUTION
        if name not in metadata.tables
    )
    return problems


def partitioned_tables(partitions: int = 4) -> tuple[MetaData, list[str]]:
    """The schema with every distributed table ``PARTITION BY HASH`` of its distribution
    column (PostgreSQL), and the statements creating its ``partitions`` partitions.

    For tests and for a look at what Citus would accept: a deployment's schema is made by
    the migrations. PostgreSQL refuses the ``CREATE TABLE`` of a table whose primary or
    unique key lacks the partition column, as Citus refuses to distribute it.
    """
    if partitions < 1:
        raise ValueError("partitions must be at least 1")
    copy = MetaData()
    children: list[str] = []
    for table in schema.metadata.sorted_tables:
        placed = DISTRIBUTION[table.name]
        made = table.to_metadata(copy)
        if placed.placement is Placement.REFERENCE:
            continue
        made.dialect_options["postgresql"]["partition_by"] = f'HASH ("{placed.column}")'
        children.extend(
            f'CREATE TABLE "{table.name}_p{k}" PARTITION OF "{table.name}" '
            f"FOR VALUES WITH (MODULUS {partitions}, REMAINDER {k})"
            for k in range(partitions)
        )
    return copy, children


def create_partitioned(connection: Connection, *, partitions: int = 4) -> None:
    """Create the partitioned schema (see :func:`partitioned_tables`) at the latest
    revision, on a PostgreSQL connection in a transaction, in an empty schema."""
    if connection.dialect.name != "postgresql":
        raise ValueError("hash partitions are PostgreSQL's: connect to PostgreSQL")
    tables, children = partitioned_tables(partitions)
    tables.create_all(connection)
    for statement in children:
        connection.execute(text(statement))
    # Alembic's version table: one row, a reference table in a distributed deployment
    connection.execute(text(f"CREATE TABLE {VERSION_TABLE} (version_num VARCHAR(32) PRIMARY KEY)"))
    connection.execute(text(f"INSERT INTO {VERSION_TABLE} VALUES ('{head()}')"))
