"""Purchases in another currency, converted at the caller's effective-dated rates."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltykit import ExchangeRates, Item, Loyalty, Money, Purchase
from loyaltykit.domain.exchange import converted_purchase
from loyaltykit.errors import InvalidArgument, NoExchangeRate
from loyaltykit.policy.program import Program
from loyaltykit.policy.rules import BaseRate, Multiplier

JAN = datetime(2026, 1, 1, tzinfo=UTC)
JUNE = datetime(2026, 6, 1, tzinfo=UTC)
RATES = ExchangeRates.of(("USD", "CNY", JAN, "7.10"), ("USD", "CNY", JUNE, "7.20"))
PROGRAM = Program(
    currency="CNY",
    rules=(
        BaseRate(id="base", per=Money.of(1, "CNY")),
        Multiplier(id="shoes-x2", factor="2", scope={"categories": ["shoes"]}),
    ),
)


@pytest.fixture(params=["memory", "sqlite"])
def loyalty(request: pytest.FixtureRequest, tmp_path: Path) -> Loyalty:
    storage = None if request.param == "memory" else f"sqlite:///{tmp_path}/fx.db"
    loyalty = Loyalty(PROGRAM, storage=storage, rates=RATES)
    loyalty.enroll("c-1", at=JAN, idempotency_key="enroll")
    return loyalty


def usd(amount: str) -> Money:
    return Money.of(amount, "USD")


def test_a_purchase_in_dollars_earns_at_the_rate_in_force(loyalty: Loyalty) -> None:
    may = datetime(2026, 5, 31, tzinfo=UTC)
    receipt = loyalty.record_purchase(
        "c-1", Purchase(amount=usd("10")), at=may, idempotency_key="order-1"
    )
    assert receipt.balance.available == 71
    assert (receipt.explanation or "").splitlines()[0] == (
        "+ currency: 10 USD at 1 USD = 7.1 CNY (from 2026-01-01T00:00:00+00:00) -> 71.00 CNY"
    )
    metadata = dict(receipt.entries[0].metadata)
    assert (metadata["purchase_amount"], metadata["currency"]) == ("71.00", "CNY")
    assert (metadata["paid_amount"], metadata["paid_currency"]) == ("10", "USD")
    june = loyalty.record_purchase(
        "c-1", Purchase(amount=usd("10")), at=JUNE, idempotency_key="order-2"
    )
    assert june.balance.available == 71 + 72
    refund = loyalty.refund("c-1", "order-2", at=JUNE, idempotency_key="refund-2")
    assert refund.balance.available == 71


def test_lines_are_converted_and_scoped_rules_still_see_them(loyalty: Loyalty) -> None:
    basket = Purchase(
        amount=usd("30"),
        items=(
            Item(sku="run-1", category="shoes", unit_price=usd("10")),
            Item(sku="tee-1", category="shirts", quantity=2, unit_price=usd("10")),
        ),
    )
    decision = loyalty.quote("c-1", basket, at=JUNE)
    assert decision.points() == 216 + 72  # 216 CNY, of which the shoes' 72 doubled


def test_a_currency_without_a_rate_is_refused_naming_it(loyalty: Loyalty) -> None:
    with pytest.raises(NoExchangeRate, match="a purchase in EUR: no rate of EUR in CNY"):
        loyalty.record_purchase(
            "c-1", Purchase(amount=Money.of("5", "EUR")), at=JUNE, idempotency_key="order-1"
        )
    with pytest.raises(NoExchangeRate, match="no rate of USD in CNY in force at 2025-12-31"):
        RATES.rate("USD", "CNY", datetime(2025, 12, 31, tzinfo=UTC))


def test_without_a_rate_table_a_purchase_is_evaluated_as_before() -> None:
    plain = Loyalty(PROGRAM)
    plain.enroll("c-1", at=JAN, idempotency_key="enroll")
    with pytest.raises(InvalidArgument, match="rule base: purchase in USD, rate in CNY"):
        plain.record_purchase("c-1", Purchase(amount=usd("5")), at=JUNE, idempotency_key="o")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (("USD", "USD", JAN, "1"), "to itself"),
        (("USD", "CNY", JAN, "-1"), "a positive number"),
        (("USD", "CNY", JAN, 7.1), "no floats"),
        (("XXX1", "CNY", JAN, "1"), "XXX1"),
    ],
)
def test_a_bad_rate_is_refused(row: tuple[str, str, datetime, str], message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        ExchangeRates.of(row)


@settings(max_examples=40, deadline=None)
@given(
    cents=st.lists(st.integers(min_value=0, max_value=100_000), min_size=1, max_size=5),
    fee=st.integers(min_value=0, max_value=1_000),
    rate=st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(1000), places=4),
)
def test_converted_lines_keep_summing_to_what_they_summed_to(
    cents: list[int], fee: int, rate: Decimal
) -> None:
    items = tuple(
        Item(sku=f"s{n}", unit_price=usd(str(Decimal(c) / 100))) for n, c in enumerate(cents)
    )
    purchase = Purchase(amount=usd(str(Decimal(sum(cents) + fee) / 100)), items=items)
    rates = ExchangeRates.of(("USD", "JPY", JAN, rate))
    converted, used = converted_purchase(purchase, "JPY", rates, JUNE)
    assert used is not None and used.rate == rate
    lines = sum(
        (item.line_amount for item in converted.items if item.line_amount), Money.zero("JPY")
    )
    assert lines == rates.convert(
        sum((i.line_amount for i in items if i.line_amount), usd("0")), "JPY", JUNE
    )
    assert converted.amount.currency == "JPY"
