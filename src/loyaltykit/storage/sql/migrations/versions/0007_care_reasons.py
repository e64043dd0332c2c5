"""Birthday care entries no longer carry the member's birthday in their reason.

Care credits used to be recorded with the reason ``care birthday: birthday on
2026-11-23``: the day is the member's birthday, personal data that erasure must remove,
but a ledger entry is never edited by a command. The reason is rewritten once, here, to
what the ledger writes now (``care birthday: 2026 birthday``); amounts, instants and
everything else of the entries stay as they were.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

OLD = "care birthday: birthday on "  # then YYYY-MM-DD


def upgrade() -> None:
    entries = sa.table("lk_entries", sa.column("reason", sa.String))
    year = sa.func.substr(entries.c.reason, len(OLD) + 1, 4)
    op.execute(
        entries.update()
        .where(entries.c.reason.like(f"{OLD}%"))
        .values(reason=sa.literal("care birthday: ") + year + sa.literal(" birthday"))
    )


def downgrade() -> None:
    """Nothing to restore: the days were personal data and are gone."""
