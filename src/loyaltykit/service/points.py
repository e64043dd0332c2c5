"""Ledger commands: earn, redeem, adjust, transfer, reverse."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from fractions import Fraction
from typing import Any

import attrs

from loyaltykit.domain import ledger
from loyaltykit.domain.customer import (
    EARNING_STATUSES,
    SPENDING_STATUSES,
    Customer,
)
from loyaltykit.domain.ledger import Account, Command, Entry, EntryKind, Lot, Posting
from loyaltykit.errors import (
    InvalidAmount,
    InvalidArgument,
    OverReversal,
    UnknownEntry,
)
from loyaltykit.outcomes import Receipt
from loyaltykit.service.pipeline import (
    POINTS,
    Pipeline,
    _with,
)
from loyaltykit.storage.base import UnitOfWork
from loyaltykit.values import (
    CustomerId,
    Points,
    aware,
    identifier,
    points_amount,
)
from loyaltykit.values import (
    portion as _as_portion,
)

__all__ = ["PointCommands"]


class PointCommands(Pipeline):
    """Ledger commands: earn, redeem, adjust, transfer, reverse."""

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
        command = self._command(at, idempotency_key, reason, actor, metadata)
        kind = self._point_type(point_type)
        points = points_amount("points", points)
        expiry = self._expiry(kind, command.at, expires_at)
        start = None if available_from is None else aware("available_from", available_from)

        def action(uow: UnitOfWork, customers: dict[CustomerId, Customer]) -> Receipt:
            customers[customer_id].require("earn", allowed=EARNING_STATUSES)
            return self._post(
                uow,
                "earn",
                command,
                customer_id,
                kind.code,
                lambda account: ledger.credit(
                    account, points, command, expires_at=expiry, available_from=start
                ),
            )

        arguments = {
            "customer": customer_id,
            "points": points,
            "point_type": kind.code,
            "expires_at": expiry,
            "available_from": start,
        }
        return self._ledger_command("earn", command, customer_id, arguments, action)

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
        command = self._command(at, idempotency_key, reason, actor, metadata)
        kind = self._point_type(point_type)
        points = points_amount("points", points)
        if not kind.redeemable:
            raise InvalidArgument(f"point_type: {kind.code!r} points cannot be redeemed")

        def action(uow: UnitOfWork, customers: dict[CustomerId, Customer]) -> Receipt:
            customers[customer_id].require("redeem", allowed=SPENDING_STATUSES)
            lots = uow.ledger.spendable_lots  # read after settlement, inside _post
            return self._post(
                uow,
                "redeem_points",
                command,
                customer_id,
                kind.code,
                lambda account: ledger.debit(
                    account, points, lots(customer_id, kind.code, command.at), command
                ),
            )

        arguments = {
            "customer": customer_id,
            "points": points,
            "point_type": kind.code,
        }
        return self._ledger_command("redeem_points", command, customer_id, arguments, action)

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
        command = self._command(at, idempotency_key, reason, actor, metadata)
        if not command.reason.strip() or not (command.actor or "").strip():
            raise InvalidArgument(
                f"adjust needs a reason and an actor (got reason={reason!r}, actor={actor!r})"
            )
        kind = self._point_type(point_type)
        if isinstance(points, bool) or not isinstance(points, int) or points == 0:
            raise InvalidAmount("points", points, "a non-zero int (negative to take points)")
        expiry = self._expiry(kind, command.at, expires_at) if points > 0 else None

        def action(uow: UnitOfWork, customers: dict[CustomerId, Customer]) -> Receipt:
            def post(account: Account) -> Posting:
                if points > 0:
                    return ledger.credit(
                        account, points, command, kind=EntryKind.ADJUST, expires_at=expiry
                    )
                lots = uow.ledger.spendable_lots(customer_id, kind.code, command.at)
                return ledger.debit(account, -points, lots, command, kind=EntryKind.ADJUST)

            return self._post(uow, "adjust", command, customer_id, kind.code, post)

        arguments = {
            "customer": customer_id,
            "points": points,
            "point_type": kind.code,
            "expires_at": expiry,
        }
        return self._ledger_command("adjust", command, customer_id, arguments, action)

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
        command = self._command(at, idempotency_key, reason, actor)
        kind = self._point_type(point_type)
        points = points_amount("points", points)
        if not kind.transferable:
            raise InvalidArgument(f"point_type: {kind.code!r} points cannot be transferred")
        if from_customer == to_customer:
            raise InvalidArgument(f"transfer: {from_customer!r} cannot transfer to themselves")

        def action(uow: UnitOfWork, customers: dict[CustomerId, Customer]) -> Receipt:
            customers[from_customer].require("transfer", allowed=SPENDING_STATUSES)
            customers[to_customer].require("receive a transfer", allowed=SPENDING_STATUSES)
            written: list[Entry] = []
            sender = self._settled(uow, from_customer, kind.code, command, written)
            receiver = self._settled(uow, to_customer, kind.code, command, written)
            out = ledger.debit(
                sender,
                points,
                uow.ledger.spendable_lots(from_customer, kind.code, command.at),
                attrs.evolve(command, metadata=_with(command.metadata, "to", to_customer)),
                kind=EntryKind.TRANSFER_OUT,
            )
            sender = self._save(uow, out, written)
            parts = _parts_by_expiry(out.entries[-1], out.lots)
            incoming = ledger.credit_lots(
                receiver,
                parts,
                attrs.evolve(command, metadata=_with(command.metadata, "from", from_customer)),
                kind=EntryKind.TRANSFER_IN,
            )
            receiver = self._save(uow, incoming, written)
            return self._receipt("transfer", command, from_customer, written, [sender, receiver])

        arguments = {
            "from": from_customer,
            "to": to_customer,
            "points": points,
            "point_type": kind.code,
        }
        return self._ledger_command(
            "transfer", command, from_customer, arguments, action, lock=(from_customer, to_customer)
        )

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
        return self._reverse(
            "reverse",
            customer_id,
            original_key,
            at=at,
            idempotency_key=idempotency_key,
            portion=portion,
            reason=reason,
            actor=actor,
        )

    def _reverse(
        self,
        name: str,
        customer_id: CustomerId,
        original_key: str,
        *,
        at: datetime,
        idempotency_key: str,
        portion: Fraction | str | int | None,
        reason: str,
        actor: str | None,
        undone: Callable[[UnitOfWork, Customer, Entry, Fraction, Fraction, datetime], None]
        | None = None,
        lock: tuple[CustomerId, ...] | None = None,
        then: Callable[[UnitOfWork, dict[CustomerId, Customer], Command, Receipt], Receipt]
        | None = None,
    ) -> Receipt:
        """Reverse ``original_key``; ``then`` (a refund's referral claw-back) continues in
        the same unit of work, with the customers of ``lock`` locked."""
        command = self._command(at, idempotency_key, reason, actor)
        original_key = identifier("original_key", original_key)
        share = None if portion is None else _as_portion(portion)

        def action(uow: UnitOfWork, customers: dict[CustomerId, Customer]) -> Receipt:
            receipt = self._reversal(
                uow, name, command, customers[customer_id], original_key, share, undone
            )
            return receipt if then is None else then(uow, customers, command, receipt)

        arguments = {
            "customer": customer_id,
            "original": original_key,
            "portion": None if share is None else str(share),
        }
        return self._ledger_command(name, command, customer_id, arguments, action, lock=lock)

    def _reversal(
        self,
        uow: UnitOfWork,
        name: str,
        command: Command,
        customer: Customer,
        original_key: str,
        share: Fraction | None,
        undone: Callable[[UnitOfWork, Customer, Entry, Fraction, Fraction, datetime], None]
        | None = None,
    ) -> Receipt:
        """Undo ``share`` (everything left when ``None``) of the entries recorded under
        ``original_key``, inside the caller's unit of work."""
        customer_id = customer.id
        policy = self.program.refund_policy
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
            account = self._settled(uow, customer_id, code, command, written)
            reversals = uow.ledger.reversals_of(customer_id, entry.id)
            before = sum((r.portion or Fraction(0) for r in reversals), Fraction(0))
            part = 1 - before if share is None else share
            if part == 0:
                raise OverReversal(f"{original_key!r} was already reversed in full")
            posting = (
                self._claw_back(uow, account, entry, command, part, before, policy)
                if how == "credit"
                else self._restore(uow, account, entry, reversals, command, part, before)
            )
            self._save(uow, posting, written)
            accounts[code] = self._settled(uow, customer_id, code, command, written)
            if how == "credit":
                self._given_back(uow, entry)  # budgets that paid the credit get it back
            if undone is not None:
                undone(uow, customer, entry, before, part, command.at)
        return self._receipt(name, command, customer_id, written, accounts.values())

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
