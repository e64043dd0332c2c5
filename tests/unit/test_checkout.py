"""Checkout: vouchers and points priced into a basket's lines, the purchase earned on what
is paid, one unit of work; refunds of the order undo it in proportion."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltykit import Item, Loyalty, Money, Order, Purchase
from loyaltykit.domain.basket import MoneyOff, allocate
from loyaltykit.domain.ledger import EntryKind
from loyaltykit.domain.rewards import CashOffset, Reward, RewardCatalog, VoucherTerms
from loyaltykit.errors import (
    DiscountRefused,
    IdempotencyConflict,
    InvalidArgument,
    OffsetRefused,
    OutOfStock,
    OverReversal,
    VoucherNotValid,
)
from loyaltykit.policy.pricing import price_basket
from loyaltykit.policy.program import Program
from loyaltykit.policy.rules import BaseRate

AT = datetime(2026, 5, 1, 12, tzinfo=UTC)


def cny(amount: str | int) -> Money:
    return Money.of(amount, "CNY")


PROGRAM = Program(
    rules=(BaseRate(id="base", per=cny(1)),),
    catalog=RewardCatalog.of(
        Reward(
            id="shoes-20",
            kind="coupon",
            price=100,
            voucher=VoucherTerms(
                money_off=MoneyOff(
                    amount=cny(20), minimum=cny(100), scope={"categories": ["shoes"]}
                )
            ),
        ),
        Reward(
            id="tenth-off",
            kind="coupon",
            price=50,
            voucher=VoucherTerms(money_off=MoneyOff(percent="10", maximum=cny(25))),
        ),
        Reward(id="mug", kind="gift", price=10),
        Reward(
            id="member-15",
            kind="discount",
            price=200,
            stock=1,
            money_off=MoneyOff(percent="15", scope={"categories": ["shirts"]}),
        ),
        Reward(id="cash", kind="cash_offset", offset=CashOffset(rate=cny("0.01"), max_share="0.5")),
    ),
)

BASKET = Purchase(
    amount=cny("300"),
    items=(
        Item(sku="run-1", category="shoes", unit_price=cny("200")),
        Item(sku="tee-1", category="shirts", quantity=2, unit_price=cny("50")),
    ),
)


@pytest.fixture(params=["memory", "sqlite"])
def loyalty(request: pytest.FixtureRequest, tmp_path: Path) -> Loyalty:
    storage = None if request.param == "memory" else f"sqlite:///{tmp_path}/checkout.db"
    return _seeded(Loyalty(PROGRAM, storage=storage))


@pytest.fixture(params=["postgres", "mariadb"])
def server(request: pytest.FixtureRequest) -> Iterator[Loyalty]:
    """PostgreSQL or MariaDB, when their test URLs are set (skipped otherwise)."""
    from tests.databases import storage_factory

    url: str = request.getfixturevalue(f"{request.param}_url")
    storage = storage_factory(url)()
    yield _seeded(Loyalty(PROGRAM, storage=storage))
    storage.close()
    storage.engine.dispose()


def _seeded(loyalty: Loyalty) -> Loyalty:
    loyalty.enroll("c-1", at=AT, idempotency_key="enroll")
    loyalty.earn("c-1", 5000, at=AT, idempotency_key="seed")
    return loyalty


def coupon(loyalty: Loyalty, reward: str = "shoes-20", key: str = "coupon") -> str:
    return loyalty.redeem("c-1", reward, at=AT, idempotency_key=key).vouchers[0]


def test_a_checkout_with_a_coupon_and_points_in_one_receipt(loyalty: Loyalty) -> None:
    code = coupon(loyalty)
    order = loyalty.checkout(
        "c-1",
        BASKET,
        vouchers=[code],
        points=1000,
        offset_reward="cash",
        at=AT,
        idempotency_key="order-1",
    )
    shoes, tees = order.basket.lines
    assert (shoes.discount, tees.discount) == (cny("20.00"), cny("0.00"))
    assert order.basket.total == cny("280.00")
    # 10 CNY of points shared 180 : 100, the cent left over to the larger remainder
    assert (shoes.points_paid, tees.points_paid) == (cny("6.43"), cny("3.57"))
    assert order.basket.to_pay == cny("270.00") == shoes.to_pay + tees.to_pay
    kinds = [(entry.kind, entry.amount) for entry in order.receipt.entries]
    assert kinds == [(EntryKind.REDEEM, -1000), (EntryKind.EARN, 270)]
    assert order.receipt.balance.available == 5000 - 100 - 1000 + 270
    assert order.basket.discounts[0].lines == ("run-1",)
    # the same request replays; the same key with other points is refused
    again = loyalty.checkout(
        "c-1",
        BASKET,
        vouchers=[code.lower()],
        points=1000,
        offset_reward="cash",
        at=AT,
        idempotency_key="order-1",
    )
    assert again.receipt.replayed
    assert again.basket == order.basket
    with pytest.raises(IdempotencyConflict, match="points"):
        loyalty.checkout(
            "c-1", BASKET, vouchers=[code], points=500, offset_reward="cash", at=AT,
            idempotency_key="order-1",
        )  # fmt: skip


def test_a_discount_reward_is_redeemed_in_the_checkout_itself(loyalty: Loyalty) -> None:
    order = loyalty.checkout("c-1", BASKET, rewards=["member-15"], at=AT, idempotency_key="order-1")
    assert order.rewards == ("member-15",)
    assert [line.discount for line in order.basket.lines] == [cny("0.00"), cny("15.00")]
    kinds = [(entry.kind, entry.amount) for entry in order.receipt.entries]
    assert kinds == [(EntryKind.REDEEM, -200), (EntryKind.EARN, 285)]
    with pytest.raises(OutOfStock):  # the one unit of stock went with the first order
        loyalty.checkout("c-1", BASKET, rewards=["member-15"], at=AT, idempotency_key="o-2")
    with pytest.raises(DiscountRefused, match="not a discount with money off"):
        loyalty.checkout("c-1", BASKET, rewards=["mug"], at=AT, idempotency_key="order-3")
    whole = loyalty.refund_order("c-1", "order-1", at=AT, idempotency_key="refund-1")
    assert whole.balance.available == 5000


def test_a_gift_card_pays_the_rest_in_the_same_command_and_is_refunded(
    loyalty: Loyalty,
) -> None:
    card = loyalty.issue_stored_value("gift_card", cny("100"), at=AT, idempotency_key="card")
    code = coupon(loyalty)

    def pay() -> Order:
        return loyalty.checkout(
            "c-1",
            BASKET,
            vouchers=[code],
            points=1000,
            offset_reward="cash",
            stored_value=[card.code],
            at=AT,
            idempotency_key="order-1",
        )

    order = pay()
    assert order.tenders == ((card.code, cny("100.00")),)
    assert order.cash == cny("170.00")
    # the card's money is money paid: the order earns on all 270
    assert order.receipt.entries[-1].amount == 270
    assert loyalty.stored_value_balance(card.code, at=AT).balance == cny("0.00")
    loyalty.refund_order("c-1", "order-1", lines=[1], at=AT, idempotency_key="refund-1")
    # the shirts were 5/14 of the order: 35.71 of the card's 100 back, rounded down
    assert loyalty.stored_value_balance(card.code, at=AT).balance == cny("35.71")
    loyalty.refund_order("c-1", "order-1", at=AT, idempotency_key="refund-2")
    assert loyalty.stored_value_balance(card.code, at=AT).balance == cny("100.00")
    again = pay()
    assert again.receipt.replayed and again.tenders == order.tenders


def test_a_used_voucher_cannot_be_used_on_another_order(loyalty: Loyalty) -> None:
    code = coupon(loyalty)
    loyalty.checkout("c-1", BASKET, vouchers=[code], at=AT, idempotency_key="order-1")
    with pytest.raises(VoucherNotValid, match="used"):
        loyalty.checkout("c-1", BASKET, vouchers=[code], at=AT, idempotency_key="order-2")


def test_a_refusal_changes_nothing(loyalty: Loyalty) -> None:
    code = coupon(loyalty)
    small = Purchase(
        amount=cny("150"),
        items=(
            Item(sku="run-2", category="shoes", unit_price=cny("90")),
            Item(sku="tee-1", category="shirts", unit_price=cny("60")),
        ),
    )
    before = loyalty.balance("c-1", at=AT).available
    with pytest.raises(DiscountRefused, match="minimum spend of 100"):
        loyalty.checkout(
            "c-1", small, vouchers=[code], points=500, offset_reward="cash", at=AT,
            idempotency_key="order-1",
        )  # fmt: skip
    with pytest.raises(OffsetRefused):
        loyalty.checkout(
            "c-1", BASKET, vouchers=[code], points=20000, offset_reward="cash", at=AT,
            idempotency_key="order-2",
        )  # fmt: skip
    assert loyalty.balance("c-1", at=AT).available == before
    assert loyalty.validate_voucher("c-1", code, at=AT).valid


def test_a_percent_off_the_order_stops_at_its_maximum(loyalty: Loyalty) -> None:
    code = coupon(loyalty, "tenth-off")
    order = loyalty.checkout("c-1", BASKET, vouchers=[code], at=AT, idempotency_key="order-1")
    assert order.basket.discount == cny("25.00")  # 10% is 30, at most 25
    assert [line.discount for line in order.basket.lines] == [cny("16.67"), cny("8.33")]
    assert order.receipt.balance.available == 5000 - 50 + 275


def test_refunds_undo_the_order_on_the_database_servers(server: Loyalty) -> None:
    test_refunds_undo_the_order_in_proportion_and_in_full(server)


def test_a_gift_card_pays_at_checkout_on_the_database_servers(server: Loyalty) -> None:
    test_a_gift_card_pays_the_rest_in_the_same_command_and_is_refunded(server)


def test_refunds_undo_the_order_in_proportion_and_in_full(loyalty: Loyalty) -> None:
    code = coupon(loyalty)
    before = loyalty.balance("c-1", at=AT).available
    loyalty.checkout(
        "c-1", BASKET, vouchers=[code], points=1000, offset_reward="cash", at=AT,
        idempotency_key="order-1",
    )  # fmt: skip
    part = loyalty.refund_order("c-1", "order-1", lines=[1], at=AT, idempotency_key="refund-1")
    # the tees were 100 of the 280: 5/14 of the points paid back, of the points earned taken
    assert part.balance.available == 4170 + 357 - 96
    assert not loyalty.validate_voucher("c-1", code, at=AT).valid  # used on a kept line
    with pytest.raises(OverReversal, match="line 1"):
        loyalty.refund_order("c-1", "order-1", lines=[1], at=AT, idempotency_key="refund-2")
    whole = loyalty.refund_order("c-1", "order-1", at=AT, idempotency_key="refund-3")
    assert whole.balance.available == before
    assert loyalty.validate_voucher("c-1", code, at=AT).valid


@pytest.mark.parametrize(
    ("purchase", "message"),
    [
        (Purchase(amount=cny("10")), "no lines"),
        (
            Purchase(amount=cny("10"), items=(Item(sku="a", unit_price=cny("9")),)),
            "the lines cost 9",
        ),
        (Purchase(amount=cny("10"), items=(Item(sku="a"),)), "neither an amount"),
    ],
)
def test_a_basket_checkout_cannot_price_is_refused(
    loyalty: Loyalty, purchase: Purchase, message: str
) -> None:
    with pytest.raises(InvalidArgument, match=message):
        loyalty.checkout("c-1", purchase, at=AT, idempotency_key="order-1")


def test_a_voucher_of_a_reward_without_money_off_is_refused(loyalty: Loyalty) -> None:
    terms = VoucherTerms()
    program = Program(
        catalog=RewardCatalog.of(Reward(id="plain", kind="coupon", price=0, voucher=terms))
    )
    plain = Loyalty(program)
    plain.enroll("c-1", at=AT, idempotency_key="enroll")
    code = plain.redeem("c-1", "plain", at=AT, idempotency_key="coupon").vouchers[0]
    with pytest.raises(DiscountRefused, match="takes no money off"):
        plain.checkout("c-1", BASKET, vouchers=[code], at=AT, idempotency_key="order-1")


prices = st.integers(min_value=0, max_value=50_000).map(lambda cents: Decimal(cents) / 100)


@settings(max_examples=60, deadline=None)
@given(
    lines=st.lists(st.tuples(prices, st.sampled_from(["shoes", "bags"])), min_size=1, max_size=5),
    offs=st.lists(
        st.one_of(
            prices.filter(bool).map(lambda amount: MoneyOff(amount=cny(amount))),
            st.integers(min_value=1, max_value=100).map(lambda p: MoneyOff(percent=p)),
            st.just(MoneyOff(percent="33", scope={"categories": ["shoes"]})),
        ),
        max_size=3,
    ),
    rounding=st.sampled_from(["ROUND_HALF_EVEN", "ROUND_HALF_UP", "ROUND_DOWN", "ROUND_UP"]),
)
def test_a_priced_basket_sums_exactly_and_never_goes_below_zero(
    lines: list[tuple[Decimal, str]], offs: list[MoneyOff], rounding: str
) -> None:
    items = tuple(
        Item(sku=f"s{n}", category=category, unit_price=cny(price))
        for n, (price, category) in enumerate(lines)
    )
    purchase = Purchase(
        amount=sum((item.unit_price for item in items if item.unit_price), cny(0)), items=items
    )
    basket = price_basket(
        purchase, [(f"d{n}", off) for n, off in enumerate(offs)], rounding=rounding
    )
    assert basket.total == basket.subtotal - basket.discount
    assert basket.total >= cny(0)
    assert all(line.net >= cny(0) for line in basket.lines)
    assert sum((d.amount for d in basket.discounts), cny(0)) == basket.discount
    paid = basket.paying(basket.total)
    assert paid.to_pay == cny(0)
    assert all(line.to_pay >= cny(0) for line in paid.lines)


@settings(max_examples=60, deadline=None)
@given(
    total=st.integers(min_value=0, max_value=10_000),
    weights=st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=6),
)
def test_allocation_sums_exactly_and_respects_every_weight(total: int, weights: list[int]) -> None:
    money = [cny(Decimal(w) / 100) for w in weights]
    amount = cny(Decimal(min(total, sum(weights))) / 100)
    shares = allocate(amount, money, rounding="ROUND_HALF_EVEN")
    assert sum(shares, cny(0)) == amount
    assert all(cny(0) <= share <= weight for share, weight in zip(shares, money, strict=True))
    assert allocate(amount, money, rounding="ROUND_HALF_EVEN") == shares  # deterministic


@settings(max_examples=15, deadline=None)
@given(
    lines=st.lists(st.integers(min_value=100, max_value=30_000), min_size=1, max_size=4),
    share=st.integers(min_value=0, max_value=50),
    first=st.lists(st.integers(min_value=0, max_value=3), max_size=2, unique=True),
)
def test_a_full_refund_restores_the_balance_exactly(
    lines: list[int], share: int, first: list[int]
) -> None:
    loyalty = Loyalty(PROGRAM)
    loyalty.enroll("c-1", at=AT, idempotency_key="enroll")
    loyalty.earn("c-1", 100_000, at=AT, idempotency_key="seed")
    code = coupon(loyalty, "tenth-off")
    before = loyalty.balance("c-1", at=AT).available
    items = tuple(
        Item(sku=f"s{n}", category="shoes", unit_price=cny(Decimal(cents) / 100))
        for n, cents in enumerate(lines)
    )
    purchase = Purchase(amount=cny(Decimal(sum(lines)) / 100), items=items)
    total = price_basket(purchase, [("v", MoneyOff(percent="10", maximum=cny(25)))]).total
    points = int(total.amount * share)  # up to half the bill, at 0.01 a point
    loyalty.checkout(
        "c-1",
        purchase,
        vouchers=[code],
        points=points,
        offset_reward="cash" if points else None,
        at=AT,
        idempotency_key="order",
    )
    some = [n for n in first if n < len(lines)]
    if some and len(some) < len(lines):
        loyalty.refund_order("c-1", "order", lines=some, at=AT, idempotency_key="part")
    loyalty.refund_order("c-1", "order", at=AT, idempotency_key="rest")
    assert loyalty.balance("c-1", at=AT).available == before


def test_a_discount_reward_s_money_off_loads_from_a_programme_dict_and_back() -> None:
    data = {
        "rewards": [
            {
                "id": "member-15",
                "kind": "discount",
                "points": 200,
                "money_off": {"percent": "15", "scope": {"exclude": {"categories": ["tobacco"]}}},
            }
        ]
    }
    program = Program.from_dict(data)
    reward = program.catalog.get("member-15", AT)
    assert reward.money_off == MoneyOff(
        percent="15", scope={"exclude": {"categories": ["tobacco"]}}
    )
    assert Program.from_dict(program.to_dict()) == program
    with pytest.raises(InvalidArgument, match="only a discount takes money off"):
        Reward(id="mug", kind="gift", money_off=MoneyOff(amount=cny(1)))
