"""Campaigns that take money off a basket at checkout (满减, percent off a category): their
priority and stacking, their budget in money taken in the checkout's unit of work and
given back by refund_order, the trace, and their dict form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from loyaltykit import (
    Audience,
    Budget,
    Campaign,
    Item,
    Loyalty,
    MemberLimit,
    Money,
    MoneyOff,
    Profile,
    Program,
    Purchase,
    Schedule,
)
from loyaltykit.domain.campaigns import Bonus
from loyaltykit.domain.rewards import Reward, RewardCatalog, VoucherTerms
from loyaltykit.errors import DiscountRefused, InvalidArgument, ProgramError
from loyaltykit.policy.rules import BaseRate

AT = datetime(2026, 5, 1, 12, tzinfo=UTC)
ALWAYS = Schedule(start=datetime(2026, 1, 1, tzinfo=UTC))


def cny(amount: str | int) -> Money:
    return Money.of(amount, "CNY")


def campaign(id: str, *offs: MoneyOff | Bonus, **fields: Any) -> Campaign:
    return Campaign(id=id, schedule=fields.pop("schedule", ALWAYS), effects=offs, **fields)


SPEND_200 = campaign(
    "spend-200", MoneyOff(amount=cny(20), minimum=cny(200)), budget=Budget(money=cny(50))
)
SHOES_10 = campaign(
    "shoes-10",
    MoneyOff(percent="10", maximum=cny(15), scope={"categories": ["shoes"]}),
    priority=200,
)
BASKET = Purchase(
    amount=cny(300),
    items=(
        Item(sku="run-1", category="shoes", brand="acme", unit_price=cny(200)),
        Item(sku="tee-1", category="shirts", quantity=2, unit_price=cny(50), tags={"cotton"}),
    ),
)


def program(*campaigns: Campaign, **fields: Any) -> Program:
    return Program(rules=(BaseRate(id="base", per=cny(1)),), campaigns=campaigns, **fields)


def store(*campaigns: Campaign, storage: str | None = None, **fields: Any) -> Loyalty:
    loyalty = Loyalty(program(*campaigns, **fields), storage=storage)
    loyalty.enroll("c-1", at=AT, idempotency_key="enroll")
    return loyalty


@pytest.fixture(params=["memory", "sqlite"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    return None if request.param == "memory" else f"sqlite:///{tmp_path}/money-off.db"


def test_spend_200_get_20_off_comes_off_the_lines_and_the_trace_says_so(
    backend: str | None,
) -> None:
    loyalty = store(SPEND_200, SHOES_10, storage=backend)
    order = loyalty.checkout("c-1", BASKET, at=AT, idempotency_key="order")
    spend, shoes = order.basket.discounts
    assert (spend.source, spend.amount, spend.lines) == (
        "campaign:spend-200",
        cny("20.00"),
        ("run-1", "tee-1"),
    )
    # the percent comes off what the shoes still cost after the 满减: 10% of 186.67, at most 15
    assert (shoes.source, shoes.amount, shoes.lines) == (
        "campaign:shoes-10",
        cny("15.00"),
        ("run-1",),
    )
    run, tees = order.basket.lines
    assert run.discounts == (
        ("campaign:spend-200", cny("13.33")),
        ("campaign:shoes-10", cny("15.00")),
    )
    assert tees.discounts == (("campaign:spend-200", cny("6.67")),)
    assert order.basket.to_pay == cny("265.00")
    assert [entry.amount for entry in order.receipt.entries] == [265]
    lines = order.receipt.explanation.splitlines()
    assert lines[:2] == [
        "+ campaign:spend-200: 20.00 CNY off run-1, tee-1",
        "+ campaign:shoes-10: 15.00 CNY off run-1",
    ]
    assert loyalty.campaign_budget("spend-200").cost == cny("20.00")
    again = loyalty.checkout("c-1", BASKET, at=AT, idempotency_key="order")
    assert again.receipt.replayed and again == order
    assert loyalty.campaign_budget("spend-200").cost == cny("20.00")


def test_a_campaign_that_does_not_apply_only_says_why() -> None:
    loyalty = store(SPEND_200)
    small = Purchase(
        amount=cny(150), items=(Item(sku="tee-1", category="shirts", unit_price=cny(150)),)
    )
    order = loyalty.checkout("c-1", small, at=AT, idempotency_key="small")
    assert order.basket.discount == cny(0)
    refused = order.basket.discounts[0]
    assert refused.refusal == "a minimum spend of 200 CNY, 150.00 CNY spent"
    assert order.receipt.explanation.splitlines()[0] == (
        "- campaign:spend-200: a minimum spend of 200 CNY, 150.00 CNY spent"
    )
    assert loyalty.campaign_budget("spend-200").cost == cny("0.00")


def test_each_full_threshold_with_repeat_and_a_scope_on_brands_and_tags() -> None:
    each = campaign(
        "each-100",
        MoneyOff(amount=cny(10), minimum=cny(100), repeat=True, scope={"brands": ["acme"]}),
    )
    cotton = campaign("cotton", MoneyOff(percent="20", scope={"tags": ["cotton"]}))
    order = store(each, cotton).checkout("c-1", BASKET, at=AT, idempotency_key="o")
    first, second = order.basket.discounts
    assert (first.amount, first.lines) == (cny("20.00"), ("run-1",))  # 2 full 100s of acme
    assert (second.amount, second.lines) == (cny("20.00"), ("tee-1",))


def test_an_exclusive_campaign_that_takes_money_off_stops_the_ones_after_it() -> None:
    first = campaign(
        "vip-day", MoneyOff(percent="10", minimum=cny(250)), priority=10, stacking="exclusive"
    )
    loyalty = store(first, SPEND_200)
    order = loyalty.checkout("c-1", BASKET, at=AT, idempotency_key="big")
    taken, stopped = order.basket.discounts
    assert taken.amount == cny("30.00")
    assert stopped.refusal == "not stacked: vip-day is exclusive"
    # an exclusive campaign that takes nothing off stops nothing
    small = Purchase(
        amount=cny(220), items=(Item(sku="tee-9", category="shirts", unit_price=cny(220)),)
    )
    order = loyalty.checkout("c-1", small, at=AT, idempotency_key="small")
    assert [applied.amount for applied in order.basket.discounts] == [cny(0), cny("20.00")]


def test_campaigns_come_off_before_vouchers_so_a_voucher_sees_the_campaign_price() -> None:
    coupon = Reward(
        id="shoes-190",
        kind="coupon",
        price=0,
        voucher=VoucherTerms(
            money_off=MoneyOff(amount=cny(5), minimum=cny(190), scope={"categories": ["shoes"]})
        ),
    )
    loyalty = store(SPEND_200, catalog=RewardCatalog.of(coupon))
    code = loyalty.redeem("c-1", "shoes-190", at=AT, idempotency_key="coupon").vouchers[0]
    # the shoes cost 200, 186.67 after the 满减: the voucher's minimum of 190 is not met
    with pytest.raises(DiscountRefused, match="minimum spend of 190"):
        loyalty.checkout("c-1", BASKET, vouchers=[code], at=AT, idempotency_key="o")
    assert loyalty.campaign_budget("spend-200").cost == cny("0.00")  # nothing was taken


def test_the_money_budget_cuts_the_last_discount_and_refunds_give_it_back(
    backend: str | None,
) -> None:
    loyalty = store(SPEND_200, storage=backend)
    for n in range(3):
        loyalty.checkout("c-1", BASKET, at=AT, idempotency_key=f"o{n}")
    third = loyalty.checkout("c-1", BASKET, at=AT, idempotency_key="o3")
    assert third.basket.discounts[0].refusal == "budget spent"
    second = loyalty.checkout("c-1", BASKET, at=AT, idempotency_key="o2")
    assert second.basket.discount == cny("10.00")  # 20, 20, then the 10 left of 50
    assert "the last 10.00 CNY of its budget" in second.receipt.explanation
    view = loyalty.campaign_budget("spend-200")
    assert (view.cost, view.money_left) == (cny("50.00"), cny("0.00"))
    report = loyalty.campaign_report("spend-200", at=AT + timedelta(hours=1))
    assert (report.participants, report.points_issued, report.cost) == (1, 0, cny("50.00"))
    # the tees' share of the 满减 (6.67 of 20) goes back to the budget, then the rest
    loyalty.refund_order("c-1", "o0", lines=[1], at=AT, idempotency_key="r1")
    assert loyalty.campaign_budget("spend-200").money_left == cny("6.67")
    loyalty.refund_order("c-1", "o0", at=AT, idempotency_key="r2")
    assert loyalty.campaign_budget("spend-200").money_left == cny("20.00")
    after = loyalty.checkout("c-1", BASKET, at=AT, idempotency_key="o4")
    assert after.basket.discount == cny("20.00")
    for key in ("o1", "o2", "o3", "o4"):
        loyalty.refund_order("c-1", key, at=AT, idempotency_key=f"back-{key}")
    view = loyalty.campaign_budget("spend-200")
    assert (view.cost, view.money_left) == (cny("0.00"), cny("50.00"))
    assert loyalty.balance("c-1", at=AT).available == 0


def test_a_member_limit_counts_uses_and_participation_is_recorded(backend: str | None) -> None:
    daily = campaign(
        "spend-200",
        MoneyOff(amount=cny(20), minimum=cny(200)),
        member_limit=MemberLimit(times=1, period="day"),
    )
    loyalty = store(daily, storage=backend)
    first = loyalty.checkout("c-1", BASKET, at=AT, idempotency_key="o1")
    second = loyalty.checkout("c-1", BASKET, at=AT, idempotency_key="o2")
    tomorrow = loyalty.checkout("c-1", BASKET, at=AT + timedelta(days=1), idempotency_key="o3")
    assert first.basket.discount == cny("20.00") == tomorrow.basket.discount
    assert second.basket.discounts[0].refusal == "member limit: 1 per day used"
    assert loyalty.participants("spend-200")["c-1"].times == 2


def test_the_audience_and_the_schedule_decide_who_gets_money_off() -> None:
    tagged = campaign("vip", MoneyOff(percent="10"), audience=Audience(tags={"vip"}))
    later = campaign(
        "summer", MoneyOff(percent="10"), schedule=Schedule(start=AT + timedelta(days=30))
    )
    loyalty = store(tagged, later)
    order = loyalty.checkout("c-1", BASKET, at=AT, idempotency_key="o1")
    vip, summer = order.basket.discounts
    assert vip.refusal == "audience: tags [] have none of ['vip']"
    assert summer.refusal is not None and summer.refusal.startswith("not active")
    loyalty.update_profile("c-1", Profile(tags={"vip"}), at=AT, idempotency_key="tag")
    assert loyalty.checkout("c-1", BASKET, at=AT, idempotency_key="o2").basket.discount == cny(
        "30.00"
    )


def test_a_recorded_purchase_takes_no_money_off_and_points_campaigns_still_apply() -> None:
    bonus = Campaign(id="bonus", schedule=ALWAYS, effects=(Bonus(points=5),))
    loyalty = store(SPEND_200, bonus)
    receipt = loyalty.record_purchase("c-1", BASKET, at=AT, idempotency_key="p")
    assert receipt.balance.available == 300 + 5
    assert "spend-200" not in receipt.explanation
    order = loyalty.checkout("c-1", BASKET, at=AT, idempotency_key="o")
    assert [entry.amount for entry in order.receipt.entries] == [280, 5]


def test_a_basket_in_another_currency_is_not_discounted_by_a_cny_campaign() -> None:
    usd = Purchase(
        amount=Money.of(300, "USD"),
        items=(Item(sku="run-1", category="shoes", unit_price=Money.of(300, "USD")),),
    )
    loyalty = Loyalty(Program(campaigns=(SPEND_200,)))
    loyalty.enroll("c-1", at=AT, idempotency_key="enroll")
    order = loyalty.checkout("c-1", usd, at=AT, idempotency_key="o")
    assert order.basket.discounts[0].refusal == "the basket is in USD, the campaign in CNY"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: campaign("mixed", MoneyOff(percent="5"), Bonus(points=1)), "gives nothing else"),
        (
            lambda: campaign("ev", MoneyOff(percent="5"), events=("review",)),
            "is not \\['purchase'\\]",
        ),
        (
            lambda: campaign("lim", MoneyOff(percent="5"), member_limit=MemberLimit(points=10)),
            "counts times, not points",
        ),
        (lambda: campaign("pts", MoneyOff(percent="5"), budget=Budget(points=10)), "money alone"),
        (
            lambda: Campaign(
                id="points",
                schedule=ALWAYS,
                effects=(Bonus(points=1),),
                budget=Budget(money=cny(5)),
            ),
            "needs point_cost",
        ),
        (lambda: MoneyOff(amount=cny(5), repeat=True), "needs an amount and a minimum"),
        (lambda: MoneyOff(amount=cny(5), minimum=Money.of(10, "USD")), "currencies differ"),
        (lambda: MoneyOff(percent="5", repeat="yes"), "true or false"),  # type: ignore[arg-type]
    ],
)
def test_a_money_off_campaign_that_makes_no_sense_is_refused(make: Any, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        make()


def test_a_money_off_campaign_loads_from_a_programme_dict_and_back() -> None:
    data = {
        "campaigns": [
            {
                "id": "spend-200",
                "schedule": {"start": "2026-01-01T00:00:00+08:00"},
                "effects": [
                    {"kind": "money_off", "amount": "20", "minimum": "200", "repeat": True},
                    {"kind": "money_off", "percent": "5", "scope": {"tags": ["cotton"]}},
                ],
                "budget": {"money": "5000"},
                "stacking": "exclusive",
            }
        ]
    }
    loaded = Program.from_dict(data)
    (found,) = loaded.campaigns
    assert found.effects == (
        MoneyOff(amount=cny(20), minimum=cny(200), repeat=True),
        MoneyOff(percent="5", scope={"tags": ["cotton"]}),
    )
    assert found.budget == Budget(money=cny(5000))
    assert Program.from_dict(loaded.to_dict()).campaigns == loaded.campaigns


def test_a_bad_money_off_effect_is_reported_at_its_path() -> None:
    data = {
        "campaigns": [
            {
                "id": "bad",
                "schedule": {"start": "2026-01-01T00:00:00+08:00"},
                "effects": [{"kind": "money_off", "amount": "-1", "percent": "5", "colour": 1}],
            }
        ]
    }
    with pytest.raises(ProgramError) as caught:
        Program.from_dict(data)
    problems = caught.value.problems
    assert "campaigns[0].effects[0].colour: unknown field" in problems[0]
    assert any(p.startswith("campaigns[0].effects[0].amount:") for p in problems)


@pytest.fixture(params=["postgres", "mariadb"])
def server(request: pytest.FixtureRequest) -> str:
    """PostgreSQL or MariaDB, when their test URLs are set (skipped otherwise)."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


def test_the_money_budget_on_the_database_servers(server: str) -> None:
    from tests.databases import storage_factory

    storage = storage_factory(server)()
    try:
        loyalty = Loyalty(program(SPEND_200), storage=storage)
        loyalty.enroll("c-1", at=AT, idempotency_key="enroll")
        for n in range(3):
            loyalty.checkout("c-1", BASKET, at=AT, idempotency_key=f"o{n}")
        assert loyalty.campaign_budget("spend-200").money_left == cny("0.00")
        loyalty.refund_order("c-1", "o0", lines=[1], at=AT, idempotency_key="r1")
        assert loyalty.campaign_budget("spend-200").money_left == cny("6.67")
        loyalty.refund_order("c-1", "o0", at=AT, idempotency_key="r2")
        assert loyalty.campaign_budget("spend-200").money_left == cny("20.00")
    finally:
        storage.close()
        storage.engine.dispose()
