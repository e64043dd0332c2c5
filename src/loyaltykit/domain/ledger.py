"""The points ledger: accounts, append-only entries and the lots earned points live in.

Everything here is pure. A ledger operation takes an :class:`Account` (the cached
balances of one customer's point type) and the lots it needs, and returns a
:class:`Posting`: the new account, the entries to append and the lots that changed.
The service saves the posting in the same unit of work; nothing here does I/O.

The model, in brief (``docs/concepts/ledger.md`` has the long form):

* Earned points are **lots** with an optional expiry and an optional ``available_from``
  (pending points). Debits consume available lots in expiry order: soonest first,
  never-expiring last. Expiry removes exactly what is left of a lot.
* Every change is an :class:`Entry`: ``amount`` is its effect on the available
  balance, ``pending_delta`` on the pending balance, and ``lots`` lists the exact
  change of every lot it touched. Corrections are new entries, never edits.
* A **deficit** is the negative part of the available balance, which only a refund
  under the ``negative_balance`` policy can create; later credits repay it first.
* Commands come **in order**: one dated before the account's latest entry
  (``Account.last_at``) by more than its ``clock_skew`` is refused with
  :class:`~loyaltykit.errors.OutOfOrder`; one dated within the tolerance takes effect at
  that latest instant. So every balance a statement shows at a past instant is one the
  account really had, and that the policy allowed.

Invariants (each checked by a property test): ``available == sum(remaining of released
lots) - deficit``; ``pending == sum(remaining of pending lots)``; every lot's remaining is
the sum of its changes and lies in ``[0, amount]``; entries sum to the balances.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from fractions import Fraction
from functools import cached_property
from math import floor

import attrs

from loyaltykit.errors import (
    InsufficientPoints,
    InvalidArgument,
    NotReversible,
    OutOfOrder,
    OverReversal,
)
from loyaltykit.values import (
    MAX_ACTOR_LENGTH,
    MAX_POINTS,
    MAX_TEXT_LENGTH,
    CustomerId,
    Metadata,
    Points,
    frozen_metadata,
    instant,
    label,
    points_amount,
    points_within_bounds,
    text,
)

__all__ = [
    "Account",
    "Command",
    "Entry",
    "EntryKind",
    "Lot",
    "LotChange",
    "PointsLedger",
    "Posting",
    "RefundPolicy",
    "context",
    "effective_at",
]


class EntryKind(enum.Enum):
    """What an entry records."""

    EARN = "earn"
    REDEEM = "redeem"
    EXPIRE = "expire"
    REVERSE = "reverse"
    ADJUST = "adjust"
    TRANSFER_IN = "transfer_in"
    TRANSFER_OUT = "transfer_out"
    RELEASE = "release"


class RefundPolicy(enum.Enum):
    """What a refund does when the points it claws back were already spent.

    ``negative_balance``: take them from the customer's other points and let the
    balance go below zero if those do not suffice; later credits repay the deficit.
    ``take_available``: take what the customer has left, never going below zero, and
    record the part that could not be recovered as the entry's ``shortfall``.
    """

    NEGATIVE_BALANCE = "negative_balance"
    TAKE_AVAILABLE = "take_available"


@attrs.frozen(kw_only=True)
class LotChange:
    """The change an entry made to one lot's remaining points."""

    lot_id: str
    delta: Points


@attrs.frozen(kw_only=True)
class Entry:
    """One append-only line of the ledger.

    ``amount`` is the change of the available balance and ``pending_delta`` the change
    of the pending balance; ``lots`` says exactly which lots moved. ``occurred_at`` is
    when the change took effect (for an expiry, the lot's expiry instant) and
    ``recorded_at`` the instant of the command that recorded it.
    """

    customer_id: CustomerId
    point_type: str
    seq: int
    kind: EntryKind
    amount: Points
    pending_delta: Points = 0
    deficit_delta: Points = 0
    occurred_at: datetime
    recorded_at: datetime
    idempotency_key: str | None = None
    reason: str = ""
    actor: str | None = None
    reverses: str | None = None
    portion: Fraction | None = None
    shortfall: Points = 0
    lots: tuple[LotChange, ...] = ()
    metadata: Metadata = ()

    @property
    def id(self) -> str:
        """``customer:point_type:seq``, unique in the whole ledger."""
        return f"{self.customer_id}:{self.point_type}:{self.seq}"


