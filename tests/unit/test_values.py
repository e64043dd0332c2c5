from __future__ import annotations

from datetime import UTC, datetime
from decimal import (
    ROUND_05UP,
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Decimal,
)
from fractions import Fraction

import pytest

from loyaltykit.errors import (
    CurrencyMismatch,
    InvalidAmount,
    InvalidCurrency,
    InvalidIdentifier,
    NaiveDatetime,
)
from loyaltykit.values import (
    Money,
    aware,
    frozen_metadata,
    identifier,
    points_amount,
    points_for,
    portion,
    rate_points,
)


def test_money_is_exact_and_keeps_its_currency() -> None:
    total = Money.of("0.10", "CNY") + Money.of("0.20", "CNY")
    assert total == Money.of("0.30", "CNY")
    assert str(total) == "0.30 CNY"
    assert Money.of(3, "CNY") * 2 == Money.of(6, "CNY")
    assert -Money.of(1, "EUR") == Money.of(-1, "EUR")


@pytest.mark.parametrize("amount", [0.1, float("nan"), "abc", None, True])
def test_money_refuses_inexact_amounts(amount: object) -> None:
    with pytest.raises(InvalidAmount, match="money amount"):
        Money.of(amount, "CNY")  # type: ignore[arg-type]


@pytest.mark.parametrize("currency", ["cny", "RMB1", "", None, "EURO"])
def test_money_needs_an_iso_currency(currency: object) -> None:
    with pytest.raises(InvalidCurrency, match=repr(currency)):
        Money.of(1, currency)  # type: ignore[arg-type]


def test_mixing_currencies_raises_naming_both() -> None:
    with pytest.raises(CurrencyMismatch, match="CNY with USD"):
        Money.of(1, "CNY") + Money.of(1, "USD")
    with pytest.raises(CurrencyMismatch):
        assert Money.of(1, "CNY") < Money.of(2, "USD")


def test_money_times_money_is_refused() -> None:
    with pytest.raises(TypeError, match="money times money"):
        Money.of(1, "CNY") * Money.of(1, "CNY")  # type: ignore[operator]


def test_rounding_is_explicit_and_uses_the_minor_unit() -> None:
    assert Money.of("12.345", "CNY").quantize() == Money.of("12.34", "CNY")
    assert Money.of("12.345", "CNY").quantize(ROUND_HALF_UP) == Money.of("12.35", "CNY")
    assert Money.of("1234.5", "JPY").quantize() == Money.of("1234", "JPY")


def test_points_for_rounds_down_by_default() -> None:
    assert points_for(Money.of("129.90", "CNY"), per=Money.of(10, "CNY")) == 12
    assert (
        points_for(Money.of("129.90", "CNY"), per=Money.of(10, "CNY"), rounding=ROUND_HALF_UP) == 13
    )
    assert points_for(Money.of(1000, "CNY"), per=Money.of(1000, "CNY"), points=3) == 3
    with pytest.raises(CurrencyMismatch):
        points_for(Money.of(1, "CNY"), per=Money.of(1, "USD"))
    with pytest.raises(InvalidAmount):
        points_for(Money.of(1, "CNY"), per=Money.of(0, "CNY"))


def test_ratio_is_exact() -> None:
    assert Money.of("30", "CNY").ratio(Money.of("90", "CNY")) == Fraction(1, 3)


def test_instants_must_be_aware() -> None:
    with pytest.raises(NaiveDatetime, match="2026-01-01"):
        aware("at", datetime(2026, 1, 1))
    assert aware("at", datetime(2026, 1, 1, tzinfo=UTC)).tzinfo is UTC


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "3"])
def test_points_must_be_positive_ints(value: object) -> None:
    with pytest.raises(InvalidAmount, match="points"):
        points_amount("points", value)


@pytest.mark.parametrize("value", ["", " x", "a b", "x" * 129, 7, None])
def test_identifiers_are_checked(value: object) -> None:
    with pytest.raises(InvalidIdentifier):
        identifier("customer id", value)


def test_portions_are_exact_and_bounded() -> None:
    assert portion("1/3") == Fraction(1, 3)
    assert portion(Decimal("0.25")) == Fraction(1, 4)
    assert portion(1) == 1
    for bad in (0, "3/2", 0.5, "x", -1):
        with pytest.raises(InvalidAmount, match="portion"):
            portion(bad)


def test_metadata_is_sorted_scalars() -> None:
    assert frozen_metadata({"b": 1, "a": "x"}) == (("a", "x"), ("b", 1))
    with pytest.raises(InvalidAmount, match="metadata"):
        frozen_metadata({"a": 1.5})


def test_points_for_multiplies_before_dividing() -> None:
    # 100 / 3 * 3 rounds the quotient first and gives 99
    assert points_for(Money.of(100, "CNY"), per=Money.of(3, "CNY"), points=3) == 100
    assert points_for(Money.of(10, "CNY"), per=Money.of(3, "CNY"), points=3) == 10
    assert points_for(Money.of("0.3", "CNY"), per=Money.of("0.1", "CNY")) == 3


def test_points_for_refuses_a_negative_spend() -> None:
    with pytest.raises(InvalidAmount, match="-100"):
        points_for(Money.of(-100, "CNY"), per=Money.of(10, "CNY"))


def test_rate_points_is_exact_in_every_rounding_mode() -> None:
    # Decimal division rounds at 28 digits: (3 - 1e-30) / 3 would come out as 1
    spent = Decimal("2.999999999999999999999999999999")
    assert rate_points(spent, per=Decimal(3), points=1, rounding=ROUND_DOWN) == 0
    assert rate_points(Decimal(9), per=Decimal(10), points=1, rounding=ROUND_05UP) == 1
    assert rate_points(Decimal(5), per=Decimal(2), points=1, rounding=ROUND_HALF_EVEN) == 2
    assert rate_points(Decimal(7), per=Decimal(2), points=1, rounding=ROUND_HALF_EVEN) == 4
    assert rate_points(Decimal(5), per=Decimal(2), points=1, rounding=ROUND_HALF_DOWN) == 2
    assert rate_points(Decimal(5), per=Decimal(2), points=1, rounding=ROUND_HALF_UP) == 3
    assert rate_points(Decimal(4), per=Decimal(3), points=1, rounding=ROUND_UP) == 2
    assert rate_points(Decimal(4), per=Decimal(3), points=1, rounding=ROUND_CEILING) == 2
    assert rate_points(Decimal(4), per=Decimal(3), points=1, rounding=ROUND_FLOOR) == 1
    assert rate_points(Decimal(6), per=Decimal(3), points=1, rounding=ROUND_UP) == 2
    assert rate_points(Decimal(0), per=Decimal(3), points=5, rounding=ROUND_UP) == 0
    with pytest.raises(InvalidAmount, match="rounding"):
        rate_points(Decimal(1), per=Decimal(1), points=1, rounding="sideways")
    with pytest.raises(InvalidAmount, match="-1"):
        rate_points(Decimal(-1), per=Decimal(1), points=1, rounding=ROUND_DOWN)
    with pytest.raises(InvalidAmount, match="per"):
        rate_points(Decimal(1), per=Decimal(0), points=1, rounding=ROUND_DOWN)
