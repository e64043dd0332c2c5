"""Several programmes in one database: a ``tenant`` column leads every key of every table.

Two brands on one store shared one account. Every table gains ``tenant`` (the programme's
key, ``VARCHAR(64)``, compared by code point as every key is since 0005), and every
primary key and every index becomes ``(tenant, <what it was>)``: the same customer id,
voucher code, counter name, gift card code or card number may live in two programmes,
and each programme's reads are index ranges of its own rows. Every existing row is put
in the default programme (``'default'``), which is what a store opened without a tenant
sees: a database of one programme works on unchanged. The column keeps no default once
filled, so a row written without its tenant is refused rather than filed in the default
programme.

The distribution columns stay (the customer id, the lookup, the code, the number, the
counter's name): each primary key still holds its table's, as Citus requires.

SQLite changes a primary key by copying the table (Alembic's batch mode). The downgrade
refuses a database holding any programme but the default one: its rows would collide.

Revision ID: 0012
Revises: 0008
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.exc import SAWarning

from loyaltykit.storage.sql.schema import exact

revision = "0012"
down_revision = "0008"
branch_labels = None
depends_on = None

DEFAULT_TENANT = "default"  # loyaltykit.values.DEFAULT_TENANT, as this revision knows it
_LIVE = "remaining > 0"

# every table: its primary key before this revision, and its indexes (name: columns)
KEYS: Mapping[str, Sequence[str]] = {
    "lk_customers": ("id",),
    "lk_accounts": ("customer_id", "point_type"),
    "lk_entries": ("customer_id", "point_type", "seq"),
    "lk_lots": ("customer_id", "point_type", "seq", "idx"),
    "lk_idempotency": ("customer_id", "key"),
    "lk_customer_state": ("customer_id", "name"),
    "lk_records": ("owner", "kind", "id"),
    "lk_lookups": ("kind", "lookup"),
    "lk_counters": ("name",),
    "lk_stored_value": ("code",),
    "lk_stored_value_entries": ("code", "seq"),
    "lk_member_cards": ("number",),
}
INDEXES: Mapping[str, Mapping[str, Sequence[str]]] = {
    "lk_entries": {
        "lk_entries_by_key": ("customer_id", "idempotency_key"),
        "lk_entries_by_reversed": ("customer_id", "reverses"),
    },
    "lk_lots": {
        "lk_lots_spendable": (
            "customer_id",
            "point_type",
            "pending",
            "expires_at",
            "earned_at",
            "seq",
            "idx",
        ),
        "lk_lots_expiring": ("expires_at",),
        "lk_lots_releasing": ("available_from",),
    },
    "lk_customer_state": {"lk_customer_state_due": ("name", "due_at")},
    "lk_records": {"lk_records_due": ("kind", "due_at")},
    "lk_stored_value": {
        "lk_stored_value_holder": ("holder",),
        "lk_stored_value_due": ("status", "expires_at"),
    },
    "lk_stored_value_entries": {
        "lk_stored_value_entries_by_key": ("code", "idempotency_key"),
        "lk_stored_value_entries_by_reference": ("code", "reference"),
    },
    "lk_member_cards": {"lk_member_cards_customer": ("customer_id",)},
}
# MariaDB only (0008): settlement's range of the lots with points left
_MARIADB_DUE = ("lk_lots_due", ("customer_id", "point_type", "pending", "remaining", "expires_at"))


def _indexes(table: str, dialect: str) -> dict[str, Sequence[str]]:
    found = dict(INDEXES.get(table, {}))
    if table == "lk_lots" and dialect == "mysql":
        found[_MARIADB_DUE[0]] = _MARIADB_DUE[1]
    return found


def _create_index(name: str, table: str, columns: Sequence[str], dialect: str) -> None:
    options: dict[str, Any] = {}
    if name == "lk_lots_spendable" and dialect != "mysql":
        # partial where the database has partial indexes (0004, 0008)
        options = {"sqlite_where": sa.text(_LIVE), "postgresql_where": sa.text(_LIVE)}
    op.create_index(name, table, list(columns), **options)


def _rekey(table: str, key: Sequence[str], dialect: str) -> None:
    """Make ``key`` the table's primary key (and drop the tenant column's default)."""
    if dialect == "sqlite":
        # SQLite copies the table; SQLAlchemy warns that the copy's key differs from the
        # reflected one, which is the point
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Table '_alembic_tmp_", SAWarning)
            with op.batch_alter_table(table, recreate="always") as batch:
                if "tenant" in key:
                    batch.alter_column(
                        "tenant",
                        existing_type=exact(64),
                        existing_nullable=False,
                        server_default=None,
                    )
                batch.create_primary_key(f"{table}_pkey", list(key))
        return
    name = sa.inspect(op.get_bind()).get_pk_constraint(table)["name"] or f"{table}_pkey"
    op.drop_constraint(name, table, type_="primary")
    op.create_primary_key(name, table, list(key))
    if "tenant" in key:
        op.alter_column(table, "tenant", existing_type=exact(64), server_default=None)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table, key in KEYS.items():
        indexes = _indexes(table, dialect)
        for name in indexes:
            op.drop_index(name, table_name=table)
        op.add_column(
            table,
            sa.Column("tenant", exact(64), nullable=False, server_default=DEFAULT_TENANT),
        )
        _rekey(table, ("tenant", *key), dialect)
        for name, columns in indexes.items():
            _create_index(name, table, ("tenant", *columns), dialect)


def downgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    for table in KEYS:
        others = bind.execute(
            sa.text(f"SELECT COUNT(*) FROM {table} WHERE tenant <> :default"),
            {"default": DEFAULT_TENANT},
        ).scalar_one()
        if others:
            raise RuntimeError(
                f"{table} holds {others} rows of programmes other than {DEFAULT_TENANT!r}: "
                "a database of several programmes cannot go back before 0012"
            )
    for table, key in KEYS.items():
        indexes = _indexes(table, dialect)
        for name in indexes:
            op.drop_index(name, table_name=table)
        _rekey(table, key, dialect)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("tenant")
        for name, columns in indexes.items():
            _create_index(name, table, columns, dialect)
