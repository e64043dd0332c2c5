"""Households: joining and leaving, pooling, the head redeeming (issue 17)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from loyaltykit import EntryKind, Loyalty
from loyaltykit.errors import HouseholdRefused, InsufficientPoints, InvalidArgument, NotFound
from loyaltykit.storage.base import Storage

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)


@pytest.fixture
def storage(memory_or_sqlite: Storage) -> Storage:
    return memory_or_sqlite


def _family(storage: Storage | None = None, *, on_leave: str = "return") -> Loyalty:
    loyalty = Loyalty(storage=storage)
    for member, points in (("mum", 1000), ("dad", 600), ("kid", 200), ("gran", 50)):
        loyalty.enroll(member, at=T0, idempotency_key=f"e-{member}")
        loyalty.earn(member, points, at=T0, idempotency_key=f"o-{member}")
    loyalty.create_household("mum", "wang", at=T0, idempotency_key="h-1", on_leave=on_leave)
    for member in ("dad", "kid"):
        loyalty.join_household(member, "wang", at=T0, idempotency_key=f"j-{member}")
    return loyalty


def test_members_pool_points_and_the_head_redeems_them(storage: Storage) -> None:
    loyalty = _family(storage)
    loyalty.pool_points("mum", "wang", 600, at=T0, idempotency_key="p-1")
    loyalty.pool_points("dad", "wang", 300, at=T0, idempotency_key="p-1")
    household = loyalty.pool_points("kid", "wang", 100, at=T0, idempotency_key="p-1")
    assert household.balance == 1000 and household.pooled == {"mum": 600, "dad": 300, "kid": 100}
    assert loyalty.balance("dad").available == 300
    receipt_entry = loyalty.statement("dad").lines[-1].entry
    assert receipt_entry.kind is EntryKind.TRANSFER_OUT
    assert dict(receipt_entry.metadata)["household"] == "wang"
    with pytest.raises(HouseholdRefused, match="only the head"):
        loyalty.redeem_household_points("dad", "wang", 100, at=T0, idempotency_key="r-1")
    with pytest.raises(HouseholdRefused, match="1000 in the pool"):
        loyalty.redeem_household_points("mum", "wang", 1001, at=T0, idempotency_key="r-1")
    household = loyalty.redeem_household_points(
        "mum", "wang", 500, at=T0, idempotency_key="r-1", reason="family dinner"
    )
    assert household.balance == 500 and household.left == {"mum": 300, "dad": 150, "kid": 50}
    assert loyalty.household("wang") == household
    with pytest.raises(InsufficientPoints):
        loyalty.pool_points("kid", "wang", 500, at=T0, idempotency_key="p-2")


def test_joining_rules(storage: Storage) -> None:
    loyalty = _family(storage)
    with pytest.raises(HouseholdRefused, match="belongs to 'wang' already"):
        loyalty.create_household("dad", "dad-house", at=T0, idempotency_key="h-2")
    with pytest.raises(HouseholdRefused, match="is not a member"):
        loyalty.pool_points("gran", "wang", 10, at=T0, idempotency_key="p-1")
    with pytest.raises(NotFound):
        loyalty.join_household("gran", "li", at=T0, idempotency_key="j-1")
    loyalty.create_household("gran", "small", at=T0, idempotency_key="h-1", max_members=1)
    loyalty.enroll("cousin", at=T0, idempotency_key="e-cousin")
    with pytest.raises(HouseholdRefused, match="full"):
        loyalty.join_household("cousin", "small", at=T0, idempotency_key="j-1")
    with pytest.raises(HouseholdRefused, match="taken"):
        loyalty.create_household("cousin", "wang", at=T0, idempotency_key="h-1")
    with pytest.raises(InvalidArgument, match="on_leave"):
        loyalty.create_household("cousin", "zhao", at=T0, idempotency_key="h-2", on_leave="x")


def test_a_member_leaving_takes_back_what_is_left_of_their_points(storage: Storage) -> None:
    loyalty = _family(storage)
    loyalty.pool_points("dad", "wang", 400, at=T0, idempotency_key="p-1")
    loyalty.pool_points("mum", "wang", 400, at=T0, idempotency_key="p-1")
    loyalty.redeem_household_points("mum", "wang", 200, at=T0, idempotency_key="r-1")
    with pytest.raises(HouseholdRefused, match="leaves last"):
        loyalty.leave_household("mum", "wang", at=T0, idempotency_key="l-1")
    household = loyalty.leave_household("dad", "wang", at=T0, idempotency_key="l-1")
    assert loyalty.balance("dad").available == 200 + 300
    assert household.balance == 300 and "dad" not in household.members
    loyalty.join_household("dad", "wang", at=T0, idempotency_key="j-again")  # may come back
    loyalty.leave_household("dad", "wang", at=T0, idempotency_key="l-2")
    loyalty.leave_household("kid", "wang", at=T0, idempotency_key="l-1")
    closed = loyalty.leave_household("mum", "wang", at=T0, idempotency_key="l-1")
    assert closed.closed_at == T0 and closed.balance == 0
    assert loyalty.balance("mum").available == 600 + 300
    with pytest.raises(HouseholdRefused, match="closed"):
        loyalty.join_household("gran", "wang", at=T0, idempotency_key="j-1")
    exported = loyalty.export_member("dad", at=T0)["records"]["household"]
    assert [record["id"] for record in exported] == ["wang"]


def test_under_keep_the_points_stay_in_the_pool(storage: Storage) -> None:
    loyalty = _family(storage, on_leave="keep")
    loyalty.pool_points("kid", "wang", 200, at=T0, idempotency_key="p-1")
    household = loyalty.leave_household("kid", "wang", at=T0, idempotency_key="l-1")
    assert household.balance == 200 and loyalty.balance("kid").available == 0
