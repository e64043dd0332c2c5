"""Ledger commands: earn, redeem, adjust, transfer, reverse."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from fractions import Fraction
from typing import Any

import attrs

from loyaltykit.domain import ledger
from loyaltykit.domain.customer import (
    EARNING_STATUSES,
    SPENDING_STATUSES,
)
from loyaltykit.domain.ledger import Entry, EntryKind, Lot
from loyaltykit.errors import (
    InvalidArgument,
)
from loyaltykit.outcomes import Receipt
from loyaltykit.service import postings
from loyaltykit.service.budgets import Budgets
from loyaltykit.service.codecs import POINTS, receipt_codec
from loyaltykit.service.commands import (
    AdjustPoints,
    EarnPoints,
    RedeemPoints,
    ReversePoints,
    TransferPoints,
)
from loyaltykit.service.kernel import Kernel, Work
from loyaltykit.values import CustomerId, Points

__all__ = ["PointCommands"]


class PointCommands:
    """Ledger commands: earn, redeem, adjust, transfer, reverse."""

    def __init__(self, kernel: Kernel, budgets: Budgets) -> None:
        self.kernel = kernel
        self.budgets = budgets

    # --- the ledger -----------------------------------------------------------------

    def earn(
        self,
        customer_id: CustomerId,
        points: Points,
        *,
        at: datetime,
        idempotency_key: str,
        point_type: str = POINTS,
        expires_at: datetime | None = None,
        available_from: datetime | None = None,
        reason: str = "",
        actor: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Receipt:
        """Grant ``points`` as a new lot.

        ``expires_at`` defaults to the point type's ``expire_after``; a lot with an
        ``available_from`` in the future is pending until then (a return window).
        """
        command = EarnPoints(
            customer_id=customer_id,
            points=points,
            at=at,
            idempotency_key=idempotency_key,
            point_type=point_type,
            expires_at=expires_at,
            available_from=available_from,
            reason=reason,
            actor=actor,
            metadata=metadata,
        )
        return self.kernel.execute(command, self._earn, receipt_codec())

    def _earn(self, work: Work) -> Receipt:
        command = work.command
        assert isinstance(command, EarnPoints)
        kind = postings.point_type(work.program, command.point_type)
        work.customer(command.customer_id).require("earn", allowed=EARNING_STATUSES)
        expiry = postings.expiry(kind, command.at, command.expires_at)
        context = work.context()
        return postings.post(
            work.uow,
            command.name,
            context,
            command.customer_id,
            kind.code,
            lambda account: ledger.credit(
                account,
                command.points,
                context,
                expires_at=expiry,
                available_from=command.available_from,
            ),
        )

    def redeem_points(
        self,
        customer_id: CustomerId,
        points: Points,
        *,
        at: datetime,
        idempotency_key: str,
        point_type: str = POINTS,
        reason: str = "",
        actor: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Receipt:
        """Spend ``points``, taking the soonest-expiring lots first."""
        command = RedeemPoints(
            customer_id=customer_id,
            points=points,
            at=at,
            idempotency_key=idempotency_key,
            point_type=point_type,
            reason=reason,
            actor=actor,
            metadata=metadata,
        )
        return self.kernel.execute(command, self._redeem_points, receipt_codec())

    def _redeem_points(self, work: Work) -> Receipt:
        command = work.command
        assert isinstance(command, RedeemPoints)
        kind = postings.point_type(work.program, command.point_type)
        if not kind.redeemable:
            raise InvalidArgument(f"point_type: {kind.code!r} points cannot be redeemed")
        work.customer(command.customer_id).require("redeem", allowed=SPENDING_STATUSES)
        lots = work.uow.ledger.spendable_lots  # read after settlement, inside _post
        context = work.context()
        return postings.post(
            work.uow,
            command.name,
            context,
            command.customer_id,
            kind.code,
            lambda account: ledger.debit(
                account, command.points, lots(command.customer_id, kind.code, command.at), context
            ),
        )

    def adjust(
        self,
        customer_id: CustomerId,
        points: Points,
        *,
        at: datetime,
        idempotency_key: str,
        reason: str,
        actor: str,
        point_type: str = POINTS,
        expires_at: datetime | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Receipt:
        """A manual correction: positive ``points`` add a lot, negative ones take points
        in spending order. ``reason`` and ``actor`` are required: adjustments are audited."""
        command = AdjustPoints(
            customer_id=customer_id,
            points=points,
            at=at,
            idempotency_key=idempotency_key,
            point_type=point_type,
            expires_at=expires_at,
            reason=reason,
            actor=actor,
            metadata=metadata,
        )
        return self.kernel.execute(command, self._adjust, receipt_codec())

    def _adjust(self, work: Work) -> Receipt:
        command = work.command
        assert isinstance(command, AdjustPoints)
        kind = postings.point_type(work.program, command.point_type)
        work.customer(command.customer_id)
        context = work.context()
        post = postings.adjustment(
            work.uow, kind, context, command.customer_id, command.points, command.expires_at
        )
        return postings.post(work.uow, command.name, context, command.customer_id, kind.code, post)

    def transfer(
        self,
        from_customer: CustomerId,
        to_customer: CustomerId,
        points: Points,
        *,
        at: datetime,
        idempotency_key: str,
        point_type: str = POINTS,
        reason: str = "",
        actor: str | None = None,
    ) -> Receipt:
        """Move points between two members as one atomic pair of entries.

        The receiver's lots keep the expiry the points had at the sender, so a
        transfer can never extend the life of points. The key belongs to the sender.
        """
        command = TransferPoints(
            from_customer=from_customer,
            to_customer=to_customer,
            points=points,
            at=at,
            idempotency_key=idempotency_key,
            point_type=point_type,
            reason=reason,
            actor=actor,
        )
        return self.kernel.execute(command, self._transfer, receipt_codec())

    def _transfer(self, work: Work) -> Receipt:
        command = work.command
        assert isinstance(command, TransferPoints)
        kind = postings.point_type(work.program, command.point_type)
        if not kind.transferable:
            raise InvalidArgument(f"point_type: {kind.code!r} points cannot be transferred")
        sender_id, receiver_id = command.from_customer, command.to_customer
        work.customer(sender_id).require("transfer", allowed=SPENDING_STATUSES)
        work.customer(receiver_id).require("receive a transfer", allowed=SPENDING_STATUSES)
        uow = work.uow
        written: list[Entry] = []
        context = work.context()
        sender = postings.settled(uow, sender_id, kind.code, context, written)
        receiver = postings.settled(uow, receiver_id, kind.code, context, written)
        out = ledger.debit(
            sender,
            command.points,
            uow.ledger.spendable_lots(sender_id, kind.code, command.at),
            work.context(to=receiver_id),
            kind=EntryKind.TRANSFER_OUT,
        )
        sender = postings.save(uow, out, written)
        parts = _parts_by_expiry(out.entries[-1], out.lots)
        # the key is the sender's: the receiver's entry names it in its metadata only, so
        # it never shadows one of the receiver's own keys
        received = attrs.evolve(
            work.context(**{"from": sender_id, "transfer": command.idempotency_key}),
            idempotency_key=None,
        )
        incoming = ledger.credit_lots(receiver, parts, received, kind=EntryKind.TRANSFER_IN)
        receiver = postings.save(uow, incoming, written)
        return postings.receipt(command.name, context, sender_id, written, [sender, receiver])

    def reverse(
        self,
        customer_id: CustomerId,
        original_key: str,
        *,
        at: datetime,
        idempotency_key: str,
        portion: Fraction | str | int | None = None,
        reason: str = "",
        actor: str | None = None,
    ) -> Receipt:
        """Undo (a ``portion`` of) the command recorded under ``original_key``.

        Without ``portion``, everything not yet reversed is reversed.

        A credit (an earn, a positive adjustment) is clawed back lot by lot under the
        program's refund policy; a debit (a redemption, a negative adjustment) gives the
        points back to the lots they came from, with their original expiry. Portions
        add up: reversing 1/2 twice reverses everything, and never more.
        """
        command = ReversePoints(
            customer_id=customer_id,
            original_key=original_key,
            at=at,
            idempotency_key=idempotency_key,
            portion=portion,
            reason=reason,
            actor=actor,
        )
        return self.kernel.execute(command, self._reverse_points, receipt_codec())

    def _reverse_points(self, work: Work) -> Receipt:
        command = work.command
        assert isinstance(command, ReversePoints)
        return postings.reverse(
            work, command.original_key, command.portion, given_back=self.budgets.give_back
        )


def _parts_by_expiry(entry: Entry, lots: tuple[Lot, ...]) -> list[tuple[Points, datetime | None]]:
    """The points a debit took, grouped by the expiry of the lots they came from."""
    expiry = {lot.id: lot.expires_at for lot in lots}
    parts: dict[datetime | None, Points] = {}
    for change in entry.lots:
        when = expiry[change.lot_id]
        parts[when] = parts.get(when, 0) - change.delta
    return [(points, when) for when, points in parts.items()]
