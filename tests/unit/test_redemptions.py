"""Redeeming the catalogue through the facade: every check, every refusal, the lifecycle."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dateutil.relativedelta import relativedelta

from loyaltykit import EntryKind, Loyalty, Money, Profile, Program
from loyaltykit.domain.redemptions import RedemptionState, VoucherStatus, voucher_code
from loyaltykit.domain.rewards import (
    CashOffset,
    Eligibility,
    Price,
    RedemptionLimit,
    Reward,
    RewardCatalog,
    VoucherTerms,
)
from loyaltykit.domain.tiers import Requirement, Tier, TierLadder
from loyaltykit.domain.windows import Window
from loyaltykit.errors import (
    AccountNotActive,
    IdempotencyConflict,
    InsufficientPoints,
    InvalidAmount,
    InvalidArgument,
    LimitReached,
    NotEligible,
    NotReversible,
    OffsetRefused,
    OutOfStock,
    RedemptionClosed,
    RewardUnavailable,
    UnknownRedemption,
    UnknownReward,
    VoucherNotValid,
)
from loyaltykit.policy.rules import check

T0 = datetime(2026, 5, 1, 12, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


def cny(amount: str) -> Money:
    return Money.of(amount, "CNY")


MUG = Reward(id="mug", kind="gift", name="Mug", price=100, stock=3, cost=cny("12.50"))
COUPON = Reward(
    id="coupon-20",
    kind="coupon",
    price=200,
    voucher=VoucherTerms(valid_for=relativedelta(days=30), value=cny("20")),
)
CASH = Reward(
    id="cash",
    kind="cash_offset",
    offset=CashOffset(rate=cny("0.01"), max_share="0.5", minimum=100, step=100),
)


def loyalty_with(*rewards: Reward, balance: int = 1000, **program: Any) -> Loyalty:
    loyalty = Loyalty(Program(catalog=RewardCatalog.of(*rewards), **program))
    loyalty.enroll("ann", at=T0, idempotency_key="enroll-ann", profile=Profile(tags={"vip"}))
    loyalty.enroll("ben", at=T0, idempotency_key="enroll-ben")
    for customer in ("ann", "ben"):
        if balance:
            loyalty.earn(customer, balance, at=T0, idempotency_key=f"fund-{customer}")
    return loyalty


def state_of(loyalty: Loyalty, *rewards: str) -> tuple[Any, ...]:
    """Everything a refusal must leave alone."""
    return (
        loyalty.balance("ann"),
        loyalty.redemptions("ann"),
        loyalty.vouchers("ann"),
        tuple(loyalty.stock_left(reward, at=day(0)) for reward in rewards),
        loyalty.statement("ann"),
    )


def refused(
    loyalty: Loyalty, error: type[Exception], attempt: Callable[[], object], *rewards: str
) -> Exception:
    before = state_of(loyalty, *rewards)
    with pytest.raises(error) as caught:
        attempt()
    assert state_of(loyalty, *rewards) == before
    return caught.value


# --- the happy path ---------------------------------------------------------------------


def test_redeem_debits_points_takes_stock_and_records_a_reserved_redemption() -> None:
    loyalty = loyalty_with(MUG)
    redemption = loyalty.redeem("ann", "mug", 2, at=day(1), idempotency_key="r1")
    assert (redemption.state, redemption.points, redemption.quantity) == (
        RedemptionState.RESERVED,
        200,
        2,
    )
    assert redemption.cost == cny("25.00")
    (entry,) = redemption.entries
    assert (entry.kind, entry.amount) == (EntryKind.REDEEM, -200)
    assert loyalty.balance("ann").available == 800
    assert loyalty.stock_left("mug", at=day(1)) == 1
    assert loyalty.redemption("ann", "r1") == redemption
    assert loyalty.redemptions("ann") == (redemption,)


def test_redeem_spends_the_soonest_expiring_lots_first() -> None:
    loyalty = loyalty_with(MUG, balance=0)
    loyalty.earn("ann", 80, at=T0, idempotency_key="late", expires_at=day(90))
    loyalty.earn("ann", 50, at=T0, idempotency_key="soon", expires_at=day(10))
    (entry,) = loyalty.redeem("ann", "mug", at=day(1), idempotency_key="r1").entries
    assert [(c.lot_id, c.delta) for c in entry.lots] == [
        ("ann:points:2.0", -50),
        ("ann:points:1.0", -50),
    ]


def test_replaying_a_redemption_returns_it_and_changes_nothing() -> None:
    loyalty = loyalty_with(MUG)
    first = loyalty.redeem("ann", "mug", at=day(1), idempotency_key="r1")
    before = state_of(loyalty, "mug")
    assert loyalty.redeem("ann", "mug", at=day(1), idempotency_key="r1") == first
    assert state_of(loyalty, "mug") == before
    with pytest.raises(IdempotencyConflict):
        loyalty.redeem("ann", "mug", 2, at=day(1), idempotency_key="r1")


LADDER = TierLadder(
    tiers=(
        Tier(code="blue", rank=0),
        Tier(
            code="gold",
            rank=1,
            requirements=(Requirement(metric="spend", at_least=1, window=Window.rolling()),),
        ),
    )
)


def test_tier_price_and_points_plus_money() -> None:
    ladder = LADDER
    ticket = Reward(
        id="concert",
        kind="ticket",
        price=Price(points=300, money=cny("99")),
        tier_prices={"gold": Price(points=200, money=cny("49"))},
    )
    loyalty = loyalty_with(ticket, tiers=ladder)
    blue = loyalty.redeem("ann", "concert", 2, at=day(1), idempotency_key="r1")
    assert (blue.points, blue.money) == (600, cny("198"))
    loyalty.grant_tier(
        "ben", "gold", until=day(90), at=day(1), idempotency_key="gold", reason="match", actor="op"
    )
    gold = loyalty.redeem("ben", "concert", at=day(2), idempotency_key="r2")
    assert (gold.points, gold.money) == (200, cny("49"))


# --- refusals, each naming its check, each changing nothing -----------------------------


def test_an_unknown_reward_is_refused() -> None:
    loyalty = loyalty_with(MUG)
    error = refused(
        loyalty,
        UnknownReward,
        lambda: loyalty.redeem("ann", "kettle", at=day(1), idempotency_key="r1"),
    )
    assert "kettle" in str(error)


def test_a_reward_before_it_opens_or_after_it_ends_is_unavailable() -> None:
    flash = Reward(id="flash", kind="gift", price=10, available_from=day(2), available_until=day(3))
    loyalty = loyalty_with(flash)
    early = refused(
        loyalty,
        RewardUnavailable,
        lambda: loyalty.redeem("ann", "flash", at=day(1), idempotency_key="r1"),
    )
    assert "opens at" in str(early)
    late = refused(
        loyalty,
        RewardUnavailable,
        lambda: loyalty.redeem("ann", "flash", at=day(3), idempotency_key="r2"),
    )
    assert "ended at" in str(late)
    assert loyalty.redeem("ann", "flash", at=day(2), idempotency_key="r3").points == 10


def test_a_withdrawn_reward_is_unavailable_and_a_repriced_one_costs_the_new_price() -> None:
    catalog = (
        RewardCatalog.of(MUG)
        .change(Reward(id="mug", kind="gift", price=60, stock=3), at=day(5))
        .withdraw("mug", at=day(10))
    )
    loyalty = Loyalty(Program(catalog=catalog))
    loyalty.enroll("ann", at=T0, idempotency_key="e")
    loyalty.earn("ann", 1000, at=T0, idempotency_key="fund")
    assert loyalty.redeem("ann", "mug", at=day(1), idempotency_key="r1").points == 100
    assert loyalty.redeem("ann", "mug", at=day(6), idempotency_key="r2").points == 60
    error = refused(
        loyalty,
        RewardUnavailable,
        lambda: loyalty.redeem("ann", "mug", at=day(10), idempotency_key="r3"),
    )
    assert "withdrawn" in str(error)


def test_a_suspended_member_cannot_redeem() -> None:
    loyalty = loyalty_with(MUG)
    loyalty.suspend("ann", at=day(1), idempotency_key="hold")
    refused(
        loyalty,
        AccountNotActive,
        lambda: loyalty.redeem("ann", "mug", at=day(1), idempotency_key="r1"),
        "mug",
    )


@pytest.mark.parametrize(
    ("eligibility", "customer", "reason"),
    [
        (Eligibility(tiers={"gold"}), "ann", "tier"),
        (Eligibility(tags={"family"}), "ann", "tags"),
        (Eligibility(condition=check("customer.tier == 'gold'")), "ann", "condition"),
        (Eligibility(condition=check("event.quantity <= 1")), "ann", "condition"),
        (
            Eligibility(condition=check(lambda context: context["customer"]["id"] == "ben")),
            "ann",
            "condition",
        ),
    ],
)
def test_eligibility_refusals_say_which_rule_failed(
    eligibility: Eligibility, customer: str, reason: str
) -> None:
    lounge = Reward(id="lounge", kind="privilege", price=50, stock=5, eligibility=eligibility)
    loyalty = loyalty_with(lounge, tiers=LADDER)
    error = refused(
        loyalty,
        NotEligible,
        lambda: loyalty.redeem(customer, "lounge", 2, at=day(1), idempotency_key="r1"),
        "lounge",
    )
    assert isinstance(error, NotEligible) and reason in error.reason


def test_eligible_members_pass_tags_and_condition() -> None:
    eligibility = Eligibility(tags={"vip", "family"}, condition=check("event.reward == 'lounge'"))
    lounge = Reward(id="lounge", kind="privilege", price=50, eligibility=eligibility)
    loyalty = loyalty_with(lounge)
    assert loyalty.redeem("ann", "lounge", at=day(1), idempotency_key="r1").points == 50
    with pytest.raises(NotEligible):
        loyalty.redeem("ben", "lounge", at=day(1), idempotency_key="r2")


def test_the_member_limit_counts_per_period_in_the_program_time_zone() -> None:
    gift = Reward(
        id="gift", kind="gift", price=10, member_limits=(RedemptionLimit(count=2, period="day"),)
    )
    loyalty = loyalty_with(gift, timezone="Asia/Shanghai")
    evening = datetime(2026, 5, 1, 23, 0, tzinfo=SHANGHAI)
    loyalty.redeem("ann", "gift", 2, at=evening, idempotency_key="r1")
    error = refused(
        loyalty,
        LimitReached,
        lambda: loyalty.redeem(
            "ann", "gift", at=evening + timedelta(minutes=30), idempotency_key="r2"
        ),
    )
    assert isinstance(error, LimitReached) and error.scope == "member"
    # 00:30 in Shanghai is a new day even though it is still 1 May in UTC
    loyalty.redeem("ann", "gift", at=evening + timedelta(hours=1, minutes=30), idempotency_key="r3")
    # another member has a limit of their own
    loyalty.redeem("ben", "gift", 2, at=evening, idempotency_key="r4")


def test_member_counts_keep_sixteen_periods_and_refuse_older_commands() -> None:
    gift = Reward(
        id="gift", kind="gift", price=1, member_limits=(RedemptionLimit(count=1, period="day"),)
    )
    # a wide clock-skew tolerance lets the ledger take the backdated commands (at its
    # latest instant), so that the member counters see them dated as sent
    loyalty = loyalty_with(gift, clock_skew=timedelta(days=30))
    loyalty.redeem("ann", "gift", at=day(5), idempotency_key="late-first")
    loyalty.redeem("ann", "gift", at=day(1), idempotency_key="backdated")  # out of order
    with pytest.raises(LimitReached):
        loyalty.redeem("ann", "gift", at=day(5), idempotency_key="again")
    for n in range(6, 21):
        loyalty.redeem("ann", "gift", at=day(n), idempotency_key=f"d{n}")
    # 17 days counted: the oldest (day 1) is forgotten, and a command dated then refused
    refused(
        loyalty,
        InvalidArgument,
        lambda: loyalty.redeem("ann", "gift", at=day(1), idempotency_key="too-old"),
    )
    loyalty.cancel_redemption("ann", "backdated", at=day(21), idempotency_key="c1")
    loyalty.cancel_redemption("ann", "d20", at=day(21), idempotency_key="c2")
    loyalty.redeem("ann", "gift", at=day(20), idempotency_key="d20-again")


def test_the_global_limit_is_shared_by_every_member() -> None:
    gift = Reward(
        id="gift", kind="gift", price=10, global_limits=(RedemptionLimit(count=3, period="week"),)
    )
    loyalty = loyalty_with(gift)
    loyalty.redeem("ann", "gift", 2, at=day(0), idempotency_key="r1")
    loyalty.redeem("ben", "gift", at=day(0), idempotency_key="r2")
    error = refused(
        loyalty,
        LimitReached,
        lambda: loyalty.redeem("ann", "gift", at=day(1), idempotency_key="r3"),
    )
    assert isinstance(error, LimitReached) and error.scope == "global"
    loyalty.redeem("ann", "gift", at=day(7), idempotency_key="r4")  # a new ISO week


def test_out_of_stock_says_how_many_are_left() -> None:
    loyalty = loyalty_with(MUG)
    loyalty.redeem("ben", "mug", 2, at=day(1), idempotency_key="r1")
    error = refused(
        loyalty,
        OutOfStock,
        lambda: loyalty.redeem("ann", "mug", 2, at=day(1), idempotency_key="r2"),
        "mug",
    )
    assert isinstance(error, OutOfStock) and (error.requested, error.left) == (2, 1)


def test_insufficient_points_takes_no_stock_and_no_limit() -> None:
    gift = Reward(
        id="gift",
        kind="gift",
        price=700,
        stock=5,
        member_limits=(RedemptionLimit(count=1, period="lifetime"),),
        global_limits=(RedemptionLimit(count=5, period="day"),),
    )
    loyalty = loyalty_with(gift)
    loyalty.redeem_points("ann", 400, at=day(1), idempotency_key="spend")
    refused(
        loyalty,
        InsufficientPoints,
        lambda: loyalty.redeem("ann", "gift", at=day(1), idempotency_key="r1"),
        "gift",
    )
    loyalty.earn("ann", 100, at=day(1), idempotency_key="top-up")
    assert loyalty.redeem("ann", "gift", at=day(1), idempotency_key="r2").points == 700


def test_bad_arguments_are_refused_before_anything_runs() -> None:
    loyalty = loyalty_with(MUG)
    with pytest.raises(InvalidAmount):
        loyalty.redeem("ann", "mug", 0, at=day(1), idempotency_key="r1")
    with pytest.raises(InvalidArgument):
        loyalty.redeem("ann", "has space", at=day(1), idempotency_key="r1")
    with pytest.raises(InvalidArgument):
        loyalty.redeem("ann", "mug", at=datetime(2026, 5, 1), idempotency_key="r1")


# --- the lifecycle ----------------------------------------------------------------------


def test_fulfil_then_neither_fulfil_nor_cancel_again() -> None:
    loyalty = loyalty_with(MUG)
    loyalty.redeem("ann", "mug", at=day(1), idempotency_key="r1")
    done = loyalty.fulfil_redemption("ann", "r1", at=day(2), idempotency_key="f1", how="picked_up")
    assert (done.state, done.fulfilment, done.closed_at) == (
        RedemptionState.FULFILLED,
        "picked_up",
        day(2),
    )
    assert loyalty.redemption("ann", "r1") == done
    refused(
        loyalty,
        RedemptionClosed,
        lambda: loyalty.cancel_redemption("ann", "r1", at=day(3), idempotency_key="c1"),
        "mug",
    )
    refused(
        loyalty,
        RedemptionClosed,
        lambda: loyalty.fulfil_redemption("ann", "r1", at=day(3), idempotency_key="f2"),
        "mug",
    )


def test_cancel_gives_back_points_to_their_lots_with_original_expiry_and_the_stock() -> None:
    gift = Reward(
        id="gift",
        kind="gift",
        price=150,
        stock=2,
        member_limits=(RedemptionLimit(count=1, period="month"),),
        global_limits=(RedemptionLimit(count=2, period="day"),),
    )
    loyalty = loyalty_with(gift, balance=0)
    loyalty.earn("ann", 100, at=T0, idempotency_key="a", expires_at=day(20))
    loyalty.earn("ann", 100, at=T0, idempotency_key="b", expires_at=day(40))
    loyalty.redeem("ann", "gift", at=day(1), idempotency_key="r1")
    cancelled = loyalty.cancel_redemption(
        "ann", "r1", at=day(2), idempotency_key="c1", reason="changed mind"
    )
    assert (cancelled.state, cancelled.reason) == (RedemptionState.CANCELLED, "changed mind")
    debit, back = cancelled.entries
    assert back.kind is EntryKind.REVERSE and back.reverses == debit.id
    assert sorted((c.lot_id, c.delta) for c in back.lots) == sorted(
        (c.lot_id, -c.delta) for c in debit.lots
    )
    assert loyalty.balance("ann").available == 200
    assert loyalty.stock_left("gift", at=day(2)) == 2
    # the lots keep their expiry: the first lot still expires on day 20
    assert loyalty.expire_due(at=day(21)).expired == 100
    # the member limit and the global limit were given back too
    loyalty.earn("ann", 50, at=day(21), idempotency_key="c")
    loyalty.redeem("ann", "gift", at=day(22), idempotency_key="r2")
    refused(
        loyalty,
        RedemptionClosed,
        lambda: loyalty.cancel_redemption("ann", "r1", at=day(23), idempotency_key="c2"),
    )


def test_unknown_redemption() -> None:
    loyalty = loyalty_with(MUG)
    with pytest.raises(UnknownRedemption):
        loyalty.redemption("ann", "nope")
    with pytest.raises(UnknownRedemption):
        loyalty.cancel_redemption("ann", "nope", at=day(1), idempotency_key="c1")


def test_a_free_reward_needs_no_points_and_cancels_without_a_ledger_entry() -> None:
    gift = Reward(id="birthday-cake", kind="gift", stock=1, cost=cny("30"))
    loyalty = loyalty_with(gift, balance=0)
    redemption = loyalty.redeem("ann", "birthday-cake", at=day(1), idempotency_key="r1")
    assert (redemption.points, redemption.entries) == (0, ())
    with pytest.raises(OutOfStock):
        loyalty.redeem("ben", "birthday-cake", at=day(1), idempotency_key="r2")
    loyalty.cancel_redemption("ann", "r1", at=day(1), idempotency_key="c1")
    assert loyalty.redeem("ben", "birthday-cake", at=day(1), idempotency_key="r3").cost == cny("30")


# --- vouchers ---------------------------------------------------------------------------


def test_a_coupon_issues_one_code_per_unit_from_the_injected_source() -> None:
    loyalty = loyalty_with(COUPON)
    loyalty.voucher_source = random.Random(7).choice
    redemption = loyalty.redeem("ann", "coupon-20", 2, at=day(1), idempotency_key="r1")
    first, second = redemption.vouchers
    expected = random.Random(7)
    alphabet = COUPON.voucher.alphabet if COUPON.voucher else ""
    assert first == "".join(expected.choice(alphabet) for _ in range(12))
    assert first != second and len(second) == 12 and set(second) <= set(alphabet)
    voucher = loyalty.validate_voucher("ann", first, at=day(2)).voucher
    assert voucher is not None
    assert (voucher.expires_at, voucher.value, voucher.uses_left) == (day(31), cny("20"), 1)


def test_a_code_already_taken_is_drawn_again() -> None:
    loyalty = loyalty_with(COUPON)
    draws = iter("A" * 12 + "A" * 12 + "B" * 12)
    loyalty.voucher_source = lambda _alphabet: next(draws)
    assert loyalty.redeem("ann", "coupon-20", 2, at=day(1), idempotency_key="r1").vouchers == (
        "A" * 12,
        "B" * 12,
    )


def test_validate_voucher_says_why_a_code_is_not_valid() -> None:
    terms = VoucherTerms(valid_for=relativedelta(days=10), uses=2)
    coupon = Reward(id="coupon", kind="coupon", price=10, voucher=terms)
    loyalty = loyalty_with(coupon)
    (code,) = loyalty.redeem("ann", "coupon", at=day(1), idempotency_key="r1").vouchers

    def status(customer: str, at: datetime, text: str = code) -> VoucherStatus:
        return loyalty.validate_voucher(customer, text, at=at).status

    assert status("ann", day(2)) is VoucherStatus.VALID
    assert status("ann", day(0)) is VoucherStatus.NOT_YET_VALID
    assert status("ann", day(11)) is VoucherStatus.EXPIRED
    assert status("ben", day(2)) is VoucherStatus.NOT_YOURS
    assert loyalty.validate_voucher("ben", code, at=day(2)).voucher is None
    assert status("ann", day(2), "ZZZZZZZZZZZZ") is VoucherStatus.UNKNOWN
    loyalty.use_voucher("ann", code, at=day(2), idempotency_key="u1")
    # the first use hands the reward over; the code stays valid for its second use
    assert loyalty.redemption("ann", "r1").fulfilment == "voucher_used"
    assert status("ann", day(3)) is VoucherStatus.VALID
    assert loyalty.use_voucher("ann", code, at=day(3), idempotency_key="u2").uses_left == 0
    assert status("ann", day(4)) is VoucherStatus.USED


def test_use_voucher_is_idempotent_and_refusals_are_typed() -> None:
    loyalty = loyalty_with(COUPON)
    (code,) = loyalty.redeem("ann", "coupon-20", at=day(1), idempotency_key="r1").vouchers
    error = refused(
        loyalty,
        VoucherNotValid,
        lambda: loyalty.use_voucher("ben", code, at=day(2), idempotency_key="u0"),
    )
    assert isinstance(error, VoucherNotValid) and error.status == "not_yours"
    used = loyalty.use_voucher("ann", code, at=day(2), idempotency_key="u1")
    assert loyalty.use_voucher("ann", code, at=day(2), idempotency_key="u1") == used
    assert loyalty.vouchers("ann") == (used,)
    with pytest.raises(VoucherNotValid, match="used"):
        loyalty.use_voucher("ann", code, at=day(2), idempotency_key="u2")
    assert loyalty.validate_voucher("ann", "not a code!", at=day(2)).status is VoucherStatus.UNKNOWN
    with pytest.raises(InvalidArgument, match="None"):
        loyalty.validate_voucher("ann", None, at=day(2))  # type: ignore[arg-type]
    with pytest.raises(VoucherNotValid, match="unknown"):
        loyalty.use_voucher("ann", "ABCDEFGHJKMN", at=day(2), idempotency_key="u9")
    with pytest.raises(UnknownReward):
        loyalty.stock_left("kettle", at=day(2))


@pytest.mark.parametrize("typed", ["", "   ", "-", "ABCD-EFGH", "AB CD", "x" * 200, "码"])
def test_whatever_a_person_types_is_answered_unknown_or_found(typed: str) -> None:
    loyalty = loyalty_with(COUPON)
    check = loyalty.validate_voucher("ann", typed, at=day(2))
    assert check.status is VoucherStatus.UNKNOWN and check.voucher is None
    with pytest.raises(VoucherNotValid, match="unknown"):
        loyalty.use_voucher("ann", typed, at=day(2), idempotency_key="u1")


def test_a_code_is_found_however_it_is_typed() -> None:
    loyalty = loyalty_with(COUPON)
    loyalty.voucher_source = lambda _alphabet: "K"
    (code,) = loyalty.redeem("ann", "coupon-20", at=day(1), idempotency_key="r1").vouchers
    assert code == "K" * 12
    full_width = "\uff2b" * 4 + "\uff0d"  # "KKKK-" as a Chinese keyboard types it
    for typed in ("k" * 12, "KKKK-KKKK-KKKK", " kkkk kkkk kkkk ", full_width * 2 + "\uff2b" * 4):
        check = loyalty.validate_voucher("ann", typed, at=day(2))
        assert check.valid and check.code == code
    used = loyalty.use_voucher("ann", "kkkk-kkkk-kkkk", at=day(2), idempotency_key="u1")
    assert used.code == code
    # the same use typed another way is the same command: a replay, not a second use
    assert loyalty.use_voucher("ann", code, at=day(2), idempotency_key="u1") == used


def test_codes_are_issued_in_the_form_they_are_checked_in() -> None:
    terms = VoucherTerms(alphabet="abcdefghjkmnpqrs", length=8)
    loyalty = loyalty_with(Reward(id="coupon", kind="coupon", price=10, voucher=terms))
    loyalty.voucher_source = lambda alphabet: alphabet[0]
    (code,) = loyalty.redeem("ann", "coupon", at=day(1), idempotency_key="r1").vouchers
    assert code == "AAAAAAAA"
    assert loyalty.validate_voucher("ann", "aaaa-aaaa", at=day(2)).valid
    assert voucher_code(" ab-cd ef\u2010gh ") == "ABCDEFGH"
    with pytest.raises(InvalidArgument, match="alphabet"):
        VoucherTerms(alphabet="abcdefghABCDEFGH")  # 8 symbols once case is ignored


def test_cancelling_a_coupon_cancels_its_codes_and_a_used_code_blocks_the_cancel() -> None:
    loyalty = loyalty_with(COUPON)
    (code,) = loyalty.redeem("ann", "coupon-20", at=day(1), idempotency_key="r1").vouchers
    loyalty.cancel_redemption("ann", "r1", at=day(2), idempotency_key="c1")
    assert loyalty.validate_voucher("ann", code, at=day(3)).status is VoucherStatus.CANCELLED
    assert loyalty.balance("ann").available == 1000
    (other,) = loyalty.redeem("ann", "coupon-20", at=day(3), idempotency_key="r2").vouchers
    loyalty.use_voucher("ann", other, at=day(3), idempotency_key="u1")
    refused(
        loyalty,
        RedemptionClosed,
        lambda: loyalty.cancel_redemption("ann", "r2", at=day(4), idempotency_key="c2"),
    )


# --- cash offset ------------------------------------------------------------------------


def test_points_pay_part_of_a_bill_exactly() -> None:
    loyalty = loyalty_with(CASH, balance=10_000)
    paid = loyalty.pay_with_points(
        "ann", "cash", 3000, bill=cny("88.80"), at=day(1), idempotency_key="p1"
    )
    assert (paid.offset, paid.points, paid.cost) == (cny("30.00"), 3000, cny("30.00"))
    assert loyalty.balance("ann").available == 7000
    loyalty.cancel_redemption("ann", "p1", at=day(1), idempotency_key="c1")
    assert loyalty.balance("ann").available == 10_000


@pytest.mark.parametrize(
    ("points", "bill", "words"),
    [
        (5000, "40", "more than the bill"),
        (5000, "80", "more than 0.5 of the bill"),
        (50, "80", "below the minimum"),
        (250, "80", "multiple of 100"),
    ],
)
def test_an_offset_beyond_the_bill_the_share_or_the_steps_is_refused(
    points: int, bill: str, words: str
) -> None:
    loyalty = loyalty_with(CASH, balance=10_000)
    error = refused(
        loyalty,
        OffsetRefused,
        lambda: loyalty.pay_with_points(
            "ann", "cash", points, bill=cny(bill), at=day(1), idempotency_key="p1"
        ),
    )
    assert words in str(error)


def test_a_cash_offset_is_paid_with_pay_with_points_only() -> None:
    loyalty = loyalty_with(CASH, MUG)
    with pytest.raises(InvalidArgument, match="pay_with_points"):
        loyalty.redeem("ann", "cash", at=day(1), idempotency_key="r1")
    with pytest.raises(InvalidArgument, match="redeem"):
        loyalty.pay_with_points("ann", "mug", 100, bill=cny("10"), at=day(1), idempotency_key="r2")
    with pytest.raises(InvalidAmount):
        loyalty.pay_with_points("ann", "cash", 100, bill=cny("0"), at=day(1), idempotency_key="r3")


# --- what members see, what finance sees ---------------------------------------------------


def test_offers_show_each_reward_with_the_member_price_and_the_first_failing_check() -> None:
    rewards = (
        MUG,
        Reward(id="early", kind="gift", price=1, available_from=day(9)),
        Reward(id="vip", kind="gift", price=1, eligibility=Eligibility(tags={"vip"})),
        Reward(
            id="once",
            kind="gift",
            price=1,
            member_limits=(RedemptionLimit(count=1, period="year"),),
        ),
        Reward(
            id="few", kind="gift", price=1, global_limits=(RedemptionLimit(count=1, period="day"),)
        ),
        Reward(id="dear", kind="gift", price=5_000),
        CASH,
    )
    loyalty = loyalty_with(*rewards)
    loyalty.redeem("ann", "once", at=day(1), idempotency_key="r1")
    loyalty.redeem("ann", "few", at=day(1), idempotency_key="r2")
    loyalty.redeem("ann", "mug", 3, at=day(1), idempotency_key="r3")
    seen = {offer.reward.id: offer for offer in loyalty.offers("ben", at=day(1))}
    assert {rid: offer.refusal for rid, offer in seen.items()} == {
        "cash": None,
        "dear": "needs 5000 points, has 1000",
        "early": f"opens at {day(9).isoformat()}",
        "few": "global limit of 1 per day reached",
        "mug": "out of stock",
        "once": None,
        "vip": "needs one of the tags ['vip']",
    }
    assert seen["mug"].stock_left == 0 and seen["once"].stock_left is None
    assert not seen["mug"].redeemable and seen["once"].redeemable
    ann = {offer.reward.id: offer.refusal for offer in loyalty.offers("ann", at=day(1))}
    assert (ann["once"], ann["vip"]) == ("member limit of 1 per year reached", None)
    loyalty.suspend("ben", at=day(1), idempotency_key="hold")
    assert loyalty.offers("ben", at=day(1))[0].refusal == "customer is suspended"


def test_redemption_summary_counts_units_points_cost_and_what_is_owed() -> None:
    loyalty = loyalty_with(MUG, CASH)
    loyalty.redeem("ann", "mug", 2, at=day(1), idempotency_key="r1")
    loyalty.redeem("ben", "mug", at=day(2), idempotency_key="r2")
    loyalty.fulfil_redemption("ben", "r2", at=day(2), idempotency_key="f2")
    loyalty.cancel_redemption("ann", "r1", at=day(3), idempotency_key="c1")
    loyalty.redeem("ann", "mug", at=day(4), idempotency_key="r3")
    loyalty.pay_with_points("ben", "cash", 500, bill=cny("20"), at=day(5), idempotency_key="p1")
    cash, mug = loyalty.redemption_summary(page=2)
    assert (mug.redemptions, mug.units, mug.points, mug.cancelled) == (2, 2, 200, 1)
    assert (mug.cost, mug.outstanding) == (cny("25.00"), cny("12.50"))
    assert (cash.points, cash.cost) == (500, cny("5.00"))
    (early,) = loyalty.redemption_summary(start=day(1), end=day(3))
    assert (early.reward_id, early.redemptions, early.cancelled) == ("mug", 1, 1)


def test_inside_a_batch_a_refused_redemption_is_undone_alone() -> None:
    loyalty = loyalty_with(MUG)
    with loyalty.batch():
        loyalty.redeem("ann", "mug", 2, at=day(1), idempotency_key="r1")
        with pytest.raises(OutOfStock):
            loyalty.redeem("ben", "mug", 2, at=day(1), idempotency_key="r2")
        loyalty.redeem("ben", "mug", at=day(1), idempotency_key="r3")
    assert loyalty.stock_left("mug", at=day(1)) == 0
    assert (loyalty.balance("ann").available, loyalty.balance("ben").available) == (800, 900)


def test_a_reward_in_points_that_cannot_be_redeemed_is_refused() -> None:
    credits = Reward(id="status-gift", kind="gift", price=10, point_type="tier")
    loyalty = loyalty_with(credits)
    loyalty.earn("ann", 100, at=T0, idempotency_key="credits", point_type="tier")
    with pytest.raises(InvalidArgument, match="cannot be redeemed"):
        loyalty.redeem("ann", "status-gift", at=day(1), idempotency_key="r1")


def test_unclaimed_redemptions_are_released_after_their_claim_period() -> None:
    gift = Reward(id="pickup", kind="gift", price=100, stock=2, claim_within=relativedelta(days=7))
    loyalty = loyalty_with(gift)
    first = loyalty.redeem("ann", "pickup", at=day(1), idempotency_key="r1")
    assert first.claim_by == day(8)
    loyalty.redeem("ben", "pickup", at=day(2), idempotency_key="r1")
    loyalty.redeem("ann", "pickup", at=day(1), idempotency_key="r1")  # a replay, not a third
    loyalty.fulfil_redemption("ben", "r1", at=day(3), idempotency_key="f1")
    assert loyalty.release_unclaimed(at=day(7)) == 0
    assert loyalty.stock_left("pickup", at=day(7)) == 0
    assert loyalty.run_due(at=day(8)).unclaimed == 1  # run_due releases them too
    released = loyalty.redemption("ann", "r1")
    assert (released.state, released.reason) == (
        RedemptionState.CANCELLED,
        f"not claimed by {day(8).isoformat()}",
    )
    assert loyalty.balance("ann").available == 1000
    assert loyalty.stock_left("pickup", at=day(8)) == 1
    assert loyalty.redemption("ben", "r1").state is RedemptionState.FULFILLED
    assert loyalty.release_unclaimed(at=day(30), batch_size=1) == 0
    with pytest.raises(InvalidArgument, match="batch"), loyalty.batch():
        loyalty.release_unclaimed(at=day(30))


def test_a_grant_gives_a_reward_free_but_within_its_stock_and_limits() -> None:
    cake = Reward(
        id="cake",
        kind="gift",
        price=500,
        stock=1,
        cost=cny("38"),
        member_limits=(RedemptionLimit(count=1, period="year"),),
        eligibility=Eligibility(tags={"family"}),  # the granting campaign chose the member
    )
    loyalty = loyalty_with(cake, balance=0)
    given = loyalty.grant_reward("ann", "cake", at=day(1), idempotency_key="g1", reason="birthday")
    assert (given.granted, given.points, given.entries, given.cost) == (True, 0, (), cny("38"))
    with pytest.raises(OutOfStock):
        loyalty.grant_reward("ben", "cake", at=day(1), idempotency_key="g1", reason="birthday")
    with pytest.raises(InvalidArgument, match="reason"):
        loyalty.grant_reward("ben", "cake", at=day(1), idempotency_key="g2", reason=" ")
    loyalty.cancel_redemption("ann", "g1", at=day(2), idempotency_key="c1")
    assert loyalty.redemption("ann", "g1").granted
    loyalty.grant_reward("ann", "cake", at=day(3), idempotency_key="g3", reason="birthday")
    with pytest.raises(NotEligible):  # buying it still needs the tag
        loyalty.redeem("ben", "cake", at=day(3), idempotency_key="r1")


def test_one_redemption_that_cannot_be_released_never_stops_the_job(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gift = Reward(id="pickup", kind="gift", price=100, stock=2, claim_within=relativedelta(days=7))
    loyalty = loyalty_with(gift)
    loyalty.redeem("ann", "pickup", at=day(1), idempotency_key="r1")
    loyalty.redeem("ben", "pickup", at=day(1), idempotency_key="r1")
    area = loyalty._areas["RewardCommands"]
    cancel = area.cancel_redemption  # type: ignore[attr-defined]

    def broken(customer_id: str, *args: object, **kwargs: object) -> object:
        if customer_id == "ann":
            raise NotReversible("ann's ledger cannot be reversed")
        return cancel(customer_id, *args, **kwargs)

    monkeypatch.setattr(area, "cancel_redemption", broken)
    report = loyalty.run_due(at=day(8))
    assert report.unclaimed == 1  # ben's, past ann's
    (failure,) = report.failures
    assert (failure.job, failure.owner, failure.reference, failure.error) == (
        "release_unclaimed",
        "ann",
        "r1",
        "NotReversible",
    )
    assert loyalty.redemption("ben", "r1").state is RedemptionState.CANCELLED
    monkeypatch.undo()
    assert loyalty.run_due(at=day(9)).unclaimed == 1  # the next run does ann's
