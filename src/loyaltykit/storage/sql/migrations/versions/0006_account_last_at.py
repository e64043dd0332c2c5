"""Each account keeps when its latest entry took effect (``lk_accounts.last_at``).

Commands dated before it (beyond the programme's clock-skew tolerance) are refused, so
the ledger reads it on every command instead of scanning the entries. Existing accounts
are backfilled with the greatest ``occurred_at`` of their entries: exactly what the
domain's ledger keeps from now on, so no stored entry is reinterpreted.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    instant = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql")
    op.add_column("lk_accounts", sa.Column("last_at", instant, nullable=True))
    op.execute(
        "UPDATE lk_accounts SET last_at = ("
        "SELECT MAX(e.occurred_at) FROM lk_entries e "
        "WHERE e.customer_id = lk_accounts.customer_id "
        "AND e.point_type = lk_accounts.point_type)"
    )


def downgrade() -> None:
    op.drop_column("lk_accounts", "last_at")
