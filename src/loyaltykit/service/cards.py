"""Member cards as commands of the kernel: issue, block, replace, and look-up by number.

A card belongs to its member's key space and runs under its member's lock (a block or
replacement finds the member from the number inside the transaction, as a complaint
step finds its case). A number is never issued twice: the stored row of every card,
blocked ones too, is the unique key, and erasure keeps it (the member's cards then
identify no one: looking one up is refused as ``erased``).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from datetime import datetime

from loyaltykit.domain.cards import (
    BlockReason,
    CardFormat,
    MemberCard,
    card_from_record,
    card_number,
    card_to_record,
    new_card_number,
)
from loyaltykit.domain.customer import OPEN_STATUSES, Customer
from loyaltykit.errors import (
    CardAlreadyIssued,
    CardBlocked,
    InvalidArgument,
    UnknownCard,
    UnknownCustomer,
)
from loyaltykit.service.commands import BlockCard, IssueCard, ReplaceCard
from loyaltykit.service.kernel import Codec, Kernel, Work
from loyaltykit.storage.base import UnitOfWork
from loyaltykit.values import CustomerId, identifier

__all__ = ["CardCommands", "card_codec"]

_DRAWS = 8


def card_codec() -> Codec[MemberCard]:
    """Cards stored under their key."""
    return Codec(card_to_record, lambda _uow, record: card_from_record(record))


class CardCommands:
    """Member cards: issue, block, replace; look a member up by card."""

    # Picks each digit of a new number; tests seed it (``random.Random(7).choice``).
    code_source: Callable[[Sequence[str]], str] = secrets.choice

    def __init__(self, kernel: Kernel, card_format: CardFormat | None = None) -> None:
        self.kernel = kernel
        self.card_format = CardFormat() if card_format is None else card_format

    def issue_card(
        self, customer_id: CustomerId, *, at: datetime, idempotency_key: str
    ) -> MemberCard:
        """Issue a member card with a new number (:attr:`card_format`: Luhn check digit
        last). A member holds one active card at a time
        (:class:`~loyaltykit.errors.CardAlreadyIssued`): replace it with
        :meth:`replace_card`."""
        command = IssueCard(customer_id=customer_id, at=at, idempotency_key=idempotency_key)

        def handler(work: Work) -> MemberCard:
            member = work.customer(command.customer_id)
            self._require_open(member, command.name)
            for card in work.uow.cards.of_customer(member.id):
                if card.active:
                    raise CardAlreadyIssued(member.id, card.number)
            return self._new_card(work, member.id)

        return self.kernel.execute(command, handler, card_codec())

    def block_card(
        self, number: str, *, reason: BlockReason | str, at: datetime, idempotency_key: str
    ) -> MemberCard:
        """Block a card (``"lost"``, ``"stolen"``, ``"damaged"``, ``"revoked"``): it never
        identifies its member again. Issue a new one with :meth:`replace_card` (which
        also takes a card blocked here) or :meth:`issue_card`."""
        command = BlockCard(number=number, reason=reason, at=at, idempotency_key=idempotency_key)

        def handler(work: Work) -> MemberCard:
            card = self._locked(work.uow, command.number)
            blocked = card.blocked(command.reason, command.at)
            work.uow.cards.update(blocked)
            return blocked

        return self.kernel.execute(command, handler, card_codec(), locate=self._locate(command))

    def replace_card(
        self, number: str, *, reason: BlockReason | str, at: datetime, idempotency_key: str
    ) -> MemberCard:
        """Replace a lost, stolen or damaged card: the old number is blocked (if it is
        not already) and points at the new one; the new card, returned, belongs to the
        same member, whose account, points and history are untouched."""
        command = ReplaceCard(number=number, reason=reason, at=at, idempotency_key=idempotency_key)

        def handler(work: Work) -> MemberCard:
            card = self._locked(work.uow, command.number)
            old = card.blocked(command.reason, command.at) if card.active else card
            member = work.customer(card.customer_id)
            self._require_open(member, command.name)
            if old.replaced_by is not None:
                raise CardBlocked(
                    old.number, f"already replaced by another card at {old.blocked_at}"
                )
            for other in work.uow.cards.of_customer(member.id):
                if other.active and other.number != card.number:
                    raise CardAlreadyIssued(member.id, other.number)
            new = self._new_card(work, member.id, replaces=old.number)
            work.uow.cards.update(old.replaced(new.number))
            return new

        return self.kernel.execute(command, handler, card_codec(), locate=self._locate(command))

    # --- queries ----------------------------------------------------------------------

    def card(self, number: str) -> MemberCard:
        """The card with this number (as typed: spaces and dashes are ignored), blocked or
        not."""
        found = card_number(number)
        with self.kernel.reading() as uow:
            card = uow.cards.get(found)
        if card is None:
            raise UnknownCard(found)
        return card

    def member_by_card(self, number: str) -> CustomerId:
        """The member an active card identifies (the till's look-up). A blocked card is
        :class:`~loyaltykit.errors.CardBlocked` (its reason says why; a replaced card does
        not reveal its replacement), and so is the card of an erased member."""
        card = self.card(number)
        if not card.active:
            raise CardBlocked(card.number, card.reason.value if card.reason else "blocked")
        with self.kernel.reading() as uow:
            member = uow.customers.get(card.customer_id)
        if member is None:  # pragma: no cover - members are never deleted
            raise UnknownCustomer(card.customer_id)
        if member.is_erased:
            raise CardBlocked(card.number, "erased")
        return member.id

    def cards_of(self, customer_id: CustomerId) -> tuple[MemberCard, ...]:
        """Every card issued to a member, blocked ones too, oldest first."""
        with self.kernel.reading() as uow:
            return tuple(uow.cards.of_customer(identifier("customer_id", customer_id)))

    # --- the steps ----------------------------------------------------------------------

    @staticmethod
    def _locate(
        command: BlockCard | ReplaceCard,
    ) -> Callable[[UnitOfWork], tuple[str, tuple[CustomerId, ...]]]:
        def locate(uow: UnitOfWork) -> tuple[str, tuple[CustomerId, ...]]:
            # a card's member never changes: an unlocked read finds whom to lock
            found = uow.cards.get(command.number)
            if found is None:
                raise UnknownCard(command.number)
            return found.customer_id, (found.customer_id,)

        return locate

    @staticmethod
    def _locked(uow: UnitOfWork, number: str) -> MemberCard:
        found = uow.cards.get(number, for_update=True)
        if found is None:  # pragma: no cover - located before, and never deleted
            raise UnknownCard(number)
        return found

    @staticmethod
    def _require_open(member: Customer, command: str) -> None:
        member.require(command, allowed=OPEN_STATUSES)
        if member.is_erased:
            raise InvalidArgument(f"customer {member.id!r} was erased: {command} is refused")

    def _new_card(
        self, work: Work, customer_id: CustomerId, *, replaces: str | None = None
    ) -> MemberCard:
        for _ in range(_DRAWS):
            number = new_card_number(self.code_source, self.card_format)
            if work.uow.cards.get(number) is None:
                card = MemberCard(
                    number=number, customer_id=customer_id, issued_at=work.at, replaces=replaces
                )
                work.uow.cards.add(card)
                return card
        raise InvalidArgument(
            f"card number source: {_DRAWS} numbers drawn in a row were taken "
            "(is it seeded to repeat, or the format too short?)"
        )