@attrs.frozen(kw_only=True)
class Lot:
    """Points earned together, with one expiry and one availability time.

    ``remaining`` is what is left to spend; ``expired``, ``withdrawn`` (taken back by a
    refund), ``forgiven`` (refunded points that had already expired) and ``shortfall``
    (refunded points that had been spent and could not be recovered) explain the rest.
    """

    customer_id: CustomerId
    point_type: str
    seq: int
    index: int = 0
    amount: Points
    remaining: Points
    earned_at: datetime
    expires_at: datetime | None = None
    available_from: datetime | None = None
    pending: bool = False
    expired: Points = 0
    withdrawn: Points = 0
    forgiven: Points = 0
    shortfall: Points = 0

    @cached_property
    def id(self) -> str:
        """``customer:point_type:seq.index``: the earning entry's id and a lot number.

        Made once per lot value, so the entries that name a lot and a store's index of
        lots can share one string rather than keep a copy each."""
        return f"{self.customer_id}:{self.point_type}:{self.seq}.{self.index}"

    @property
    def consumption_key(self) -> tuple[bool, datetime | None, datetime, int, int]:
        """Sort key of the spending order: soonest expiry first, never-expiring last."""
        return (self.expires_at is None, self.expires_at, self.earned_at, self.seq, self.index)

    def is_spendable(self, at: datetime) -> bool:
        """True if the lot has points that a debit at ``at`` may consume."""
        return (
            not self.pending
            and self.remaining > 0
            and (self.expires_at is None or self.expires_at > at)
        )


@attrs.frozen(kw_only=True)
class Account:
    """The cached balances of one customer's point type, kept in step with the entries."""

    customer_id: CustomerId
    point_type: str
    available: Points = 0
    pending: Points = 0
    deficit: Points = 0
    lifetime_earned: Points = 0
    lifetime_redeemed: Points = 0
    lifetime_expired: Points = 0
    last_seq: int = 0
    last_at: datetime | None = None
    """When the latest entry took effect (the greatest ``occurred_at``); ``None`` before
    the first. No command may take effect before it (see :class:`Command`)."""

    @property
    def key(self) -> tuple[CustomerId, str]:
        """``(customer_id, point_type)``."""
        return (self.customer_id, self.point_type)


@attrs.frozen(kw_only=True)
class Posting:
    """What one ledger operation produced: save all of it, or none of it."""

    account: Account
    entries: tuple[Entry, ...]
    lots: tuple[Lot, ...]


def _reason(value: object) -> str:
    return text("reason", value, max_len=MAX_TEXT_LENGTH)


def _actor(value: object) -> str | None:
    return None if value is None else label("actor", value, max_len=MAX_ACTOR_LENGTH)


_NO_SKEW = timedelta(0)


def _tolerance(_instance: object, _attribute: object, value: object) -> None:
    if not isinstance(value, timedelta) or value < timedelta(0):
        raise InvalidArgument(f"clock_skew: {value!r} is not a timedelta of zero or more")


@attrs.frozen(kw_only=True)
class Command:
    """The context every entry of one command shares.

    ``clock_skew`` is how far before an account's latest entry the command may be dated
    and still be accepted (the clocks of several tills never agree exactly); such a
    command takes effect at that latest instant. Further back, it is refused.

    Its texts are checked here, before any backend sees them, so every backend stores
    the same ones (see ``docs/reference/limits.md``).
    """

    at: datetime = attrs.field(validator=lambda _i, _a, v: instant("at", v))
    idempotency_key: str | None
    reason: str = attrs.field(default="", converter=_reason)
    actor: str | None = attrs.field(default=None, converter=_actor)
    metadata: Metadata = attrs.field(default=(), converter=frozen_metadata)
    clock_skew: timedelta = attrs.field(default=timedelta(0), validator=_tolerance)


