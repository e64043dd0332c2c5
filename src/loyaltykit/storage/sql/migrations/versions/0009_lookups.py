"""Record lookups move to a table of their own, keyed by the lookup.

``lk_records`` held a unique index on ``(kind, lookup)``: a voucher code or a complaint
id is unique across every member. A key without the owner cannot be kept by a table
distributed (or hash-partitioned) by owner, so the lookups now live in ``lk_lookups``,
keyed by ``(kind, lookup)`` and pointing at their record. The records keep their
``lookup`` column: it says which lookup is current. Every existing lookup is copied.

Revision ID: 0009
Revises: 0011 (0007 as issued; re-chained after 0011 once main had it)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from loyaltykit.storage.sql.schema import exact

revision = "0009"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    lookups = op.create_table(
        "lk_lookups",
        sa.Column("kind", exact(32), primary_key=True),
        sa.Column("lookup", exact(128), primary_key=True),
        sa.Column("owner", exact(128), nullable=False),
        sa.Column("id", exact(128), nullable=False),
    )
    records = sa.table(
        "lk_records",
        sa.column("owner", sa.String),
        sa.column("kind", sa.String),
        sa.column("id", sa.String),
        sa.column("lookup", sa.String),
    )
    op.execute(
        lookups.insert().from_select(
            ["kind", "lookup", "owner", "id"],
            sa.select(records.c.kind, records.c.lookup, records.c.owner, records.c.id).where(
                records.c.lookup.is_not(None)
            ),
        )
    )
    op.drop_index("lk_records_lookup", table_name="lk_records")


def downgrade() -> None:
    op.create_index("lk_records_lookup", "lk_records", ["kind", "lookup"], unique=True)
    op.drop_table("lk_lookups")
