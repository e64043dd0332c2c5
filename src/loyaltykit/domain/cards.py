"""Member cards: numbers issued to a member, looked up at the till, replaced when lost.

A :class:`MemberCard` is a number that points at a member's account. Numbers are decimal
digits, the last a Luhn check digit (ISO/IEC 7812-1, as on payment cards), so a till
catches a mistyped or swapped digit before it asks the store. A lost, stolen or damaged
card is *blocked* and a new number issued to the same member: the account, its points
and history stay, the old number keeps its row (blocked, pointing at its replacement) so
it can never be issued again, to anyone, even after the member is erased.

>>> import random
>>> number = new_card_number(random.Random(7).choice, CardFormat(prefix="88"))
>>> number.startswith("88"), len(number), card_number(shown_number(number)) == number
(True, 16, True)
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from loyaltykit.domain.check_digits import DIGITS, luhn_check, luhn_valid
from loyaltykit.errors import CardBlocked, InvalidArgument, InvalidCode
from loyaltykit.values import CustomerId

__all__ = [
    "BlockReason",
    "CardFormat",
    "CardStatus",
    "MemberCard",
    "card_from_record",
    "card_number",
    "card_to_record",
    "new_card_number",
    "shown_number",
]

SHORTEST, LONGEST = 8, 19  # ISO/IEC 7812 allows up to 19 digits


class CardStatus(enum.Enum):
    """``active`` cards identify their member; ``blocked`` ones never again."""

    ACTIVE = "active"
    BLOCKED = "blocked"


class BlockReason(enum.Enum):
    """Why a card was blocked."""

    LOST = "lost"
    STOLEN = "stolen"
    DAMAGED = "damaged"
    REVOKED = "revoked"


def _format_prefix(_instance: object, _attribute: object, value: str) -> None:
    if not isinstance(value, str) or not all(c in DIGITS for c in value):
        raise InvalidArgument(f"card prefix: {value!r} is not a string of digits")


def _format_length(instance: CardFormat, _attribute: object, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not SHORTEST <= value <= LONGEST:
        raise InvalidArgument(f"card length: {value!r} is not an int from {SHORTEST} to {LONGEST}")
    if len(instance.prefix) > value - 7:
        raise InvalidArgument(
            f"card prefix {instance.prefix!r} leaves fewer than 6 random digits in {value}"
        )


@attrs.frozen(kw_only=True)
class CardFormat:
    """How new card numbers look: ``prefix`` (the programme's issuer digits), then random
    digits, then the Luhn check digit, ``length`` digits in all (16 by default)."""

    prefix: str = attrs.field(default="", validator=_format_prefix)
    length: int = attrs.field(default=16, validator=_format_length)


@attrs.frozen(kw_only=True)
class MemberCard:
    """A card number issued to a member. A blocked card says when and why, and the number
    that replaced it (``replaced_by``); a replacement names the one it replaced."""

    number: str
    customer_id: CustomerId
    issued_at: datetime
    status: CardStatus = CardStatus.ACTIVE
    blocked_at: datetime | None = None
    reason: BlockReason | None = None
    replaces: str | None = None
    replaced_by: str | None = None

    @property
    def active(self) -> bool:
        """Whether the card still identifies its member."""
        return self.status is CardStatus.ACTIVE

    def blocked(self, reason: BlockReason, at: datetime) -> MemberCard:
        """The card blocked for ``reason``; refused when it is blocked already."""
        if not self.active:
            raise CardBlocked(self.number, self.reason.value if self.reason else "blocked")
        return attrs.evolve(self, status=CardStatus.BLOCKED, blocked_at=at, reason=reason)

    def replaced(self, by: str) -> MemberCard:
        """The blocked card pointing at the number that replaced it; refused when it was
        replaced already."""
        if self.replaced_by is not None:
            raise CardBlocked(self.number, f"replaced by another card on {self.blocked_at}")
        return attrs.evolve(self, replaced_by=by)


def new_card_number(source: Callable[[Sequence[str]], str], card_format: CardFormat) -> str:
    """A fresh number in ``card_format``: random digits picked by ``source``
    (``secrets.choice``, or a seeded ``random.Random(7).choice``) and the check digit."""
    drawn = card_format.length - len(card_format.prefix) - 1
    body = card_format.prefix + "".join(source(DIGITS) for _ in range(drawn))
    if len(body) != card_format.length - 1 or any(c not in DIGITS for c in body):
        raise InvalidCode("card number source", body, "it must pick decimal digits")
    return body + luhn_check(body)


def card_number(value: object) -> str:
    """A number as typed (with spaces or dashes) in its stored form; raises
    :class:`~loyaltykit.errors.InvalidCode` for anything that is not one."""
    if not isinstance(value, str):
        raise InvalidCode("card number", value, "it is not text")
    number = value.replace(" ", "").replace("-", "")
    if not SHORTEST <= len(number) <= LONGEST or any(c not in DIGITS for c in number):
        raise InvalidCode("card number", value, f"{SHORTEST} to {LONGEST} decimal digits")
    if not luhn_valid(number):
        raise InvalidCode("card number", value, "the check digit does not match")
    return number


def shown_number(number: str) -> str:
    """``number`` in groups of four digits, as printed on the card."""
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


def _text(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def card_to_record(card: MemberCard) -> dict[str, Any]:
    """The card as JSON-compatible data."""
    return {
        "number": card.number,
        "customer_id": card.customer_id,
        "issued_at": card.issued_at.isoformat(),
        "status": card.status.value,
        "blocked_at": _text(card.blocked_at),
        "reason": None if card.reason is None else card.reason.value,
        "replaces": card.replaces,
        "replaced_by": card.replaced_by,
    }


def card_from_record(record: Mapping[str, Any]) -> MemberCard:
    """The card :func:`card_to_record` wrote."""
    blocked_at = record["blocked_at"]
    return MemberCard(
        number=record["number"],
        customer_id=record["customer_id"],
        issued_at=datetime.fromisoformat(record["issued_at"]),
        status=CardStatus(record["status"]),
        blocked_at=None if blocked_at is None else datetime.fromisoformat(blocked_at),
        reason=None if record["reason"] is None else BlockReason(record["reason"]),
        replaces=record["replaces"],
        replaced_by=record["replaced_by"],
    )