def context(
    at: datetime,
    idempotency_key: str | None,
    *,
    reason: str = "",
    actor: str | None = None,
    metadata: Metadata = (),
    clock_skew: timedelta = _NO_SKEW,
) -> Command:
    """``Command(...)``, with the same checks and the same result, made without the
    constructor's converters for the values every command repeats (no reason, no actor,
    no metadata): the context of a command is built once or twice per command."""
    made = object.__new__(Command)
    setting = object.__setattr__
    setting(made, "at", instant("at", at))
    setting(made, "idempotency_key", idempotency_key)
    setting(made, "reason", reason if reason == "" else _reason(reason))
    setting(made, "actor", None if actor is None else _actor(actor))
    setting(made, "metadata", () if metadata == () else frozen_metadata(metadata))
    _tolerance(None, None, clock_skew)
    setting(made, "clock_skew", clock_skew)
    return made


def with_metadata(command: Command, metadata: Metadata) -> Command:
    """``command`` with other metadata (``attrs.evolve`` written out, see :func:`context`)."""
    return context(
        command.at,
        command.idempotency_key,
        reason=command.reason,
        actor=command.actor,
        metadata=metadata,
        clock_skew=command.clock_skew,
    )


def effective_at(account: Account, command: Command) -> datetime:
    """The instant ``command`` takes effect on ``account``: its own, or the account's latest
    entry's if it is dated before that within ``command.clock_skew``.

    Raises :class:`~loyaltykit.errors.OutOfOrder` (naming both instants) if it is dated
    further back: applying it there would change balances the account already showed.
    """
    latest = account.last_at
    if latest is None or command.at >= latest:
        return command.at
    if latest - command.at > command.clock_skew:
        raise OutOfOrder(
            f"the latest entry of account {account.customer_id!r}/{account.point_type!r}",
            command.at,
            latest,
        )
    return latest


class _Builder:
    """Accumulates entries and lot changes against one account.

    ``at`` is when the command takes effect (:func:`effective_at`); a settlement, whose
    entries are dated by the lots themselves, passes ``in_order=False``.
    """

    def __init__(self, account: Account, command: Command, *, in_order: bool = True) -> None:
        self.account = account
        self.command = command
        self.at = effective_at(account, command) if in_order else command.at
        self.entries: list[Entry] = []
        self.lots: dict[str, Lot] = {}

    def lot(self, lot: Lot) -> Lot:
        return self.lots.get(lot.id, lot)

    def put(self, lot: Lot) -> None:
        self.lots[lot.id] = lot

    def append(
        self,
        kind: EntryKind,
        *,
        amount: Points = 0,
        pending_delta: Points = 0,
        deficit_delta: Points = 0,
        changes: Sequence[LotChange] = (),
        occurred_at: datetime | None = None,
        system: bool = False,
        reverses: str | None = None,
        portion: Fraction | None = None,
        shortfall: Points = 0,
        earned: Points = 0,
        redeemed: Points = 0,
        expired: Points = 0,
    ) -> Entry:
        """Add an entry; ``earned``, ``redeemed`` and ``expired`` add to the account's
        lifetime counters in the same step."""
        seq = self.account.last_seq + 1
        command = self.command
        entry = Entry(
            customer_id=self.account.customer_id,
            point_type=self.account.point_type,
            seq=seq,
            kind=kind,
            amount=amount,
            pending_delta=pending_delta,
            deficit_delta=deficit_delta,
            occurred_at=self.at if occurred_at is None else occurred_at,
            recorded_at=command.at,
            idempotency_key=None if system else command.idempotency_key,
            reason="" if system else command.reason,
            actor=None if system else command.actor,
            reverses=reverses,
            portion=portion,
            shortfall=shortfall,
            lots=tuple([change for change in changes if change.delta]),
            metadata=() if system else command.metadata,
        )
        self.entries.append(entry)
        account = self.account
        latest = account.last_at
        counts = (
            account.available + amount,
            account.pending + pending_delta,
            account.deficit + deficit_delta,
            account.lifetime_earned + earned,
            account.lifetime_redeemed + redeemed,
            account.lifetime_expired + expired,
        )
        # a balance past MAX_POINTS would overflow a BIGINT or a JSON reader sooner or
        # later: refuse the command that would make it, before anything is saved
        if not -MAX_POINTS <= min(counts) <= max(counts) <= MAX_POINTS:
            for what, value in zip(_COUNTS, counts, strict=True):
                points_within_bounds(what, value)
        available, pending, deficit, earned_, redeemed_, expired_ = counts
        # every field named: the constructor is several times cheaper than attrs.evolve
        self.account = Account(
            customer_id=account.customer_id,
            point_type=account.point_type,
            available=available,
            pending=pending,
            deficit=deficit,
            lifetime_earned=earned_,
            lifetime_redeemed=redeemed_,
            lifetime_expired=expired_,
            last_seq=seq,
            last_at=entry.occurred_at if latest is None or entry.occurred_at > latest else latest,
        )
        return entry

    def repay_from(self, lot: Lot) -> int:
        """Repay the deficit from a released lot; return the points used."""
        payment = min(self.account.deficit, lot.remaining)
        if payment:
            self.put(_remaining(lot, lot.remaining - payment))
        return payment

    def posting(self) -> Posting:
        return Posting(
            account=self.account, entries=tuple(self.entries), lots=tuple(self.lots.values())
        )


