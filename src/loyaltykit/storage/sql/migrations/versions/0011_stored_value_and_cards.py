"""Stored value (gift cards, e-wallets) with their ledger of entries, and member cards.

Three new tables; nothing stored before is touched. Amounts are whole minor units
(``BIGINT``) counted in each card's ``places``, and a card's balance may never be
negative (a ``CHECK`` besides the domain's rule). Every member card number ever issued
keeps its row, so the primary key stops a number from being issued twice.

Text columns compare by code point, as every table does since 0005: ``"C"`` on
PostgreSQL, ``utf8mb4_nopad_bin`` on MariaDB, ``BINARY`` on SQLite.

Revision ID: 0011
Revises: 0007
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0011"
down_revision = "0007"
branch_labels = None
depends_on = None


def _text(length: int) -> sa.types.TypeEngine[str]:
    return (
        sa.String(length)
        .with_variant(sa.String(length, collation="C"), "postgresql")
        .with_variant(mysql.VARCHAR(length, collation="utf8mb4_nopad_bin"), "mysql", "mariadb")
    )


def _instant() -> sa.types.TypeEngine[datetime]:
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql")


def upgrade() -> None:
    op.create_table(
        "lk_stored_value",
        sa.Column("code", _text(32), primary_key=True),
        sa.Column("kind", _text(16), nullable=False),
        sa.Column("currency", _text(3), nullable=False),
        sa.Column("places", sa.Integer, nullable=False),
        sa.Column("holder", _text(128), nullable=True),
        sa.Column("issued_at", _instant(), nullable=False),
        sa.Column("expires_at", _instant(), nullable=True),
        sa.Column("balance", sa.BigInteger, nullable=False),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.Column("last_at", _instant(), nullable=False),
        sa.Column("status", _text(16), nullable=False),
        sa.CheckConstraint("balance >= 0", name="lk_stored_value_never_negative"),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_nopad_bin",
    )
    op.create_index("lk_stored_value_holder", "lk_stored_value", ["holder"])
    op.create_index("lk_stored_value_due", "lk_stored_value", ["status", "expires_at"])
    op.create_table(
        "lk_stored_value_entries",
        sa.Column("code", _text(32), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("kind", _text(16), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("balance", sa.BigInteger, nullable=False),
        sa.Column("occurred_at", _instant(), nullable=False),
        sa.Column("idempotency_key", _text(128), nullable=True),
        sa.Column("funding", _text(16), nullable=True),
        sa.Column("reference", _text(128), nullable=True),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_nopad_bin",
    )
    op.create_index(
        "lk_stored_value_entries_by_key", "lk_stored_value_entries", ["code", "idempotency_key"]
    )
    op.create_index(
        "lk_stored_value_entries_by_reference", "lk_stored_value_entries", ["code", "reference"]
    )
    op.create_table(
        "lk_member_cards",
        sa.Column("number", _text(32), primary_key=True),
        sa.Column("customer_id", _text(128), nullable=False),
        sa.Column("issued_at", _instant(), nullable=False),
        sa.Column("status", _text(16), nullable=False),
        sa.Column("blocked_at", _instant(), nullable=True),
        sa.Column("reason", _text(16), nullable=True),
        sa.Column("replaces", _text(32), nullable=True),
        sa.Column("replaced_by", _text(32), nullable=True),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_nopad_bin",
    )
    op.create_index("lk_member_cards_customer", "lk_member_cards", ["customer_id"])


def downgrade() -> None:
    op.drop_table("lk_member_cards")
    op.drop_table("lk_stored_value_entries")
    op.drop_table("lk_stored_value")
