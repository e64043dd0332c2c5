"""Indexes in full spending order, so a redemption reads only the lots it takes.

A debit takes lots soonest expiry first, then oldest: with ``lk_lots_live`` (account,
pending, expiry) the database still sorted every live lot of the account on earning
instant and sequence before it could hand over the first one, so a redemption from an
account with 10,000 live lots read all of them. ``lk_lots_spendable`` holds the whole
order (account, pending, expiry, earning instant, seq, index): a page of lots in
spending order is a range of the index. SQLite and PostgreSQL keep it partial (lots with
points left). MariaDB, which has no partial indexes, gets the same order in
``lk_lots_spendable``, and ``lk_lots_due`` (account, pending, remaining, expiry), whose
``remaining > 0`` range skips the spent and expired lots a settlement never needs, so an
account with years of expired lots settles as fast as a new one.

Revision ID: 0008
Revises: 0009 (0007 as the task gave it; chained after main's 0011 and 0009 at the merge of main)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0009"
branch_labels = None
depends_on = None

_SPENDING = ["customer_id", "point_type", "pending", "expires_at", "earned_at", "seq", "idx"]
_DUE = ["customer_id", "point_type", "pending", "remaining", "expires_at"]
_BEFORE = ["customer_id", "point_type", "pending", "expires_at"]


def upgrade() -> None:
    if op.get_bind().dialect.name == "mysql":
        op.create_index("lk_lots_spendable", "lk_lots", _SPENDING)
        op.create_index("lk_lots_due", "lk_lots", _DUE)
        op.drop_index("lk_lots_spending", table_name="lk_lots")
        return
    live = sa.text("remaining > 0")
    op.create_index(
        "lk_lots_spendable", "lk_lots", _SPENDING, sqlite_where=live, postgresql_where=live
    )
    op.drop_index("lk_lots_live", table_name="lk_lots")


def downgrade() -> None:
    if op.get_bind().dialect.name == "mysql":
        op.create_index("lk_lots_spending", "lk_lots", _BEFORE)
        op.drop_index("lk_lots_due", table_name="lk_lots")
        op.drop_index("lk_lots_spendable", table_name="lk_lots")
        return
    live = sa.text("remaining > 0")
    op.create_index("lk_lots_live", "lk_lots", _BEFORE, sqlite_where=live, postgresql_where=live)
    op.drop_index("lk_lots_spendable", table_name="lk_lots")
