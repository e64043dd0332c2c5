"""A partial index of the lots with points left (SQLite and PostgreSQL).

An account's spent and expired lots stay in ``lk_lots`` for audits; without this index a
command's due-lot read walked all of them, so commands slowed down as accounts aged.
MariaDB has no partial indexes and keeps ``lk_lots_spending``.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_COLUMNS = ["customer_id", "point_type", "pending", "expires_at"]


def upgrade() -> None:
    if op.get_bind().dialect.name == "mysql":
        return
    live = sa.text("remaining > 0")
    op.create_index("lk_lots_live", "lk_lots", _COLUMNS, sqlite_where=live, postgresql_where=live)
    op.drop_index("lk_lots_spending", table_name="lk_lots")


def downgrade() -> None:
    if op.get_bind().dialect.name == "mysql":
        return
    op.create_index("lk_lots_spending", "lk_lots", _COLUMNS)
    op.drop_index("lk_lots_live", table_name="lk_lots")
