"""Referral programmes: caps per referrer, self-referral and cycles refused, leaderboard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltykit import Customer, Loyalty, MemoryStorage, Money, Profile, Program, Purchase
from loyaltykit.domain.referrals import LeaderboardLine, referral_refusal
from loyaltykit.errors import InvalidArgument, ReferralRefused, UnknownCustomer

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)


def program(**referral: object) -> Program:
    rule = {"id": "refer", "kind": "referral", "amount": 50, "referrer_amount": 200, **referral}
    return Program.from_dict({"rules": [{"id": "base", "kind": "base_rate", "per": "10"}, rule]})


def refer(loyalty: Loyalty, referrer: str, *members: str, at: datetime = T0) -> list[str]:
    explanations = []
    for member in members:
        loyalty.enroll(member, at=at, idempotency_key=f"e-{member}", referred_by=referrer)
        receipt = loyalty.record_purchase(
            member, Purchase(amount=Money.of(100, "CNY")), at=at, idempotency_key=f"buy-{member}"
        )
        explanations.append(receipt.explanation)
    return explanations


def test_a_referrer_is_rewarded_up_to_the_cap_and_the_rest_still_count() -> None:
    loyalty = Loyalty(program(referrer_cap=2, referrer_cap_period="year"))
    loyalty.enroll("boss", at=T0, idempotency_key="e-boss")
    explanations = refer(loyalty, "boss", "r1", "r2", "r3")
    assert loyalty.balance("boss").available == 400
    assert "referrer boss +0 (referrer cap 2 per year reached)" in explanations[2]
    assert loyalty.balance("r3").available == 10 + 50  # the referred member still earns
    board = loyalty.referral_leaderboard(since=T0, until=T0 + timedelta(days=1))
    assert board == (LeaderboardLine(referrer="boss", referrals=3, points=400),)
    # a new year, a new allowance
    refer(loyalty, "boss", "r4", at=datetime(2027, 1, 2, tzinfo=UTC))
    assert loyalty.balance("boss").available == 600
    assert set(loyalty.referrals_of("boss")) == {"r1", "r2", "r3", "r4"}


def test_without_a_cap_every_referral_is_rewarded() -> None:
    loyalty = Loyalty(program())
    loyalty.enroll("boss", at=T0, idempotency_key="e-boss")
    refer(loyalty, "boss", "r1", "r2", "r3")
    assert loyalty.balance("boss").available == 600


def test_the_leaderboard_ranks_by_referrals_in_the_period() -> None:
    loyalty = Loyalty(program())
    for name in ("ann", "bob", "cat"):
        loyalty.enroll(name, at=T0, idempotency_key=f"e-{name}")
    refer(loyalty, "ann", "a1")
    refer(loyalty, "bob", "b1", "b2")
    refer(loyalty, "cat", "c1", "c2", "c3", at=T0 + timedelta(days=40))
    march = loyalty.referral_leaderboard(since=T0, until=T0 + timedelta(days=31))
    assert [(line.referrer, line.referrals) for line in march] == [("bob", 2), ("ann", 1)]
    both = loyalty.referral_leaderboard(since=T0, until=T0 + timedelta(days=90), top=2)
    assert [line.referrer for line in both] == ["cat", "bob"]
    with pytest.raises(InvalidArgument, match="is not after since"):
        loyalty.referral_leaderboard(since=T0, until=T0)


def test_referring_yourself_under_another_account_is_refused() -> None:
    loyalty = Loyalty(program())
    loyalty.enroll("me", at=T0, idempotency_key="e-me", profile=Profile(phone="+86 138 0000 0000"))
    with pytest.raises(ReferralRefused, match="same phone") as refused:
        loyalty.enroll(
            "me-too",
            at=T0,
            idempotency_key="e-me-too",
            referred_by="me",
            profile=Profile(phone="+86 138 0000 0000"),
        )
    assert refused.value.reason == "self"
    with pytest.raises(UnknownCustomer):
        loyalty.customer("me-too")  # nothing was stored
    with pytest.raises(UnknownCustomer, match="'ghost'"):
        loyalty.enroll("x", at=T0, idempotency_key="e-x", referred_by="ghost")


def test_a_referral_cycle_is_refused() -> None:
    storage = MemoryStorage()
    with storage.unit_of_work() as uow:  # links imported from an older system
        uow.customers.add(Customer(id="b", enrolled_at=T0, referred_by="a"))
        uow.customers.add(Customer(id="c", enrolled_at=T0, referred_by="b"))
        uow.commit()
    loyalty = Loyalty(program(), storage=storage)
    with pytest.raises(ReferralRefused, match=r"cycle \(referred by: c -> b -> a\)") as refused:
        loyalty.enroll("a", at=T0, idempotency_key="e-a", referred_by="c")
    assert refused.value.reason == "cycle"
    loyalty.enroll("d", at=T0, idempotency_key="e-d", referred_by="c")  # no cycle: fine


def test_referral_refusal_is_pure() -> None:
    one = Customer(id="one", enrolled_at=T0, profile=Profile(email="Li@Example.com"))
    two = Customer(id="two", enrolled_at=T0, profile=Profile(email=" li@example.com"))
    three = Customer(id="three", enrolled_at=T0)
    assert referral_refusal(one, two, []) == ("self", "the referrer has the same email")
    assert referral_refusal(one, three, []) is None
    assert referral_refusal(one, one, []) == ("self", "a member cannot refer themselves")
    assert referral_refusal(one, three, ["x", "one"])[0] == "cycle"  # type: ignore[index]


def test_a_referrer_linked_after_enrolment_is_rewarded_and_cycles_are_refused() -> None:
    loyalty = Loyalty(program())
    loyalty.enroll("a", at=T0, idempotency_key="e-a")
    loyalty.enroll("b", at=T0, idempotency_key="e-b", referred_by="a")
    loyalty.enroll("c", at=T0, idempotency_key="e-c")
    with pytest.raises(ReferralRefused, match=r"cycle \(referred by: b -> a\)") as refused:
        loyalty.link_referrer("a", "b", at=T0, idempotency_key="link-a")
    assert refused.value.reason == "cycle" and loyalty.customer("a").referred_by is None
    linked = loyalty.link_referrer("c", "b", at=T0, idempotency_key="link-c")
    assert linked.referred_by == "b"
    assert loyalty.link_referrer("c", "b", at=T0, idempotency_key="link-c") == linked
    loyalty.record_purchase(
        "c", Purchase(amount=Money.of(100, "CNY")), at=T0, idempotency_key="buy-c"
    )
    assert loyalty.balance("b").available == 200


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        ("referred", "already_referred"),
        ("bought", "too_late"),
        ("self", "self"),
    ],
)
def test_late_links_that_are_refused(setup: str, reason: str) -> None:
    loyalty = Loyalty(program())
    loyalty.enroll("a", at=T0, idempotency_key="e-a")
    loyalty.enroll(
        "b", at=T0, idempotency_key="e-b", referred_by="a" if setup == "referred" else None
    )
    loyalty.enroll("z", at=T0, idempotency_key="e-z")
    if setup == "bought":
        loyalty.record_purchase(
            "b", Purchase(amount=Money.of(10, "CNY")), at=T0, idempotency_key="p"
        )
    referrer = "b" if setup == "self" else "z"
    with pytest.raises(ReferralRefused) as refused:
        loyalty.link_referrer("b", referrer, at=T0, idempotency_key="link")
    assert refused.value.reason == reason


def test_refunding_the_referred_purchase_claws_the_referrers_reward_back() -> None:
    loyalty = Loyalty(program())
    loyalty.enroll("boss", at=T0, idempotency_key="e-boss")
    # the referrer's own purchase under the same key is none of the referral's business
    loyalty.record_purchase(
        "boss", Purchase(amount=Money.of(100, "CNY")), at=T0, idempotency_key="buy-r1"
    )
    refer(loyalty, "boss", "r1", "r2")
    assert loyalty.balance("boss").available == 10 + 400
    # no minimum: a partial refund claws back the same share of the reward
    part = loyalty.refund(
        "r1", "buy-r1", amount=Money.of(25, "CNY"), at=T0, idempotency_key="refund-1"
    )
    assert loyalty.balance("boss").available == 10 + 150 + 200
    assert [(b.customer_id, b.available) for b in part.balances][-1] == ("boss", 360)
    board = loyalty.referral_leaderboard(since=T0, until=T0 + timedelta(days=1))
    assert board == (LeaderboardLine(referrer="boss", referrals=2, points=350),)
    # refunded in full, the referral no longer counts at all
    loyalty.refund("r1", "buy-r1", at=T0, idempotency_key="refund-2")
    assert loyalty.balance("boss").available == 10 + 200
    assert loyalty.balance("r1").available == 0
    board = loyalty.referral_leaderboard(since=T0, until=T0 + timedelta(days=1))
    assert board == (LeaderboardLine(referrer="boss", referrals=1, points=200),)
    assert set(loyalty.referrals_of("boss")) == {"r2"}
    # a replayed refund claws back nothing twice
    loyalty.refund("r1", "buy-r1", at=T0, idempotency_key="refund-2")
    assert loyalty.balance("boss").available == 10 + 200


def test_a_referral_refunded_below_the_minimum_is_clawed_back_whole() -> None:
    loyalty = Loyalty(program(minimum="80"))
    loyalty.enroll("boss", at=T0, idempotency_key="e-boss")
    refer(loyalty, "boss", "r1")
    assert loyalty.balance("boss").available == 200
    loyalty.refund("r1", "buy-r1", amount=Money.of(10, "CNY"), at=T0, idempotency_key="rf-1")
    assert loyalty.balance("boss").available == 180  # 90 left still qualifies: 1/10 back
    loyalty.refund("r1", "buy-r1", amount=Money.of(20, "CNY"), at=T0, idempotency_key="rf-2")
    assert loyalty.balance("boss").available == 0  # 70 left is below 80: all of it back
    assert loyalty.referrals_of("boss") == {}


def test_a_revoked_referral_gives_back_the_referrers_cap_slot_and_referral_count() -> None:
    ladder = {
        "levels": [
            {"code": "member", "rank": 0},
            {
                "code": "ambassador",
                "rank": 1,
                "requirements": [
                    {"metric": "referrals", "at_least": "2", "window": {"kind": "all_time"}}
                ],
            },
        ]
    }
    data = program(referrer_cap=1, referrer_cap_period="lifetime").to_dict()
    loyalty = Loyalty(Program.from_dict({**data, "tiers": ladder}))
    loyalty.enroll("boss", at=T0, idempotency_key="e-boss")
    refer(loyalty, "boss", "r1")
    assert loyalty.forecast("boss", at=T0).to_reach["referrals"] == 1
    loyalty.refund("r1", "buy-r1", at=T0, idempotency_key="refund-r1")
    assert loyalty.forecast("boss", at=T0).to_reach["referrals"] == 2
    refer(loyalty, "boss", "r2")  # the lifetime cap of 1 is free again
    assert loyalty.balance("boss").available == 200


@settings(max_examples=60, deadline=None)
@given(
    cents=st.lists(st.integers(1, 3000), min_size=1, max_size=5),
    minimum=st.none() | st.integers(1, 100),
)
def test_the_referrers_reward_follows_the_refunds_and_never_goes_below_zero(
    cents: list[int], minimum: int | None
) -> None:
    extra = {} if minimum is None else {"minimum": str(minimum)}
    loyalty = Loyalty(program(**extra))
    loyalty.enroll("boss", at=T0, idempotency_key="e-boss")
    refer(loyalty, "boss", "r1")
    refunded = Fraction(0)
    for n, amount in enumerate(cents):
        share = Fraction(amount, 10_000)  # of the 100 CNY purchase, in cents
        if refunded + share > 1:
            break
        money = Money.of(f"{amount / 100:.2f}", "CNY")
        loyalty.refund("r1", "buy-r1", amount=money, at=T0, idempotency_key=f"rf-{n}")
        refunded += share
        left = 100 * (1 - refunded)
        kept = loyalty.balance("boss").available
        if left == 0 or (minimum is not None and left < minimum):
            assert kept == 0 and loyalty.referrals_of("boss") == {}
            break
        # proportional, with the ledger's cumulative rounding: within a point of exact
        assert abs(kept - 200 * (1 - refunded)) < 1
        assert set(loyalty.referrals_of("boss")) == {"r1"}
