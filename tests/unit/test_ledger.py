"""The ledger through the facade: lots, expiry order, pending, refunds, transfers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from dateutil.relativedelta import relativedelta

from loyaltykit import EntryKind, Loyalty, PointType, Program, RefundPolicy
from loyaltykit.errors import (
    IdempotencyConflict,
    InsufficientPoints,
    InvalidAmount,
    InvalidArgument,
    NaiveDatetime,
    NotReversible,
    OverReversal,
    UnknownCustomer,
    UnknownEntry,
    UnknownPointType,
)

T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


def member(policy: RefundPolicy = RefundPolicy.TAKE_AVAILABLE, **kwargs: object) -> Loyalty:
    loyalty = Loyalty(Program(refund_policy=policy, **kwargs))  # type: ignore[arg-type]
    loyalty.enroll("ann", at=T0, idempotency_key="enroll-ann")
    loyalty.enroll("ben", at=T0, idempotency_key="enroll-ben")
    return loyalty


def test_redemption_spends_soonest_expiring_lots_first_never_expiring_last() -> None:
    loyalty = member()
    loyalty.earn("ann", 100, at=T0, idempotency_key="forever")
    loyalty.earn("ann", 100, at=T0, idempotency_key="late", expires_at=day(60))
    loyalty.earn("ann", 100, at=T0, idempotency_key="soon", expires_at=day(10))
    receipt = loyalty.redeem_points("ann", 150, at=day(1), idempotency_key="r1")
    (redeem,) = receipt.entries_of(EntryKind.REDEEM)
    assert [(c.lot_id, c.delta) for c in redeem.lots] == [
        ("ann:points:3.0", -100),
        ("ann:points:2.0", -50),
    ]
    assert receipt.balance.available == 150


def test_expiry_removes_exactly_what_is_left_of_a_lot() -> None:
    loyalty = member()
    loyalty.earn("ann", 100, at=T0, idempotency_key="o1", expires_at=day(30))
    loyalty.earn("ann", 70, at=T0, idempotency_key="o2")
    loyalty.redeem_points("ann", 60, at=day(1), idempotency_key="r1")
    report = loyalty.expire_due(at=day(31))
    assert (report.expired, report.entries) == (40, 1)
    balance = loyalty.balance("ann")
    assert (balance.available, balance.lifetime_expired) == (70, 40)
    (expiry,) = [
        line.entry for line in loyalty.statement("ann").lines if line.entry.kind is EntryKind.EXPIRE
    ]
    assert expiry.occurred_at == day(30) and expiry.recorded_at == day(31)
    assert loyalty.expire_due(at=day(40)).entries == 0, "expiry runs are idempotent"


def test_a_command_after_expiry_settles_first_so_expired_points_are_never_spent() -> None:
    loyalty = member()
    loyalty.earn("ann", 100, at=T0, idempotency_key="o1", expires_at=day(5))
    with pytest.raises(InsufficientPoints, match="has 0 points available"):
        loyalty.redeem_points("ann", 50, at=day(6), idempotency_key="r1")
    assert loyalty.balance("ann", at=day(6)).available == 0
    assert loyalty.balance("ann", at=day(4)).available == 100


def test_pending_points_are_not_available_until_released() -> None:
    loyalty = member()
    loyalty.earn("ann", 80, at=T0, idempotency_key="o1", available_from=day(7))
    balance = loyalty.balance("ann")
    assert (balance.available, balance.pending) == (0, 80)
    with pytest.raises(InsufficientPoints):
        loyalty.redeem_points("ann", 1, at=day(6), idempotency_key="r1")
    report = loyalty.release_pending(at=day(7))
    assert (report.released, report.accounts) == (80, 1)
    assert (loyalty.balance("ann").available, loyalty.balance("ann").pending) == (80, 0)


def test_refunding_before_release_cancels_pending_points() -> None:
    loyalty = member()
    loyalty.earn("ann", 80, at=T0, idempotency_key="o1", available_from=day(7))
    loyalty.reverse("ann", "o1", at=day(2), idempotency_key="refund-1")
    assert (loyalty.balance("ann").available, loyalty.balance("ann").pending) == (0, 0)


def test_partial_refunds_round_cumulatively_and_net_to_zero() -> None:
    loyalty = member()
    loyalty.earn("ann", 15, at=T0, idempotency_key="o1")
    first = loyalty.reverse("ann", "o1", at=day(1), idempotency_key="ref1", portion="1/2")
    second = loyalty.reverse("ann", "o1", at=day(2), idempotency_key="ref2", portion="1/2")
    assert [first.balance.available, second.balance.available] == [8, 0]
    with pytest.raises(OverReversal):
        loyalty.reverse("ann", "o1", at=day(3), idempotency_key="ref3", portion="1/10")


@pytest.mark.parametrize(
    ("policy", "available", "shortfall"),
    [(RefundPolicy.NEGATIVE_BALANCE, -90, 0), (RefundPolicy.TAKE_AVAILABLE, 0, 90)],
)
def test_refund_of_spent_points_follows_the_programme_policy(
    policy: RefundPolicy, available: int, shortfall: int
) -> None:
    loyalty = member(policy)
    loyalty.earn("ann", 100, at=T0, idempotency_key="o1")
    loyalty.earn("ann", 20, at=T0, idempotency_key="o2")
    loyalty.redeem_points("ann", 110, at=day(1), idempotency_key="r1")  # spends o1 whole, 10 of o2
    receipt = loyalty.reverse("ann", "o1", at=day(2), idempotency_key="refund")
    (reversal,) = receipt.entries_of(EntryKind.REVERSE)
    assert receipt.balance.available == available
    assert reversal.shortfall == shortfall
    # a later purchase repays a deficit first
    after = loyalty.earn("ann", 50, at=day(3), idempotency_key="o3").balance.available
    assert after == available + 50


def test_refund_forgives_points_that_already_expired() -> None:
    loyalty = member(RefundPolicy.NEGATIVE_BALANCE)
    loyalty.earn("ann", 100, at=T0, idempotency_key="o1", expires_at=day(10))
    loyalty.earn("ann", 40, at=T0, idempotency_key="o2")
    loyalty.expire_due(at=day(11))
    receipt = loyalty.reverse("ann", "o1", at=day(12), idempotency_key="refund")
    assert receipt.balance.available == 40, "expired points are gone already: nothing more to take"


def test_cancelled_redemption_restores_lots_with_their_original_expiry() -> None:
    loyalty = member()
    loyalty.earn("ann", 100, at=T0, idempotency_key="o1", expires_at=day(10))
    loyalty.earn("ann", 100, at=T0, idempotency_key="o2", expires_at=day(90))
    loyalty.redeem_points("ann", 150, at=day(1), idempotency_key="order-9")
    loyalty.reverse("ann", "order-9", at=day(20), idempotency_key="cancel-9")
    # the 100 from o1 came back after o1's expiry: they expire at once, the 50 from o2 stay
    balance = loyalty.balance("ann")
    assert (balance.available, balance.lifetime_expired) == (100, 100)
    assert loyalty.balance("ann", at=day(20), expiring_within=timedelta(days=80)).expiring == 100


def test_transfers_are_one_atomic_pair_and_keep_expiry() -> None:
    loyalty = member()
    loyalty.earn("ann", 100, at=T0, idempotency_key="o1", expires_at=day(10))
    receipt = loyalty.transfer("ann", "ben", 60, at=day(1), idempotency_key="gift")
    kinds = [(e.customer_id, e.kind) for e in receipt.entries]
    assert kinds == [("ann", EntryKind.TRANSFER_OUT), ("ben", EntryKind.TRANSFER_IN)]
    assert [b.available for b in receipt.balances] == [40, 60]
    assert loyalty.balance("ben", at=day(1), expiring_within=timedelta(days=9)).expiring == 60
    with pytest.raises(NotReversible):
        loyalty.reverse("ann", "gift", at=day(2), idempotency_key="undo")
    with pytest.raises(InsufficientPoints):
        loyalty.transfer("ann", "ben", 41, at=day(1), idempotency_key="gift2")
    assert loyalty.balance("ben").available == 60


def test_adjustments_need_a_reason_and_an_actor() -> None:
    loyalty = member()
    with pytest.raises(InvalidArgument, match="reason and an actor"):
        loyalty.adjust("ann", 10, at=T0, idempotency_key="a1", reason="", actor="ops")
    receipt = loyalty.adjust(
        "ann", 10, at=T0, idempotency_key="a1", reason="goodwill", actor="ops-7"
    )
    (entry,) = receipt.entries
    assert (entry.kind, entry.reason, entry.actor) == (EntryKind.ADJUST, "goodwill", "ops-7")
    with pytest.raises(InvalidAmount):
        loyalty.adjust("ann", 0, at=T0, idempotency_key="a2", reason="x", actor="ops")


def test_idempotency_replays_the_first_outcome_and_refuses_other_arguments() -> None:
    loyalty = member()
    first = loyalty.earn("ann", 100, at=T0, idempotency_key="o1", metadata={"order": "A-1"})
    again = loyalty.earn("ann", 100, at=day(5), idempotency_key="o1", metadata={"order": "A-1"})
    assert again == first and again.replayed and not first.replayed
    assert loyalty.balance("ann").available == 100
    with pytest.raises(IdempotencyConflict, match="'o1'"):
        loyalty.earn("ann", 101, at=T0, idempotency_key="o1", metadata={"order": "A-1"})
    with pytest.raises(IdempotencyConflict):
        loyalty.redeem_points("ann", 100, at=T0, idempotency_key="o1")


def test_point_types_are_separate_accounts() -> None:
    loyalty = member()
    loyalty.earn("ann", 100, at=T0, idempotency_key="o1")
    loyalty.earn("ann", 120, at=T0, idempotency_key="o1-tier", point_type="tier")
    assert loyalty.balance("ann", point_type="tier").available == 120
    with pytest.raises(InvalidArgument, match="cannot be redeemed"):
        loyalty.redeem_points("ann", 1, at=T0, idempotency_key="r", point_type="tier")
    with pytest.raises(UnknownPointType, match="stamps"):
        loyalty.earn("ann", 1, at=T0, idempotency_key="s", point_type="stamps")


def test_point_type_default_expiry_uses_calendar_months() -> None:
    program_types = (PointType(code="points", expire_after=relativedelta(months=12)),)
    loyalty = member(point_types=program_types)
    loyalty.earn("ann", 100, at=datetime(2026, 1, 31, tzinfo=UTC), idempotency_key="o1")
    assert loyalty.expire_due(at=datetime(2027, 1, 30, tzinfo=UTC)).expired == 0
    assert loyalty.expire_due(at=datetime(2027, 1, 31, tzinfo=UTC)).expired == 100


def test_bad_arguments_are_refused_before_anything_changes() -> None:
    loyalty = member()
    with pytest.raises(UnknownCustomer, match="'zed'"):
        loyalty.earn("zed", 1, at=T0, idempotency_key="o1")
    with pytest.raises(NaiveDatetime):
        loyalty.earn("ann", 1, at=datetime(2026, 1, 1), idempotency_key="o1")
    with pytest.raises(InvalidAmount, match=r"2\.5"):
        loyalty.earn("ann", 2.5, at=T0, idempotency_key="o1")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="expires_at"):
        loyalty.earn("ann", 1, at=T0, idempotency_key="o1", expires_at=T0)
    with pytest.raises(UnknownEntry, match="nope"):
        loyalty.reverse("ann", "nope", at=T0, idempotency_key="x")
    with pytest.raises(InvalidArgument, match="themselves"):
        loyalty.transfer("ann", "ann", 1, at=T0, idempotency_key="t")
    assert loyalty.statement("ann").lines == ()


def test_balance_at_a_past_instant_is_derived_from_entries() -> None:
    loyalty = member()
    loyalty.earn("ann", 100, at=day(0), idempotency_key="o1")
    loyalty.redeem_points("ann", 30, at=day(5), idempotency_key="r1")
    loyalty.earn("ann", 10, at=day(9), idempotency_key="o2")
    assert [loyalty.balance("ann", at=day(n)).available for n in (0, 4, 5, 9)] == [100, 100, 70, 80]
    statement = loyalty.statement("ann", since=day(1))
    assert statement.opening_available == 100
    assert [line.available for line in statement.lines] == [70, 80]
    with pytest.raises(InvalidArgument, match="expiring_within"):
        loyalty.balance("ann", expiring_within=timedelta(days=1))


def test_batches_do_not_nest_and_refuse_batch_jobs() -> None:
    loyalty = member()
    with loyalty.batch():
        with pytest.raises(InvalidArgument, match="do not nest"), loyalty.batch():
            pass
        with pytest.raises(InvalidArgument, match="outside"):
            loyalty.expire_due(at=T0)
    assert loyalty.expire_due(at=T0).entries == 0


def test_the_points_ledger_is_pure_and_returns_postings() -> None:
    from loyaltykit import Account, Command, PointsLedger

    start = PointsLedger(Account(customer_id="ann", point_type="points"))
    earned = start.credit(100, Command(at=T0, idempotency_key="o1"), expires_at=day(10))
    assert start.account.available == 0, "nothing is changed in place"
    (lot,) = earned.lots
    spent = PointsLedger(earned.account).debit(30, [lot], Command(at=day(1), idempotency_key="r1"))
    assert (spent.account.available, spent.lots[0].remaining) == (70, 70)
    expired = PointsLedger(spent.account).settle(
        spent.lots, Command(at=day(11), idempotency_key=None)
    )
    assert [e.kind for e in expired.entries] == [EntryKind.EXPIRE]
    assert expired.account.available == 0 and expired.account.lifetime_expired == 70


def test_cancelling_a_redemption_never_rewrites_past_balances() -> None:
    loyalty = member()
    loyalty.earn("ann", 100, at=T0, idempotency_key="o1", expires_at=day(10))
    loyalty.earn("ann", 50, at=T0, idempotency_key="o2", expires_at=day(100))
    loyalty.redeem_points("ann", 120, at=day(1), idempotency_key="gift")
    loyalty.expire_due(at=day(11))
    before = [loyalty.balance("ann", at=day(n)).available for n in (0, 1, 10, 15)]
    loyalty.reverse("ann", "gift", at=day(20), idempotency_key="cancel")
    after = [loyalty.balance("ann", at=day(n)).available for n in (0, 1, 10, 15)]
    assert before == after == [150, 30, 30, 30]
    assert loyalty.balance("ann").available == 50
    assert all(line.available >= 0 for line in loyalty.statement("ann").lines)
    (expiry,) = [
        e
        for e in (line.entry for line in loyalty.statement("ann").lines)
        if e.kind is EntryKind.EXPIRE and e.occurred_at == day(20)
    ]
    assert expiry.amount == -100
