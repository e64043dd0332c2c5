"""Stored value: gift cards and e-wallets, as commands of the kernel.

Every command that moves a card's money locks the card first (inside the transaction,
before its idempotency key is looked up), so two payments from one card run one after
the other on any backend and a replay always finds the first outcome. A card's keys
and outbox events are its own (``stored-value:<code>``); an issue's belong to the
holder, or to the shared ``stored-value`` space for a card issued to no member.

Nothing here touches points, tiers or member metrics: putting money on a card or
spending it earns no tier credit (a purchase paid with it is the caller's
``record_purchase``, as with any tender).

Another area pays with a card inside its own command through :meth:`StoredValueCommands.pay_in`
(and gives money back with :meth:`StoredValueCommands.refund_in`): the same unit of
work, the same idempotency key, the card locked after the command's members.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from loyaltykit.domain import stored_value as sv
from loyaltykit.domain.customer import OPEN_STATUSES
from loyaltykit.domain.stored_value import (
    Funding,
    StoredValueAccount,
    StoredValueBalance,
    StoredValueEntry,
    StoredValueKind,
    StoredValuePosting,
    StoredValueReceipt,
    account_from_record,
    account_to_record,
    entry_from_record,
    entry_to_record,
    stored_value_code,
)
from loyaltykit.errors import (
    ConcurrencyConflict,
    InvalidArgument,
    LoyaltyError,
    UnknownStoredValue,
)
from loyaltykit.outcomes import JobFailure
from loyaltykit.service.commands import (
    STORED_VALUE,
    IssueStoredValue,
    PayWithStoredValue,
    RefundToStoredValue,
    TopUpStoredValue,
    stored_value_owner,
)
from loyaltykit.service.kernel import Codec, Kernel, Work, job_failure
from loyaltykit.storage.base import BatchProgress, UnitOfWork
from loyaltykit.values import CustomerId, Money, aware, count, identifier

__all__ = ["StoredValueCommands", "StoredValueExpiry", "receipt_codec"]

ISSUED = f"{STORED_VALUE}:issued"
"""The counter of cards issued to no member: taking it serialises that shared key space
(its keys and its outbox sequence) across processes."""
_DRAWS = 8  # codes drawn before a source that keeps drawing taken ones is called broken
_Locate = Callable[[UnitOfWork], tuple[str, tuple[CustomerId, ...]]]


@attrs.frozen(kw_only=True)
class StoredValueExpiry:
    """What :meth:`StoredValueCommands.expire_stored_value` did: the cards it expired, the
    expiry entries it wrote (what was left on each), the cards it could not do."""

    at: datetime
    cards: int
    entries: tuple[StoredValueEntry, ...]
    failures: tuple[JobFailure, ...] = ()


def receipt_to_record(receipt: StoredValueReceipt) -> dict[str, Any]:
    """A receipt as JSON-compatible data (stored under the command's key)."""
    return {"account": account_to_record(receipt.account), "entry": entry_to_record(receipt.entry)}


def receipt_from_record(record: Mapping[str, Any]) -> StoredValueReceipt:
    """The receipt :func:`receipt_to_record` wrote."""
    return StoredValueReceipt(
        account=account_from_record(record["account"]), entry=entry_from_record(record["entry"])
    )


def receipt_codec() -> Codec[StoredValueReceipt]:
    """Receipts stored under their key; a replayed one says so."""
    return Codec(
        receipt_to_record,
        lambda _uow, record: attrs.evolve(receipt_from_record(record), replayed=True),
    )


class StoredValueCommands:
    """Gift cards and wallets: issue, top up, pay, refund, expire, and their queries."""

    # Picks each character of a new code; tests seed it (``random.Random(7).choice``).
    code_source: Callable[[Sequence[str]], str] = secrets.choice

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel

    # --- commands ---------------------------------------------------------------------

    def issue_stored_value(
        self,
        kind: StoredValueKind | str,
        amount: Money,
        *,
        holder: CustomerId | None = None,
        funding: Funding | str = Funding.SOLD,
        expires_at: datetime | None = None,
        at: datetime,
        idempotency_key: str,
    ) -> StoredValueReceipt:
        """Issue a gift card (``"gift_card"``: sold or given, to a member or to no one)
        or open a member's e-wallet (``"wallet"``: ``holder`` required, may open empty
        with ``Money.zero``). The receipt carries the new card's code.

        ``funding`` says where the money came from (``"sold"``: paid for; ``"granted"``:
        given away); ``expires_at`` ends the card (the balance left then expires).
        The card's currency is ``amount``'s, for good.
        """
        command = IssueStoredValue(
            card_kind=kind,
            amount=amount,
            funding=funding,
            holder=holder,
            expires_at=expires_at,
            at=at,
            idempotency_key=idempotency_key,
        )

        def locate(uow: UnitOfWork) -> tuple[str, tuple[CustomerId, ...]]:
            if command.holder is None:
                uow.counters.take(ISSUED, 1)
            return command.owner, command.locks()

        def handler(work: Work) -> StoredValueReceipt:
            if command.holder is not None:
                holder = work.customer(command.holder)
                holder.require(command.name, allowed=OPEN_STATUSES)
                if holder.is_erased:
                    raise InvalidArgument(f"holder {holder.id!r} was erased")
            code = self._fresh_code(work.uow)
            posting = sv.issue(
                code,
                command.card_kind,
                command.amount,
                funding=command.funding,
                holder=command.holder,
                expires_at=command.expires_at,
                at=command.at,
                key=command.idempotency_key,
            )
            work.uow.stored_value.add(posting.account)
            work.uow.stored_value.add_entries([posting.entry])
            return StoredValueReceipt(account=posting.account, entry=posting.entry)

        return self.kernel.execute(command, handler, receipt_codec(), locate=locate)

    def top_up(
        self,
        code: str,
        amount: Money,
        *,
        funding: Funding | str = Funding.SOLD,
        reference: str | None = None,
        at: datetime,
        idempotency_key: str,
    ) -> StoredValueReceipt:
        """Put ``amount`` (in the card's currency) on a gift card or wallet; refused once
        it is past its expiry."""
        command = TopUpStoredValue(
            code=code,
            amount=amount,
            funding=funding,
            reference=reference,
            at=at,
            idempotency_key=idempotency_key,
        )

        def handler(work: Work) -> StoredValueReceipt:
            account = self._locked(work.uow, command.code)
            posting = sv.top_up(
                account,
                command.amount,
                funding=command.funding,
                at=command.at,
                key=command.idempotency_key,
                reference=command.reference,
            )
            return self._save(work.uow, posting)

        return self._run_on_card(command, handler)

    def pay_with_stored_value(
        self,
        code: str,
        amount: Money,
        *,
        reference: str | None = None,
        partial: bool = False,
        at: datetime,
        idempotency_key: str,
    ) -> StoredValueReceipt:
        """Pay ``amount`` with a gift card or wallet. The balance never goes below zero:
        asking for more raises :class:`~loyaltykit.errors.InsufficientStoredValue`, or
        with ``partial=True`` takes what the card holds (the receipt's entry says how
        much: split the rest to another tender). ``reference`` is yours (an order id)."""
        command = PayWithStoredValue(
            code=code,
            amount=amount,
            reference=reference,
            partial=partial,
            at=at,
            idempotency_key=idempotency_key,
        )

        def handler(work: Work) -> StoredValueReceipt:
            return self._pay(
                work.uow,
                command.code,
                command.amount,
                work.at,
                command.idempotency_key,
                reference=command.reference,
                partial=command.partial,
            )

        return self._run_on_card(command, handler)

    def refund_to_stored_value(
        self,
        code: str,
        amount: Money,
        *,
        payment: str | None = None,
        at: datetime,
        idempotency_key: str,
    ) -> StoredValueReceipt:
        """Give ``amount`` back to a gift card or wallet. ``payment`` names the payment
        it gives back (the idempotency key it was made under, on this card): the refunds
        of a payment never add up to more than it took
        (:class:`~loyaltykit.errors.RefundExceedsPayment`). Without it, the money is
        simply credited (a refund of an order paid another way, into the wallet)."""
        command = RefundToStoredValue(
            code=code, amount=amount, payment=payment, at=at, idempotency_key=idempotency_key
        )

        def handler(work: Work) -> StoredValueReceipt:
            return self._refund(
                work.uow,
                command.code,
                command.amount,
                work.at,
                command.idempotency_key,
                payment=command.payment,
            )

        return self._run_on_card(command, handler)

    # --- for other areas: inside their own command -------------------------------------

    def pay_in(
        self,
        work: Work,
        code: str,
        amount: Money,
        *,
        reference: str | None = None,
        partial: bool = False,
    ) -> StoredValueReceipt:
        """Pay with a card inside another command's unit of work (a checkout): the card
        is locked, debited like :meth:`pay_with_stored_value` under the command's
        idempotency key and instant, and a ``pay_with_stored_value`` event is written to
        the card's outbox partition. An error leaves the whole command to roll back.
        Refund it later with ``refund_to_stored_value(payment=<the command's key>)`` or
        :meth:`refund_in`. A command paying with several cards pays them in code order,
        so that two such commands lock the cards in one order."""
        receipt = self._pay(
            work.uow,
            stored_value_code(code),
            amount,
            work.at,
            work.command.idempotency_key,
            reference=None if reference is None else identifier("reference", reference),
            partial=partial,
        )
        self._emit(work, PayWithStoredValue.kind, receipt)
        return receipt

    def refund_in(
        self, work: Work, code: str, amount: Money, *, payment: str | None
    ) -> StoredValueReceipt:
        """Give money back to a card inside another command's unit of work (an order's
        refund), capped like :meth:`refund_to_stored_value` by the ``payment`` named."""
        receipt = self._refund(
            work.uow,
            stored_value_code(code),
            amount,
            work.at,
            work.command.idempotency_key,
            payment=None if payment is None else identifier("payment", payment),
        )
        self._emit(work, RefundToStoredValue.kind, receipt)
        return receipt

    # --- batch work -------------------------------------------------------------------

    def expire_stored_value(self, *, at: datetime, batch_size: int = 500) -> StoredValueExpiry:
        """Expire every card whose ``expires_at`` is at or before ``at``: an ``expiry``
        entry takes what is left, dated at the expiry, and the card is ``expired``.

        One short transaction per card, so it can be interrupted and run again: a card
        expires once, whatever happens. A card that fails is reported and skipped.
        """
        self.kernel.outside_batch("expire_stored_value")
        when = aware("at", at)
        count("batch_size", batch_size)
        entries: list[StoredValueEntry] = []
        failures: dict[str, JobFailure] = {}
        cards = 0
        progress = BatchProgress("stored value expiry loop")
        while True:
            with self.kernel.reading() as uow:
                due = uow.stored_value.due(when, limit=batch_size)
            todo = [code for code in due if code not in failures]
            if not todo:
                break
            for code in todo:
                try:
                    posting = self._expire_one(code, when)
                except LoyaltyError as error:  # one bad card never stops the job
                    failures[code] = job_failure("expire_stored_value", code, code, error)
                    continue
                progress.step(code, changed=posting is not None)
                if posting is not None:
                    cards += 1
                    entries.append(posting.entry)
        return StoredValueExpiry(
            at=when, cards=cards, entries=tuple(entries), failures=tuple(failures.values())
        )

    def _expire_one(self, code: str, at: datetime) -> StoredValuePosting | None:
        for attempt in range(self.kernel.retries + 1):
            try:
                with self.kernel.unit() as uow:
                    account = self._locked(uow, code)
                    posting = sv.expire(account, at)
                    if posting is None:
                        return None
                    uow.stored_value.update(posting.account)
                    uow.stored_value.add_entries([posting.entry])
                    receipt = StoredValueReceipt(account=posting.account, entry=posting.entry)
                    owner = stored_value_owner(code)
                    self.kernel.emit(
                        uow, owner, "expire_stored_value", at, None, receipt_to_record(receipt)
                    )
                    uow.commit()
                    return posting
            except ConcurrencyConflict:
                if attempt == self.kernel.retries:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    # --- queries ----------------------------------------------------------------------

    def stored_value_balance(self, code: str, *, at: datetime) -> StoredValueBalance:
        """A card's balance at ``at``: ``spendable`` is zero once it is past its expiry
        (whether or not the expiry job has run yet)."""
        when = aware("at", at)
        with self.kernel.reading() as uow:
            account = self._existing(uow, stored_value_code(code))
        spendable = Money.zero(account.currency).quantize() if account.expired_at(when) else None
        return StoredValueBalance(
            code=account.code,
            kind=account.kind,
            holder=account.holder,
            balance=account.balance,
            spendable=account.balance if spendable is None else spendable,
            expires_at=account.expires_at,
            status=account.status,
        )

    def stored_value(self, code: str) -> StoredValueAccount:
        """The gift card or wallet with this code (as typed: any case, dashes)."""
        with self.kernel.reading() as uow:
            return self._existing(uow, stored_value_code(code))

    def stored_value_entries(self, code: str) -> tuple[StoredValueEntry, ...]:
        """Every entry of a card, oldest first: its statement."""
        found = stored_value_code(code)
        with self.kernel.reading() as uow:
            self._existing(uow, found)
            return tuple(uow.stored_value.entries(found))

    def stored_value_of(self, customer_id: CustomerId) -> tuple[StoredValueAccount, ...]:
        """The gift cards and wallets a member holds, by code."""
        with self.kernel.reading() as uow:
            return tuple(uow.stored_value.of_holder(identifier("customer_id", customer_id)))

    # --- the steps ----------------------------------------------------------------------

    def _run_on_card(
        self,
        command: TopUpStoredValue | PayWithStoredValue | RefundToStoredValue,
        handler: Callable[[Work], StoredValueReceipt],
    ) -> StoredValueReceipt:
        def locate(uow: UnitOfWork) -> tuple[str, tuple[CustomerId, ...]]:
            # the card's lock comes before its key is looked up: a command sent twice at
            # once waits, then replays, instead of being refused by its own first run
            self._locked(uow, command.code)
            return command.owner, ()

        return self.kernel.execute(command, handler, receipt_codec(), locate=locate)

    def _pay(
        self,
        uow: UnitOfWork,
        code: str,
        amount: Money,
        at: datetime,
        key: str,
        *,
        reference: str | None,
        partial: bool,
    ) -> StoredValueReceipt:
        account = self._locked(uow, code)
        posting = sv.pay(account, amount, at=at, key=key, reference=reference, partial=partial)
        return self._save(uow, posting)

    def _refund(
        self,
        uow: UnitOfWork,
        code: str,
        amount: Money,
        at: datetime,
        key: str,
        *,
        payment: str | None,
    ) -> StoredValueReceipt:
        account = self._locked(uow, code)
        payments = () if payment is None else uow.stored_value.entries_by_key(code, payment)
        refunds = () if payment is None else uow.stored_value.refunds_of(code, payment)
        posting = sv.refund(
            account, amount, at=at, key=key, payment=payment, payments=payments, refunds=refunds
        )
        return self._save(uow, posting)

    @staticmethod
    def _save(uow: UnitOfWork, posting: StoredValuePosting) -> StoredValueReceipt:
        uow.stored_value.update(posting.account)
        uow.stored_value.add_entries([posting.entry])
        return StoredValueReceipt(account=posting.account, entry=posting.entry)

    def _emit(self, work: Work, kind: str, receipt: StoredValueReceipt) -> None:
        owner = stored_value_owner(receipt.code)
        key = work.command.idempotency_key
        self.kernel.emit(work.uow, owner, kind, work.at, key, receipt_to_record(receipt))

    @staticmethod
    def _existing(uow: UnitOfWork, code: str) -> StoredValueAccount:
        found = uow.stored_value.get(code)
        if found is None:
            raise UnknownStoredValue(code)
        return found

    @staticmethod
    def _locked(uow: UnitOfWork, code: str) -> StoredValueAccount:
        found = uow.stored_value.get(code, for_update=True)
        if found is None:
            raise UnknownStoredValue(code)
        return found

    def _fresh_code(self, uow: UnitOfWork) -> str:
        for _ in range(_DRAWS):
            code = sv.new_code(self.code_source)
            if uow.stored_value.get(code) is None:
                return code
        raise InvalidArgument(
            f"code source: {_DRAWS} codes drawn in a row were taken (is it seeded to repeat?)"
        )
