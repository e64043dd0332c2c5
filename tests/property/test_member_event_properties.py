"""Member events (issue 17): whatever the order of bookings, cancellations and
check-ins, the booked never exceed the capacity, and freed seats go to those who waited,
in the order they joined the list (compared with a plain reference model)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltykit.domain.member_events import EventRoster, MemberEvent
from loyaltykit.errors import EventRefused

MEMBERS = [f"m-{n}" for n in range(6)]
STEPS = st.lists(
    st.tuples(st.sampled_from(["book", "cancel", "check_in"]), st.sampled_from(MEMBERS)),
    max_size=30,
)


@settings(max_examples=80, deadline=None)
@given(capacity=st.integers(min_value=1, max_value=4), steps=STEPS)
def test_bookings_never_exceed_capacity_and_the_waiting_list_is_served_in_order(
    capacity: int, steps: list[tuple[str, str]]
) -> None:
    event = MemberEvent(
        id="gala", name="Gala", capacity=capacity, starts_at=datetime(2026, 6, 1, tzinfo=UTC)
    )
    roster = EventRoster(event=event)
    booked: list[str] = []
    waiting: list[str] = []
    arrived: set[str] = set()
    for step, member in steps:
        try:
            if step == "book":
                roster, _place = roster.book(member)
            elif step == "cancel":
                roster, _promoted = roster.cancel(member)
            else:
                roster = roster.check_in(member)
        except EventRefused:
            refused = True
        else:
            refused = False
        # the reference model
        if step == "book":
            assert refused == (member in booked or member in waiting)
            if not refused:
                (booked if len(booked) < capacity else waiting).append(member)
        elif step == "cancel":
            assert refused == (member in arrived or (member not in booked + waiting))
            if not refused and member in waiting:
                waiting.remove(member)
            elif not refused:
                booked.remove(member)
                if waiting:
                    booked.append(waiting.pop(0))
        else:
            assert refused == (member not in booked or member in arrived)
            if not refused:
                arrived.add(member)
        assert len(roster.booked) <= capacity
        assert list(roster.booked) == booked and list(roster.waiting) == waiting
        assert set(roster.checked_in) == arrived
