"""Hypothesis properties of programs and the policy engine."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_HALF_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
)
from fractions import Fraction

import attrs
from hypothesis import example, given, settings
from hypothesis import strategies as st

from loyaltykit import Customer, Loyalty, Money, points_for
from loyaltykit.domain.activity import Purchase
from loyaltykit.formats.programs import Program
from loyaltykit.policy.engine import CustomerState, Decision, PolicyEngine
from loyaltykit.policy.rules import BaseRate, Cap, Multiplier, SpendThreshold
from loyaltykit.testing.strategies import programs

AT = datetime(2026, 6, 1, 12, tzinfo=UTC)
STATE = CustomerState(customer=Customer(id="c", enrolled_at=AT), purchases=3)
spend = st.integers(0, 1_000_000).map(lambda cents: Money.of(f"{cents / 100:.2f}", "CNY"))


@given(program=programs())
def test_programs_round_trip_through_their_dict_form(program: Program) -> None:
    assert Program.from_dict(program.to_dict()) == program


@given(program=programs(), amount=spend)
def test_evaluation_is_deterministic(program: Program, amount: Money) -> None:
    purchase = Purchase(amount=amount)
    engine = PolicyEngine()
    assert engine.evaluate(program, STATE, purchase, AT) == engine.evaluate(
        program, STATE, purchase, AT
    )


MONOTONE = Program(
    rules=(
        BaseRate(id="base", per=Money.of(10, "CNY")),
        SpendThreshold(id="bonus", threshold=Money.of(500, "CNY"), amount=200, repeat=True),
        Multiplier(id="double", factor="2"),
    ),
    caps=(Cap(id="event-cap", limit=5000, period="event"),),
)


@given(low=spend, extra=spend)
def test_spending_more_never_earns_fewer_points(low: Money, extra: Money) -> None:
    engine = PolicyEngine()
    less = engine.evaluate(MONOTONE, STATE, Purchase(amount=low), AT).points()
    more = engine.evaluate(MONOTONE, STATE, Purchase(amount=low + extra), AT).points()
    assert more >= less


@settings(max_examples=50)
@given(
    amounts=st.lists(st.integers(1, 5000), min_size=1, max_size=12),
    hours=st.lists(st.integers(0, 30), min_size=12, max_size=12),
    limit=st.integers(1, 800),
)
def test_caps_are_never_exceeded_across_commands(
    amounts: list[int], hours: list[int], limit: int
) -> None:
    program = Program(
        rules=(BaseRate(id="base", per=Money.of(1, "CNY")),),
        caps=(Cap(id="daily", limit=limit, period="day"),),
    )
    loyalty = Loyalty(program)
    loyalty.enroll("c", at=AT, idempotency_key="e")
    at = AT
    per_day: dict[str, int] = {}
    for n, amount in enumerate(amounts):
        at += timedelta(hours=hours[n])
        receipt = loyalty.record_purchase(
            "c", Purchase(amount=Money.of(amount, "CNY")), at=at, idempotency_key=f"o{n}"
        )
        day = at.strftime("%Y-%m-%d")
        per_day[day] = per_day.get(day, 0) + sum(e.amount for e in receipt.entries)
        # a replay earns nothing more
        loyalty.record_purchase(
            "c", Purchase(amount=Money.of(amount, "CNY")), at=at, idempotency_key=f"o{n}"
        )
    assert all(total <= limit for total in per_day.values()), per_day
    assert loyalty.balance("c").available == sum(per_day.values())


ROUNDINGS = st.sampled_from(
    [ROUND_DOWN, ROUND_UP, ROUND_HALF_UP, ROUND_HALF_EVEN, ROUND_HALF_DOWN, ROUND_CEILING]
)


@given(
    amount=spend,
    per=st.integers(1, 100_000).map(lambda cents: Money.of(f"{cents / 100:.2f}", "CNY")),
    rate=st.integers(1, 50),
    rounding=ROUNDINGS,
)
@example(amount=Money.of(100, "CNY"), per=Money.of(3, "CNY"), rate=3, rounding=ROUND_DOWN)
def test_the_base_rate_and_points_for_agree_and_are_exact(
    amount: Money, per: Money, rate: int, rounding: str
) -> None:
    rule = BaseRate(id="base", per=per, rate=rate, rounding=rounding)
    program = Program(rules=(rule,))
    earned = PolicyEngine().evaluate(program, STATE, Purchase(amount=amount), AT).points()
    expected = points_for(amount, per=per, points=rate, rounding=rounding)
    assert earned == expected
    # exactly: the exact quotient lies within one point of the result, on the right side
    exact = Fraction(amount.amount) * rate / Fraction(per.amount)
    assert abs(exact - expected) < 1
    if rounding == ROUND_DOWN:
        assert expected == math.floor(exact)
    if rounding == ROUND_UP:
        assert expected == math.ceil(exact)


@given(program=programs(), amount=spend)
def test_upgrade_applies_changes_only_the_events_that_raise_the_tier(
    program: Program, amount: Money
) -> None:
    if program.tiers is None:
        return
    engine = PolicyEngine()

    def decide(applies: str) -> Decision:
        ladder = attrs.evolve(program.tiers, upgrade_applies=applies)
        return engine.evaluate(
            attrs.evolve(program, tiers=ladder), STATE, Purchase(amount=amount), AT
        )

    later, now = decide("next_event"), decide("this_event")
    if later.tier_update is None:
        assert now == later
    else:
        assert now.tier_update is not None
        assert any("applies to this event" in line.detail for line in now.trace) or (now == later)
