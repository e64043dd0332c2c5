"""The reusable boundary validators of ``loyaltykit.values`` (issue 12)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyaltykit import Loyalty, Money
from loyaltykit.errors import (
    InvalidAmount,
    InvalidArgument,
    InvalidIdentifier,
    InvalidText,
    StorageError,
    StorageUnavailable,
)
from loyaltykit.values import (
    MAX_IDENTIFIER_LENGTH,
    bounded_decimal,
    count,
    frozen_metadata,
    identifier,
    identifiers,
    instance_of,
    instant,
    label,
    portion,
    sequence_of,
    text,
)


@pytest.mark.parametrize("value", ["c-1\n", "c-1\r", "\nc-1", "c 1", "", "x" * 129, None, 5])
def test_identifier_refuses_what_is_not_the_whole_identifier(value: object) -> None:
    with pytest.raises(InvalidIdentifier):
        identifier("customer_id", value)


def test_identifier_accepts_the_longest_that_fits_every_backend() -> None:
    assert identifier("customer_id", "c" * MAX_IDENTIFIER_LENGTH) == "c" * 128


@given(st.text(max_size=300))
def test_text_accepts_exactly_the_storable_strings(value: str) -> None:
    storable = (
        len(value) <= 200
        and all(ch in "\t\n\r" or not (ord(ch) < 32 or 127 <= ord(ch) < 160) for ch in value)
        and not any(0xD800 <= ord(ch) <= 0xDFFF for ch in value)
    )
    if storable:
        assert text("note", value, max_len=200) == value
        value.encode("utf-8")
    else:
        with pytest.raises(InvalidText, match="note"):
            text("note", value, max_len=200)


def test_label_is_one_line() -> None:
    assert text("reason", "a\nb", max_len=10) == "a\nb"
    with pytest.raises(InvalidText, match="actor"):
        label("actor", "a\nb", max_len=10)


def test_a_long_refused_text_gives_a_short_message() -> None:
    with pytest.raises(InvalidText) as raised:
        text("reason", "x" * 1_000_000, max_len=2000)
    assert len(str(raised.value)) < 300
    assert "1000000 long" in str(raised.value)


@pytest.mark.parametrize(
    "value",
    [
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=8))),
        datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-8))),
        datetime(999, 12, 31, tzinfo=UTC),
        datetime(9000, 1, 1, tzinfo=UTC),
    ],
)
def test_instant_refuses_what_leaves_the_storable_range_in_utc(value: datetime) -> None:
    with pytest.raises(InvalidAmount, match="at: "):
        instant("at", value)


def test_instant_keeps_the_callers_zone() -> None:
    shanghai = datetime(2026, 5, 1, 8, tzinfo=timezone(timedelta(hours=8)))
    assert instant("at", shanghai) is shanghai
    with pytest.raises(InvalidArgument):
        instant("at", datetime(2026, 5, 1))


@pytest.mark.parametrize(
    "value", ["1e15", "-1e15", "0.0000000000001", "NaN", "Infinity", 1.5, True, None, "1" * 40]
)
def test_bounded_decimal_refuses_out_of_range_amounts(value: object) -> None:
    with pytest.raises(InvalidAmount):
        bounded_decimal("amount", value)


def test_bounded_decimal_accepts_the_extremes() -> None:
    assert bounded_decimal("amount", "999999999999999.999999999999") == Decimal(
        "999999999999999.999999999999"
    )
    assert bounded_decimal("amount", 0) == 0


def test_money_arithmetic_past_the_bounds_raises_invalid_amount_not_a_decimal_signal() -> None:
    big = Money.of("999999999999999", "CNY")
    with pytest.raises(InvalidAmount):
        big + big
    with pytest.raises(InvalidAmount):
        big * 10
    with pytest.raises(InvalidAmount):
        big * Decimal("1e-999999999")
    with pytest.raises(InvalidAmount):
        Money.of(1, "CNY").quantize(places=10**9)
    with pytest.raises(InvalidAmount):
        Money.of(1, "CNY").quantize(rounding="sideways")
    assert Money.of("1.005", "CNY").quantize() == Money.of("1.00", "CNY")


@pytest.mark.parametrize("value", ["1/3", "0.25", Fraction(1, 10**30), Decimal("0.5"), 1])
def test_portion_keeps_exact_values(value: object) -> None:
    assert 0 < portion(value) <= 1


@pytest.mark.parametrize("value", ["1e-10000000", "1/" + "9" * 50, Fraction(1, 10**40), "0"])
def test_portion_refuses_unbounded_or_empty_portions(value: object) -> None:
    with pytest.raises(InvalidAmount):
        portion(value)


@pytest.mark.parametrize(
    "value",
    [
        "a b",
        5,
        [("k",)],
        {"k": 2**63},
        {"k": "v" * 201},
        {f"k{n}": n for n in range(21)},
        {"k\n": 1},
        {"k": "\ud800"},
    ],
)
def test_metadata_refuses_what_cannot_be_stored_alike(value: object) -> None:
    with pytest.raises(InvalidArgument):
        frozen_metadata(value)  # type: ignore[arg-type]


def test_collections_and_counts() -> None:
    assert identifiers("rewards", ["a", "b"]) == ("a", "b")
    assert sequence_of("items", [1, 2], int) == (1, 2)
    assert count("page", 500) == 500
    assert instance_of("bill", Money.of(1, "CNY"), Money) == Money.of(1, "CNY")
    for call in (
        lambda: identifiers("rewards", "ab"),
        lambda: identifiers("rewards", None),
        lambda: sequence_of("items", None, int),
        lambda: sequence_of("items", ["1"], int),
        lambda: count("page", 0),
        lambda: count("page", 10**30),
        lambda: count("page", True),
        lambda: instance_of("bill", {"amount": 1}, Money),
    ):
        with pytest.raises(InvalidArgument):
            call()


@pytest.mark.parametrize(
    "url",
    ["postgresql+psycopg://postgres@127.0.0.1:1/test", "mysql+pymysql://root@127.0.0.1:1/test"],
)
def test_an_unreachable_server_is_storage_unavailable(url: str) -> None:
    pytest.importorskip("psycopg" if "psycopg" in url else "pymysql")

    def first_call() -> None:
        Loyalty(storage=url).customer("c-1")

    with pytest.raises(StorageUnavailable, match="cannot be reached"):
        first_call()


class _DriverError(Exception):
    def __init__(self, *args: object, sqlstate: str | None = None) -> None:
        super().__init__(*args)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        (_DriverError("server closed the connection", sqlstate="08006"), StorageUnavailable),
        (_DriverError(2006, "MySQL server has gone away"), StorageUnavailable),
        (_DriverError(2013, "Lost connection to MySQL server"), StorageUnavailable),
        (_DriverError("syntax error", sqlstate="42601"), StorageError),
    ],
)
def test_driver_errors_are_translated_by_what_went_wrong(
    original: Exception, expected: type[Exception]
) -> None:
    from sqlalchemy.exc import OperationalError

    from loyaltykit.storage.sql.repositories import translate

    translated = translate(OperationalError("SELECT 1", {}, original))
    assert type(translated) is expected
