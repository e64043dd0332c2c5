"""The policy engine: rules in order, multipliers, exclusivity, caps, the trace."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from loyaltykit import Customer, Money
from loyaltykit.domain.activity import CustomEvent, Item, Purchase
from loyaltykit.formats.programs import Program
from loyaltykit.policy.engine import CounterIncrement, CustomerState, PolicyEngine
from loyaltykit.policy.rules import (
    BaseRate,
    Cap,
    FirstPurchase,
    FixedPoints,
    Multiplier,
    PerUnit,
    Referral,
    SpendThreshold,
)

AT = datetime(2026, 1, 5, 10, tzinfo=UTC)
CNY = "CNY"


def state(
    tier: str | None = None,
    purchases: int = 0,
    counters: dict[str, int] | None = None,
    referred_by: str | None = None,
) -> CustomerState:
    customer = Customer(id="c-1", enrolled_at=AT, referred_by=referred_by)
    return CustomerState(customer=customer, tier=tier, purchases=purchases, counters=counters or {})


def buy(amount: str, *items: Item) -> Purchase:
    return Purchase(amount=Money.of(amount, CNY), items=items)


def gold(context: dict[str, object]) -> bool:
    return context["customer"]["tier"] == "gold"  # type: ignore[index]


RETAIL = Program(
    rules=(
        BaseRate(id="base", per=Money.of(10, CNY)),
        Multiplier(id="gold-x1.5", factor="1.5", condition=gold),
        SpendThreshold(id="spend-500", threshold=Money.of(500, CNY), amount=200),
    ),
    caps=(Cap(id="daily", limit=15, period="day"),),
)


def test_the_issue_example_base_then_multiplier_then_cap() -> None:
    decision = PolicyEngine().evaluate(RETAIL, state(tier="gold"), buy("120.00"), AT)
    assert decision.points() == 15
    assert decision.explain().splitlines() == [
        "+ base: 1 per 10 CNY on 120.00 CNY -> 12",
        "+ gold-x1.5: x1.5 -> 18",
        "- spend-500: earns nothing here",
        "+ daily: day cap 15, 0 used -> 15",
    ]
    assert CounterIncrement(key="cap:daily:2026-01-05", amount=15) in decision.effects


def test_conditions_that_fail_are_explained() -> None:
    decision = PolicyEngine().evaluate(RETAIL, state(tier="silver"), buy("50"), AT)
    assert decision.points() == 5
    assert "- gold-x1.5: condition not met: gold" in decision.explain()


def test_caps_count_what_was_already_used_in_the_period() -> None:
    used = {"cap:daily:2026-01-05": 10}
    assert PolicyEngine().evaluate(RETAIL, state(counters=used), buy("120"), AT).points() == 5
    full = {"cap:daily:2026-01-05": 15}
    decision = PolicyEngine().evaluate(RETAIL, state(counters=full), buy("120"), AT)
    assert decision.points() == 0
    assert decision.earns == ()
    assert not any(isinstance(e, CounterIncrement) for e in decision.effects)
    yesterday = {"cap:daily:2026-01-04": 15}
    assert PolicyEngine().evaluate(RETAIL, state(counters=yesterday), buy("120"), AT).points() == 12


def test_exclusive_rules_stop_later_rules() -> None:
    program = Program(
        rules=(
            FixedPoints(id="promo", amount=100, priority=1, exclusive=True),
            BaseRate(id="base", per=Money.of(10, CNY), priority=5),
        )
    )
    decision = PolicyEngine().evaluate(program, state(), buy("990"), AT)
    assert decision.points() == 100
    assert "- base: excluded by promo" in decision.explain()


def test_per_unit_first_purchase_and_thresholds() -> None:
    program = Program(
        rules=(
            PerUnit(id="per-coffee", rate=5, category="coffee"),
            FirstPurchase(id="welcome", amount=50),
            SpendThreshold(id="every-100", threshold=Money.of(100, CNY), amount=10, repeat=True),
        )
    )
    basket = buy(
        "350", Item(sku="latte", category="coffee", quantity=3), Item(sku="cake", category="food")
    )
    assert PolicyEngine().evaluate(program, state(), basket, AT).points() == 15 + 50 + 30
    assert PolicyEngine().evaluate(program, state(purchases=1), basket, AT).points() == 45


def test_custom_events_earn_fixed_points() -> None:
    program = Program(rules=(FixedPoints(id="survey", event="survey_completed", amount=30),))
    decision = PolicyEngine().evaluate(program, state(), CustomEvent(type="survey_completed"), AT)
    assert decision.points() == 30
    assert PolicyEngine().evaluate(program, state(), buy("100"), AT).points() == 0


def test_referral_rewards_both_sides_once() -> None:
    program = Program(
        rules=(Referral(id="ref", amount=20, referrer_amount=100, minimum=Money.of(50, CNY)),)
    )
    first = PolicyEngine().evaluate(program, state(referred_by="c-0"), buy("60"), AT)
    earns = sorted((e.customer_id, e.points) for e in first.earns)
    assert earns == [("c-0", 100), ("c-1", 20)]
    assert PolicyEngine().evaluate(program, state(referred_by="c-0"), buy("40"), AT).points() == 0
    assert (
        PolicyEngine().evaluate(program, state(referred_by="c-0", purchases=1), buy("60"), AT).earns
        == ()
    )


def test_multipliers_round_with_the_program_rounding() -> None:
    program = Program(
        rounding="ROUND_HALF_UP",
        rules=(
            BaseRate(id="base", per=Money.of(10, CNY)),
            Multiplier(id="x1.25", factor=Decimal("1.25")),
        ),
    )
    assert PolicyEngine().evaluate(program, state(), buy("100"), AT).points() == 13  # 12.5 -> 13


def test_evaluation_is_deterministic_and_needs_an_aware_instant() -> None:
    engine = PolicyEngine()
    assert engine.evaluate(RETAIL, state(), buy("120"), AT) == engine.evaluate(
        RETAIL, state(), buy("120"), AT
    )
    from loyaltykit.errors import NaiveDatetime

    with pytest.raises(NaiveDatetime):
        engine.evaluate(RETAIL, state(), buy("1"), datetime(2026, 1, 1))