# the names the bounds check gives an account's counts, in _Builder.append's order
_COUNTS = (
    "available balance",
    "pending balance",
    "deficit",
    "lifetime_earned",
    "lifetime_redeemed",
    "lifetime_expired",
)


def _remaining(lot: Lot, remaining: Points) -> Lot:
    """``lot`` with ``remaining`` points left (``attrs.evolve`` written out: a debit
    makes one per lot it takes from, and the constructor is several times cheaper)."""
    return Lot(
        customer_id=lot.customer_id,
        point_type=lot.point_type,
        seq=lot.seq,
        index=lot.index,
        amount=lot.amount,
        remaining=remaining,
        earned_at=lot.earned_at,
        expires_at=lot.expires_at,
        available_from=lot.available_from,
        pending=lot.pending,
        expired=lot.expired,
        withdrawn=lot.withdrawn,
        forgiven=lot.forgiven,
        shortfall=lot.shortfall,
    )


def settle(account: Account, due: Iterable[Lot], command: Command) -> Posting:
    """Release pending lots and expire lots whose time has come by ``command.at``.

    Each release and each expiry is its own entry, dated when it took effect (the
    lot's ``available_from`` or ``expires_at``), in the order those instants occur.
    Both kinds are always done together: a release that falls before an expiry must
    happen first (it may repay a deficit), so settling only one kind would rewrite history.
    """
    book = _Builder(account, command, in_order=False)
    at = command.at
    events: list[tuple[datetime, int, Lot]] = []
    for lot in due:
        start = lot.available_from
        if (
            lot.pending
            and start is not None
            and start <= at
            and (lot.expires_at is None or start < lot.expires_at)
        ):
            events.append((start, 0, lot))
        if lot.remaining > 0 and lot.expires_at is not None and lot.expires_at <= at:
            events.append((lot.expires_at, 1, lot))
    events.sort(key=lambda event: (event[0], event[1], event[2].consumption_key))
    for when, action, original in events:
        lot = book.lot(original)
        if action == 0:
            _release(book, lot, when)
        elif lot.remaining > 0:
            _expire(book, lot, when)
    return book.posting()


def _release(book: _Builder, lot: Lot, when: datetime) -> None:
    released = attrs.evolve(lot, pending=False)
    book.put(released)
    payment = book.repay_from(released)
    book.append(
        EntryKind.RELEASE,
        amount=lot.remaining,
        pending_delta=-lot.remaining,
        deficit_delta=-payment,
        changes=[LotChange(lot_id=lot.id, delta=-payment)],
        occurred_at=when,
        system=True,
    )


def _expire(book: _Builder, lot: Lot, when: datetime) -> None:
    gone = lot.remaining
    book.put(attrs.evolve(lot, remaining=0, expired=lot.expired + gone))
    book.append(
        EntryKind.EXPIRE,
        amount=0 if lot.pending else -gone,
        pending_delta=-gone if lot.pending else 0,
        changes=[LotChange(lot_id=lot.id, delta=-gone)],
        occurred_at=when,
        system=True,
        expired=gone,
    )


def credit(
    account: Account,
    points: Points,
    command: Command,
    *,
    kind: EntryKind = EntryKind.EARN,
    expires_at: datetime | None = None,
    available_from: datetime | None = None,
) -> Posting:
    """Add ``points`` as one new lot; a released lot repays any deficit first."""
    return credit_lots(
        account, [(points, expires_at)], command, kind=kind, available_from=available_from
    )


