"""Fewer bytes per ledger entry: SQLite keeps each row once, and indexes skip the rows
they never find.

A SQLite table with a composite primary key is a table of rows keyed by a hidden rowid
plus an index holding the key again; ``lk_entries``, ``lk_lots`` and ``lk_idempotency``
become ``WITHOUT ROWID`` tables, stored in primary-key order, so the key is kept once.
The rows are copied as they are (the same columns, the same values). ``lk_lots_releasing``
and ``lk_entries_by_reversed`` index only the rows that have what they look up (a lot
released later, an entry that reverses another): most lots are never pending and most
entries reverse nothing, and every lookup names a value, so the rows without one were
never found through them. PostgreSQL gets the same partial indexes; MariaDB, which has
none and keeps rows in primary-key order already, is unchanged.

Revision ID: 0015
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0012"
branch_labels = None
depends_on = None

_TABLES = ("lk_entries", "lk_lots", "lk_idempotency")
# index -> (table, columns, the rows it holds)
_PARTIAL = {
    "lk_lots_releasing": ("lk_lots", ["tenant", "available_from"], "available_from IS NOT NULL"),
    "lk_entries_by_reversed": (
        "lk_entries",
        ["tenant", "customer_id", "reverses"],
        "reverses IS NOT NULL",
    ),
}
_SUFFIX = " WITHOUT ROWID"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "mysql":
        return
    for name, (table, columns, where) in _PARTIAL.items():
        op.drop_index(name, table_name=table)
        partial = sa.text(where)
        op.create_index(name, table, columns, sqlite_where=partial, postgresql_where=partial)
    if dialect == "sqlite":
        for table in _TABLES:
            _rebuilt(table, lambda sql: sql + _SUFFIX)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "mysql":
        return
    if dialect == "sqlite":
        for table in _TABLES:
            _rebuilt(table, lambda sql: sql.removesuffix(_SUFFIX))
    for name, (table, columns, _where) in _PARTIAL.items():
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns)


def _rebuilt(table: str, created: object) -> None:
    """SQLite: ``table`` created again from its own ``CREATE TABLE`` as ``created``
    rewrites it, its rows copied over, its indexes created again as they were."""
    assert callable(created)
    connection = op.get_bind()
    master = sa.text("SELECT type, name, sql FROM sqlite_master WHERE tbl_name = :table")
    rows = connection.execute(master, {"table": table}).all()
    (create,) = [sql for kind, _name, sql in rows if kind == "table"]
    # automatic indexes (the primary key's) have no SQL: the new table makes its own
    indexes = [(name, sql) for kind, name, sql in rows if kind == "index" and sql is not None]
    for name, _sql in indexes:
        connection.exec_driver_sql(f'DROP INDEX "{name}"')
    old = f"lk_rebuilt_{table}"
    connection.exec_driver_sql(f'ALTER TABLE "{table}" RENAME TO "{old}"')
    connection.exec_driver_sql(created(create))
    connection.exec_driver_sql(f'INSERT INTO "{table}" SELECT * FROM "{old}"')
    connection.exec_driver_sql(f'DROP TABLE "{old}"')
    for _name, sql in indexes:
        connection.exec_driver_sql(sql)
