"""The words of the trace, written from its compact notes when read, are the words the
engine always wrote (these were written by the engine before its trace was recorded
compactly): rates and amounts, conditions quoted, multipliers, caps."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from loyaltykit import Customer, Money, Profile, Program
from loyaltykit.domain.activity import Item, Purchase
from loyaltykit.policy.engine import CustomerState, Decision, PolicyEngine, TraceLine

RETAIL = Program.from_dict(
    json.loads((Path(__file__).parents[2] / "benchmarks" / "retail.json").read_text())
)
GOLD = CustomerState(
    customer=Customer(
        id="c", enrolled_at=datetime(2026, 1, 1, tzinfo=UTC), profile=Profile(tags={"gold"})
    ),
    purchases=3,
    counters={"cap:daily:2026-05-09": 990},
)
SHOES = Purchase(amount=Money.of("699.00", "CNY"), items=(Item(sku="runner", category="shoes"),))
SATURDAY = datetime(2026, 5, 9, 12, tzinfo=UTC)


def test_the_trace_of_a_capped_gold_purchase_reads_as_it_always_did() -> None:
    decision = PolicyEngine().evaluate(RETAIL, GOLD, SHOES, SATURDAY)
    assert decision.explain().splitlines() == [
        "+ base: 1 per 10 CNY on 699.00 CNY -> 69",
        "- coffee: earns nothing here",
        "+ shoes: 20 for purchase",
        "+ spend-500: spend 500 CNY -> +200",
        "- welcome: earns nothing here",
        "+ weekend: 10 for purchase",
        "+ gold: x1.5 -> 448",
        "- member-day: condition not met: day(at) == 8 and event.amount >= 100",
        "+ daily: day cap 1000, 990 used -> 10",
    ]
    assert decision.trace[-1] == TraceLine(
        rule="daily", matched=True, detail="daily: day cap 1000, 990 used -> 10"
    )
    assert decision.points() == 10


def test_an_unread_decision_equals_the_one_built_with_its_lines() -> None:
    engine = PolicyEngine()
    first = engine.evaluate(RETAIL, GOLD, SHOES, SATURDAY)
    second = engine.evaluate(RETAIL, GOLD, SHOES, SATURDAY)
    eager = Decision(effects=first.effects, trace=first.trace)
    assert second == eager and hash(second) == hash(eager) and repr(second) == repr(eager)
    assert {first, second, eager} == {eager}
