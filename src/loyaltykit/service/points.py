"""Ledger commands: earn, redeem, adjust, transfer, reverse."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from fractions import Fraction
from typing import Any

from loyaltykit.domain import ledger
from loyaltykit.domain.customer import (
    EARNING_STATUSES,
    SPENDING_STATUSES,
    Customer,
)
from loyaltykit.domain.ledger import Account, Command, Entry, EntryKind, Lot, Posting
from loyaltykit.errors import (
    InvalidArgument,
    OverReversal,
    UnknownEntry,
)
from loyaltykit.outcomes import Receipt
from loyaltykit.service import postings
from loyaltykit.service.codecs import POINTS, receipt_codec
from loyaltykit.service.commands import (
    AdjustPoints,
    EarnPoints,
    RedeemPoints,
    ReversePoints,
    TransferPoints,
)
from loyaltykit.service.kernel import Kernel, Work
from loyaltykit.storage.base import UnitOfWork
from loyaltykit.values import CustomerId, Points

__all__ = ["PointCommands"]


class PointCommands:
    """Ledger commands: earn, redeem, adjust, transfer, reverse."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel

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
        context = command.context()
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
        context = command.context()
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
        context = command.context()
        points = command.points

        def post(account: Account) -> Posting:
            if points > 0:
                expiry = postings.expiry(kind, command.at, command.expires_at)
                return ledger.credit(
                    account, points, context, kind=EntryKind.ADJUST, expires_at=expiry
                )
            lots = work.uow.ledger.spendable_lots(command.customer_id, kind.code, command.at)
            return ledger.debit(account, -points, lots, context, kind=EntryKind.ADJUST)

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
        context = command.context()
        sender = postings.settled(uow, sender_id, kind.code, context, written)
        receiver = postings.settled(uow, receiver_id, kind.code, context, written)
        out = ledger.debit(
            sender,
            command.points,
            uow.ledger.spendable_lots(sender_id, kind.code, command.at),
            command.context(to=receiver_id),
            kind=EntryKind.TRANSFER_OUT,
        )
        sender = postings.save(uow, out, written)
        parts = _parts_by_expiry(out.entries[-1], out.lots)
        incoming = ledger.credit_lots(
            receiver, parts, command.context(**{"from": sender_id}), kind=EntryKind.TRANSFER_IN
        )
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
        return postings.reverse(work, command.original_key, command.portion)

    def _reversal(
        self,
        work: Work,
        original_key: str,
        share: Fraction | None,
        undone: Callable[[Work, Customer, Entry, Fraction, Fraction], None] | None = None,
    ) -> Receipt:
        """Undo ``share`` (everything left when ``None``) of the entries recorded under
        ``original_key``, inside the command's unit of work, under the refund policy of
        the programme in force at the command's instant."""
        uow, command = work.uow, work.command
        customer = work.customer(command.owner)
        customer_id = customer.id
        context = command.context()
        policy = work.program.refund_policy
        originals = [
            entry
            for entry in uow.ledger.entries_by_key(customer_id, original_key)
            if entry.kind not in (EntryKind.EXPIRE, EntryKind.RELEASE)
        ]
        if not originals:
            raise UnknownEntry(customer_id, original_key)
        plan = [(entry, ledger.reversal_kind(entry)) for entry in originals]
        written: list[Entry] = []
        accounts: dict[str, Account] = {}
        for entry, how in plan:
            code = entry.point_type
            account = postings.settled(uow, customer_id, code, context, written)
            reversals = uow.ledger.reversals_of(customer_id, entry.id)
            before = sum((r.portion or Fraction(0) for r in reversals), Fraction(0))
            part = 1 - before if share is None else share
            if part == 0:
                raise OverReversal(f"{original_key!r} was already reversed in full")
            posting = (
                self._claw_back(uow, account, entry, context, part, before, policy)
                if how == "credit"
                else self._restore(uow, account, entry, reversals, context, part, before)
            )
            postings.save(uow, posting, written)
            accounts[code] = postings.settled(uow, customer_id, code, context, written)
            if undone is not None:
                undone(work, customer, entry, before, part)
        return postings.receipt(command.name, context, customer_id, written, accounts.values())

    def _claw_back(
        self,
        uow: UnitOfWork,
        account: Account,
        entry: Entry,
        command: Command,
        share: Fraction,
        before: Fraction,
        policy: ledger.RefundPolicy,
    ) -> Posting:
        (lot,) = uow.ledger.lots_by_id(entry.customer_id, [f"{entry.id}.0"])
        others = uow.ledger.spendable_lots(entry.customer_id, entry.point_type, command.at)
        return ledger.claw_back(
            account, entry, lot, others, command, portion=share, before=before, policy=policy
        )

    @staticmethod
    def _restore(
        uow: UnitOfWork,
        account: Account,
        entry: Entry,
        reversals: list[Entry],
        command: Command,
        share: Fraction,
        before: Fraction,
    ) -> Posting:
        lots = uow.ledger.lots_by_id(entry.customer_id, {c.lot_id for c in entry.lots})
        restored: dict[str, Points] = {}
        for reversal in reversals:
            for change in reversal.lots:
                if change.delta > 0:
                    restored[change.lot_id] = restored.get(change.lot_id, 0) + change.delta
        return ledger.restore(account, entry, lots, restored, command, portion=share, before=before)


def _parts_by_expiry(entry: Entry, lots: tuple[Lot, ...]) -> list[tuple[Points, datetime | None]]:
    """The points a debit took, grouped by the expiry of the lots they came from."""
    expiry = {lot.id: lot.expires_at for lot in lots}
    parts: dict[datetime | None, Points] = {}
    for change in entry.lots:
        when = expiry[change.lot_id]
        parts[when] = parts.get(when, 0) - change.delta
    return [(points, when) for when, points in parts.items()]
