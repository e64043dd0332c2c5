"""The memory backend's encodings of values in its columns give back what was saved.

A lot's expiry is kept as an instant and a code for its offset (``datetime.timezone``
values), or as the object itself (zones whose offset changes); an idempotency record's
hexadecimal fingerprint as its bytes and its outcome's common JSON fragments as one byte
each (see ``loyaltykit.storage.columns``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import example, given
from hypothesis import strategies as st

from loyaltykit.domain.ledger import Lot
from loyaltykit.storage.columns import Book, KeyColumns, LotColumns, instant

_DAY = timedelta(hours=24)
_EDGE = timedelta(hours=23, minutes=59, seconds=59, microseconds=999999)
_ZONES = ("America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "Europe/Dublin", "UTC")

offsets = st.timedeltas(min_value=-_EDGE, max_value=_EDGE)
fixed = st.one_of(
    st.just(UTC),
    st.builds(timezone, offsets),
    st.builds(timezone, offsets, st.text(min_size=1, max_size=8)),  # named: the name kept
    st.sampled_from([timezone(timedelta(0), "UTC"), timezone(timedelta(0), "Z")]),
)
zones = st.one_of(fixed, st.sampled_from(_ZONES).map(ZoneInfo))


@st.composite
def aware(draw: st.DrawFn) -> datetime:
    """Any aware datetime from year 1 to 9999, at any fixed offset or zone, either fold."""
    moment = draw(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)))
    when = moment.replace(tzinfo=draw(zones), fold=draw(st.sampled_from([0, 1])))
    try:
        instant(when)
    except OverflowError:  # a zone's offset at the edge of the range: no instant
        return moment.replace(tzinfo=UTC)
    return when


def _lot(expires_at: datetime | None, seq: int = 1) -> Lot:
    earned = datetime(2026, 1, 1, tzinfo=UTC)
    return Lot(
        customer_id="c",
        point_type="points",
        seq=seq,
        amount=10,
        remaining=10,
        earned_at=earned,
        expires_at=expires_at,
    )


def _same(back: datetime | None, saved: datetime | None) -> bool:
    if back is None or saved is None:
        return back is saved
    return (
        back == saved
        and back.utcoffset() == saved.utcoffset()
        and back.tzname() == saved.tzname()
        and back.fold == saved.fold
        and back.replace(tzinfo=None) == saved.replace(tzinfo=None)
    )


@given(st.lists(st.one_of(st.none(), aware()), min_size=1, max_size=8))
@example([datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))])
@example([datetime(1, 1, 1, tzinfo=timezone(-_EDGE))])
@example([datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(-_EDGE))])
@example([datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(_EDGE))])
@example([datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=ZoneInfo("America/New_York"))])
@example([datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=timezone(timedelta(hours=-5)))])
def test_an_expiry_reads_back_equal_with_its_offset(expiries: list[datetime | None]) -> None:
    table, book = LotColumns(), Book("c", "points")
    for seq, when in enumerate(expiries, start=1):
        table.append(*table.values(_lot(when, seq)))
    for row, when in enumerate(expiries):
        lot = table.lot(book, row)
        assert _same(lot.expires_at, when), (lot.expires_at, when)
        assert lot == _lot(when, row + 1)
        # the instant kept orders lots as their expiries' instants do
        assert table.expiry(row) == (None if when is None else instant(when))


@given(aware(), aware())
def test_instants_order_as_the_instants_in_utc_do(a: datetime, b: datetime) -> None:
    # in UTC, as the SQL backend orders them (two datetimes of one zoneinfo object
    # compare by wall time instead)
    try:
        a_utc, b_utc = a.astimezone(UTC), b.astimezone(UTC)
    except OverflowError:  # the instant is not a datetime in UTC (year 1 or 9999)
        return
    assert instant(a) - instant(b) == (a_utc - b_utc) // timedelta(microseconds=1)


@given(aware())
def test_an_overwritten_expiry_is_put_back_as_it_was(when: datetime) -> None:
    table, book = LotColumns(), Book("c", "points")
    first = _lot(datetime(2026, 2, 1, tzinfo=timezone(timedelta(hours=8))))
    row = table.append(*table.values(first))
    previous = table.read(row)
    table.write(row, *table.values(_lot(when)))
    assert _same(table.lot(book, row).expires_at, when)
    table.write(row, *previous)
    assert table.lot(book, row) == first
    assert _same(table.lot(book, row).expires_at, first.expires_at)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
fingerprints = st.one_of(
    st.text(),
    st.builds(lambda v, raw: f"{v}:{raw.hex()}", st.integers(0, 9), st.binary(max_size=40)),
    st.builds(lambda raw: f"2:{raw.hex().upper()}", st.binary(min_size=1, max_size=20)),
    st.builds(lambda raw: f"2:{raw.hex()}0", st.binary(max_size=20)),  # odd: kept as text
    st.builds(lambda raw: f"2:{raw.hex()}:x", st.binary(max_size=20)),
)
outcomes = st.one_of(
    json_values.map(lambda value: json.dumps(value, ensure_ascii=False).encode()),
    st.text().map(str.encode),  # any text, control characters too
)


@given(st.lists(st.tuples(fingerprints, outcomes), min_size=1, max_size=6))
@example([("2:0bf30f8776bdfa073cf8e5da5da99f26893b4bf1", b'{"v":3,"e":[1],"b":[[10,0,10]]}')])
@example([("2:" + "ab" * 100, b'{"v":3,"e":[1],"b":[[1,2],[3,4]]}' * 10)])
def test_an_idempotency_record_reads_back_as_written(records: list[tuple[str, bytes]]) -> None:
    keys = KeyColumns()
    at = datetime(2026, 1, 1, tzinfo=UTC)
    undo = []
    for fingerprint, outcome in records:
        slot = keys.append()
        text = fingerprint.encode()
        undo.append(keys.put_record(slot, "earn", at, text + outcome, len(text)))
    for slot, (fingerprint, outcome) in enumerate(records):
        assert keys.record(slot) == ("earn", at, fingerprint, outcome)
    # written again over the first (a redaction), then undone: the first is back
    fingerprint, outcome = records[0]
    text = fingerprint.encode()
    previous = keys.put_record(0, "earn", at, text + b'{"redacted":true}', len(text))
    assert keys.record(0) == ("earn", at, fingerprint, b'{"redacted":true}')
    keys.restore(*previous)
    assert keys.record(0) == ("earn", at, fingerprint, outcome)
    for previous in reversed(undo):
        keys.restore(*previous)
    assert all(keys.record(slot) is None for slot in range(len(records)))
    assert not keys.blob
