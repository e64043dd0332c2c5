"""Records (redemptions, vouchers, complaints...) and shared counters (stock, budgets).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lk_records",
        sa.Column("owner", sa.String(128), primary_key=True),
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column(
            "due_at", sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql"), nullable=True
        ),
        sa.Column("lookup", sa.String(128), nullable=True),
    )
    op.create_index("lk_records_lookup", "lk_records", ["kind", "lookup"], unique=True)
    op.create_index("lk_records_due", "lk_records", ["kind", "due_at"])
    op.create_table(
        "lk_counters",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("lk_counters")
    op.drop_table("lk_records")
