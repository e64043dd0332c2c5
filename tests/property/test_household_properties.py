"""A household balance equals what members pooled minus what was spent (and given back
to members who left), and no point is made or lost between the members' accounts and
the pool (issue 17)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltykit import Loyalty
from loyaltykit.errors import HouseholdRefused, InsufficientPoints

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)
MEMBERS = ["mum", "dad", "kid"]
STEPS = st.lists(
    st.tuples(
        st.sampled_from(["join", "pool", "redeem", "leave"]),
        st.sampled_from(MEMBERS),
        st.integers(1, 400),
    ),
    max_size=25,
)


@settings(max_examples=30, deadline=None)
@given(STEPS, st.sampled_from(["return", "keep"]))
def test_a_household_balance_is_what_was_pooled_minus_what_was_spent(
    steps: list[tuple[str, str, int]], on_leave: str
) -> None:
    loyalty = Loyalty()
    for member in MEMBERS:
        loyalty.enroll(member, at=T0, idempotency_key=f"e-{member}")
        loyalty.earn(member, 1000, at=T0, idempotency_key=f"o-{member}")
    loyalty.create_household("mum", "h", at=T0, idempotency_key="h", on_leave=on_leave)
    spent = 0
    for n, (step, member, points) in enumerate(steps):
        key = f"s-{n}"
        try:
            if step == "join":
                loyalty.join_household(member, "h", at=T0, idempotency_key=key)
            elif step == "pool":
                loyalty.pool_points(member, "h", points, at=T0, idempotency_key=key)
            elif step == "redeem":
                loyalty.redeem_household_points(member, "h", points, at=T0, idempotency_key=key)
                spent += points
            elif member != "mum":  # the head leaving closes the household: kept for last
                loyalty.leave_household(member, "h", at=T0, idempotency_key=key)
        except (HouseholdRefused, InsufficientPoints):
            continue
        household = loyalty.household("h")
        assert household.redeemed == spent
        assert household.balance == sum(household.pooled.values()) - spent - household.returned
        assert all(left >= 0 for left in household.left.values())
        accounts = sum(loyalty.balance(m).available for m in MEMBERS)
        assert accounts + household.balance + spent == 1000 * len(MEMBERS)
