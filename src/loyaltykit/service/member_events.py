"""Clubs and member events through the facade.

A club is a record of kind ``club`` in the ``clubs`` space; its members are records of
kind ``club_member`` in the club's own partition (``club:<id>``), so the club's audience
is one read. An event and its roster are one record of kind ``member_event`` in the
event's partition (``event:<id>``), locked by every booking step: two members booking
the last seat are served one after the other, and the booked never exceed the capacity.
Checking in credits the event's points and adds 1 to the member's
``event_participation`` metric on the day, which tier requirements can name
(participation in club life as a tier metric).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from loyaltykit.domain import ledger
from loyaltykit.domain.clubs import Club
from loyaltykit.domain.ledger import Entry
from loyaltykit.domain.member_events import (
    EventRoster,
    MemberEvent,
    roster_from_record,
    roster_to_record,
)
from loyaltykit.errors import EventRefused, NotFound
from loyaltykit.policy.retention import metric_months_from
from loyaltykit.service import postings
from loyaltykit.service.codecs import POINTS
from loyaltykit.service.commands import (
    CLUBS,
    BookEvent,
    CancelBooking,
    CheckInToEvent,
    CreateClub,
    CreateMemberEvent,
    JoinClub,
    LeaveClub,
)
from loyaltykit.service.kernel import Codec, Kernel, Work
from loyaltykit.service.members import load_member, member_tier, save_member
from loyaltykit.storage.base import UnitOfWork
from loyaltykit.values import CustomerId, derived_identifier, identifier

__all__ = ["CLUB", "CLUB_MEMBER", "MEMBER_EVENT", "PARTICIPATION", "EventWork"]

CLUB = "club"
CLUB_MEMBER = "club_member"
MEMBER_EVENT = "member_event"
PARTICIPATION = "event_participation"
"""The metric a check-in adds 1 to (tier requirements may name it)."""

_CLUB_CODEC = Codec(
    lambda club: {"id": club.id, "name": club.name},
    lambda _uow, stored: Club(id=stored["id"], name=stored["name"]),
)
_ROSTER_CODEC = Codec(roster_to_record, lambda _uow, stored: roster_from_record(stored))


def _placed(result: tuple[EventRoster, str]) -> dict[str, Any]:
    return {"roster": roster_to_record(result[0]), "place": result[1]}


_PLACE_CODEC = Codec(
    _placed, lambda _uow, stored: (roster_from_record(stored["roster"]), stored["place"])
)


class EventWork:
    """Interest clubs and member events: capacity, invitations, bookings, check-in."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel

    # --- clubs ---------------------------------------------------------------------------

    def create_club(self, club: Club, *, at: datetime, idempotency_key: str) -> Club:
        """Open an interest club (the same id again renames it)."""
        value = CreateClub(club=club, at=at, idempotency_key=idempotency_key)

        def action(work: Work) -> Club:
            work.uow.records.put(CLUBS, CLUB, value.club.id, {"id": club.id, "name": club.name})
            return value.club

        return self.kernel.execute(value, action, _CLUB_CODEC)

    def join_club(
        self, customer_id: CustomerId, club_id: str, *, at: datetime, idempotency_key: str
    ) -> Club:
        """The member joins the club (joining twice changes nothing)."""
        value = JoinClub(
            customer_id=customer_id, club_id=club_id, at=at, idempotency_key=idempotency_key
        )

        def action(work: Work) -> Club:
            work.customer(customer_id)
            club = _club(work.uow, value.club_id)
            partition = _club_owner(club.id)
            if work.uow.records.get(partition, CLUB_MEMBER, customer_id) is None:
                record = {"customer_id": customer_id, "joined_at": value.at.isoformat()}
                work.uow.records.put(partition, CLUB_MEMBER, customer_id, record)
            return club

        return self.kernel.execute(value, action, _CLUB_CODEC)

    def leave_club(
        self, customer_id: CustomerId, club_id: str, *, at: datetime, idempotency_key: str
    ) -> Club:
        """The member leaves the club (their membership record is marked as left)."""
        value = LeaveClub(
            customer_id=customer_id, club_id=club_id, at=at, idempotency_key=idempotency_key
        )

        def action(work: Work) -> Club:
            club = _club(work.uow, value.club_id)
            partition = _club_owner(club.id)
            stored = work.uow.records.get(partition, CLUB_MEMBER, customer_id, for_update=True)
            if stored is None or stored.document.get("left_at") is not None:
                raise NotFound(f"customer {customer_id!r} is not in club {club.id!r}")
            record = {**stored.document, "left_at": value.at.isoformat()}
            work.uow.records.put(partition, CLUB_MEMBER, customer_id, record)
            return club

        return self.kernel.execute(value, action, _CLUB_CODEC)

    def club_members(self, club_id: str) -> tuple[CustomerId, ...]:
        """The club's members now, by id: its own audience."""
        identifier("club id", club_id)
        with self.kernel.reading() as uow:
            _club(uow, club_id)
            found = uow.records.of_owner(_club_owner(club_id), CLUB_MEMBER)
        return tuple(r.id for r in found if r.document.get("left_at") is None)

    # --- events --------------------------------------------------------------------------

    def create_member_event(
        self, event: MemberEvent, *, at: datetime, idempotency_key: str
    ) -> EventRoster:
        """Announce an event; its roster starts empty. An id already used is refused."""
        value = CreateMemberEvent(event=event, at=at, idempotency_key=idempotency_key)

        def action(work: Work) -> EventRoster:
            chosen = value.event
            if chosen.club is not None:
                _club(work.uow, chosen.club)
            partition = _event_owner(chosen.id)
            if work.uow.records.get(partition, MEMBER_EVENT, chosen.id) is not None:
                raise EventRefused("-", chosen.id, "an event with this id exists already")
            roster = EventRoster(event=chosen)
            work.uow.records.put(partition, MEMBER_EVENT, chosen.id, roster_to_record(roster))
            return roster

        return self.kernel.execute(value, action, _ROSTER_CODEC)

    def event_roster(self, event_id: str) -> EventRoster:
        """The event with who booked, who waits and who checked in."""
        identifier("event id", event_id)
        with self.kernel.reading() as uow:
            stored = uow.records.get(_event_owner(event_id), MEMBER_EVENT, event_id)
        if stored is None:
            raise NotFound(f"no member event {event_id!r}")
        return roster_from_record(stored.document)

    def book_event(
        self, customer_id: CustomerId, event_id: str, *, at: datetime, idempotency_key: str
    ) -> tuple[EventRoster, str]:
        """Book a seat (``"booked"``) or, when the event is full, a place on its waiting
        list (``"waiting"``). Only invited members may book: those of the event's tiers
        (at ``at``) and of its club; others are :class:`~loyaltykit.errors.EventRefused`."""
        value = BookEvent(
            customer_id=customer_id, event_id=event_id, at=at, idempotency_key=idempotency_key
        )

        def action(work: Work) -> tuple[EventRoster, str]:
            customer = work.customer(customer_id)
            uow = work.uow
            roster = _roster(uow, value.event_id)
            event = roster.event
            if event.tiers:
                ladder = work.program.tiers
                tier = None
                if ladder is not None:  # a member never rated holds the ladder's first tier
                    status = member_tier(uow, customer_id) or ladder.start(customer.enrolled_at)
                    tier = status.effective(value.at, ladder)
                if tier not in event.tiers:
                    raise EventRefused(customer_id, event.id, f"tier {tier} is not invited")
            if event.club is not None:
                member = uow.records.get(_club_owner(event.club), CLUB_MEMBER, customer_id)
                if member is None or member.document.get("left_at") is not None:
                    raise EventRefused(customer_id, event.id, f"not in club {event.club}")
            changed, place = roster.book(customer_id)
            _save(uow, changed)
            return changed, place

        return self.kernel.execute(value, action, _PLACE_CODEC)

    def cancel_booking(
        self, customer_id: CustomerId, event_id: str, *, at: datetime, idempotency_key: str
    ) -> EventRoster:
        """Give up a seat or a place on the waiting list; a freed seat goes to the first
        who waits, in the order they joined the list."""
        value = CancelBooking(
            customer_id=customer_id, event_id=event_id, at=at, idempotency_key=idempotency_key
        )

        def action(work: Work) -> EventRoster:
            changed, _promoted = _roster(work.uow, value.event_id).cancel(customer_id)
            _save(work.uow, changed)
            return changed

        return self.kernel.execute(value, action, _ROSTER_CODEC)

    def check_in(
        self, customer_id: CustomerId, event_id: str, *, at: datetime, idempotency_key: str
    ) -> EventRoster:
        """A booked member arrives: the event's check-in points are credited and their
        ``event_participation`` metric grows by 1 on the day (in the programme's zone)."""
        value = CheckInToEvent(
            customer_id=customer_id, event_id=event_id, at=at, idempotency_key=idempotency_key
        )

        def action(work: Work) -> EventRoster:
            uow = work.uow
            customer = work.customer(customer_id)
            changed = _roster(uow, value.event_id).check_in(customer_id)
            _save(uow, changed)
            before = load_member(uow, customer)
            day = value.at.astimezone(work.program.zone).date()
            keep = metric_months_from(self.kernel.versions, value.at)
            after = before.measured([(PARTICIPATION, Decimal(1))], day, keep_months=keep)
            save_member(uow, before, after)
            points = changed.event.check_in_points
            if points:
                command = work.context(event=changed.event.id)
                kind = work.program.point_type(POINTS)
                written: list[Entry] = []
                account = postings.settled(uow, customer_id, POINTS, command, written)
                posting = ledger.credit(
                    account, points, command, expires_at=postings.expiry(kind, value.at, None)
                )
                postings.save(uow, posting, written)
            return changed

        return self.kernel.execute(value, action, _ROSTER_CODEC)


def _club_owner(club_id: str) -> str:
    return derived_identifier("club", club_id)


def _event_owner(event_id: str) -> str:
    return derived_identifier("event", event_id)


def _club(uow: UnitOfWork, club_id: str) -> Club:
    stored = uow.records.get(CLUBS, CLUB, club_id)
    if stored is None:
        raise NotFound(f"no club {club_id!r}")
    return Club(id=stored.document["id"], name=stored.document["name"])


def _roster(uow: UnitOfWork, event_id: str) -> EventRoster:
    # locked: every step of one event's roster runs after the other
    stored = uow.records.get(_event_owner(event_id), MEMBER_EVENT, event_id, for_update=True)
    if stored is None:
        raise NotFound(f"no member event {event_id!r}")
    return roster_from_record(stored.document)


def _save(uow: UnitOfWork, roster: EventRoster) -> None:
    event_id = roster.event.id
    uow.records.put(_event_owner(event_id), MEMBER_EVENT, event_id, roster_to_record(roster))