def credit_lots(
    account: Account,
    parts: Sequence[tuple[Points, datetime | None]],
    command: Command,
    *,
    kind: EntryKind,
    available_from: datetime | None = None,
) -> Posting:
    """One entry that creates a lot per ``(points, expires_at)`` part.

    Transfers use several parts so that points keep the expiry they had at the sender.
    """
    book = _Builder(account, command)
    at = book.at
    if available_from is not None and available_from <= at:
        available_from = None
    seq = account.last_seq + 1
    pending = available_from is not None
    deficit = account.deficit
    changes: list[LotChange] = []
    total = 0
    customer_id, point_type = account.customer_id, account.point_type
    for index, (points, expires_at) in enumerate(parts):
        # each part is checked before it is built (nothing is saved before the posting)
        points_amount("points", points)
        if expires_at is not None and expires_at <= at:
            raise InvalidArgument(
                f"expires_at: {expires_at.isoformat()} is not after at={at.isoformat()}"
            )
        if expires_at is not None and available_from is not None and expires_at <= available_from:
            raise InvalidArgument(
                f"expires_at: {expires_at.isoformat()} is not after "
                f"available_from={available_from.isoformat()}"
            )
        repayment = 0 if pending else min(deficit, points)
        deficit -= repayment
        lot = Lot(
            customer_id=customer_id,
            point_type=point_type,
            seq=seq,
            index=index,
            amount=points,
            remaining=points - repayment,
            earned_at=at,
            expires_at=expires_at,
            available_from=available_from,
            pending=pending,
        )
        lot_id = lot.id  # one string for the lot, its change and a store's index
        book.lots[lot_id] = lot
        changes.append(LotChange(lot_id=lot_id, delta=points - repayment))
        total += points
    book.append(
        kind,
        amount=0 if pending else total,
        pending_delta=total if pending else 0,
        deficit_delta=deficit - account.deficit,
        changes=changes,
        earned=total if kind is EntryKind.EARN else 0,
    )
    return book.posting()


def debit(
    account: Account,
    points: Points,
    lots: Iterable[Lot],
    command: Command,
    *,
    kind: EntryKind = EntryKind.REDEEM,
) -> Posting:
    """Take ``points`` from the available lots, soonest expiry first.

    ``lots`` must yield spendable lots in consumption order (storage does the
    ordering with an index); the account's cached balance is checked first, so an
    insufficient balance costs O(1).
    """
    points_amount("points", points)
    book = _Builder(account, command)  # a command out of order is refused as such first
    if points > account.available:
        raise InsufficientPoints(account.customer_id, account.point_type, points, account.available)
    changes, taken = _consume(book, points, lots, book.at)
    if taken != points:  # the cache says enough, the lots disagree: refuse rather than guess
        raise InsufficientPoints(account.customer_id, account.point_type, points, taken)
    book.append(
        kind,
        amount=-points,
        changes=changes,
        redeemed=points if kind is EntryKind.REDEEM else 0,
    )
    return book.posting()


def _consume(
    book: _Builder, points: Points, lots: Iterable[Lot], at: datetime
) -> tuple[list[LotChange], Points]:
    changes: list[LotChange] = []
    taken = 0
    for original in lots:
        if taken == points:
            break
        lot = book.lot(original)
        if not lot.is_spendable(at):
            continue
        portion = min(lot.remaining, points - taken)
        book.put(_remaining(lot, lot.remaining - portion))
        changes.append(LotChange(lot_id=lot.id, delta=-portion))
        taken += portion
    return changes, taken


def reversal_target(total: Points, before: Fraction, portion: Fraction) -> Points:
    """Points to undo for ``portion`` of ``total`` after ``before`` was already undone.

    Cumulative rounding down: partial refunds of 1/2 and 1/2 of 15 points undo 7 then 8,
    so a purchase refunded in full always nets to zero.
    """
    after = before + portion
    if after > 1:
        raise OverReversal(
            f"reversing {portion} more of an entry already reversed by {before} "
            f"would exceed the whole (total {after})"
        )
    return floor(total * after) - floor(total * before)


