"""Points bought for money, and their refund under the programme's rule.

The programme's :class:`~loyaltykit.domain.points_sale.PointsSale` sets the price of a
point. :meth:`PointSales.buy_points` credits the points as a new lot and records the
money taken in the receipt (``Receipt.revenue``) and on the ledger entry;
:meth:`PointSales.refund_bought_points` takes them back and gives the money back
(``revenue`` negative) while the sale is refundable: within the sale's
``refundable_for``, and only while none of the points bought has been spent.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from loyaltykit.domain import ledger
from loyaltykit.domain.customer import EARNING_STATUSES
from loyaltykit.errors import InvalidAmount, InvalidArgument, NotReversible, UnknownEntry
from loyaltykit.outcomes import Receipt
from loyaltykit.service import postings
from loyaltykit.service.codecs import receipt_codec
from loyaltykit.service.commands import BuyPoints, RefundBoughtPoints
from loyaltykit.service.kernel import Kernel, Work
from loyaltykit.values import CustomerId, Money, Points

__all__ = ["POINTS_BOUGHT", "PointSales"]

POINTS_BOUGHT = "points_bought"
"""The ``event`` of a bought lot's entry (its ``revenue`` and ``currency`` beside it)."""


class PointSales:
    """Buying points, and refunding points bought."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel

    def buy_points(
        self,
        customer_id: CustomerId,
        points: Points,
        *,
        at: datetime,
        idempotency_key: str,
        price: Money | None = None,
        reason: str = "",
        actor: str | None = None,
    ) -> Receipt:
        """Sell ``points`` to the member at the programme's price; ``Receipt.revenue``
        is the money taken. ``price``, when given, is what the caller charged: it must be
        the programme's price, or the sale is refused with
        :class:`~loyaltykit.errors.InvalidAmount` naming both."""
        command = BuyPoints(
            customer_id=customer_id,
            points=points,
            price=price,
            at=at,
            idempotency_key=idempotency_key,
            reason=reason,
            actor=actor,
        )
        return self.kernel.execute(command, self._buy, receipt_codec())

    def refund_bought_points(
        self,
        customer_id: CustomerId,
        purchase_key: str,
        *,
        at: datetime,
        idempotency_key: str,
        reason: str = "",
        actor: str | None = None,
    ) -> Receipt:
        """Refund the points bought under ``purchase_key``: the points are taken back and
        ``Receipt.revenue`` is the money given back (negative). Refused with
        :class:`~loyaltykit.errors.NotReversible` outside the programme's refund window
        or once some of the points have been spent."""
        command = RefundBoughtPoints(
            customer_id=customer_id,
            purchase_key=purchase_key,
            at=at,
            idempotency_key=idempotency_key,
            reason=reason,
            actor=actor,
        )
        return self.kernel.execute(command, self._refund, receipt_codec())

    def _buy(self, work: Work) -> Receipt:
        command = work.command
        assert isinstance(command, BuyPoints)
        sale = work.program.points_sale
        if sale is None:
            raise InvalidArgument("buy_points: this programme sells no points")
        price = sale.price(command.points)
        if command.price is not None and command.price != price:
            raise InvalidAmount("price", command.price, f"the programme's price, {price}")
        work.customer(command.customer_id).require(command.name, allowed=EARNING_STATUSES)
        kind = postings.point_type(work.program, sale.point_type)
        expiry = postings.expiry(kind, command.at, None)
        context = work.context(
            event=POINTS_BOUGHT, revenue=str(price.amount), currency=price.currency
        )
        receipt = postings.post(
            work.uow,
            command.name,
            context,
            command.customer_id,
            kind.code,
            lambda account: ledger.credit(account, command.points, context, expires_at=expiry),
        )
        return attrs.evolve(receipt, revenue=price)

    def _refund(self, work: Work) -> Receipt:
        command = work.command
        assert isinstance(command, RefundBoughtPoints)
        uow, customer_id, key = work.uow, command.customer_id, command.purchase_key
        work.customer(customer_id)
        bought = [
            entry
            for entry in uow.ledger.entries_by_key(customer_id, key)
            if dict(entry.metadata).get("event") == POINTS_BOUGHT
        ]
        if not bought:
            raise UnknownEntry(customer_id, key)
        entry = bought[0]
        sale = self.kernel.versions.at(entry.occurred_at).points_sale
        why = (
            "the programme sold these points without a refund rule"
            if sale is None
            else sale.refundable(entry.occurred_at, command.at)
        )
        if why is not None:
            raise NotReversible(f"points bought under {key!r}: {why}")
        (lot,) = uow.ledger.lots_by_id(customer_id, [f"{entry.id}.0"])
        if lot.remaining < lot.amount:
            raise NotReversible(
                f"points bought under {key!r}: {lot.amount - lot.remaining} of the "
                f"{lot.amount} have been spent or have expired"
            )
        metadata = dict(entry.metadata)
        revenue = Money.of(str(metadata["revenue"]), str(metadata["currency"]))
        receipt = postings.reverse(work, key, None)
        return attrs.evolve(receipt, revenue=Money.zero(revenue.currency) - revenue)
