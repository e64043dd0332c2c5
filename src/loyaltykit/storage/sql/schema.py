"""The SQL schema, in SQLAlchemy Core. Every table is keyed by programme (``tenant``),
then by customer.

Times are stored as naive UTC (``DATETIME(6)`` / ``TIMESTAMP``) and come back aware in
UTC; points are ``BIGINT``; every string column compares exactly, by code point, on
every backend (:func:`exact`: ``ORDER-1`` is not ``order-1``, ``café`` is not ``cafe``);
free-form data (profiles, entry lot changes, metadata, outcomes, state documents) is
JSON text, so one schema serves SQLite, PostgreSQL and MariaDB alike.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = [
    "TENANT",
    "accounts",
    "counters",
    "customer_state",
    "customers",
    "entries",
    "exact",
    "fields",
    "idempotency",
    "lookups",
    "lots",
    "metadata",
    "records",
]


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as naive UTC with microseconds; read back in UTC."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "mysql":
            from sqlalchemy.dialects.mysql import DATETIME

            return dialect.type_descriptor(DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def bind_processor(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return _sqlite_text
        return super().bind_processor(dialect)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def _sqlite_text(value: datetime | None) -> str | None:
    """The text SQLite stores for ``value``: what SQLAlchemy's SQLite ``DATETIME`` writes
    for its naive UTC form (``2026-03-01 09:30:00.000000``), built in one step (every
    command binds about ten instants; the two-step form was a tenth of its storage cost)."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]


# MariaDB's default collations fold case and accents and pad trailing spaces; its
# nopad_bin collation compares code points, as SQLite's BINARY and PostgreSQL's "C" do
# (and as Python sorts, so every backend also orders ids as the memory backend does)
MARIADB_COLLATION = "utf8mb4_nopad_bin"


def exact(length: int) -> TypeEngine[str]:
    """A ``VARCHAR(length)`` that compares and sorts by code point on every backend."""
    return (
        String(length)
        .with_variant(String(length, collation="C"), "postgresql")
        .with_variant(mysql.VARCHAR(length, collation=MARIADB_COLLATION), "mysql", "mariadb")
    )


metadata = MetaData()


def fields(table: Table) -> list[Column[Any]]:
    """``table``'s columns but its ``tenant``: what a repository reads back into a domain
    value (the programme is the storage's, not the value's)."""
    return [column for column in table.columns if column.name != "tenant"]


ID = exact(128)
POINT_TYPE = exact(32)
# the programme a row belongs to (0012): the first column of every key and every index,
# so each programme's reads are ranges of its own rows (loyaltykit.values.tenant_key)
TENANT = exact(64)

customers = Table(
    "lk_customers",
    metadata,
    Column("tenant", TENANT, primary_key=True),
    Column("id", ID, primary_key=True),
    Column("enrolled_at", UtcDateTime, nullable=False),
    Column("status", exact(16), nullable=False),
    Column("profile", Text, nullable=False),
    Column("referred_by", ID, nullable=True),
    Column("erased_at", UtcDateTime, nullable=True),
)

accounts = Table(
    "lk_accounts",
    metadata,
    Column("tenant", TENANT, primary_key=True),
    Column("customer_id", ID, primary_key=True),
    Column("point_type", POINT_TYPE, primary_key=True),
    Column("available", BigInteger, nullable=False),
    Column("pending", BigInteger, nullable=False),
    Column("deficit", BigInteger, nullable=False),
    Column("lifetime_earned", BigInteger, nullable=False),
    Column("lifetime_redeemed", BigInteger, nullable=False),
    Column("lifetime_expired", BigInteger, nullable=False),
    Column("last_seq", BigInteger, nullable=False),
    # when the latest entry took effect: commands dated earlier are refused (0006)
    Column("last_at", UtcDateTime, nullable=True),
)

