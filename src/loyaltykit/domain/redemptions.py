"""Redemptions and vouchers: what a member took from the catalogue, and its codes.

A :class:`Redemption` is reserved when the points are debited and the stock taken,
then either fulfilled (delivered, picked up, voucher used) or cancelled (points and
stock given back). It remembers exactly what it took (the ledger entries, the shared
counters, the member's period counts) so that a cancellation gives back exactly that.

A :class:`Voucher` is a code issued by a coupon redemption; :meth:`Voucher.status`
says whether a member may use it at an instant, and why not.
"""

from __future__ import annotations

import enum
import unicodedata
from datetime import datetime
from typing import Any

import attrs

from loyaltykit.domain.ledger import Entry
from loyaltykit.domain.rewards import RewardKind
from loyaltykit.errors import InvalidAmount, RedemptionClosed
from loyaltykit.values import CustomerId, Money, Points, aware, identifier, utc

__all__ = [
    "Redemption",
    "RedemptionState",
    "RedemptionSummary",
    "Voucher",
    "VoucherCheck",
    "VoucherStatus",
    "could_be_code",
    "voucher_code",
]

# what people put between groups of characters: spaces of every kind and dashes
# (the ASCII hyphen and the Unicode dashes, which phones and word processors substitute)
_SEPARATORS = frozenset(" -_\u00a0\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u3000")


def voucher_code(text: str) -> str:
    """A voucher code as people type it, in the one form codes are issued and looked up
    in: Unicode NFKC (full-width letters and digits become ASCII), separators (spaces, dashes)
    removed, upper case.

    >>> voucher_code(" abcd-efgh 2345 ")
    'ABCDEFGH2345'

    Whatever is left that is not 1-64 ASCII letters and digits is no code at all; the
    service answers ``unknown`` for it rather than an error.
    """
    folded = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in folded if ch not in _SEPARATORS and not ch.isspace()).upper()


def could_be_code(code: str) -> bool:
    """Whether a normalised ``code`` has the shape of an issued one (1-64 ASCII letters
    and digits): anything else is unknown without looking."""
    return 0 < len(code) <= 64 and code.isascii() and code.isalnum()


class RedemptionState(enum.Enum):
    """Where a redemption stands: ``reserved`` -> ``fulfilled`` or ``cancelled``."""

    RESERVED = "reserved"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"


