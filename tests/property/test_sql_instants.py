"""SQLite's stored forms (0016): an instant is its microseconds since 1970 UTC, read back
as the same instant and sorted in its order; a fingerprint is the bytes its hex digits
spell, read back as the same text; and revision 0016's SQL converts the text form
written before it to the very integer the type writes, and back to the very text."""

from __future__ import annotations

import importlib
import sqlite3
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import DateTime
from sqlalchemy.dialects import sqlite

from loyaltykit.storage.sql.schema import (
    Fingerprint,
    UtcDateTime,
    fingerprint_bytes,
    fingerprint_text,
    sqlite_tenant,
    tenant_of_sqlite,
)

DIALECT = sqlite.dialect()
TYPE = UtcDateTime()
STORED = TYPE._cached_bind_processor(DIALECT)
READ = TYPE._cached_result_processor(DIALECT, None)
# what SQLAlchemy's own SQLite DATETIME wrote for the naive UTC value (before 0016)
_OLD_TEXT = DIALECT.type_descriptor(DateTime()).bind_processor(DIALECT)
MIGRATION = importlib.import_module(
    "loyaltykit.storage.sql.migrations.versions.0016_sqlite_instants_and_fingerprints"
)
instants = st.datetimes(
    min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=st.timezones()
)


def old_text(value: datetime) -> str:
    assert _OLD_TEXT is not None
    text = _OLD_TEXT(value.astimezone(UTC).replace(tzinfo=None))
    assert isinstance(text, str)
    return text


@given(instants)
def test_an_instant_reads_back_as_itself_in_utc(value: datetime) -> None:
    assert STORED is not None and READ is not None
    stored = STORED(value)
    assert isinstance(stored, int)
    back = READ(stored)
    assert back == value.astimezone(UTC) and back.tzinfo is UTC
    assert READ(old_text(value)) == back  # a text of before 0016 reads as it did


@given(instants, st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)))
def test_stored_instants_sort_as_their_instants(value: datetime, later: timedelta) -> None:
    assert STORED is not None
    first, second = STORED(value), STORED(value.astimezone(UTC) + later)
    assert first <= second if later else first == second


def test_none_is_stored_as_null() -> None:
    assert STORED is not None and READ is not None
    assert STORED(None) is None and READ(None) is None


@given(st.lists(instants, min_size=1, max_size=20))
def test_the_migration_converts_the_old_text_to_the_stored_integer_and_back(
    values: list[datetime],
) -> None:
    assert STORED is not None
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (n INTEGER PRIMARY KEY, at DATETIME)")
    texts = [old_text(value) for value in values]
    db.executemany("INSERT INTO t (at) VALUES (?)", [(text,) for text in texts])
    c = "at"
    db.execute(
        f"UPDATE t SET at = {MIGRATION._TO_MICROS.format(c=c)} WHERE {MIGRATION._TEXT.format(c=c)}"
    )
    assert [row[0] for row in db.execute("SELECT at FROM t ORDER BY n")] == [
        STORED(value) for value in values
    ]
    db.execute(f"UPDATE t SET at = {MIGRATION._TO_TEXT.format(c=c)} WHERE typeof(at) = 'integer'")
    assert [row[0] for row in db.execute("SELECT at FROM t ORDER BY n")] == texts


fingerprints = st.one_of(
    st.builds(
        lambda scheme, digits: f"{scheme}:{digits}",
        st.integers(1, 99),
        st.text("0123456789abcdef", min_size=1, max_size=64),
    ),
    st.text(max_size=64),
)


@given(fingerprints)
def test_a_fingerprint_reads_back_as_itself(value: str) -> None:
    stored = fingerprint_bytes(value)
    assert fingerprint_text(stored) == value
    assert MIGRATION._fingerprint_bytes(value) == stored
    assert MIGRATION._fingerprint_text(stored) == value
    processor = Fingerprint()._cached_bind_processor(DIALECT)
    assert processor is not None and processor(value) == stored


def test_a_hex_fingerprint_is_stored_in_half_the_bytes() -> None:
    stored = fingerprint_bytes("2:" + "ab" * 25)
    assert stored == bytes((4,)) + bytes.fromhex("ab" * 25)
    assert fingerprint_bytes("2:ABCD") == "2:ABCD"  # not the shape written: kept as text


def test_the_default_programme_is_stored_as_the_empty_text() -> None:
    assert sqlite_tenant("default") == "" and tenant_of_sqlite("") == "default"
    assert sqlite_tenant("brand-a") == "brand-a" == tenant_of_sqlite("brand-a")
