from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from loyaltykit import CustomerStatus, Loyalty, Profile
from loyaltykit.errors import (
    AccountNotActive,
    CustomerAlreadyExists,
    IdempotencyConflict,
    InvalidArgument,
    InvalidIdentifier,
    NaiveDatetime,
    UnknownCustomer,
)

AT = datetime(2026, 4, 1, 9, tzinfo=UTC)


def test_enrolment_is_idempotent_and_keeps_the_profile() -> None:
    loyalty = Loyalty()
    profile = Profile(
        name="Wang Fang", birthday=date(1990, 5, 8), tags={"family"}, preferred_channel="wechat"
    )
    first = loyalty.enroll("c-1", at=AT, idempotency_key="enroll-1", profile=profile)
    again = loyalty.enroll("c-1", at=AT, idempotency_key="enroll-1", profile=profile)
    assert first == again == loyalty.customer("c-1")
    assert first.profile.birthday == date(1990, 5, 8)
    with pytest.raises(IdempotencyConflict, match="enroll-1"):
        loyalty.enroll("c-1", at=AT, idempotency_key="enroll-1", profile=Profile(name="other"))
    with pytest.raises(CustomerAlreadyExists, match="already enrolled"):
        loyalty.enroll("c-1", at=AT, idempotency_key="enroll-2")


def test_referrals_link_existing_members_only() -> None:
    loyalty = Loyalty()
    loyalty.enroll("c-1", at=AT, idempotency_key="e1")
    assert (
        loyalty.enroll("c-2", at=AT, idempotency_key="e2", referred_by="c-1").referred_by == "c-1"
    )
    with pytest.raises(UnknownCustomer, match="ghost"):
        loyalty.enroll("c-3", at=AT, idempotency_key="e3", referred_by="ghost")
    with pytest.raises(InvalidArgument, match="refer themselves"):
        loyalty.enroll("c-4", at=AT, idempotency_key="e4", referred_by="c-4")
    with pytest.raises(UnknownCustomer):
        loyalty.customer("c-3")


def test_bad_input_is_refused_with_the_value_named() -> None:
    loyalty = Loyalty()
    with pytest.raises(NaiveDatetime):
        loyalty.enroll("c-1", at=datetime(2026, 1, 1), idempotency_key="e1")
    with pytest.raises(InvalidIdentifier, match="'has space'"):
        loyalty.enroll("has space", at=AT, idempotency_key="e1")
    with pytest.raises(InvalidArgument, match="tags"):
        Profile(tags="vip")  # type: ignore[arg-type]


def test_status_changes_govern_what_members_can_do() -> None:
    loyalty = Loyalty()
    loyalty.enroll("c-1", at=AT, idempotency_key="e1")
    loyalty.earn("c-1", 100, at=AT, idempotency_key="o1")
    assert loyalty.suspend("c-1", at=AT, idempotency_key="s1").status is CustomerStatus.SUSPENDED
    loyalty.earn("c-1", 10, at=AT, idempotency_key="o2")  # earning continues on hold
    with pytest.raises(AccountNotActive, match="suspended: redeem"):
        loyalty.redeem_points("c-1", 10, at=AT, idempotency_key="r1")
    loyalty.reactivate("c-1", at=AT, idempotency_key="s2")
    loyalty.redeem_points("c-1", 10, at=AT, idempotency_key="r1")
    loyalty.close_account("c-1", at=AT, idempotency_key="c1")
    with pytest.raises(AccountNotActive, match="closed: earn"):
        loyalty.earn("c-1", 10, at=AT, idempotency_key="o3")
    # closing keeps the ledger, and corrections still work
    assert loyalty.balance("c-1").available == 100
    loyalty.adjust("c-1", -100, at=AT, idempotency_key="a1", reason="closing payout", actor="ops")
    assert loyalty.balance("c-1").available == 0


def test_erasure_removes_personal_data_and_keeps_the_ledger() -> None:
    loyalty = Loyalty()
    profile = Profile(name="Zhao Lei", email="zl@example.com", tags={"vip"})
    loyalty.enroll("c-1", at=AT, idempotency_key="e1", profile=profile)
    loyalty.earn("c-1", 40, at=AT, idempotency_key="o1")
    erased = loyalty.erase("c-1", at=AT, idempotency_key="x1")
    assert erased.profile == Profile() and erased.is_erased
    assert loyalty.balance("c-1").available == 40
    replay = loyalty.enroll("c-1", at=AT, idempotency_key="e1", profile=profile)
    assert replay.profile == Profile(), "the stored enrolment outcome must be redacted"
    with pytest.raises(AccountNotActive, match="erased"):
        loyalty.update_profile("c-1", profile, at=AT, idempotency_key="u1")
