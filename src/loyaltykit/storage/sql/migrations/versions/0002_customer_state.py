"""Per-customer state documents (cap counters, metrics, tier status) with due dates.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lk_customer_state",
        sa.Column("customer_id", sa.String(128), primary_key=True),
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column(
            "due_at", sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql"), nullable=True
        ),
    )
    op.create_index("lk_customer_state_due", "lk_customer_state", ["name", "due_at"])


def downgrade() -> None:
    op.drop_table("lk_customer_state")
