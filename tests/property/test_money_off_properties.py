"""Properties of money-off campaigns: what comes off never passes a discount's maximum, its
campaign's budget or what the lines in scope cost, no line goes below zero, an exclusive
campaign that took money off stops the ones after it; and a checkout refunded (in parts,
then the rest) gives back every point and every unit of money budget it took."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltykit import (
    Budget,
    Campaign,
    Item,
    Loyalty,
    MemberLimit,
    Money,
    MoneyOff,
    Program,
    Purchase,
    Schedule,
)
from loyaltykit.domain.rewards import CashOffset, Reward, RewardCatalog
from loyaltykit.policy.pricing import AppliedDiscount, CampaignDiscount, price_basket
from loyaltykit.policy.rules import BaseRate

AT = datetime(2026, 5, 1, 12, tzinfo=UTC)
ALWAYS = Schedule(start=datetime(2026, 1, 1, tzinfo=UTC))
CATEGORIES = ("shoes", "shirts", "food")
BRANDS = ("acme", "zen")


def cny(cents: int) -> Money:
    return Money.of(Decimal(cents) / 100, "CNY")


lines = st.lists(
    st.builds(
        lambda n, category, brand, quantity, cents: Item(
            sku=f"s{n}", category=category, brand=brand, quantity=quantity, unit_price=cny(cents)
        ),
        st.integers(0, 5),
        st.sampled_from(CATEGORIES),
        st.sampled_from(BRANDS),
        st.integers(1, 3),
        st.integers(1, 40_000),
    ),
    min_size=1,
    max_size=4,
)
scopes = st.none() | st.builds(
    lambda categories, brands: {"categories": categories, "brands": brands},
    st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=2, unique=True),
    st.lists(st.sampled_from(BRANDS), max_size=1),
)


@st.composite
def money_offs(draw: st.DrawFn) -> MoneyOff:
    minimum = draw(st.none() | st.integers(1, 50_000).map(cny))
    fields: dict[str, Any] = {
        "scope": draw(scopes),
        "minimum": minimum,
        "maximum": draw(st.none() | st.integers(1, 10_000).map(cny)),
    }
    if draw(st.booleans()):
        fields["amount"] = cny(draw(st.integers(1, 20_000)))
        fields["repeat"] = minimum is not None and draw(st.booleans())
    else:
        fields["percent"] = draw(st.decimals("0.01", "100", places=2))
    return MoneyOff(**fields)


offers = st.lists(
    st.builds(
        lambda n, offs, exclusive, left: CampaignDiscount(
            campaign=f"c{n}", money_off=tuple(offs), exclusive=exclusive, budget_left=left
        ),
        st.integers(0, 1000),
        st.lists(money_offs(), min_size=1, max_size=2),
        st.booleans(),
        st.none() | st.integers(0, 5_000).map(cny),
    ),
    max_size=3,
    unique_by=lambda offer: offer.campaign,
)


@settings(max_examples=200, deadline=None)
@given(items=lines, offers=offers)
def test_money_off_stays_within_its_maximum_budget_and_lines(
    items: list[Item], offers: list[CampaignDiscount]
) -> None:
    subtotal = sum((item.total or cny(0) for item in items), cny(0))
    basket = price_basket(Purchase(amount=subtotal, items=tuple(items)), [], campaigns=offers)
    assert basket.subtotal == subtotal
    assert basket.total == basket.subtotal - basket.discount
    assert all(line.net.amount >= 0 and line.discount.amount >= 0 for line in basket.lines)
    by_source: dict[str, list[AppliedDiscount]] = {}
    for discount in basket.discounts:
        by_source.setdefault(discount.source, []).append(discount)
    stopped = False
    for offer in offers:
        applied = by_source[f"campaign:{offer.campaign}"]  # one per money off, or a refusal
        took = sum((found.amount for found in applied), cny(0))
        if stopped:
            assert took == cny(0)
        if offer.budget_left is not None:
            assert took <= offer.budget_left
        for found, off in zip(applied, offer.money_off, strict=False):
            if found.refusal is not None:
                assert found.amount == cny(0)
                continue
            if off.maximum is not None:
                assert found.amount <= off.maximum
            in_scope = [item for item in items if off.scope is None or off.scope.includes(item)]
            assert found.amount <= sum((item.total or cny(0) for item in in_scope), cny(0))
            assert {label.split("#")[0] for label in found.lines} <= {i.sku for i in in_scope}
        stopped = stopped or (offer.exclusive and took.amount > 0)
    # what the lines carry of each campaign is what its discounts say came off
    for source, taken in by_source.items():
        on_lines = sum(
            (
                amount
                for line in basket.lines
                for found, amount in line.discounts
                if found == source
            ),
            cny(0),
        )
        assert on_lines == sum((found.amount for found in taken), cny(0))


PROGRAM = Program(
    rules=(BaseRate(id="base", per=Money.of(1, "CNY")),),
    campaigns=(
        Campaign(
            id="spend-200",
            schedule=ALWAYS,
            effects=(MoneyOff(amount=cny(2_000), minimum=cny(20_000), repeat=True),),
            budget=Budget(money=cny(6_000)),
        ),
        Campaign(
            id="shoes-15",
            schedule=ALWAYS,
            effects=(MoneyOff(percent="15", scope={"categories": ["shoes"], "brands": ["acme"]}),),
            budget=Budget(money=cny(4_000)),
            priority=200,
        ),
    ),
    catalog=RewardCatalog.of(
        Reward(id="cash", kind="cash_offset", offset=CashOffset(rate=cny(1), max_share="0.5"))
    ),
)


@settings(max_examples=25, deadline=None)
@given(
    baskets=st.lists(lines, min_size=1, max_size=3),
    points=st.integers(0, 3_000),
    parts=st.lists(st.lists(st.integers(0, 3), max_size=2, unique=True), max_size=3),
)
def test_refunding_every_order_gives_back_every_point_and_every_budget(
    baskets: list[list[Item]], points: int, parts: list[list[int]]
) -> None:
    loyalty = Loyalty(PROGRAM)
    loyalty.enroll("c-1", at=AT, idempotency_key="enroll")
    loyalty.earn("c-1", 10_000, at=AT, idempotency_key="seed")
    before = loyalty.balance("c-1", at=AT)
    keys = []
    for n, items in enumerate(baskets):
        subtotal = sum((item.total or cny(0) for item in items), cny(0))
        purchase = Purchase(amount=subtotal, items=tuple(items))
        # a point pays 0.01 CNY: a quarter of the subtotal is within half of what the
        # campaigns (at most 10% and 15%) leave to pay
        paying = min(points, int(subtotal.amount * 100) // 4)
        loyalty.checkout(
            "c-1",
            purchase,
            points=paying,
            offset_reward="cash" if paying else None,
            at=AT,
            idempotency_key=f"o{n}",
        )
        keys.append((f"o{n}", len(items)))
    for spent in ("spend-200", "shoes-15"):
        view = loyalty.campaign_budget(spent)
        assert view.money_left is not None and view.money_left.amount >= 0
    for (key, count), part in zip(keys, parts, strict=False):
        some = [n for n in part if n < count]
        if some and len(some) < count:
            loyalty.refund_order("c-1", key, lines=some, at=AT, idempotency_key=f"part-{key}")
    for key, _ in keys:
        loyalty.refund_order("c-1", key, at=AT, idempotency_key=f"rest-{key}")
    assert loyalty.balance("c-1", at=AT).available == before.available
    assert loyalty.campaign_budget("spend-200").money_left == cny(6_000)
    assert loyalty.campaign_budget("shoes-15").money_left == cny(4_000)


money_off_campaigns = st.builds(
    lambda n, offs, exclusive, budget, times: Campaign(
        id=f"off-{n}",
        schedule=ALWAYS,
        effects=tuple(offs),
        stacking="exclusive" if exclusive else "stack",
        budget=None if budget is None else Budget(money=cny(budget)),
        member_limit=None if times is None else MemberLimit(times=times, period="day"),
    ),
    st.integers(0, 99),
    st.lists(money_offs(), min_size=1, max_size=3),
    st.booleans(),
    st.none() | st.integers(1, 10**8),
    st.none() | st.integers(1, 5),
)


@settings(max_examples=100, deadline=None)
@given(campaigns=st.lists(money_off_campaigns, max_size=3, unique_by=lambda c: c.id))
def test_money_off_campaigns_read_back_equal_from_their_dict_form(
    campaigns: list[Campaign],
) -> None:
    program = Program(campaigns=tuple(campaigns))
    assert Program.from_dict(program.to_dict()) == program