def _aware(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        aware(attribute.name, value)


def _positive(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidAmount(attribute.name, value, "a positive int")


@attrs.frozen(kw_only=True)
class Redemption:
    """One member's redemption of ``quantity`` units of a reward.

    ``points`` were debited (``entries`` holds the debit, then the restoring entries of
    a cancellation); ``money`` is the money part the member pays at the till (points
    plus money); ``offset`` is what the points paid off a bill (cash offsets); ``cost``
    is what the units cost the company. ``taken`` lists the shared counters (stock,
    global limits) and ``counted`` the member's periods (``period:key``) the redemption
    used. ``reason`` is the redeeming command's, replaced by the cancellation's.
    ``claim_by`` is when a reserved redemption not yet handed over is released.
    ``granted`` redemptions were given for free (a campaign's reward, a care gift);
    ``campaign`` is the campaign the redemption is attributed to.
    """

    id: str = attrs.field(validator=lambda _i, _a, v: identifier("redemption id", v))
    customer_id: CustomerId
    reward_id: str
    kind: RewardKind
    quantity: int = attrs.field(validator=_positive)
    points: Points
    point_type: str
    state: RedemptionState = RedemptionState.RESERVED
    created_at: datetime = attrs.field(converter=utc, validator=_aware)
    closed_at: datetime | None = attrs.field(default=None, converter=utc, validator=_aware)
    claim_by: datetime | None = attrs.field(default=None, converter=utc, validator=_aware)
    money: Money | None = None
    offset: Money | None = None
    cost: Money | None = None
    partner: str | None = None
    granted: bool = False
    campaign: str | None = None
    fulfilment: str = ""
    reason: str = ""
    entries: tuple[Entry, ...] = ()
    vouchers: tuple[str, ...] = ()
    taken: tuple[tuple[str, int], ...] = ()
    counted: tuple[str, ...] = ()

    def _require_reserved(self, command: str) -> None:
        if self.state is not RedemptionState.RESERVED:
            raise RedemptionClosed(self.id, self.state.value, command)

    def fulfilled(self, at: datetime, how: str) -> Redemption:
        """The redemption handed over at ``at`` (``how``: delivered, picked_up...)."""
        self._require_reserved("fulfil")
        if not isinstance(how, str) or not how.strip():
            raise InvalidAmount("how", how, "a word such as 'delivered' or 'picked_up'")
        return attrs.evolve(
            self, state=RedemptionState.FULFILLED, closed_at=aware("at", at), fulfilment=how
        )

    def cancelled(self, at: datetime, reason: str, restored: tuple[Entry, ...]) -> Redemption:
        """The redemption cancelled at ``at``, with the entries that gave points back."""
        self._require_reserved("cancel")
        return attrs.evolve(
            self,
            state=RedemptionState.CANCELLED,
            closed_at=aware("at", at),
            reason=reason,
            entries=(*self.entries, *restored),
        )


class VoucherStatus(enum.Enum):
    """Whether a voucher code can be used, and if not, why."""

    VALID = "valid"
    UNKNOWN = "unknown"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    USED = "used"
    NOT_YOURS = "not_yours"
    CANCELLED = "cancelled"


@attrs.frozen(kw_only=True)
class Voucher:
    """A code issued to ``customer_id`` by the redemption ``redemption_id``.

    It is valid from ``issued_at`` until before ``expires_at`` (``None``: no end), for
    ``uses`` uses; ``used`` lists each use as ``(idempotency key, instant)``.
    """

    code: str
    customer_id: CustomerId
    reward_id: str
    redemption_id: str
    issued_at: datetime = attrs.field(converter=utc, validator=_aware)
    expires_at: datetime | None = attrs.field(default=None, converter=utc, validator=_aware)
    uses: int = attrs.field(default=1, validator=_positive)
    used: tuple[tuple[str, datetime], ...] = ()
    value: Money | None = None
    cancelled_at: datetime | None = attrs.field(default=None, converter=utc, validator=_aware)

    @property
    def uses_left(self) -> int:
        """How many more times the code may be used."""
        return self.uses - len(self.used)

    def status(self, customer_id: CustomerId, at: datetime) -> VoucherStatus:
        """Whether ``customer_id`` may use the code at ``at``; the first reason why not."""
        aware("at", at)
        if customer_id != self.customer_id:
            return VoucherStatus.NOT_YOURS
        if self.cancelled_at is not None and self.cancelled_at <= at:
            return VoucherStatus.CANCELLED
        if at < self.issued_at:
            return VoucherStatus.NOT_YET_VALID
        if self.expires_at is not None and at >= self.expires_at:
            return VoucherStatus.EXPIRED
        if self.uses_left <= 0:
            return VoucherStatus.USED
        return VoucherStatus.VALID

    def use(self, key: str, at: datetime) -> Voucher:
        """The voucher with one more use, recorded under ``key`` at ``at``."""
        return attrs.evolve(self, used=(*self.used, (key, aware("at", at))))

    def cancel(self, at: datetime) -> Voucher:
        """The voucher cancelled at ``at`` (its redemption was cancelled)."""
        return attrs.evolve(self, cancelled_at=aware("at", at))


@attrs.frozen(kw_only=True)
class VoucherCheck:
    """The answer to "may this member use this code now?": ``status`` and, when the
    code exists, the ``voucher``."""

    code: str
    status: VoucherStatus
    voucher: Voucher | None = None

    @property
    def valid(self) -> bool:
        """True when the code may be used."""
        return self.status is VoucherStatus.VALID


@attrs.frozen(kw_only=True)
class RedemptionSummary:
    """What one reward's redemptions amount to over a period, for finance.

    ``redemptions``, ``units``, ``points`` and ``cost`` count the redemptions that were
    not cancelled; ``outstanding`` is the cost of those still reserved (goods owed);
    ``cancelled`` counts the cancelled ones. Costs are ``None`` when the reward has none.
    ``partner`` is the merchant who supplies the reward, for a partner's statement.
    """

    reward_id: str
    partner: str | None = None
    redemptions: int = 0
    units: int = 0
    points: Points = 0
    cost: Money | None = None
    outstanding: Money | None = None
    cancelled: int = 0

    def add(self, redemption: Redemption) -> RedemptionSummary:
        """The summary with ``redemption`` counted."""
        partner = self.partner or redemption.partner
        if redemption.state is RedemptionState.CANCELLED:
            return attrs.evolve(self, partner=partner, cancelled=self.cancelled + 1)
        reserved = redemption.state is RedemptionState.RESERVED
        return attrs.evolve(
            self,
            partner=partner,
            redemptions=self.redemptions + 1,
            units=self.units + redemption.quantity,
            points=self.points + redemption.points,
            cost=_plus(self.cost, redemption.cost),
            outstanding=_plus(self.outstanding, redemption.cost if reserved else None),
        )


def _plus(total: Money | None, amount: Money | None) -> Money | None:
    if amount is None:
        return total
    return amount if total is None else total + amount