def claw_back(
    account: Account,
    original: Entry,
    lot: Lot,
    others: Iterable[Lot],
    command: Command,
    *,
    portion: Fraction,
    before: Fraction,
    policy: RefundPolicy,
) -> Posting:
    """Undo ``portion`` of a credit (an earn or a positive adjustment), lot by lot.

    What is still in the credit's own lot is taken back first; what had already
    expired is forgiven (it is gone already); what had been spent is taken from the
    customer's other available lots and then handled by ``policy``.
    """
    target = reversal_target(original.amount + original.pending_delta, before, portion)
    book = _Builder(account, command)
    take = min(target, lot.remaining)
    forgive = min(target - take, lot.expired - lot.forgiven)
    charge = target - take - forgive
    changes = [LotChange(lot_id=lot.id, delta=-take)]
    amount = 0 if lot.pending else -take
    pending_delta = -take if lot.pending else 0
    book.put(attrs.evolve(lot, remaining=lot.remaining - take, withdrawn=lot.withdrawn + take))
    deficit_delta = 0
    shortfall = 0
    if charge:
        other_changes, taken = _consume(
            book, charge, (o for o in others if o.id != lot.id), book.at
        )
        changes.extend(other_changes)
        amount -= taken
        uncovered = charge - taken
        if policy is RefundPolicy.NEGATIVE_BALANCE:
            deficit_delta = uncovered
            amount -= uncovered
        else:
            shortfall = uncovered
    owner = book.lot(lot)
    book.put(
        attrs.evolve(
            owner, forgiven=owner.forgiven + forgive, shortfall=owner.shortfall + shortfall
        )
    )
    book.append(
        EntryKind.REVERSE,
        amount=amount,
        pending_delta=pending_delta,
        deficit_delta=deficit_delta,
        changes=changes,
        reverses=original.id,
        portion=portion,
        shortfall=shortfall,
    )
    return book.posting()


def restore(
    account: Account,
    original: Entry,
    lots: Sequence[Lot],
    restored_before: dict[str, Points],
    command: Command,
    *,
    portion: Fraction,
    before: Fraction,
) -> Posting:
    """Undo ``portion`` of a debit: give points back to the lots they came from.

    Lots keep their original expiry (expired ones are expired again by the next
    settlement). The latest-expiring lots are restored first on a partial reversal.
    A lot whose purchase was refunded meanwhile takes back only what the refund did
    not write off; the rest is reported as ``shortfall``.
    """
    debited = -sum(change.delta for change in original.lots)
    target = reversal_target(debited, before, portion)
    book = _Builder(account, command)
    by_id = {lot.id: lot for lot in lots}
    changes: list[LotChange] = []
    left = target
    for change in reversed(original.lots):
        if left == 0:
            break
        lot = book.lot(by_id[change.lot_id])
        still_out = -change.delta - restored_before.get(change.lot_id, 0)
        capacity = lot.amount - lot.remaining - lot.expired - lot.withdrawn - lot.shortfall
        give = max(0, min(left, still_out, capacity))
        left -= min(left, still_out)
        if give:
            book.put(attrs.evolve(lot, remaining=lot.remaining + give))
            changes.append(LotChange(lot_id=lot.id, delta=give))
    restored = sum(change.delta for change in changes)
    shortfall = target - restored
    # restored points repay a deficit first, soonest-expiring lot first; repayments are
    # separate changes so that later partial reversals can count what was restored
    deficit_paid = 0
    for change in sorted(changes, key=lambda c: by_id[c.lot_id].consumption_key):
        lot = book.lot(by_id[change.lot_id])
        payment = min(account.deficit - deficit_paid, lot.remaining)
        if payment and lot.is_spendable(book.at):
            book.put(attrs.evolve(lot, remaining=lot.remaining - payment))
            changes.append(LotChange(lot_id=lot.id, delta=-payment))
            deficit_paid += payment
    book.append(
        EntryKind.REVERSE,
        amount=restored,
        deficit_delta=-deficit_paid,
        changes=changes,
        reverses=original.id,
        portion=portion,
        shortfall=shortfall,
    )
    # points given back to a lot that has already expired expire again now: dating that
    # expiry at the lot's old expiry instant would rewrite balances in the past
    for lot_id in dict.fromkeys(change.lot_id for change in changes):
        lot = book.lot(by_id[lot_id])
        if lot.remaining > 0 and lot.expires_at is not None and lot.expires_at <= book.at:
            _expire(book, lot, book.at)
    return book.posting()


