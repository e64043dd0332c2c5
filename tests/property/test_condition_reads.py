"""The condition variables a plan builds (only what its conditions read, see
``Plan.reads``) decide every condition as the whole context does, and the engine decides
as it would with the whole context; the shortcut in the rate arithmetic rounds exactly."""

from __future__ import annotations

import decimal
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltykit import Customer, Profile, Program
from loyaltykit.domain.activity import CustomEvent, Purchase
from loyaltykit.policy import engine as engine_module
from loyaltykit.policy.conditions import ROOTS, Condition
from loyaltykit.policy.engine import CustomerState, PolicyEngine, condition_context
from loyaltykit.policy.plan import plan_of
from loyaltykit.testing.strategies import custom_events, profiles, purchases
from loyaltykit.values import rate_points

JOINED = datetime(2026, 1, 5, 9, tzinfo=UTC)
# every root, read whole and by field, fields the context has and fields it lacks, free
# attributes of the event and the profile, paths of three parts
SOURCES = (
    "'coffee' in event.categories",
    "event.amount >= 100 and event.currency == 'CNY'",
    "event.quantity > 2 or 'latte' in event.skus",
    "event.type == 'purchase' and event.channel == ''",
    "event.store == 'sh-01'",
    "event.nights >= 2",
    "event.amount.x == 1",
    "'amount' in event",
    "len(event) > 3",
    "'vip' in customer.tags",
    "customer.tier == 'gold' or customer.purchases > 3",
    "customer.segment == 'b2b'",
    "customer.birthday != none and is_birthday_month(customer.birthday, at)",
    "customer.status == 'active' and customer.id == 'c'",
    "customer.channel == 'sms' and customer.enrolled_at < at",
    "len(customer) > 9",
    "counters.x > 3",
    "counters.y == none",
    "len(counters) >= 1",
    "day_of_week(at) >= 6",
)


@settings(max_examples=150, deadline=None)
@given(
    sources=st.lists(st.sampled_from(SOURCES), min_size=1, max_size=4),
    event=purchases() | custom_events(attributes={"check_in": {"nights": st.integers(0, 5)}}),
    profile=profiles(attributes={"segment": st.sampled_from(["b2b", "b2c"])}),
    purchases_before=st.integers(0, 5),
    counters=st.dictionaries(st.sampled_from(["x", "cap:daily:2026-03-02"]), st.integers(0, 9)),
    tier=st.none() | st.sampled_from(["silver", "gold"]),
    days=st.integers(0, 60),
)
def test_the_variables_read_decide_as_the_whole_context(
    sources: list[str],
    event: Purchase | CustomEvent,
    profile: Profile,
    purchases_before: int,
    counters: dict[str, int],
    tier: str | None,
    days: int,
) -> None:
    event_type = event.type
    program = Program.from_dict(
        {
            "name": "reads",
            "timezone": "Asia/Shanghai",
            "rules": [
                {
                    "id": f"r{n}",
                    "kind": "fixed",
                    "amount": n + 1,
                    "event": event_type,
                    "priority": n,
                    "condition": source,
                }
                for n, source in enumerate(sources)
            ],
        }
    )
    state = CustomerState(
        customer=Customer(id="c", enrolled_at=JOINED, profile=profile),
        tier=tier,
        counters=counters,
        purchases=purchases_before,
    )
    at = JOINED + timedelta(days=days, hours=7)
    reads = plan_of(program).reads
    assert reads is not None
    partial = condition_context(program, state, event, at, reads)
    whole = condition_context(program, state, event, at)
    for source in sources:
        condition = Condition.parse(source, names=ROOTS)
        assert condition.evaluate(partial) == condition.evaluate(whole)
    decision = PolicyEngine().evaluate(program, state, event, at)
    whole_plan = attrs.evolve(plan_of(program), reads=None)
    with pytest.MonkeyPatch.context() as patch:  # the engine given the whole context
        patch.setattr(engine_module, "plan_of", lambda _program: whole_plan)
        assert PolicyEngine().evaluate(program, state, event, at) == decision


@settings(max_examples=300, deadline=None)
@given(
    spent=st.decimals(min_value=0, max_value=10**9, places=4, allow_nan=False),
    per=st.decimals(min_value=Decimal("0.01"), max_value=1000, places=2, allow_nan=False),
    points=st.integers(1, 50),
    rounding=st.sampled_from([getattr(decimal, n) for n in dir(decimal) if n.startswith("ROUND_")]),
)
def test_rate_points_rounds_the_exact_quotient(
    spent: Decimal, per: Decimal, points: int, rounding: str
) -> None:
    exact = Fraction(spent) * points / Fraction(per)
    with decimal.localcontext(prec=80):
        quotient = Decimal(exact.numerator) / Decimal(exact.denominator)
        expected = int(quotient.quantize(Decimal(1), rounding=rounding))
    assert rate_points(spent, per=per, points=points, rounding=rounding) == expected
