"""Identifiers and keys compare exactly: binary collations on MariaDB and PostgreSQL.

MariaDB's default collations (``utf8mb4_general_ci``...) fold case and accents and pad
trailing spaces, so ``order-1`` replayed ``ORDER-1`` and ``enroll("ALICE")`` found
``alice``. Every table is converted to ``utf8mb4_nopad_bin`` (code point comparison,
no padding). PostgreSQL already compares exactly; its ``VARCHAR`` columns move to the
``"C"`` collation so that they also sort by code point, as SQLite and the memory backend
do, whatever the database's locale. SQLite compares with ``BINARY`` already: nothing to do.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TABLES = (
    "lk_customers",
    "lk_accounts",
    "lk_entries",
    "lk_lots",
    "lk_idempotency",
    "lk_customer_state",
    "lk_records",
    "lk_counters",
)
MARIADB_COLLATION = "utf8mb4_nopad_bin"


def _collate(mariadb: str, postgresql: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "mysql":
        for table in TABLES:
            op.execute(f"ALTER TABLE {table} CONVERT TO CHARACTER SET utf8mb4 COLLATE {mariadb}")
    elif bind.dialect.name == "postgresql":
        inspector = sa.inspect(bind)
        for table in TABLES:
            for column in inspector.get_columns(table):
                kind = column["type"]
                if isinstance(kind, sa.String) and not isinstance(kind, sa.Text):
                    op.execute(
                        f'ALTER TABLE {table} ALTER COLUMN "{column["name"]}" '
                        f'TYPE VARCHAR({kind.length}) COLLATE "{postgresql}"'
                    )


def upgrade() -> None:
    _collate(MARIADB_COLLATION, "C")


def downgrade() -> None:
    _collate("utf8mb4_general_ci", "default")
