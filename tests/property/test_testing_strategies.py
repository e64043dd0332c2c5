"""The public strategies: valid values, bounds checked up front, and strategies derived
from a programme that produce what the programme reads."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from loyaltykit import Program
from loyaltykit.domain.activity import CustomEvent, Purchase
from loyaltykit.testing import History, Refund
from loyaltykit.testing import strategies as lks
from loyaltykit.testing.readings import Reading, readings

PROGRAMS = Path(__file__).resolve().parents[2] / "examples" / "programs"
RETAIL = Program.from_toml(PROGRAMS / "retail.toml")
AIRLINE = Program.from_toml(PROGRAMS / "airline.toml")
FEW = settings(max_examples=40, deadline=None)


@pytest.mark.parametrize(
    ("strategy", "arguments"),
    [
        (lks.items, {"max_quantity": 0}),
        (lks.items, {"categories": "coffee"}),
        (lks.items, {"brands": "acme"}),
        (lks.items, {"tags": ["organic", ""]}),
        (lks.purchases, {"brands": [7]}),
        (lks.purchases, {"min_items": 0}),
        (lks.purchases, {"min_items": 3, "max_items": 2}),
        (lks.custom_events, {"types": []}),
        (lks.histories, {"min_steps": 4, "max_steps": 1}),
        (lks.histories, {"member_days": [31]}),
        (lks.profiles, {"tags": []}),
        (lks.channels, {"values": []}),
        (lks.refunds, {"purchase": "not a purchase"}),
        (lks.for_program, {"program": {"name": "dict"}}),
    ],
)
def test_bad_bounds_are_refused_up_front(strategy: Any, arguments: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgument):
        strategy(**arguments)


@FEW
@given(lks.purchases(currency="EUR", max_items=3))
def test_a_purchase_costs_what_its_items_cost(purchase: Purchase) -> None:
    assert purchase.amount.currency == "EUR"
    assert 1 <= len(purchase.items) <= 3
    assert purchase.amount.amount == sum(
        item.total.amount for item in purchase.items if item.total is not None
    )


@FEW
@given(st.data())
def test_a_partial_refund_is_above_zero_and_below_the_whole(data: st.DataObject) -> None:
    purchase = data.draw(lks.purchases())
    amount = data.draw(lks.refunds(purchase))
    assert amount is None or Decimal(0) < amount.amount < purchase.amount.amount


@FEW
@given(lks.for_program(RETAIL).histories(max_steps=8))
def test_histories_are_ordered_and_refund_only_what_was_bought(history: History) -> None:
    times = [history.enrolled_at, *(step.at for step in history.steps)]
    assert times == sorted(times)
    refunded: dict[int, Decimal] = {}
    for number, step in enumerate(history.steps, start=1):
        action = step.action
        if isinstance(action, Refund):
            bought = history.steps[action.purchase - 1].action
            assert isinstance(bought, Purchase) and action.purchase < number
            assert step.at >= history.steps[action.purchase - 1].at
            whole = bought.amount.amount
            already = refunded.get(action.purchase, Decimal(0))
            assert already < whole, "a purchase refunded in full is not refunded again"
            part = whole - already if action.amount is None else action.amount.amount
            refunded[action.purchase] = already + part
            assert refunded[action.purchase] <= whole


@FEW
@given(lks.for_program(RETAIL).histories(min_steps=1))
def test_a_history_prints_as_a_table(history: History) -> None:
    lines = history.table(RETAIL.zone).splitlines()
    assert lines[0].split() == ["when", "what", "amount"]
    assert lines[1].split()[2].startswith("enrol")
    assert len(lines) == 2 + len(history.steps)


def test_readings_find_what_the_retail_programme_reads() -> None:
    found = readings(RETAIL)
    assert found.currency == "CNY"
    assert found.categories == ("coffee",)
    assert found.event_types == ("review_written",)
    assert found.event_attributes["review_written"]["text"] == Reading(kind="text")
    assert found.days_of_month == (8,)
    assert Decimal(500) in found.amounts


def test_readings_infer_kinds_and_literals_from_conditions() -> None:
    program = Program.from_dict(
        {
            "rules": [
                {
                    "id": "vip",
                    "kind": "fixed",
                    "amount": 5,
                    "event": "visit",
                    "condition": "event.floor >= 3 and customer.segment in ['gold', 'jade'] "
                    "and 'vip' in customer.tags and event.channel == 'kiosk'",
                },
                {
                    "id": "app",
                    "kind": "base_rate",
                    "per": "10",
                    "condition": "event.channel == 'app' and 'shoes' in event.categories",
                },
            ]
        }
    )
    found = readings(program)
    assert found.event_attributes["visit"]["floor"] == Reading(kind="number", literals=(3,))
    assert found.customer_attributes["segment"] == Reading(kind="text", literals=("gold", "jade"))
    assert found.tags == ("vip",)
    assert found.channels == ("app",)
    assert found.categories == ("shoes",)


@FEW
@given(lks.for_program(AIRLINE).custom_events().filter(lambda e: e is not None))  # type: ignore[union-attr]
def test_derived_events_carry_the_attributes_the_rules_read(event: CustomEvent) -> None:
    attributes = dict(event.attributes)
    assert event.type == "flight"
    assert isinstance(attributes["distance"], int) and attributes["distance"] > 0
    assert isinstance(attributes["cabin"], str)


@settings(max_examples=15, deadline=None)
@given(lks.programs(max_rules=4))
def test_random_programmes_round_trip_and_have_dict_forms(program: Program) -> None:
    assert Program.from_dict(program.to_dict()) == program


def test_purchases_near_an_amount_price_lines_at_its_edges() -> None:
    """``purchases(near=...)`` draws purchases at a threshold's edges often, not by
    chance (``near`` used to stop short of the lines)."""
    edges = {Decimal("199.99"), Decimal("200.00"), Decimal("100.00"), Decimal("200.01")}
    prices: list[Decimal] = []

    @settings(max_examples=300, database=None, derandomize=True)
    @given(lks.purchases(near=(Decimal("200"),), max_unit_price="1000"))
    def draw(purchase: Purchase) -> None:
        prices.append(purchase.amount.amount)

    draw()
    at_edges = sum(price in edges for price in prices)
    assert at_edges >= len(prices) / 40, f"{at_edges} of {len(prices)} purchases at an edge"