entries = Table(
    "lk_entries",
    metadata,
    Column("tenant", TENANT, primary_key=True),
    Column("customer_id", ID, primary_key=True),
    Column("point_type", POINT_TYPE, primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", exact(16), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("pending_delta", BigInteger, nullable=False),
    Column("deficit_delta", BigInteger, nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("idempotency_key", exact(128), nullable=True),
    Column("reason", Text, nullable=False),
    Column("actor", exact(128), nullable=True),
    Column("reverses", exact(200), nullable=True),
    Column("reversed_portion", exact(64), nullable=True),
    Column("shortfall", BigInteger, nullable=False),
    Column("lots", Text, nullable=False),
    Column("metadata", Text, nullable=False),
    Index("lk_entries_by_key", "tenant", "customer_id", "idempotency_key"),
    # (0015) only the entries that reverse another: every lookup names the one reversed
    Index(
        "lk_entries_by_reversed",
        "tenant",
        "customer_id",
        "reverses",
        sqlite_where=text("reverses IS NOT NULL"),
        postgresql_where=text("reverses IS NOT NULL"),
    ),
    # (0015) SQLite keeps the row once, in primary-key order, not a rowid table and an
    # index of its key
    sqlite_with_rowid=False,
)

lots = Table(
    "lk_lots",
    metadata,
    Column("tenant", TENANT, primary_key=True),
    Column("customer_id", ID, primary_key=True),
    Column("point_type", POINT_TYPE, primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("idx", Integer, primary_key=True, autoincrement=False),
    Column("amount", BigInteger, nullable=False),
    Column("remaining", BigInteger, nullable=False),
    Column("earned_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=True),
    Column("available_from", UtcDateTime, nullable=True),
    Column("pending", Boolean, nullable=False),
    Column("expired", BigInteger, nullable=False),
    Column("withdrawn", BigInteger, nullable=False),
    Column("forgiven", BigInteger, nullable=False),
    Column("shortfall", BigInteger, nullable=False),
    # spending order within an account, and the batch scans by due instant
    # only the lots with points left, so a command's reads cost the same in an account
    # with ten years of spent and expired lots; MariaDB has no partial indexes
    # (0008) the whole spending order, so a page of a debit's lots is an index range
    Index(
        "lk_lots_spendable",
        "tenant",
        "customer_id",
        "point_type",
        "pending",
        "expires_at",
        "earned_at",
        "seq",
        "idx",
        sqlite_where=text("remaining > 0"),
        postgresql_where=text("remaining > 0"),
    ),
    # (0008) MariaDB: settlement's range of lots with points left skips expired ones
    Index(
        "lk_lots_due", "tenant", "customer_id", "point_type", "pending", "remaining", "expires_at"
    ).ddl_if(dialect="mysql"),
    Index("lk_lots_expiring", "tenant", "expires_at"),
    # (0015) only the lots released later
    Index(
        "lk_lots_releasing",
        "tenant",
        "available_from",
        sqlite_where=text("available_from IS NOT NULL"),
        postgresql_where=text("available_from IS NOT NULL"),
    ),
    sqlite_with_rowid=False,
)

idempotency = Table(
    "lk_idempotency",
    metadata,
    Column("tenant", TENANT, primary_key=True),
    Column("customer_id", ID, primary_key=True),
    Column("key", exact(128), primary_key=True),
    Column("command", exact(64), nullable=False),
    Column("fingerprint", exact(64), nullable=False),
    Column("outcome", Text, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    sqlite_with_rowid=False,  # (0015)
)

customer_state = Table(
    "lk_customer_state",
    metadata,
    Column("tenant", TENANT, primary_key=True),
    Column("customer_id", ID, primary_key=True),
    Column("name", exact(32), primary_key=True),
    Column("document", Text, nullable=False),
    Column("due_at", UtcDateTime, nullable=True),
    Index("lk_customer_state_due", "tenant", "name", "due_at"),
)

records = Table(
    "lk_records",
    metadata,
    Column("tenant", TENANT, primary_key=True),
    Column("owner", ID, primary_key=True),
    Column("kind", exact(32), primary_key=True),
    Column("id", ID, primary_key=True),
    Column("document", Text, nullable=False),
    Column("due_at", UtcDateTime, nullable=True),
    Column("lookup", exact(128), nullable=True),
    Index("lk_records_due", "tenant", "kind", "due_at"),
)

# --- distribution (issue 18) ------------------------------------------------------------
# A record's lookup (a voucher code, a complaint id) is unique within its kind across
# every owner: a unique key without the owner, which a table distributed by owner cannot
# hold (Citus, like PostgreSQL's hash partitions, refuses it). The lookups live here,
# keyed and distributed by the lookup itself; the record's own ``lookup`` column says
# which lookup is current, so a row left behind by a changed lookup is ignored (0009).
lookups = Table(
    "lk_lookups",
    metadata,
    Column("tenant", TENANT, primary_key=True),
    Column("kind", exact(32), primary_key=True),
    Column("lookup", exact(128), primary_key=True),
    Column("owner", ID, nullable=False),
    Column("id", ID, nullable=False),
)

# Shared counters (stock taken, budget spent): the only rows not keyed by customer; a
# distributed deployment keeps them as a reference table or on one shard.
counters = Table(
    "lk_counters",
    metadata,
    Column("tenant", TENANT, primary_key=True),
    Column("name", exact(200), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

# --- stored value (gift cards, e-wallets) and member cards (0011) ---------------------
# Amounts are whole minor units (BIGINT), counted in the card's ``places`` (the currency's
# minor unit when it was issued), so no backend rounds money and a later change of a
# currency's minor unit cannot reinterpret a stored balance. Keyed by the card's code
# (a gift card may have no holder); ``holder`` is indexed for a member's cards.
STORED_VALUE_CODE = exact(32)
CARD_NUMBER = exact(32)

stored_value = Table(
    "lk_stored_value",
    metadata,
    Column("tenant", TENANT, primary_key=True),
    Column("code", STORED_VALUE_CODE, primary_key=True),
    Column("kind", exact(16), nullable=False),
    Column("currency", exact(3), nullable=False),
    Column("places", Integer, nullable=False),
    Column("holder", ID, nullable=True),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=True),
    Column("balance", BigInteger, nullable=False),
    Column("last_seq", BigInteger, nullable=False),
    Column("last_at", UtcDateTime, nullable=False),
    Column("status", exact(16), nullable=False),
    CheckConstraint("balance >= 0", name="lk_stored_value_never_negative"),
    Index("lk_stored_value_holder", "tenant", "holder"),
    Index("lk_stored_value_due", "tenant", "status", "expires_at"),
)

stored_value_entries = Table(
    "lk_stored_value_entries",
    metadata,
    Column("tenant", TENANT, primary_key=True),
    Column("code", STORED_VALUE_CODE, primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", exact(16), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("balance", BigInteger, nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("idempotency_key", exact(128), nullable=True),
    Column("funding", exact(16), nullable=True),
    Column("reference", exact(128), nullable=True),
    Index("lk_stored_value_entries_by_key", "tenant", "code", "idempotency_key"),
    Index("lk_stored_value_entries_by_reference", "tenant", "code", "reference"),
)

# every number ever issued keeps its row: the primary key is what stops a reuse
member_cards = Table(
    "lk_member_cards",
    metadata,
    Column("tenant", TENANT, primary_key=True),
    Column("number", CARD_NUMBER, primary_key=True),
    Column("customer_id", ID, nullable=False),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("status", exact(16), nullable=False),
    Column("blocked_at", UtcDateTime, nullable=True),
    Column("reason", exact(16), nullable=True),
    Column("replaces", CARD_NUMBER, nullable=True),
    Column("replaced_by", CARD_NUMBER, nullable=True),
    Index("lk_member_cards_customer", "tenant", "customer_id"),
)

__all__ += ["member_cards", "stored_value", "stored_value_entries"]
