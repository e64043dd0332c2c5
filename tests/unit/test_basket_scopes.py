"""Rules scoped to lines of a basket: rates, multipliers, thresholds and caps see only
the lines in scope; exclusions take lines out, not the basket; the trace names the lines."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltykit import Customer, Loyalty, Money
from loyaltykit.domain.activity import Item, Purchase
from loyaltykit.domain.basket import Scope, eligible_amount, scope_of
from loyaltykit.errors import InvalidArgument, ProgramError
from loyaltykit.formats.canonical import canonical
from loyaltykit.policy.engine import CounterIncrement, CustomerState, PolicyEngine
from loyaltykit.policy.program import Program
from loyaltykit.policy.rules import BaseRate, Cap, Multiplier, PerUnit, SpendThreshold

AT = datetime(2026, 3, 2, 10, tzinfo=UTC)
CNY = "CNY"
SHOES = Scope(categories={"shoes"})
NO_TOBACCO = Scope(exclude=Scope(categories={"tobacco"}))


def state() -> CustomerState:
    return CustomerState(customer=Customer(id="c-1", enrolled_at=AT))


def line(sku: str, category: str, price: str, quantity: int = 1, **more: object) -> Item:
    return Item(
        sku=sku,
        category=category,
        quantity=quantity,
        unit_price=Money.of(price, CNY),
        **more,  # type: ignore[arg-type]
    )


BASKET = Purchase(
    amount=Money.of("620", CNY),  # 20 of delivery on no line
    items=(
        line("run-1", "shoes", "300"),
        line("tee-1", "shirts", "100", 2),
        line("cig-1", "tobacco", "100"),
    ),
)


def evaluate(program: Program, purchase: Purchase = BASKET) -> tuple[int, list[str]]:
    decision = PolicyEngine().evaluate(program, state(), purchase, AT)
    return decision.points(), decision.explain().splitlines()


def test_a_multiplier_scoped_to_shoes_doubles_only_the_shoes_share() -> None:
    program = Program(
        rules=(
            BaseRate(id="base", per=Money.of(10, CNY)),
            Multiplier(id="shoes-x2", factor="2", scope=SHOES),
        )
    )
    points, lines = evaluate(program)
    # 62 on the basket, of which the shoes earned 30 (300 of 620): 62 + 30
    assert points == 92
    assert lines[1].startswith("+ shoes-x2: x2 on categories shoes")
    decision = PolicyEngine().evaluate(program, state(), BASKET, AT)
    assert decision.trace[1].lines == ("run-1",)


def test_an_unscoped_multiplier_still_scales_the_whole_basket() -> None:
    program = Program(
        rules=(BaseRate(id="base", per=Money.of(10, CNY)), Multiplier(id="x2", factor="2"))
    )
    assert evaluate(program)[0] == 124


def test_excluding_tobacco_takes_its_lines_out_not_the_basket() -> None:
    program = Program(rules=(BaseRate(id="base", per=Money.of(10, CNY), scope=NO_TOBACCO),))
    points, lines = evaluate(program)
    assert points == 52  # 620 less the 100 of tobacco; the delivery fee still counts
    decision = PolicyEngine().evaluate(program, state(), BASKET, AT)
    assert decision.trace[0].lines == ("run-1", "tee-1")
    assert "except categories tobacco" in lines[0]


def test_a_multiplier_after_an_excluding_rate_scales_what_the_lines_earned() -> None:
    program = Program(
        rules=(
            BaseRate(id="base", per=Money.of(10, CNY), scope=NO_TOBACCO),
            Multiplier(id="tobacco-x3", factor="3", scope=Scope(categories={"tobacco"})),
        )
    )
    points, lines = evaluate(program)
    assert points == 52
    assert lines[1] == "- tobacco-x3: no points earned on categories tobacco"


def test_points_per_unit_of_a_product_odoo_unit_mode() -> None:
    program = Program(rules=(PerUnit(id="tee-unit", rate=7, scope=Scope(skus={"tee-1"})),))
    assert evaluate(program)[0] == 14


def test_a_scoped_spend_threshold_compares_the_lines_in_scope() -> None:
    rule = SpendThreshold(
        id="shoes-300", threshold=Money.of(300, CNY), amount=50, scope=SHOES, repeat=True
    )
    assert evaluate(Program(rules=(rule,)))[0] == 50
    short = Purchase(amount=Money.of("620", CNY), items=(line("run-2", "shoes", "299.99"),))
    assert evaluate(Program(rules=(rule,)), short)[0] == 0


def test_brands_and_tags_scope_lines_and_exclusions_apply_to_any_match() -> None:
    basket = Purchase(
        amount=Money.of("300", CNY),
        items=(
            line("a", "shoes", "100", brand="acme"),
            line("b", "shoes", "100", tags=frozenset({"clearance"})),
            line("c", "bags", "100", brand="acme", tags=frozenset({"clearance"})),
        ),
    )
    scope = Scope(brands={"acme"}, tags={"clearance"}, exclude=Scope(categories={"bags"}))
    assert scope.positions(basket.items) == (0, 1)
    assert eligible_amount(scope, basket) == Money.of("200", CNY)


def test_a_scoped_cap_clips_only_the_points_its_lines_earned() -> None:
    program = Program(
        rules=(BaseRate(id="base", per=Money.of(10, CNY)),),
        caps=(Cap(id="shoes-day", limit=10, period="day", scope=SHOES),),
    )
    decision = PolicyEngine().evaluate(program, state(), BASKET, AT)
    # the shoes earned 30 of the 62; only 10 of them are allowed
    assert decision.points() == 42
    assert CounterIncrement(key="cap:shoes-day:2026-03-02", amount=10) in decision.effects
    assert decision.trace[-1].lines == ("run-1",)


BAGS_CAPPED = Program(
    rules=(BaseRate(id="base", per=Money.of(10, CNY)),),
    caps=(Cap(id="bags-day", limit=100, period="day", scope=Scope(categories={"bags"})),),
)


def _bags(*prices: str) -> Purchase:
    bags = (line(f"bag-{n}", "bags", price) for n, price in enumerate(prices))
    items = (line("tea", "food", "50.40"), *bags)
    total = sum((item.unit_price.amount for item in items if item.unit_price), Decimal(0))
    return Purchase(amount=Money.of(total, CNY), items=items)


def test_a_line_added_under_a_scoped_cap_never_lowers_the_points() -> None:
    """The bags earn 100.97 exact points, capped at 100; the tea 5.04. One more bag of
    0.50 adds 0.05 to the bags and nothing to the whole basket's rounded 106: the tea
    still earned 5.04, so the purchase still earns 105 (the cap is taken off the exact
    points, and the points are rounded once, after it)."""
    before, _ = evaluate(BAGS_CAPPED, _bags("1009.70"))
    after, _ = evaluate(BAGS_CAPPED, _bags("1009.70", "0.50"))
    assert before == after == 105


@settings(max_examples=200, deadline=None)
@given(
    food=st.decimals(min_value=0, max_value=200, places=2),
    bags=st.lists(st.decimals(min_value=200, max_value=600, places=2), min_size=2, max_size=3),
    extra=st.decimals(min_value=0, max_value=2, places=2),
    category=st.sampled_from(["bags", "food"]),
)
def test_a_scoped_cap_is_monotone_in_the_lines_of_the_basket(
    food: Decimal, bags: list[Decimal], extra: Decimal, category: str
) -> None:
    lines = (line(f"bag-{n}", "bags", str(price)) for n, price in enumerate(bags))
    items = (line("tea", "food", str(food)), *lines)
    more = (*items, line("more", category, str(extra)))
    amount = sum((item.unit_price.amount for item in items if item.unit_price), Decimal(0))
    smaller = Purchase(amount=Money.of(amount, CNY), items=items)
    larger = Purchase(amount=Money.of(amount + extra, CNY), items=more)
    assert evaluate(BAGS_CAPPED, larger)[0] >= evaluate(BAGS_CAPPED, smaller)[0]


def test_a_purchase_without_lines_earns_exactly_as_before() -> None:
    scoped = Program(
        rules=(
            BaseRate(id="base", per=Money.of(10, CNY), scope=NO_TOBACCO),
            Multiplier(id="shoes-x2", factor="2", scope=SHOES),
        )
    )
    plain = Program(rules=(BaseRate(id="base", per=Money.of(10, CNY)),))
    bare = Purchase(amount=Money.of("620", CNY))
    assert evaluate(scoped, bare)[0] == evaluate(plain, bare)[0] == 62


def test_a_rule_on_amounts_needs_the_price_of_every_line_it_reads() -> None:
    unpriced = Purchase(amount=Money.of("10", CNY), items=(Item(sku="x", category="shoes"),))
    program = Program(rules=(BaseRate(id="base", per=Money.of(10, CNY), scope=SHOES),))
    with pytest.raises(InvalidArgument, match="rule base: line 'x' has neither an amount"):
        evaluate(program, unpriced)
    # an unscoped rate does not need line prices
    assert evaluate(Program(rules=(BaseRate(id="base", per=Money.of(10, CNY)),)), unpriced)[0] == 1


def test_a_line_amount_overrides_unit_price_times_quantity() -> None:
    item = line("tee-1", "shirts", "100", 2, amount=Money.of("150", CNY))
    assert item.line_amount == Money.of("150", CNY)
    basket = Purchase(amount=Money.of("150", CNY), items=(item,))
    program = Program(
        rules=(BaseRate(id="base", per=Money.of(10, CNY), scope=Scope(categories={"shirts"})),)
    )
    assert evaluate(program, basket)[0] == 15


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"categorys": ["shoes"]}, "unknown field 'categorys'"),
        ({}, "names no SKU"),
        ({"skus": "run-1"}, "scope skus: 'run-1' is not a list"),
        ({"exclude": {"exclude": {"skus": ["a"]}}}, "no exclusion of its own"),
        ("shoes", "is not a table"),
    ],
)
def test_a_bad_scope_is_refused_with_what_was_wrong(value: object, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        scope_of(value)


def test_scopes_load_from_a_programme_dict_and_dump_back_equal() -> None:
    data = {
        "rules": [
            {
                "id": "base",
                "kind": "base_rate",
                "per": "10",
                "scope": {"exclude": {"categories": ["tobacco"]}},
            },
            {
                "id": "shoes-x2",
                "kind": "multiplier",
                "factor": "2",
                "scope": {"categories": ["shoes"]},
            },
        ],
        "caps": [{"id": "shoes", "limit": 10, "period": "day", "scope": {"skus": ["run-1"]}}],
    }
    program = Program.from_dict(data)
    assert program.rules[0].rule_scope == NO_TOBACCO
    assert program.caps[0].scope == Scope(skus={"run-1"})
    assert Program.from_dict(program.to_dict()) == program
    bad = {"rules": [{"id": "b", "kind": "base_rate", "per": "10", "scope": {"sku": ["x"]}}]}
    with pytest.raises(ProgramError, match=r"rules\[0\].*unknown field 'sku'"):
        Program.from_dict(bad)


def test_an_item_without_the_new_fields_keeps_its_canonical_form() -> None:
    # fingerprints recorded before lines had brands, tags and amounts replay unchanged
    item = Item(sku="a", category="c", quantity=2, unit_price=Money.of("1.50", CNY))
    assert canonical(item) == (
        "Item",
        ("sku", "a"),
        ("category", "c"),
        ("quantity", 2),
        ("unit_price", ("money", "1.5", CNY)),
    )
    assert canonical(line("a", "c", "1", brand="b")) != canonical(line("a", "c", "1"))


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_a_scoped_purchase_through_the_service_and_its_refund(backend: str, tmp_path: Path) -> None:
    program = Program(
        rules=(
            BaseRate(id="base", per=Money.of(10, CNY), scope=NO_TOBACCO),
            Multiplier(id="shoes-x2", factor="2", scope=SHOES),
        )
    )
    storage = None if backend == "memory" else f"sqlite:///{tmp_path}/scopes.db"
    loyalty = Loyalty(program, storage=storage)
    loyalty.enroll("c-1", at=AT, idempotency_key="enroll")
    receipt = loyalty.record_purchase("c-1", BASKET, at=AT, idempotency_key="order-1")
    assert receipt.balance.available == 52 + 30
    assert "[lines run-1]" in (receipt.explanation or "")
    again = loyalty.record_purchase("c-1", BASKET, at=AT, idempotency_key="order-1")
    assert again == receipt
    refunded = loyalty.refund("c-1", "order-1", at=AT, idempotency_key="refund-1")
    assert refunded.balance.available == 0


@settings(max_examples=30, deadline=None)
@given(
    prices=st.lists(st.integers(min_value=0, max_value=500), min_size=1, max_size=5),
    categories=st.lists(st.sampled_from(["shoes", "bags", "food"]), min_size=5, max_size=5),
    fee=st.integers(min_value=0, max_value=50),
)
def test_a_scope_and_its_exclusion_share_the_basket_exactly(
    prices: list[int], categories: list[str], fee: int
) -> None:
    items = tuple(line(f"s{n}", categories[n], str(p)) for n, p in enumerate(prices))
    basket = Purchase(amount=Money.of(sum(prices) + fee, CNY), items=items)
    inside = eligible_amount(SHOES, basket)
    outside = eligible_amount(Scope(exclude=SHOES), basket)
    assert inside + outside == basket.amount


def test_the_fast_path_decides_a_scoped_basket_as_the_explained_one() -> None:
    program = Program(
        rules=(
            BaseRate(id="base", per=Money.of(10, CNY), scope=NO_TOBACCO),
            Multiplier(id="shoes-x2", factor="2", scope=SHOES),
        ),
        caps=(Cap(id="shoes-day", limit=10, period="day", scope=SHOES),),
    )
    explained = PolicyEngine().evaluate(program, state(), BASKET, AT)
    fast = PolicyEngine().evaluate(program, state(), BASKET, AT, explain=False)
    assert fast.effects == explained.effects
    assert fast.trace == ()
