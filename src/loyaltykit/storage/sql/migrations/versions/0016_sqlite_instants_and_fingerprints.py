"""SQLite: instants as integers, fingerprints as bytes, the default programme as ``''``.

An instant was the text SQLAlchemy writes for a naive UTC datetime
(``2026-03-01 09:30:00.000000``, 26 bytes); it becomes the integer of its microseconds
since 1970-01-01 UTC (8 bytes), which sorts in the same order, so every index keeps its
order. A ledger entry, its lot, their indexes and the idempotency record held eight
instants. The columns keep their declared type (``DATETIME``: numeric affinity keeps an
integer an integer), so no table is copied.

An idempotency fingerprint of the shape ``<scheme>:<lowercase hex digits>`` becomes the
bytes those digits spell after one byte ``scheme * 2 + (digits odd in number)``; any
other text stays as it was (``loyaltykit.storage.sql.schema.Fingerprint`` reads both).

The default programme's key (``'default'``), in every row of every table and in every
index, becomes the empty text, which no programme's key can be
(``loyaltykit.storage.sql.schema.Tenant``).

A ledger entry's lot changes name each lot by its id (``c-1:points:3.0``); a lot of the
entry's own account is written ``3.0``, without the customer and point type its row
holds (``loyaltykit.storage.sql.repositories._entry`` reads both forms).

A text that is no instant SQLite reads (none is written) is left as it was, and so is
a value already converted: the statements change only texts, and the downgrade only
integers and bytes. PostgreSQL and MariaDB are unchanged (``naive UTC ``TIMESTAMP``
 / ``DATETIME(6)``, and ``VARCHAR``). The conversions are written out here,
not imported, so this revision keeps doing what it did when the library's own mapping
moves on.

Revision ID: 0016
Revises: 0013
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from alembic import op

revision = "0016"
down_revision = "0013"
branch_labels = None
depends_on = None

# every instant column of revision 0013
INSTANTS = {
    "lk_accounts": ("last_at",),
    "lk_customer_state": ("due_at",),
    "lk_customers": ("enrolled_at", "erased_at"),
    "lk_entries": ("occurred_at", "recorded_at"),
    "lk_idempotency": ("recorded_at",),
    "lk_lots": ("earned_at", "expires_at", "available_from"),
    "lk_member_cards": ("issued_at", "blocked_at"),
    "lk_records": ("due_at",),
    "lk_stored_value": ("issued_at", "expires_at", "last_at"),
    "lk_stored_value_entries": ("occurred_at",),
}
# every table with a programme column (0012)
TABLES = (
    "lk_accounts",
    "lk_counters",
    "lk_customer_state",
    "lk_customers",
    "lk_entries",
    "lk_idempotency",
    "lk_lookups",
    "lk_lots",
    "lk_member_cards",
    "lk_records",
    "lk_stored_value",
    "lk_stored_value_entries",
)
DEFAULT_TENANT = "default"  # loyaltykit.values.DEFAULT_TENANT, as this revision knows it
# 'YYYY-MM-DD HH:MM:SS' then an optional fraction of up to six digits: the seconds
# since 1970 of the first 19 characters (strftime('%s') counts whole seconds), plus the
# fraction as microseconds. GLOB keeps every other text as it is.
_SHAPE = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]?[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*"
_TO_MICROS = (
    "CAST(strftime('%s', substr({c}, 1, 19)) AS INTEGER) * 1000000"
    " + CAST(substr(substr({c}, 21) || '000000', 1, 6) AS INTEGER)"
)
_TEXT = f"typeof({{c}}) = 'text' AND {{c}} GLOB '{_SHAPE}' AND strftime('%s', {{c}}) IS NOT NULL"
# and back: whole seconds (floor) as text, then the six digits of the microseconds
_MICROS = "((({c} % 1000000) + 1000000) % 1000000)"
_TO_TEXT = (
    f"strftime('%Y-%m-%d %H:%M:%S', ({{c}} - {_MICROS}) / 1000000, 'unixepoch')"
    f" || '.' || printf('%06d', {_MICROS})"
)
_HEXED = re.compile(r"([1-9][0-9]?):([0-9a-f]+)")


def _fingerprint_bytes(value: object) -> object:
    if not isinstance(value, str):
        return value
    found = _HEXED.fullmatch(value)
    if found is None:
        return value
    digits = found[2]
    odd = len(digits) % 2
    return bytes((int(found[1]) * 2 + odd,)) + bytes.fromhex(digits + "0" * odd)


def _fingerprint_text(value: object) -> object:
    if not isinstance(value, bytes):
        return value
    digits = value[1:].hex()
    return f"{value[0] >> 1}:{digits[:-1] if value[0] & 1 else digits}"


def _own_lots(text: str, customer_id: str, point_type: str) -> str:
    prefix = f"{customer_id}:{point_type}:"
    changes, shortened = [], False
    for lot_id, delta in json.loads(text):
        rest = lot_id[len(prefix) :] if lot_id.startswith(prefix) else ":"
        shortened = shortened or ":" not in rest
        changes.append([lot_id if ":" in rest else rest, delta])
    if not shortened:  # kept as it was written
        return text
    return json.dumps(changes, separators=(",", ":"), ensure_ascii=False)


def _full_lots(text: str, customer_id: str, point_type: str) -> str:
    prefix = f"{customer_id}:{point_type}:"
    changes = json.loads(text)
    if all(":" in lot_id for lot_id, _ in changes):
        return text
    full = [[lot_id if ":" in lot_id else prefix + lot_id, delta] for lot_id, delta in changes]
    return json.dumps(full, separators=(",", ":"), ensure_ascii=False)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, columns in INSTANTS.items():
        for column in columns:
            quoted = f'"{column}"'
            op.get_bind().exec_driver_sql(
                f'UPDATE "{table}" SET {quoted} = {_TO_MICROS.format(c=quoted)}'
                f" WHERE {_TEXT.format(c=quoted)}"
            )
    _fingerprints("lk_fingerprint_bytes", _fingerprint_bytes, "text")
    _tenants(DEFAULT_TENANT, "")
    _lot_changes("lk_own_lots", _own_lots)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, columns in INSTANTS.items():
        for column in columns:
            quoted = f'"{column}"'
            op.get_bind().exec_driver_sql(
                f'UPDATE "{table}" SET {quoted} = {_TO_TEXT.format(c=quoted)}'
                f" WHERE typeof({quoted}) = 'integer'"
            )
    _fingerprints("lk_fingerprint_text", _fingerprint_text, "blob")
    _tenants("", DEFAULT_TENANT)
    _lot_changes("lk_full_lots", _full_lots)


def _fingerprints(name: str, conversion: Callable[[object], object], stored: str) -> None:
    """Every fingerprint stored as ``stored`` (a SQLite type) through ``conversion``,
    a function of the driver's connection for the one statement."""
    driver = op.get_bind().connection.dbapi_connection
    assert driver is not None
    driver.create_function(name, 1, conversion, deterministic=True)
    op.get_bind().exec_driver_sql(
        f"UPDATE lk_idempotency SET fingerprint = {name}(fingerprint)"
        f" WHERE typeof(fingerprint) = '{stored}'"
    )


def _tenants(stored: str, becomes: str) -> None:
    for table in TABLES:
        op.get_bind().exec_driver_sql(
            f"UPDATE \"{table}\" SET tenant = '{becomes}' WHERE tenant = '{stored}'"
        )


def _lot_changes(name: str, conversion: Callable[[str, str, str], str]) -> None:
    driver = op.get_bind().connection.dbapi_connection
    assert driver is not None
    driver.create_function(name, 3, conversion, deterministic=True)
    op.get_bind().exec_driver_sql(
        f"UPDATE lk_entries SET lots = {name}(lots, customer_id, point_type) WHERE lots <> '[]'"
    )
