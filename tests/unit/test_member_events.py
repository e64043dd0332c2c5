"""Clubs and member events through the facade (issue 17), on memory and SQLite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from loyaltykit import Club, Loyalty, MemberEvent, Money, Program, Purchase
from loyaltykit.errors import EventRefused, InvalidArgument, NotFound
from loyaltykit.storage.base import Storage
from loyaltykit.storage.memory import MemoryStorage

T0 = datetime(2026, 5, 1, 9, tzinfo=UTC)
PROGRAM = Program.from_dict(
    {
        "rules": [{"id": "base", "kind": "base_rate", "per": "10"}],
        "tiers": {
            "levels": [
                {"code": "member", "rank": 0},
                {
                    "code": "gold",
                    "rank": 1,
                    "requirements": [{"metric": "spend", "at_least": "1000"}],
                },
                {
                    "code": "club-star",
                    "rank": 2,
                    "requirements": [{"metric": "event_participation", "at_least": "2"}],
                },
            ]
        },
    }
)


@pytest.fixture(params=["memory", "sqlite"])
def storage(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Storage:
    if request.param == "memory":
        return MemoryStorage()
    from tests.databases import storage_factory

    path = tmp_path_factory.mktemp("events") / "loyalty.db"
    return storage_factory(f"sqlite:///{path}")()


def service(storage: Storage) -> Loyalty:
    loyalty = Loyalty(PROGRAM, storage=storage)
    for name in ("ann", "bo", "cy", "di"):
        loyalty.enroll(name, at=T0, idempotency_key=f"e-{name}")
    for name in ("ann", "bo", "cy"):
        loyalty.record_purchase(
            name, Purchase(amount=Money.of(1200, "CNY")), at=T0, idempotency_key=f"buy-{name}"
        )
    return loyalty


def test_a_full_event_puts_members_on_a_waiting_list_served_in_order(storage: Storage) -> None:
    loyalty = service(storage)
    evening = MemberEvent(
        id="vip-evening",
        name="VIP evening",
        starts_at=T0 + timedelta(days=20),
        capacity=1,
        tiers={"gold", "club-star"},
        check_in_points=50,
    )
    loyalty.create_member_event(evening, at=T0, idempotency_key="create")
    at = T0 + timedelta(hours=1)
    places = [
        loyalty.book_event(name, "vip-evening", at=at, idempotency_key=f"book-{name}")[1]
        for name in ("ann", "bo", "cy")
    ]
    assert places == ["booked", "waiting", "waiting"]
    with pytest.raises(EventRefused, match="tier member is not invited"):
        loyalty.book_event("di", "vip-evening", at=at, idempotency_key="book-di")
    with pytest.raises(EventRefused, match="already booked"):
        loyalty.book_event("bo", "vip-evening", at=at, idempotency_key="book-bo-2")
    roster = loyalty.cancel_booking("ann", "vip-evening", at=at, idempotency_key="cancel-ann")
    assert (roster.booked, roster.waiting) == (("bo",), ("cy",))  # the first who waited
    with pytest.raises(EventRefused, match="no seat"):
        loyalty.check_in("cy", "vip-evening", at=at, idempotency_key="in-cy")
    before = loyalty.balance("bo").available
    loyalty.check_in("bo", "vip-evening", at=at, idempotency_key="in-bo")
    loyalty.check_in("bo", "vip-evening", at=at, idempotency_key="in-bo")  # a replay
    assert loyalty.balance("bo").available == before + 50
    with pytest.raises(EventRefused, match="checked in already"):
        loyalty.check_in("bo", "vip-evening", at=at, idempotency_key="in-bo-2")
    assert loyalty.event_roster("vip-evening").checked_in == ("bo",)


def test_a_club_is_its_own_audience_and_participation_is_a_tier_metric(storage: Storage) -> None:
    loyalty = service(storage)
    loyalty.create_club(Club(id="car-club", name="Car club"), at=T0, idempotency_key="club")
    loyalty.join_club("di", "car-club", at=T0, idempotency_key="join-di")
    loyalty.join_club("ann", "car-club", at=T0, idempotency_key="join-ann")
    loyalty.join_club("ann", "car-club", at=T0, idempotency_key="join-ann-2")  # no change
    assert loyalty.club_members("car-club") == ("ann", "di")
    loyalty.leave_club("ann", "car-club", at=T0, idempotency_key="leave-ann")
    assert loyalty.club_members("car-club") == ("di",)
    for n in (1, 2):
        day = T0 + timedelta(days=n)
        loyalty.create_member_event(
            MemberEvent(
                id=f"drive-{n}", name="Club drive", starts_at=day, capacity=10, club="car-club"
            ),
            at=T0,
            idempotency_key=f"drive-{n}",
        )
        loyalty.book_event("di", f"drive-{n}", at=day, idempotency_key=f"book-{n}")
        loyalty.check_in("di", f"drive-{n}", at=day, idempotency_key=f"in-{n}")
    with pytest.raises(EventRefused, match="not in club car-club"):
        loyalty.book_event("ann", "drive-1", at=T0, idempotency_key="book-ann")
    loyalty.record_purchase(
        "di", Purchase(amount=Money.of(10, "CNY")), at=T0 + timedelta(days=3), idempotency_key="o"
    )
    assert loyalty.tier("di", at=T0 + timedelta(days=3)).effective == "club-star"


def test_bad_events_and_unknown_names_are_refused(storage: Storage) -> None:
    loyalty = service(storage)
    with pytest.raises(InvalidArgument, match="capacity"):
        MemberEvent(id="x", name="X", starts_at=T0, capacity=0)
    with pytest.raises(NotFound, match="no club"):
        loyalty.create_member_event(
            MemberEvent(id="x", name="X", starts_at=T0, capacity=1, club="nope"),
            at=T0,
            idempotency_key="x",
        )
    with pytest.raises(NotFound, match="no member event"):
        loyalty.book_event("ann", "nope", at=T0, idempotency_key="b")
    loyalty.create_member_event(
        MemberEvent(id="y", name="Y", starts_at=T0, capacity=1), at=T0, idempotency_key="y"
    )
    with pytest.raises(EventRefused, match="exists already"):
        loyalty.create_member_event(
            MemberEvent(id="y", name="Y", starts_at=T0, capacity=2), at=T0, idempotency_key="y2"
        )
    with pytest.raises(EventRefused, match="has no booking"):
        loyalty.cancel_booking("ann", "y", at=T0, idempotency_key="c")
