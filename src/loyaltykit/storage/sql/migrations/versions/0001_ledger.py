"""Customers, accounts, entries, lots and idempotency records.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.String(128)
POINT_TYPE = sa.String(32)


def instant() -> sa.types.TypeEngine[Any]:
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql")


def points(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger, nullable=False)


def upgrade() -> None:
    op.create_table(
        "lk_customers",
        sa.Column("id", ID, primary_key=True),
        sa.Column("enrolled_at", instant(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("profile", sa.Text, nullable=False),
        sa.Column("referred_by", ID, nullable=True),
        sa.Column("erased_at", instant(), nullable=True),
    )
    op.create_table(
        "lk_accounts",
        sa.Column("customer_id", ID, primary_key=True),
        sa.Column("point_type", POINT_TYPE, primary_key=True),
        *(
            points(name)
            for name in (
                "available",
                "pending",
                "deficit",
                "lifetime_earned",
                "lifetime_redeemed",
                "lifetime_expired",
                "last_seq",
            )
        ),
    )
    op.create_table(
        "lk_entries",
        sa.Column("customer_id", ID, primary_key=True),
        sa.Column("point_type", POINT_TYPE, primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(16), nullable=False),
        points("amount"),
        points("pending_delta"),
        points("deficit_delta"),
        sa.Column("occurred_at", instant(), nullable=False),
        sa.Column("recorded_at", instant(), nullable=False),
        sa.Column("idempotency_key", sa.String(128), nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("actor", sa.String(128), nullable=True),
        sa.Column("reverses", sa.String(200), nullable=True),
        sa.Column("reversed_portion", sa.String(64), nullable=True),
        points("shortfall"),
        sa.Column("lots", sa.Text, nullable=False),
        sa.Column("metadata", sa.Text, nullable=False),
    )
    op.create_index("lk_entries_by_key", "lk_entries", ["customer_id", "idempotency_key"])
    op.create_index("lk_entries_by_reversed", "lk_entries", ["customer_id", "reverses"])
    op.create_table(
        "lk_lots",
        sa.Column("customer_id", ID, primary_key=True),
        sa.Column("point_type", POINT_TYPE, primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("idx", sa.Integer, primary_key=True, autoincrement=False),
        points("amount"),
        points("remaining"),
        sa.Column("earned_at", instant(), nullable=False),
        sa.Column("expires_at", instant(), nullable=True),
        sa.Column("available_from", instant(), nullable=True),
        sa.Column("pending", sa.Boolean, nullable=False),
        points("expired"),
        points("withdrawn"),
        points("forgiven"),
        points("shortfall"),
    )
    op.create_index(
        "lk_lots_spending", "lk_lots", ["customer_id", "point_type", "pending", "expires_at"]
    )
    op.create_index("lk_lots_expiring", "lk_lots", ["expires_at"])
    op.create_index("lk_lots_releasing", "lk_lots", ["available_from"])
    op.create_table(
        "lk_idempotency",
        sa.Column("customer_id", ID, primary_key=True),
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("command", sa.String(64), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("recorded_at", instant(), nullable=False),
    )


def downgrade() -> None:
    for table in ("lk_idempotency", "lk_lots", "lk_entries", "lk_accounts", "lk_customers"):
        op.drop_table(table)
