"""Member events (答谢会, VIP evenings, member days): capacity, invitations, bookings, a
waiting list, and check-in.

A :class:`MemberEvent` has a ``capacity`` and may be open to some tiers only (``tiers``)
or to the members of a club (``club``). :class:`EventRoster` is who booked, in order, who
waits, in order, and who checked in: :meth:`EventRoster.book` gives a seat while one is
free and a place on the waiting list after; :meth:`EventRoster.cancel` gives a freed seat
to the first on the waiting list; :meth:`EventRoster.check_in` admits a booked member
once. The booked never outnumber the capacity, whatever the order of the steps.

>>> from datetime import datetime, timezone
>>> evening = MemberEvent(id="vip-evening", name="VIP evening", capacity=1,
...                       starts_at=datetime(2026, 6, 20, 19, tzinfo=timezone.utc))
>>> roster, seat = EventRoster(event=evening).book("ann")
>>> roster, place = roster.book("bo")
>>> seat, place
('booked', 'waiting')
>>> roster, promoted = roster.cancel("ann")
>>> promoted, roster.booked
('bo', ('bo',))
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from loyaltykit.errors import EventRefused, InvalidArgument
from loyaltykit.values import CustomerId, aware, frozen_texts, identifier, identifiers, instance_of

__all__ = ["EventRoster", "MemberEvent", "roster_from_record", "roster_to_record"]


def _positive(_instance: Any, attribute: attrs.Attribute[int], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgument(f"event {attribute.name}: {value!r} must be an int of 1 or more")


def _natural(_instance: Any, attribute: attrs.Attribute[int], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidArgument(f"event {attribute.name}: {value!r} must be an int of 0 or more")


def _optional_id(_instance: Any, _attribute: Any, value: Any) -> None:
    if value is not None:
        identifier("event club", value)


@attrs.frozen(kw_only=True)
class MemberEvent:
    """An event members book: ``capacity`` seats, open to ``tiers`` (every tier when
    empty) and to the members of ``club`` (everyone when ``None``); checking in earns
    ``check_in_points``."""

    id: str = attrs.field(validator=lambda _i, _a, v: identifier("event id", v))
    name: str
    starts_at: datetime = attrs.field(validator=lambda _i, _a, v: aware("starts_at", v))
    capacity: int = attrs.field(validator=_positive)
    tiers: frozenset[str] = attrs.field(default=frozenset(), converter=frozen_texts)
    club: str | None = attrs.field(default=None, validator=_optional_id)
    check_in_points: int = attrs.field(default=0, validator=_natural)


def _members(value: Any) -> tuple[CustomerId, ...]:
    return identifiers("roster", value, max_items=1_000_000)


@attrs.frozen(kw_only=True)
class EventRoster:
    """Who booked (in order), who waits (in order) and who checked in, for one event."""

    event: MemberEvent = attrs.field(
        validator=lambda _i, _a, value: instance_of("event", value, MemberEvent)
    )
    booked: tuple[CustomerId, ...] = attrs.field(default=(), converter=_members)
    waiting: tuple[CustomerId, ...] = attrs.field(default=(), converter=_members)
    checked_in: tuple[CustomerId, ...] = attrs.field(default=(), converter=_members)

    def __attrs_post_init__(self) -> None:
        if len(self.booked) > self.event.capacity:  # pragma: no cover - never built so
            raise AssertionError("an event's bookings exceed its capacity")

    @property
    def seats_left(self) -> int:
        """Free seats."""
        return self.event.capacity - len(self.booked)

    def place_of(self, customer_id: CustomerId) -> str | None:
        """``booked``, ``waiting`` or ``None`` for ``customer_id``."""
        if customer_id in self.booked:
            return "booked"
        return "waiting" if customer_id in self.waiting else None

    def book(self, customer_id: CustomerId) -> tuple[EventRoster, str]:
        """The roster with the member booked (a seat is free) or waiting (none is)."""
        if self.place_of(customer_id) is not None:
            raise EventRefused(customer_id, self.event.id, "already booked or waiting")
        if self.seats_left > 0:
            return attrs.evolve(self, booked=(*self.booked, customer_id)), "booked"
        return attrs.evolve(self, waiting=(*self.waiting, customer_id)), "waiting"

    def cancel(self, customer_id: CustomerId) -> tuple[EventRoster, CustomerId | None]:
        """The roster without the member; a freed seat goes to the first who waits
        (returned), in the order they joined the waiting list."""
        if customer_id in self.checked_in:
            raise EventRefused(customer_id, self.event.id, "checked in already")
        if customer_id in self.waiting:
            waiting = tuple(c for c in self.waiting if c != customer_id)
            return attrs.evolve(self, waiting=waiting), None
        if customer_id not in self.booked:
            raise EventRefused(customer_id, self.event.id, "has no booking")
        booked = tuple(c for c in self.booked if c != customer_id)
        if not self.waiting:
            return attrs.evolve(self, booked=booked), None
        first, *rest = self.waiting
        return attrs.evolve(self, booked=(*booked, first), waiting=tuple(rest)), first

    def check_in(self, customer_id: CustomerId) -> EventRoster:
        """The roster with a booked member checked in (once)."""
        if customer_id not in self.booked:
            raise EventRefused(customer_id, self.event.id, "has no seat")
        if customer_id in self.checked_in:
            raise EventRefused(customer_id, self.event.id, "checked in already")
        return attrs.evolve(self, checked_in=(*self.checked_in, customer_id))


def roster_to_record(roster: EventRoster) -> dict[str, Any]:
    """A roster (with its event) as plain data."""
    event = roster.event
    return {
        "event": {
            "id": event.id,
            "name": event.name,
            "starts_at": event.starts_at.isoformat(),
            "capacity": event.capacity,
            "tiers": sorted(event.tiers),
            "club": event.club,
            "check_in_points": event.check_in_points,
        },
        "booked": list(roster.booked),
        "waiting": list(roster.waiting),
        "checked_in": list(roster.checked_in),
    }


def roster_from_record(record: Mapping[str, Any]) -> EventRoster:
    """The roster :func:`roster_to_record` wrote."""
    data = record["event"]
    event = MemberEvent(
        id=data["id"],
        name=data["name"],
        starts_at=datetime.fromisoformat(data["starts_at"]),
        capacity=data["capacity"],
        tiers=frozenset(data["tiers"]),
        club=data["club"],
        check_in_points=data["check_in_points"],
    )
    return EventRoster(
        event=event,
        booked=record["booked"],
        waiting=record["waiting"],
        checked_in=record["checked_in"],
    )
