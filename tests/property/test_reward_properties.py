"""Hypothesis properties of redemptions: stock, limits and cancellations."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltykit import Loyalty, Program
from loyaltykit.domain.redemptions import RedemptionState
from loyaltykit.domain.rewards import RedemptionLimit, Reward, RewardCatalog, VoucherTerms
from loyaltykit.errors import (
    ConcurrencyConflict,
    InsufficientPoints,
    LimitReached,
    LoyaltyError,
    OutOfStock,
    RedemptionClosed,
    RewardUnavailable,
)
from loyaltykit.testing.invariants import ledger_violations

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
CUSTOMERS = ("a", "b", "c")


def shop(reward: Reward, *, balance: int = 10_000) -> Loyalty:
    loyalty = Loyalty(Program(catalog=RewardCatalog.of(reward), timezone="Asia/Shanghai"))
    for customer in CUSTOMERS:
        loyalty.enroll(customer, at=T0, idempotency_key=f"enroll-{customer}")
        if balance:
            loyalty.earn(customer, balance, at=T0, idempotency_key=f"fund-{customer}")
    return loyalty


# one step: redeem (customer, quantity, hours after T0) or cancel the n-th redemption so far
redeem_steps = st.tuples(
    st.just("redeem"),
    st.sampled_from(CUSTOMERS),
    st.integers(min_value=1, max_value=3),
    st.integers(min_value=0, max_value=24 * 6),
)
cancel_steps = st.tuples(
    st.just("cancel"), st.integers(min_value=0, max_value=30), st.just(0), st.just(0)
)
steps = st.lists(st.one_of(redeem_steps, cancel_steps), max_size=30)


def play(loyalty: Loyalty, script: list[tuple[str, object, int, int]]) -> list[tuple[str, str]]:
    """Run the steps; refusals are part of the game. Returns the redemptions made."""
    made: list[tuple[str, str]] = []
    for n, (action, who, quantity, hours) in enumerate(script):
        at = T0 + timedelta(hours=hours)
        try:
            if action == "redeem":
                assert isinstance(who, str)
                loyalty.redeem(who, "prize", quantity, at=at, idempotency_key=f"s{n}")
                made.append((who, f"s{n}"))
            elif made:
                assert isinstance(who, int)
                customer, key = made[who % len(made)]
                last = loyalty.redemption(customer, key).created_at
                loyalty.cancel_redemption(customer, key, at=last, idempotency_key=f"s{n}")
        except (OutOfStock, LimitReached, RedemptionClosed, InsufficientPoints, RewardUnavailable):
            pass
    return made


def live(loyalty: Loyalty) -> list[tuple[str, int, datetime]]:
    return [
        (customer, r.quantity, r.created_at)
        for customer in CUSTOMERS
        for r in loyalty.redemptions(customer)
        if r.state is not RedemptionState.CANCELLED
    ]


@settings(max_examples=60)
@given(stock=st.integers(min_value=0, max_value=8), script=steps)
def test_stock_never_goes_below_zero_and_matches_what_is_held(
    stock: int, script: list[tuple[str, object, int, int]]
) -> None:
    loyalty = shop(Reward(id="prize", kind="gift", price=10, stock=stock))
    play(loyalty, script)
    held = sum(quantity for _, quantity, _ in live(loyalty))
    left = loyalty.stock_left("prize", T0)
    assert left is not None and 0 <= left == stock - held


@settings(max_examples=60)
@given(
    per_day=st.integers(min_value=1, max_value=4),
    per_week=st.integers(min_value=1, max_value=6),
    script=steps,
)
def test_member_limits_are_never_exceeded_in_any_local_period(
    per_day: int, per_week: int, script: list[tuple[str, object, int, int]]
) -> None:
    limits = (
        RedemptionLimit(count=per_day, period="day"),
        RedemptionLimit(count=per_week, period="week"),
    )
    loyalty = shop(Reward(id="prize", kind="gift", price=10, member_limits=limits))
    play(loyalty, script)
    days: dict[tuple[str, object], int] = {}
    weeks: dict[tuple[str, object], int] = {}
    zone = loyalty.versions.latest.zone
    for customer, quantity, at in live(loyalty):
        local = at.astimezone(zone)
        days[customer, local.date()] = days.get((customer, local.date()), 0) + quantity
        week = local.isocalendar()[:2]
        weeks[customer, week] = weeks.get((customer, week), 0) + quantity
    assert all(count <= per_day for count in days.values())
    assert all(count <= per_week for count in weeks.values())


lots = st.lists(
    st.tuples(st.integers(min_value=1, max_value=500), st.none() | st.integers(1, 60)),
    min_size=1,
    max_size=6,
)


def lot_view(loyalty: Loyalty, customer: str) -> list[tuple[str, int, datetime | None]]:
    with loyalty.storage.unit_of_work() as uow:
        return sorted(
            (lot.id, lot.remaining, lot.expires_at) for lot in uow.ledger.lots(customer, "points")
        )


@settings(max_examples=80)
@given(
    lots=lots,
    price=st.integers(min_value=1, max_value=400),
    quantity=st.integers(min_value=1, max_value=3),
    stock=st.none() | st.integers(min_value=3, max_value=10),
    spent_before=st.integers(min_value=0, max_value=200),
)
def test_cancelling_restores_exactly_what_the_redemption_took(
    lots: list[tuple[int, int | None]],
    price: int,
    quantity: int,
    stock: int | None,
    spent_before: int,
) -> None:
    loyalty = shop(Reward(id="prize", kind="gift", price=price, stock=stock), balance=0)
    for n, (amount, days) in enumerate(lots):
        expiry = None if days is None else T0 + timedelta(days=days)
        loyalty.earn("a", amount, at=T0, idempotency_key=f"lot-{n}", expires_at=expiry)
    if 0 < spent_before <= loyalty.balance("a").available:
        loyalty.redeem_points("a", spent_before, at=T0, idempotency_key="before")
    before = (
        lot_view(loyalty, "a"),
        loyalty.balance("a").available,
        loyalty.stock_left("prize", T0),
    )
    try:
        taken = loyalty.redeem("a", "prize", quantity, at=T0, idempotency_key="r")
    except InsufficientPoints:
        assert (lot_view(loyalty, "a"), loyalty.balance("a").available) == before[:2]
        return
    assert loyalty.balance("a").available == before[1] - price * quantity
    cancelled = loyalty.cancel_redemption("a", "r", at=T0, idempotency_key="c")
    after = (
        lot_view(loyalty, "a"),
        loyalty.balance("a").available,
        loyalty.stock_left("prize", T0),
    )
    assert after == before
    debit, back = cancelled.entries
    assert sorted((c.lot_id, -c.delta) for c in debit.lots) == sorted(
        (c.lot_id, c.delta) for c in back.lots
    )
    assert taken.state is RedemptionState.RESERVED
    assert ledger_violations(loyalty.storage, "a", "points") == []


@settings(max_examples=60)
@given(
    stock=st.none() | st.integers(min_value=0, max_value=6),
    per_day=st.integers(min_value=1, max_value=3),
    per_week=st.integers(min_value=1, max_value=8),
    price=st.integers(min_value=0, max_value=3_000),
    script=steps,
    probe=st.integers(min_value=0, max_value=24 * 6),
)
def test_an_offer_says_redeemable_exactly_when_redeem_succeeds(
    stock: int | None,
    per_day: int,
    per_week: int,
    price: int,
    script: list[tuple[str, object, int, int]],
    probe: int,
) -> None:
    reward = Reward(
        id="prize",
        kind="gift",
        price=price,
        stock=stock,
        member_limits=(RedemptionLimit(count=per_day, period="day"),),
        global_limits=(RedemptionLimit(count=per_week, period="week"),),
        available_from=T0 + timedelta(hours=2),
    )
    loyalty = shop(reward, balance=4_000)
    play(loyalty, script)
    at = T0 + timedelta(hours=probe)
    for customer in CUSTOMERS:
        (offer,) = loyalty.offers(customer, at=at)
        try:
            loyalty.redeem(customer, "prize", at=at, idempotency_key="probe")
            outcome = None
        except LoyaltyError as error:
            outcome = str(error)
        assert offer.redeemable == (outcome is None), (offer.refusal, outcome)


@settings(max_examples=40)
@given(
    draws=st.lists(st.sampled_from("ABCDEFGHJKMNPQRS"), min_size=8, max_size=64),
    quantities=st.lists(st.integers(min_value=1, max_value=3), min_size=1, max_size=6),
)
def test_voucher_codes_are_unique_and_valid_only_for_their_owner(
    draws: list[str], quantities: list[int]
) -> None:
    # a poor source that repeats itself: taken codes must be drawn again, never reused
    terms = VoucherTerms(alphabet="ABCDEFGHJKMNPQRS", length=8)
    loyalty = shop(Reward(id="prize", kind="coupon", price=1, voucher=terms))
    source = itertools.cycle(draws)
    loyalty.voucher_source = lambda _alphabet: next(source)
    issued: dict[str, str] = {}
    for n, quantity in enumerate(quantities):
        customer = CUSTOMERS[n % len(CUSTOMERS)]
        try:
            codes = loyalty.redeem(
                customer, "prize", quantity, at=T0, idempotency_key=f"r{n}"
            ).vouchers
        except ConcurrencyConflict:
            continue  # the source ran out of new codes: refused, nothing issued
        assert len(codes) == quantity
        for code in codes:
            assert code not in issued
            issued[code] = customer
    for code, owner in issued.items():
        for customer in CUSTOMERS:
            check = loyalty.validate_voucher(code, customer, T0)
            assert check.valid == (customer == owner)
    assert sorted(v.code for c in CUSTOMERS for v in loyalty.vouchers(c)) == sorted(issued)
