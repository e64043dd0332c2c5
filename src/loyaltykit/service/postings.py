"""The ledger steps every area shares, inside a command's unit of work: settle an
account, post to it, save the posting, make the receipt, undo an earlier command."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from fractions import Fraction

from loyaltykit.domain import ledger
from loyaltykit.domain.customer import Customer
from loyaltykit.domain.ledger import Account, Command, Entry, EntryKind, Posting
from loyaltykit.errors import InvalidArgument, OverReversal, UnknownEntry
from loyaltykit.outcomes import Receipt, balance_of_saved
from loyaltykit.policy.program import PointType, Program
from loyaltykit.service.kernel import Work
from loyaltykit.storage.base import UnitOfWork
from loyaltykit.values import CustomerId, Metadata, Points, frozen_metadata

__all__ = [
    "GiveBack",
    "adjustment",
    "claw_back",
    "clawed_back",
    "expiry",
    "point_type",
    "post",
    "receipt",
    "reported",
    "reverse",
    "save",
    "settled",
    "with_metadata",
]


Undone = Callable[[Work, Customer, Entry, Fraction, Fraction], None]
"""Called after each entry is reversed (a refund takes the purchase out of metrics)."""

GiveBack = Callable[[UnitOfWork, Entry], None]
"""Called after a credit was clawed back (see :func:`clawed_back`)."""


def _text(what: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidArgument(f"{what}: {value!r} is not a string")
    return value


def point_type(program: Program, code: object) -> PointType:
    return program.point_type(_text("point_type", code))


def save(uow: UnitOfWork, posting: Posting, written: list[Entry]) -> Account:
    uow.ledger.add_entries(posting.entries)
    uow.ledger.save_lots(posting.lots)
    uow.ledger.save_account(posting.account)
    written.extend(posting.entries)
    return posting.account


def settled(
    uow: UnitOfWork,
    customer_id: CustomerId,
    point_type: str,
    command: Command,
    written: list[Entry],
) -> Account:
    """The account with every lot that fell due by ``command.at`` settled."""
    account = uow.ledger.account(customer_id, point_type) or Account(
        customer_id=customer_id, point_type=point_type
    )
    due = uow.ledger.due_lots(customer_id, point_type, command.at)
    if not due:
        return account
    return save(uow, ledger.settle(account, due, command), written)


def post(
    uow: UnitOfWork,
    name: str,
    command: Command,
    customer_id: CustomerId,
    point_type: str,
    post: Callable[[Account], Posting],
) -> Receipt:
    """Settle one account, apply ``post`` to it, save, and make the receipt."""
    written: list[Entry] = []
    account = settled(uow, customer_id, point_type, command, written)
    account = save(uow, post(account), written)
    return receipt(name, command, customer_id, written, [account])


def adjustment(
    uow: UnitOfWork,
    kind: PointType,
    context: Command,
    customer_id: CustomerId,
    points: Points,
    expires_at: datetime | None = None,
) -> Callable[[Account], Posting]:
    """The posting of a manual adjustment of ``points`` (negative to take points in
    spending order), for :func:`post`."""

    def posting(account: Account) -> Posting:
        if points > 0:
            ends = expiry(kind, context.at, expires_at)
            return ledger.credit(account, points, context, kind=EntryKind.ADJUST, expires_at=ends)
        lots = uow.ledger.spendable_lots(customer_id, kind.code, context.at)
        return ledger.debit(account, -points, lots, context, kind=EntryKind.ADJUST)

    return posting


def receipt(
    name: str,
    command: Command,
    customer_id: CustomerId,
    written: list[Entry],
    accounts: Iterable[Account],
    explanation: str = "",
) -> Receipt:
    assert command.idempotency_key is not None
    return Receipt(
        command=name,
        idempotency_key=command.idempotency_key,
        customer_id=customer_id,
        at=command.at,
        entries=tuple(written),
        balances=tuple([balance_of_saved(account) for account in accounts]),
        explanation=explanation,
    )


def expiry(point_type: PointType, at: datetime, expires_at: datetime | None) -> datetime | None:
    """The lot's expiry: the one the caller sent, else the point type's rule (derived
    here, inside the command, so that it never joins the fingerprint)."""
    if expires_at is not None:
        return expires_at
    if point_type.expire_after is None:
        return None
    return at + point_type.expire_after


def reverse(
    work: Work,
    original_key: str,
    share: Fraction | None,
    undone: Undone | None = None,
    *,
    given_back: GiveBack | None = None,
) -> Receipt:
    """Undo ``share`` (everything left when ``None``) of the entries recorded under
    ``original_key``, inside the command's unit of work, under the refund policy of
    the programme in force at the command's instant. ``given_back`` is told of every
    credit clawed back, so that the budget that paid it (a campaign's, the goodwill
    budget) gets back what was clawed back."""
    uow, command = work.uow, work.command
    customer = work.customer(command.owner)
    customer_id = customer.id
    context = work.context()
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
        account = settled(uow, customer_id, code, context, written)
        reversals = uow.ledger.reversals_of(customer_id, entry.id)
        before = sum((r.portion or Fraction(0) for r in reversals), Fraction(0))
        part = 1 - before if share is None else share
        if part == 0:
            raise OverReversal(f"{original_key!r} was already reversed in full")
        posting = (
            _claw_back(uow, account, entry, context, part, before, policy)
            if how == "credit"
            else _restore(uow, account, entry, reversals, context, part, before)
        )
        save(uow, posting, written)
        accounts[code] = settled(uow, customer_id, code, context, written)
        if how == "credit" and given_back is not None:
            given_back(uow, entry)
        if undone is not None:
            undone(work, customer, entry, before, part)
    shown = reported(uow, work.program, customer_id, accounts.values())
    return receipt(command.name, context, customer_id, written, shown)


def claw_back(
    uow: UnitOfWork,
    account: Account,
    entry: Entry,
    context: Command,
    share: Fraction,
    before: Fraction,
    policy: ledger.RefundPolicy,
) -> Posting:
    """Claw back ``share`` of the credit ``entry`` (``before`` was clawed back already)."""
    return _claw_back(uow, account, entry, context, share, before, policy)


def clawed_back(uow: UnitOfWork, entry: Entry) -> Points:
    """The points the latest reversal of ``entry`` (a credit) took back, 0 if none."""
    reversals = uow.ledger.reversals_of(entry.customer_id, entry.id)
    if not reversals:
        return 0
    last = reversals[-1]
    return max(0, -(last.amount + last.pending_delta))


def reported(
    uow: UnitOfWork, program: Program, customer_id: CustomerId, accounts: Iterable[Account]
) -> list[Account]:
    """``accounts`` and then, when they do not include it, the customer's account of the
    programme's main point type: a receipt always has a balance to show, even for a
    purchase that earned nothing on a new account (a zero balance)."""
    found = list(accounts)
    main = program.main_point_type
    if not any(a.customer_id == customer_id and a.point_type == main for a in found):
        found.append(
            uow.ledger.account(customer_id, main)
            or Account(customer_id=customer_id, point_type=main)
        )
    return found


def _claw_back(
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


def with_metadata(metadata: Metadata, key: str, value: str) -> Metadata:
    """``metadata`` with one more (or a replaced) entry."""
    return frozen_metadata({**dict(metadata), key: value})
