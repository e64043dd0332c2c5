"""Alembic environment: migrations run on the connection loyaltykit hands over."""

from __future__ import annotations

from alembic import context

from loyaltykit.storage.sql.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table="lk_alembic_version",
)
with context.begin_transaction():
    context.run_migrations()
