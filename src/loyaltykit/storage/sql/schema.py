"""The SQL schema, in SQLAlchemy Core. Every table is keyed by programme (``tenant``),
then by customer.

Times are stored in UTC (naive ``DATETIME(6)`` / ``TIMESTAMP``; on SQLite integer
microseconds since 1970) and come back aware in UTC; points are ``BIGINT``; every string
column compares exactly, by code point, on every backend (:func:`exact`: ``ORDER-1`` is
not ``order-1``, ``café`` is not ``cafe``); the default programme is ``''`` on SQLite;
free-form data (profiles, entry lot changes, metadata, outcomes, state documents) is
JSON text, so one schema serves SQLite, PostgreSQL and MariaDB alike.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
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

from loyaltykit.values import DEFAULT_TENANT

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
    """An aware datetime stored in UTC with microseconds; read back in UTC.

    PostgreSQL and MariaDB hold it as a naive UTC ``TIMESTAMP`` / ``DATETIME(6)``. SQLite
    holds it as an integer: microseconds since 1970-01-01 UTC (0016), 8 bytes where the
    text ``2026-03-01 09:30:00.000000`` took 26, in the same order, and converted in one
    step each way (every command binds and reads about ten instants). The column keeps
    its declared ``DATETIME`` (numeric affinity keeps an integer an integer)."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "mysql":
            from sqlalchemy.dialects.mysql import DATETIME

            return dialect.type_descriptor(DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def bind_processor(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return sqlite_micros
        return super().bind_processor(dialect)

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        if dialect.name == "sqlite":
            return sqlite_instant
        return super().result_processor(dialect, coltype)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def sqlite_micros(value: datetime | None) -> int | None:
    """The integer SQLite stores for ``value``: microseconds since 1970-01-01 UTC (a
    naive value is taken as local time, as ``astimezone`` takes it)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.astimezone(UTC)
    since = value - EPOCH
    return (since.days * 86_400 + since.seconds) * 1_000_000 + since.microseconds


def sqlite_instant(value: int | str | None) -> datetime | None:
    """The aware UTC instant SQLite's stored ``value`` is. A text is the form before 0016
    (``2026-03-01 09:30:00.000000``, naive UTC), which 0016 converts: read as it was."""
    if value is None:
        return None
    if type(value) is int:
        return EPOCH + _MICROSECOND * value
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


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


class Fingerprint(TypeDecorator[str]):
    """An idempotency fingerprint (``2:1bcfeafa...``): an exact ``VARCHAR(64)``, and on
    SQLite the bytes its hex digits spell (0016), half the size.

    The first byte says what the digits follow: the scheme (``2``) times two, plus one
    when the digits are odd in number (the last half byte is then padding). A text of
    any other shape is stored as it is: a blob and a text never look alike, so each
    reads back as it was written."""

    impl = String(64)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        return _exact_impl(64, dialect)

    def bind_processor(self, dialect: Dialect) -> Any:
        return fingerprint_bytes if dialect.name == "sqlite" else None

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        return fingerprint_text if dialect.name == "sqlite" else None


_HEXED = re.compile(r"([1-9][0-9]?):([0-9a-f]+)")


def fingerprint_bytes(value: str | None) -> bytes | str | None:
    """What SQLite stores for the fingerprint ``value`` (see :class:`Fingerprint`)."""
    found = _HEXED.fullmatch(value) if value is not None else None
    if found is None:
        return value
    digits = found[2]
    odd = len(digits) % 2
    return bytes((int(found[1]) * 2 + odd,)) + bytes.fromhex(digits + "0" * odd)


def fingerprint_text(value: bytes | str | None) -> str | None:
    """The fingerprint SQLite's stored ``value`` is."""
    if value is None or type(value) is str:
        return value
    assert isinstance(value, bytes)
    digits = value[1:].hex()
    return f"{value[0] >> 1}:{digits[:-1] if value[0] & 1 else digits}"


metadata = MetaData()


def fields(table: Table) -> list[Column[Any]]:
    """``table``'s columns but its ``tenant``: what a repository reads back into a domain
    value (the programme is the storage's, not the value's)."""
    return [column for column in table.columns if column.name != "tenant"]


ID = exact(128)
POINT_TYPE = exact(32)


class Tenant(TypeDecorator[str]):
    """The programme a row belongs to (0012): an exact ``VARCHAR(64)``. SQLite stores the
    default programme's key (``default``, the programme of most databases, in every row
    and every index) as the empty text (0016), which is never a programme's key
    (:func:`loyaltykit.values.tenant_key`): one byte where it took eight."""

    impl = String(64)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        return _exact_impl(64, dialect)

    def bind_processor(self, dialect: Dialect) -> Any:
        return sqlite_tenant if dialect.name == "sqlite" else None

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        return tenant_of_sqlite if dialect.name == "sqlite" else None


def sqlite_tenant(value: str | None) -> str | None:
    """What SQLite stores for the programme ``value``."""
    return "" if value == DEFAULT_TENANT else value


def tenant_of_sqlite(value: str | None) -> str | None:
    """The programme SQLite's stored ``value`` is."""
    return DEFAULT_TENANT if value == "" else value


def _exact_impl(length: int, dialect: Dialect) -> Any:
    """:func:`exact`'s type for ``dialect``."""
    if dialect.name == "postgresql":
        return dialect.type_descriptor(String(length, collation="C"))
    if dialect.name in ("mysql", "mariadb"):
        return dialect.type_descriptor(mysql.VARCHAR(length, collation=MARIADB_COLLATION))
    return dialect.type_descriptor(String(length))


# the first column of every key and every index, so each programme's reads are ranges of
# its own rows (loyaltykit.values.tenant_key)
TENANT = Tenant()

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
    Column("fingerprint", Fingerprint, nullable=False),  # bytes on SQLite (0016)
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