REVERSIBLE_CREDITS = frozenset({EntryKind.EARN, EntryKind.ADJUST})
REVERSIBLE_DEBITS = frozenset({EntryKind.REDEEM, EntryKind.ADJUST})


def reversal_kind(entry: Entry) -> str:
    """``"credit"`` or ``"debit"``: how an entry is undone; raises if it cannot be."""
    if entry.kind in REVERSIBLE_CREDITS and entry.amount + entry.pending_delta > 0:
        return "credit"
    if entry.kind in REVERSIBLE_DEBITS and entry.amount < 0:
        return "debit"
    raise NotReversible(
        f"entry {entry.id} ({entry.kind.value}) cannot be reversed; "
        "only earn, redeem and adjust entries can"
    )


def available_at(entries: Iterable[Entry], lots: Iterable[Lot], at: datetime) -> tuple[int, int]:
    """``(available, pending)`` at instant ``at``, derived from entries.

    Entries that occurred by ``at`` are summed. Lots that were due by ``at`` but not yet
    settled (no command has touched the account since) are then settled in the view,
    by the same :func:`settle` a command would run, so a release that repays a deficit
    before an expiry is seen exactly as it will be recorded.
    """
    available = pending = deficit = 0
    for entry in entries:
        if entry.occurred_at <= at:
            available += entry.amount
            pending += entry.pending_delta
            deficit += entry.deficit_delta
    due = [
        lot
        for lot in lots
        if lot.remaining > 0
        and lot.earned_at <= at
        and (
            (lot.pending and lot.available_from is not None and lot.available_from <= at)
            or (lot.expires_at is not None and lot.expires_at <= at)
        )
    ]
    if not due:
        return available, pending
    view = Account(
        customer_id=due[0].customer_id,
        point_type=due[0].point_type,
        available=available,
        pending=pending,
        deficit=deficit,
    )
    settled = settle(view, due, Command(at=at, idempotency_key=None)).account
    return settled.available, settled.pending


@attrs.frozen
class PointsLedger:
    """The pure ledger of one account: each operation returns a :class:`Posting` (the
    new account, the entries to append, the lots that changed) and changes nothing.

    The facade uses the same functions inside a unit of work; use this class to reason
    about or test ledger arithmetic without storage::

        ledger = PointsLedger(Account(customer_id="c-1", point_type="points"))
        posting = ledger.credit(100, Command(at=at, idempotency_key="order-1"))
        ledger = PointsLedger(posting.account)
    """

    account: Account

    def credit(
        self,
        points: Points,
        command: Command,
        *,
        kind: EntryKind = EntryKind.EARN,
        expires_at: datetime | None = None,
        available_from: datetime | None = None,
    ) -> Posting:
        """Add ``points`` as a new lot (see :func:`credit`)."""
        return credit(
            self.account,
            points,
            command,
            kind=kind,
            expires_at=expires_at,
            available_from=available_from,
        )

    def debit(
        self,
        points: Points,
        lots: Iterable[Lot],
        command: Command,
        *,
        kind: EntryKind = EntryKind.REDEEM,
    ) -> Posting:
        """Take ``points`` from ``lots`` in spending order (see :func:`debit`)."""
        return debit(self.account, points, lots, command, kind=kind)

    def settle(self, due: Iterable[Lot], command: Command) -> Posting:
        """Release and expire the lots due by ``command.at`` (see :func:`settle`)."""
        return settle(self.account, due, command)

    def claw_back(
        self,
        original: Entry,
        lot: Lot,
        others: Iterable[Lot],
        command: Command,
        *,
        portion: Fraction,
        before: Fraction,
        policy: RefundPolicy,
    ) -> Posting:
        """Undo a share of a credit (see :func:`claw_back`)."""
        return claw_back(
            self.account,
            original,
            lot,
            others,
            command,
            portion=portion,
            before=before,
            policy=policy,
        )

    def restore(
        self,
        original: Entry,
        lots: Sequence[Lot],
        restored_before: dict[str, Points],
        command: Command,
        *,
        portion: Fraction,
        before: Fraction,
    ) -> Posting:
        """Undo a share of a debit (see :func:`restore`)."""
        return restore(
            self.account, original, lots, restored_before, command, portion=portion, before=before
        )
