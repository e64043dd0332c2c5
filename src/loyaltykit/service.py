"""The :class:`Loyalty` facade: one method per business command.

Each mutating command runs in one unit of work: lock the customer, check the
idempotency key, bring the account up to date (settle lots that fell due), ask the
domain, save the posting, record the outcome under the key, commit. A command that
raises changes nothing; replaying a key returns the first outcome and changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from types import TracebackType
from typing import Any, Self, TypeVar

import attrs

from loyaltykit.domain import ledger, tiers
from loyaltykit.domain.activity import CustomEvent, Purchase
from loyaltykit.domain.customer import (
    EARNING_STATUSES,
    SPENDING_STATUSES,
    Customer,
    CustomerStatus,
    Profile,
)
from loyaltykit.domain.ledger import Account, Command, Entry, EntryKind, Lot, Posting
from loyaltykit.domain.records import (
    customer_from_record,
    customer_to_record,
    metrics_from_record,
    metrics_to_record,
    profile_to_record,
    tier_change_from_record,
    tier_change_to_record,
    tier_status_from_record,
    tier_status_to_record,
)
from loyaltykit.domain.tiers import TierChange, TierStatus
from loyaltykit.domain.windows import Window
from loyaltykit.errors import (
    ConcurrencyConflict,
    CustomerAlreadyExists,
    IdempotencyConflict,
    InvalidAmount,
    InvalidArgument,
    OverReversal,
    UnknownCustomer,
    UnknownEntry,
)
from loyaltykit.outcomes import (
    Balance,
    DueReport,
    Receipt,
    SettlementReport,
    Statement,
    StatementLine,
    TierView,
    receipt_from_record,
    receipt_to_record,
)
from loyaltykit.policy.engine import (
    CounterIncrement,
    CustomerState,
    Decision,
    Earn,
    MetricSample,
    PolicyEngine,
    measure_with,
    with_samples,
)
from loyaltykit.policy.program import PointType, Program, ProgramVersion, ProgramVersions
from loyaltykit.policy.rules import Referral
from loyaltykit.storage.base import IdempotencyRecord, Storage, UnitOfWork
from loyaltykit.storage.memory import MemoryStorage
from loyaltykit.storage.registry import open_storage
from loyaltykit.values import (
    CustomerId,
    Money,
    Points,
    aware,
    frozen_metadata,
    identifier,
    points_amount,
)
from loyaltykit.values import (
    portion as _as_portion,
)

__all__ = ["Loyalty"]

T = TypeVar("T")
TIER = "tier"
METRICS = "metrics"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ACTIVITY = "activity"
POINTS = "points"
CUSTOMER_COMMANDS = frozenset(
    {"enroll", "update_profile", "suspend", "reactivate", "close", "erase"}
)


def _fingerprint(command: str, arguments: Mapping[str, Any]) -> str:
    canonical = json.dumps([command, arguments], sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _text(what: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidArgument(f"{what}: {value!r} is not a string")
    return value


class Loyalty:
    """The loyalty programme as a service other applications call.

    >>> from datetime import datetime, timezone
    >>> loyalty = Loyalty()  # the default program, in memory
    >>> at = datetime(2026, 5, 1, 12, tzinfo=timezone.utc)
    >>> _ = loyalty.enroll("c-1", at=at, idempotency_key="enroll-c-1")
    >>> loyalty.earn("c-1", 120, at=at, idempotency_key="order-1").balance.available
    120

    ``storage`` is a :class:`~loyaltykit.storage.base.Storage`, a URL such as
    ``"memory://"`` or ``"sqlite:///loyalty.db"``, or ``None`` for a new in-memory store.
    """

    def __init__(
        self,
        program: Program | ProgramVersions | None = None,
        *,
        storage: Storage | str | None = None,
        retries: int = 5,
    ) -> None:
        if program is None:
            program = Program()
        if isinstance(program, Program):
            program = ProgramVersions((ProgramVersion(valid_from=_EPOCH, program=program),))
        self.versions: ProgramVersions = program
        self.engine = PolicyEngine()
        self.storage: Storage
        if storage is None:
            self.storage = MemoryStorage()
        elif isinstance(storage, str):
            self.storage = open_storage(storage)
        else:
            self.storage = storage
        self._retries = retries

    @property
    def program(self) -> Program:
        """The newest program version (commands use the version in force at their ``at``)."""
        return self.versions.latest

    def close(self) -> None:
        """Release the storage's connections."""
        self.storage.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # --- the command pipeline -------------------------------------------------------

    def _run(
        self,
        name: str,
        customer_id: CustomerId,
        key: str,
        arguments: Mapping[str, Any],
        action: Callable[[UnitOfWork, dict[CustomerId, Customer]], T],
        encode: Callable[[T], Mapping[str, Any]],
        decode: Callable[[UnitOfWork, Mapping[str, Any]], T],
        *,
        at: datetime,
        lock: Iterable[CustomerId] = (),
    ) -> T:
        fingerprint = _fingerprint(name, arguments)
        for attempt in range(self._retries + 1):
            try:
                with self.storage.unit_of_work() as uow:
                    customers: dict[CustomerId, Customer] = {}
                    for locked in sorted(set(lock)):  # one order everywhere: no deadlocks
                        found = uow.customers.get(locked, for_update=True)
                        if found is None:
                            raise UnknownCustomer(locked)
                        customers[locked] = found
                    record = uow.idempotency.get(customer_id, key)
                    if record is not None:
                        if record.command != name or record.fingerprint != fingerprint:
                            raise IdempotencyConflict(key, name, record.command)
                        return decode(uow, record.outcome)
                    outcome = action(uow, customers)
                    uow.idempotency.add(
                        IdempotencyRecord(
                            customer_id=customer_id,
                            key=key,
                            command=name,
                            fingerprint=fingerprint,
                            outcome=encode(outcome),
                            recorded_at=at,
                        )
                    )
                    uow.commit()
                    return outcome
            except (ConcurrencyConflict, CustomerAlreadyExists):
                # Another writer won a race: try again, which replays its outcome if it
                # used the same key; give up after a few attempts.
                if attempt == self._retries:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _ledger_command(
        self,
        name: str,
        command: Command,
        customer_id: CustomerId,
        arguments: Mapping[str, Any],
        action: Callable[[UnitOfWork, dict[CustomerId, Customer]], Receipt],
        *,
        lock: Iterable[CustomerId] | None = None,
    ) -> Receipt:
        """Run a ledger command; the command's reason, actor and metadata join the
        arguments that a replay must match."""
        assert command.idempotency_key is not None
        fingerprinted = {
            **arguments,
        }
        return self._run(
            name,
            customer_id,
            command.idempotency_key,
            fingerprinted,
            action,
            receipt_to_record,
            lambda _uow, record: attrs.evolve(receipt_from_record(record), replayed=True),
            at=command.at,
            lock=(customer_id,) if lock is None else lock,
        )

    def _customer_command(
        self,
        name: str,
        customer_id: CustomerId,
        key: str,
        arguments: Mapping[str, Any],
        action: Callable[[UnitOfWork, dict[CustomerId, Customer]], Customer],
        *,
        at: datetime,
        lock: bool = True,
    ) -> Customer:
        def decode(uow: UnitOfWork, record: Mapping[str, Any]) -> Customer:
            if record.get("redacted"):
                current = uow.customers.get(customer_id)
                if current is None:  # pragma: no cover - customers are never deleted
                    raise UnknownCustomer(customer_id)
                return current
            return customer_from_record(dict(record))

        return self._run(
            name,
            customer_id,
            key,
            arguments,
            action,
            customer_to_record,
            decode,
            at=at,
            lock=(customer_id,) if lock else (),
        )

    def _point_type(self, code: object) -> PointType:
        return self.program.point_type(_text("point_type", code))

    @staticmethod
    def _save(uow: UnitOfWork, posting: Posting, written: list[Entry]) -> Account:
        uow.ledger.add_entries(posting.entries)
        uow.ledger.save_lots(posting.lots)
        uow.ledger.save_account(posting.account)
        written.extend(posting.entries)
        return posting.account

    def _settled(
        self,
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
        return self._save(uow, ledger.settle(account, due, command), written)

    @staticmethod
    def _receipt(
        name: str,
        command: Command,
        customer_id: CustomerId,
        written: list[Entry],
        accounts: Iterable[Account],
    ) -> Receipt:
        assert command.idempotency_key is not None
        return Receipt(
            command=name,
            idempotency_key=command.idempotency_key,
            customer_id=customer_id,
            at=command.at,
            entries=tuple(written),
            balances=tuple(Balance.of(account) for account in accounts),
        )

    @staticmethod
    def _command(
        at: object,
        idempotency_key: object,
        reason: object = "",
        actor: object = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Command:
        return Command(
            at=aware("at", at),
            idempotency_key=identifier("idempotency_key", idempotency_key),
            reason=_text("reason", reason),
            actor=None if actor is None else _text("actor", actor),
            metadata=frozen_metadata(metadata),
        )

    def _expiry(self, point_type: PointType, at: datetime, expires_at: object) -> datetime | None:
        if expires_at is not None:
            return aware("expires_at", expires_at)
        if point_type.expire_after is None:
            return None
        return at + point_type.expire_after

    # --- customers ------------------------------------------------------------------

    def enroll(
        self,
        customer_id: CustomerId,
        *,
        at: datetime,
        idempotency_key: str,
        profile: Profile | None = None,
        referred_by: CustomerId | None = None,
    ) -> Customer:
        """Enrol a new member; ``referred_by`` links the member who referred them."""
        command = self._command(at, idempotency_key)
        customer = Customer(
            id=identifier("customer id", customer_id),
            enrolled_at=command.at,
            profile=Profile() if profile is None else profile,
            referred_by=referred_by,
        )

        def action(uow: UnitOfWork, _: dict[CustomerId, Customer]) -> Customer:
            if referred_by is not None and uow.customers.get(referred_by) is None:
                raise UnknownCustomer(referred_by)
            if uow.customers.get(customer.id) is not None:
                raise InvalidArgument(
                    f"customer {customer.id!r} is already enrolled; enrolling again needs "
                    f"the first enrolment's idempotency key, not {idempotency_key!r}"
                )
            uow.customers.add(customer)
            return customer

        arguments = {"customer": customer_to_record(attrs.evolve(customer, enrolled_at=command.at))}
        del arguments["customer"]["enrolled_at"]
        return self._customer_command(
            "enroll", customer.id, idempotency_key, arguments, action, at=command.at, lock=False
        )

    def customer(self, customer_id: CustomerId) -> Customer:
        """The customer with this id; raises :class:`~loyaltykit.errors.UnknownCustomer`."""
        with self.storage.unit_of_work() as uow:
            found = uow.customers.get(customer_id)
        if found is None:
            raise UnknownCustomer(customer_id)
        return found

    def _change_customer(
        self,
        name: str,
        customer_id: CustomerId,
        change: Callable[[Customer], Customer],
        arguments: Mapping[str, Any],
        *,
        at: datetime,
        idempotency_key: str,
    ) -> Customer:
        command = self._command(at, idempotency_key)

        def action(uow: UnitOfWork, customers: dict[CustomerId, Customer]) -> Customer:
            changed = change(customers[customer_id])
            uow.customers.update(changed)
            if name == "erase":
                uow.idempotency.redact(customer_id, CUSTOMER_COMMANDS)
            return changed

        return self._customer_command(
            name, customer_id, idempotency_key, arguments, action, at=command.at
        )

    def update_profile(
        self, customer_id: CustomerId, profile: Profile, *, at: datetime, idempotency_key: str
    ) -> Customer:
        """Replace the customer's profile (keep data current, 定期更新)."""
        if not isinstance(profile, Profile):
            raise InvalidArgument(f"profile: {profile!r} is not a loyaltykit.Profile")
        return self._change_customer(
            "update_profile",
            customer_id,
            lambda customer: customer.with_profile(profile),
            {"profile": profile_to_record(profile)},
            at=at,
            idempotency_key=idempotency_key,
        )

    def suspend(self, customer_id: CustomerId, *, at: datetime, idempotency_key: str) -> Customer:
        """Put the customer on hold: earning continues, redeeming and transfers stop."""
        return self._change_customer(
            "suspend", customer_id, Customer.suspended, {}, at=at, idempotency_key=idempotency_key
        )

    def reactivate(
        self, customer_id: CustomerId, *, at: datetime, idempotency_key: str
    ) -> Customer:
        """Lift a suspension."""
        return self._change_customer(
            "reactivate",
            customer_id,
            Customer.reactivated,
            {},
            at=at,
            idempotency_key=idempotency_key,
        )

    def close_account(
        self, customer_id: CustomerId, *, at: datetime, idempotency_key: str
    ) -> Customer:
        """Close the membership; the ledger is kept and can still be corrected."""
        return self._change_customer(
            "close", customer_id, Customer.closed, {}, at=at, idempotency_key=idempotency_key
        )

    def erase(self, customer_id: CustomerId, *, at: datetime, idempotency_key: str) -> Customer:
        """Remove the customer's personal data (right to erasure); the ledger stays whole.

        Stored outcomes of earlier customer commands are redacted too; replaying one of
        them afterwards returns the customer as they are now.
        """
        when = aware("at", at)
        return self._change_customer(
            "erase",
            customer_id,
            lambda customer: customer.erased(when),
            {},
            at=at,
            idempotency_key=idempotency_key,
        )

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
            written: list[Entry] = []
            account = self._settled(uow, customer_id, kind.code, command, written)
            posting = ledger.credit(
                account, points, command, expires_at=expiry, available_from=start
            )
            account = self._save(uow, posting, written)
            return self._receipt("earn", command, customer_id, written, [account])

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
            written: list[Entry] = []
            account = self._settled(uow, customer_id, kind.code, command, written)
            lots = uow.ledger.spendable_lots(customer_id, kind.code, command.at)
            account = self._save(uow, ledger.debit(account, points, lots, command), written)
            return self._receipt("redeem_points", command, customer_id, written, [account])

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
            written: list[Entry] = []
            account = self._settled(uow, customer_id, kind.code, command, written)
            if points > 0:
                posting = ledger.credit(
                    account, points, command, kind=EntryKind.ADJUST, expires_at=expiry
                )
            else:
                lots = uow.ledger.spendable_lots(customer_id, kind.code, command.at)
                posting = ledger.debit(account, -points, lots, command, kind=EntryKind.ADJUST)
            account = self._save(uow, posting, written)
            return self._receipt("adjust", command, customer_id, written, [account])

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
    ) -> Receipt:
        command = self._command(at, idempotency_key, reason, actor)
        original_key = identifier("original_key", original_key)
        share = None if portion is None else _as_portion(portion)
        policy = self.program.refund_policy

        def action(uow: UnitOfWork, customers: dict[CustomerId, Customer]) -> Receipt:
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
                if undone is not None:
                    undone(uow, customers[customer_id], entry, before, part, command.at)
            return self._receipt(name, command, customer_id, written, accounts.values())

        arguments = {
            "customer": customer_id,
            "original": original_key,
            "portion": None if share is None else str(share),
        }
        return self._ledger_command(name, command, customer_id, arguments, action)

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

    # --- events through the policy engine -------------------------------------------

    def record_purchase(
        self,
        customer_id: CustomerId,
        purchase: Purchase,
        *,
        at: datetime,
        idempotency_key: str,
        actor: str | None = None,
    ) -> Receipt:
        """Record a purchase: the program's rules decide the points, caps clip them, and
        a referred member's first qualifying purchase rewards the referrer too.

        The receipt's ``explanation`` says why each rule did or did not apply.
        """
        if not isinstance(purchase, Purchase):
            raise InvalidArgument(f"purchase: {purchase!r} is not a loyaltykit Purchase")
        metadata = {
            "event": "purchase",
            "purchase_amount": str(purchase.amount.amount),
            "currency": purchase.amount.currency,
        }
        arguments = {
            "customer": customer_id,
            "amount": str(purchase.amount),
            "items": [(i.sku, i.category, i.quantity, str(i.unit_price)) for i in purchase.items],
            "channel": purchase.channel,
            "attributes": purchase.attributes,
        }
        return self._record(
            "record_purchase",
            customer_id,
            purchase,
            arguments,
            metadata,
            at=at,
            idempotency_key=idempotency_key,
            actor=actor,
        )

    def record_event(
        self,
        customer_id: CustomerId,
        event: CustomEvent,
        *,
        at: datetime,
        idempotency_key: str,
        actor: str | None = None,
    ) -> Receipt:
        """Record a custom event (survey completed, review, check-in) for the rules to reward."""
        if not isinstance(event, CustomEvent):
            raise InvalidArgument(f"event: {event!r} is not a loyaltykit CustomEvent")
        arguments = {"customer": customer_id, "type": event.type, "attributes": event.attributes}
        return self._record(
            "record_event",
            customer_id,
            event,
            arguments,
            {"event": event.type},
            at=at,
            idempotency_key=idempotency_key,
            actor=actor,
        )

    def quote(
        self, customer_id: CustomerId, purchase: Purchase | CustomEvent, *, at: datetime
    ) -> Decision:
        """What an event would earn now, with the trace; nothing is stored."""
        when = aware("at", at)
        with self.storage.unit_of_work() as uow:
            customer = uow.customers.get(customer_id)
            if customer is None:
                raise UnknownCustomer(customer_id)
            program = self.versions.at(when)
            state = self._customer_state(uow, customer, program, when)
        return self.engine.evaluate(program, state, purchase, when)

    def refund(
        self,
        customer_id: CustomerId,
        purchase_key: str,
        *,
        at: datetime,
        idempotency_key: str,
        amount: Money | None = None,
        reason: str = "",
        actor: str | None = None,
    ) -> Receipt:
        """Refund a recorded purchase, whole or in part (``amount`` of money refunded).

        The points the purchase earned are clawed back in proportion, lot by lot, under
        the program's refund policy; the refunded shares add up and never exceed the whole.
        """
        share: Fraction | None = None
        if amount is not None:
            with self.storage.unit_of_work() as uow:
                entries = uow.ledger.entries_by_key(
                    customer_id, identifier("purchase_key", purchase_key)
                )
            spent = next(
                (dict(e.metadata) for e in entries if dict(e.metadata).get("event") == "purchase"),
                None,
            )
            if spent is None:
                raise UnknownEntry(customer_id, purchase_key)
            total = Money.of(str(spent["purchase_amount"]), str(spent["currency"]))
            if not isinstance(amount, Money) or not Money.zero(total.currency) < amount <= total:
                raise InvalidAmount(
                    "refund amount", amount, f"Money above zero and at most {total}"
                )
            share = amount.ratio(total)
        return self._reverse(
            "refund",
            customer_id,
            purchase_key,
            at=at,
            idempotency_key=idempotency_key,
            portion=share,
            reason=reason,
            actor=actor,
            undone=self._unspend,
        )

    def _unspend(
        self,
        uow: UnitOfWork,
        customer: Customer,
        entry: Entry,
        before: Fraction,
        part: Fraction,
        at: datetime,
    ) -> None:
        """Take a refunded share of a purchase out of the metrics tiers qualify on, on the
        day of the purchase: a refunded purchase never counted."""
        program = self.versions.at(entry.occurred_at)
        metadata = dict(entry.metadata)
        day = entry.occurred_at.astimezone(program.zone).date()
        samples: list[tuple[str, Decimal]] = []
        if entry.point_type == program.qualifying_points:
            undone = ledger.reversal_target(entry.amount + entry.pending_delta, before, part)
            samples.append(("qualifying_points", -Decimal(undone)))
        primary = uow.ledger.entries_by_key(customer.id, entry.idempotency_key or "")
        if metadata.get("event") == "purchase" and primary and primary[0].id == entry.id:
            spent = Decimal(str(metadata["purchase_amount"]))
            samples.append(("spend", -(spent * part.numerator / part.denominator)))
        if not samples:
            return
        history = metrics_from_record(uow.state.get(customer.id, METRICS))
        for metric, value in samples:
            history = history.add(metric, day, value)
        uow.state.put(customer.id, METRICS, metrics_to_record(history))

    def _record(
        self,
        name: str,
        customer_id: CustomerId,
        event: Purchase | CustomEvent,
        arguments: Mapping[str, Any],
        metadata: Mapping[str, Any],
        *,
        at: datetime,
        idempotency_key: str,
        actor: str | None,
    ) -> Receipt:
        command = self._command(at, idempotency_key, "", actor, metadata)
        program = self.versions.at(command.at)
        lock = [customer_id]
        if any(isinstance(rule, Referral) for rule in program.rules_for(event.type)):
            referrer = self.customer(customer_id).referred_by  # fixed at enrolment
            if referrer is not None:
                lock.append(referrer)

        def action(uow: UnitOfWork, customers: dict[CustomerId, Customer]) -> Receipt:
            customer = customers[customer_id]
            customer.require(name, allowed=EARNING_STATUSES)
            state = self._customer_state(uow, customer, program, command.at)
            decision = self.engine.evaluate(program, state, event, command.at)
            written: list[Entry] = []
            touched: dict[tuple[CustomerId, str], Account] = {}
            for effect in decision.effects:
                if isinstance(effect, Earn):
                    rules = ",".join(effect.rules)
                    earn_command = attrs.evolve(
                        command, metadata=_with(command.metadata, "rules", rules)
                    )
                    account = self._settled(
                        uow, effect.customer_id, effect.point_type, earn_command, written
                    )
                    posting = ledger.credit(
                        account,
                        effect.points,
                        earn_command,
                        expires_at=effect.expires_at,
                        available_from=effect.available_from,
                    )
                    touched[(effect.customer_id, effect.point_type)] = self._save(
                        uow, posting, written
                    )
            self._save_activity(uow, customer_id, event, decision)
            self._save_metrics(uow, program, decision, command.at, acting=customer_id)
            update = decision.tier_update
            if update is not None:
                self._save_tier(uow, customer_id, update.status, update.changes)
            own = [a for key, a in touched.items() if key[0] == customer_id]
            others = [a for key, a in touched.items() if key[0] != customer_id]
            receipt = self._receipt(name, command, customer_id, written, own + others)
            return attrs.evolve(receipt, explanation=decision.explain())

        return self._ledger_command(name, command, customer_id, arguments, action, lock=lock)

    @staticmethod
    def _customer_state(
        uow: UnitOfWork, customer: Customer, program: Program, at: datetime
    ) -> CustomerState:
        activity = uow.state.get(customer.id, ACTIVITY) or {}
        status = _tier_status(uow, customer.id)
        effective = None
        if program.tiers is not None:
            status = status or program.tiers.start(customer.enrolled_at)
            effective = status.effective(at, program.tiers)
        return CustomerState(
            customer=customer,
            tier=effective,
            counters=activity.get("counters", {}),
            purchases=activity.get("purchases", 0),
            tier_status=status,
            metrics=metrics_from_record(uow.state.get(customer.id, METRICS)),
        )

    def _save_metrics(
        self,
        uow: UnitOfWork,
        program: Program,
        decision: Decision,
        at: datetime,
        *,
        acting: CustomerId,
    ) -> None:
        """Add the decision's metric samples. The engine already decided the acting
        customer's tier; another customer (a referrer) whose new referral qualifies them
        for a higher tier is upgraded here, in the same unit of work."""
        day = at.astimezone(program.zone).date()
        by_customer: dict[CustomerId, list[MetricSample]] = {}
        for effect in decision.effects:
            if isinstance(effect, MetricSample):
                by_customer.setdefault(effect.customer_id, []).append(effect)
        for owner, samples in by_customer.items():
            history = with_samples(metrics_from_record(uow.state.get(owner, METRICS)), samples, day)
            uow.state.put(owner, METRICS, metrics_to_record(history))
            if program.tiers is None or owner == acting:
                continue
            customer = uow.customers.get(owner)
            if customer is None:  # pragma: no cover - effects only name locked customers
                raise UnknownCustomer(owner)
            status = _tier_status(uow, owner) or program.tiers.start(customer.enrolled_at)
            raised, change = tiers.upgrade(
                program.tiers, status, measure_with(history, customer, at, program.zone), at
            )
            if change is not None:
                self._save_tier(uow, owner, raised, (change,))

    @staticmethod
    def _save_tier(
        uow: UnitOfWork, customer_id: CustomerId, status: TierStatus, changes: Iterable[TierChange]
    ) -> None:
        document = uow.state.get(customer_id, TIER) or {"history": []}
        history = list(document.get("history", [])) + [tier_change_to_record(c) for c in changes]
        uow.state.put(
            customer_id,
            TIER,
            {"status": tier_status_to_record(status), "history": history},
            due_at=status.due(),
        )

    @staticmethod
    def _save_activity(
        uow: UnitOfWork, customer_id: CustomerId, event: Purchase | CustomEvent, decision: Decision
    ) -> None:
        activity = uow.state.get(customer_id, ACTIVITY) or {}
        counters: dict[str, int] = dict(activity.get("counters", {}))
        for effect in decision.effects:
            if isinstance(effect, CounterIncrement):
                # a cap only reads its current period: older periods of it can go
                prefix = effect.key.rsplit(":", 1)[0] + ":"
                for key in [k for k in counters if k.startswith(prefix) and k != effect.key]:
                    del counters[key]
                counters[effect.key] = counters.get(effect.key, 0) + effect.amount
        activity["counters"] = counters
        if isinstance(event, Purchase):
            activity["purchases"] = activity.get("purchases", 0) + 1
        uow.state.put(customer_id, ACTIVITY, activity)

    # --- batch work -----------------------------------------------------------------

    def run_due(self, at: datetime, *, batch_size: int = 500) -> DueReport:
        """The periodic work, in order: release pending points, then expire due lots.

        Safe to run as often as you like and to re-run after a crash: each step only does
        what is still due at ``at``.
        """
        when = aware("at", at)
        released = self.release_pending(when, batch_size=batch_size)
        expired = self.expire_due(when, batch_size=batch_size)
        changes = self.requalify_tiers(when, batch_size=batch_size)
        return DueReport(at=when, released=released, expired=expired, tier_changes=changes)

    def expire_due(self, at: datetime, *, batch_size: int = 500) -> SettlementReport:
        """Expire what is left of every lot whose expiry is at or before ``at``.

        Runs one short transaction per account, so it can be interrupted and run again:
        a lot is expired once, whatever happens (积分清理). An account is settled whole:
        pending points whose release fell before an expiry are released first.
        """
        return self._settle_all(aware("at", at), "expire", batch_size)

    def release_pending(self, at: datetime, *, batch_size: int = 500) -> SettlementReport:
        """Make available every pending lot whose ``available_from`` is at or before ``at``
        (settling the account whole, like :meth:`expire_due`)."""
        return self._settle_all(aware("at", at), "release", batch_size)

    def _settle_all(self, at: datetime, work: str, batch_size: int) -> SettlementReport:
        points_amount("batch_size", batch_size)
        accounts = entries = expired = released = 0
        while True:
            with self.storage.unit_of_work() as uow:
                due = uow.ledger.accounts_with_due_lots(at, limit=batch_size, work=work)
            if not due:
                break
            for customer_id, point_type in due:
                posting = self._settle_one(customer_id, point_type, at, work)
                accounts += 1
                entries += len(posting)
                for entry in posting:
                    if entry.kind is EntryKind.EXPIRE:
                        expired -= entry.amount + entry.pending_delta
                    else:
                        released += entry.amount
        return SettlementReport(
            at=at, accounts=accounts, entries=entries, expired=expired, released=released
        )

    def _settle_one(
        self, customer_id: CustomerId, point_type: str, at: datetime, work: str
    ) -> tuple[Entry, ...]:
        for attempt in range(self._retries + 1):
            try:
                with self.storage.unit_of_work() as uow:
                    uow.customers.get(customer_id, for_update=True)
                    account = uow.ledger.account(customer_id, point_type)
                    due = uow.ledger.due_lots(customer_id, point_type, at)
                    if account is None or not due:
                        return ()
                    command = Command(at=at, idempotency_key=None)
                    # the account is settled whole, in time order: a release due before an
                    # expiry must come first, whichever batch found the account
                    posting = ledger.settle(account, due, command)
                    self._save(uow, posting, [])
                    uow.commit()
                    return posting.entries
            except ConcurrencyConflict:
                if attempt == self._retries:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    # --- tiers ----------------------------------------------------------------------

    def _ladder(self, at: datetime) -> Program:
        program = self.versions.at(at)
        if program.tiers is None:
            raise InvalidArgument(f"program {program.name!r} has no tiers")
        return program

    def requalify_tiers(self, at: datetime, *, batch_size: int = 500) -> int:
        """Re-qualify every status that ends (or whose grace or override ends) by ``at``:
        renew, start grace, downgrade, end overrides. Returns the number of changes."""
        when = aware("at", at)
        points_amount("batch_size", batch_size)
        done: set[CustomerId] = set()
        changes = 0
        while True:
            with self.storage.unit_of_work() as uow:
                due = [c for c in uow.state.due(TIER, when, limit=batch_size) if c not in done]
            if not due:
                return changes
            for customer_id in due:
                done.add(customer_id)  # once per run, whatever happens
                changes += self._requalify_one(customer_id, when)

    def _requalify_one(self, customer_id: CustomerId, at: datetime) -> int:
        program = self._ladder(at)
        assert program.tiers is not None
        with self.storage.unit_of_work() as uow:
            customer = uow.customers.get(customer_id, for_update=True)
            status = _tier_status(uow, customer_id)
            if customer is None or status is None:
                return 0
            history = metrics_from_record(uow.state.get(customer_id, METRICS))
            measure = measure_with(history, customer, at, program.zone)
            status, changes = tiers.requalify(program.tiers, status, measure, at)
            self._save_tier(uow, customer_id, status, changes)
            uow.commit()
        return len(changes)

    def tier(self, customer_id: CustomerId, *, at: datetime) -> TierView:
        """The member's tier at ``at``: effective (with overrides), earned, and history."""
        when = aware("at", at)
        program = self._ladder(when)
        assert program.tiers is not None
        with self.storage.unit_of_work() as uow:
            customer = uow.customers.get(customer_id)
            if customer is None:
                raise UnknownCustomer(customer_id)
            document = uow.state.get(customer_id, TIER) or {}
        status = (
            tier_status_from_record(document["status"])
            if "status" in document
            else program.tiers.start(customer.enrolled_at)
        )
        return TierView(
            customer_id=customer_id,
            effective=status.effective(when, program.tiers),
            status=status,
            history=tuple(tier_change_from_record(r) for r in document.get("history", ())),
        )

    def forecast(self, customer_id: CustomerId, *, at: datetime) -> tiers.Forecast:
        """What the member needs for the next tier, and to keep the current one."""
        when = aware("at", at)
        program = self._ladder(when)
        assert program.tiers is not None
        with self.storage.unit_of_work() as uow:
            customer = uow.customers.get(customer_id)
            if customer is None:
                raise UnknownCustomer(customer_id)
            status = _tier_status(uow, customer_id) or program.tiers.start(customer.enrolled_at)
            history = metrics_from_record(uow.state.get(customer_id, METRICS))
        measure = measure_with(history, customer, when, program.zone)
        return tiers.forecast(program.tiers, status, measure)

    def grant_tier(
        self,
        customer_id: CustomerId,
        tier: str,
        *,
        until: datetime,
        at: datetime,
        idempotency_key: str,
        reason: str,
        actor: str,
    ) -> TierStatus:
        """A time-limited override (status match, a gift of gold for 3 months). When it
        ends the earned tier applies again: an override is never a floor."""
        command = self._command(at, idempotency_key, reason, actor)
        program = self._ladder(command.at)
        assert program.tiers is not None
        ladder = program.tiers
        if ladder.tier(tier) is None:
            raise InvalidArgument(
                f"tier: {tier!r} is not on the ladder {[t.code for t in ladder.tiers]}"
            )
        if not command.reason.strip() or not (command.actor or "").strip():
            raise InvalidArgument("grant_tier needs a reason and an actor")
        end = aware("until", until)
        if end <= command.at:
            raise InvalidArgument(
                f"until: {end.isoformat()} is not after at={command.at.isoformat()}"
            )
        override = tiers.Override(
            tier=tier, until=end, reason=command.reason, actor=command.actor or ""
        )

        def action(uow: UnitOfWork, customers: dict[CustomerId, Customer]) -> TierStatus:
            customer = customers[customer_id]
            status = _tier_status(uow, customer_id) or ladder.start(customer.enrolled_at)
            status, change = tiers.grant_override(status, override, command.at)
            self._save_tier(uow, customer_id, status, (change,))
            return status

        arguments = {"customer": customer_id, "tier": tier, "until": end, "reason": command.reason}
        return self._run(
            "grant_tier",
            customer_id,
            idempotency_key,
            arguments,
            action,
            tier_status_to_record,
            lambda _uow, record: tier_status_from_record(record),
            at=command.at,
            lock=(customer_id,),
        )

    def set_metric(
        self,
        customer_id: CustomerId,
        metric: str,
        value: Decimal | int | str,
        *,
        at: datetime,
        idempotency_key: str,
    ) -> TierStatus | None:
        """Record a value the caller measures (an asset balance for a bank's tiers). The
        member is upgraded at once if it qualifies them; returns the tier status."""
        command = self._command(at, idempotency_key)
        name = identifier("metric", metric)
        try:
            amount = Decimal(str(value)) if not isinstance(value, bool | float) else None
        except ArithmeticError:
            amount = None
        if amount is None or not amount.is_finite():
            raise InvalidAmount("metric value", value, "a Decimal, int or numeric string")
        program = self.versions.at(command.at)

        def action(uow: UnitOfWork, customers: dict[CustomerId, Customer]) -> TierStatus | None:
            customer = customers[customer_id]
            history = metrics_from_record(uow.state.get(customer_id, METRICS))
            history = history.set_gauge(name, amount)
            uow.state.put(customer_id, METRICS, metrics_to_record(history))
            if program.tiers is None:
                return None
            status = _tier_status(uow, customer_id) or program.tiers.start(customer.enrolled_at)
            measure = measure_with(history, customer, command.at, program.zone)
            raised, change = tiers.upgrade(program.tiers, status, measure, command.at)
            if change is not None:
                self._save_tier(uow, customer_id, raised, (change,))
            return raised

        return self._run(
            "set_metric",
            customer_id,
            idempotency_key,
            {"customer": customer_id, "metric": name, "value": str(amount)},
            action,
            lambda status: {"status": None if status is None else tier_status_to_record(status)},
            lambda _uow, record: (
                None if record["status"] is None else tier_status_from_record(record["status"])
            ),
            at=command.at,
            lock=(customer_id,),
        )

    def rank_relative_tiers(self, at: datetime, *, batch_size: int = 1000) -> int:
        """Place the top N percent of members into relative tiers (the batch ranking).

        Members ranked into a relative tier are upgraded at once; members who fall out
        keep their status until it ends, then re-qualify like everyone else.
        """
        when = aware("at", at)
        program = self._ladder(when)
        ladder = program.tiers
        assert ladder is not None
        relative = [t for t in ladder.tiers if t.top_percent is not None and t.rank_by]
        if not relative:
            return 0
        values: dict[CustomerId, Decimal] = {}
        after: CustomerId | None = None
        window = Window.rolling()
        while True:
            with self.storage.unit_of_work() as uow:
                page = uow.customers.ids(after=after, limit=batch_size)
                for customer_id in page:
                    customer = uow.customers.get(customer_id)
                    if customer is None or customer.status is not CustomerStatus.ACTIVE:
                        continue
                    history = metrics_from_record(uow.state.get(customer_id, METRICS))
                    metric = relative[0].rank_by or ""
                    values[customer_id] = history.measure(
                        metric, window, when, enrolled_at=customer.enrolled_at, zone=program.zone
                    )
            if len(page) < batch_size:
                break
            after = page[-1]
        placed = tiers.relative_ranking(ladder, values)
        changes = 0
        for customer_id, code in sorted(placed.items()):
            with self.storage.unit_of_work() as uow:
                customer = uow.customers.get(customer_id, for_update=True)
                assert customer is not None
                status = _tier_status(uow, customer_id) or ladder.start(customer.enrolled_at)
                history = metrics_from_record(uow.state.get(customer_id, METRICS))
                measure = measure_with(history, customer, when, program.zone)
                raised, change = tiers.upgrade(ladder, status, measure, when, relative=code)
                if change is not None:
                    self._save_tier(uow, customer_id, raised, (change,))
                    changes += 1
                uow.commit()
        return changes

    # --- queries --------------------------------------------------------------------

    def balance(
        self,
        customer_id: CustomerId,
        *,
        point_type: str = POINTS,
        at: datetime | None = None,
        expiring_within: timedelta | None = None,
    ) -> Balance:
        """The customer's balance.

        Without ``at``: the stored balance, O(1). With ``at``: the balance at that
        instant, derived from the entries (lots that fell due by then count as settled).
        ``expiring_within`` (needs ``at``) adds the points that expire in that window.
        """
        code = self._point_type(point_type).code
        when = None if at is None else aware("at", at)
        if expiring_within is not None and when is None:
            raise InvalidArgument("expiring_within: needs at=, the instant the window starts")
        with self.storage.unit_of_work() as uow:
            if uow.customers.get(customer_id) is None:
                raise UnknownCustomer(customer_id)
            account = uow.ledger.account(customer_id, code) or Account(
                customer_id=customer_id, point_type=code
            )
            balance = Balance.of(account)
            if when is not None:
                balance = _balance_at(
                    balance,
                    uow.ledger.entries(customer_id, code),
                    uow.ledger.lots(customer_id, code),
                    when,
                )
            if when is not None and expiring_within is not None:
                until = when + expiring_within
                balance = attrs.evolve(
                    balance,
                    expiring=uow.ledger.expiring(customer_id, code, when, until),
                    expiring_until=until,
                )
        return balance

    def statement(
        self,
        customer_id: CustomerId,
        *,
        point_type: str = POINTS,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Statement:
        """The account's entries in the order they took effect, with running balances."""
        code = self._point_type(point_type).code
        start = None if since is None else aware("since", since)
        end = None if until is None else aware("until", until)
        with self.storage.unit_of_work() as uow:
            if uow.customers.get(customer_id) is None:
                raise UnknownCustomer(customer_id)
            entries = sorted(
                uow.ledger.entries(customer_id, code), key=lambda e: (e.occurred_at, e.seq)
            )
        opening_available = opening_pending = 0
        available = pending = 0
        lines: list[StatementLine] = []
        for entry in entries:
            available += entry.amount
            pending += entry.pending_delta
            if start is not None and entry.occurred_at < start:
                opening_available, opening_pending = available, pending
                continue
            if end is not None and entry.occurred_at > end:
                break
            lines.append(StatementLine(entry=entry, available=available, pending=pending))
        return Statement(
            customer_id=customer_id,
            point_type=code,
            opening_available=opening_available,
            opening_pending=opening_pending,
            lines=tuple(lines),
        )


def _balance_at(stored: Balance, entries: list[Entry], lots: list[Lot], at: datetime) -> Balance:
    available, pending = ledger.available_at(entries, lots, at)
    earned = redeemed = expired = 0
    for entry in entries:
        if entry.occurred_at > at:
            continue
        if entry.kind is EntryKind.EARN:
            earned += entry.amount + entry.pending_delta
        elif entry.kind is EntryKind.REDEEM:
            redeemed -= entry.amount
        elif entry.kind is EntryKind.EXPIRE:
            expired -= entry.amount + entry.pending_delta
    return attrs.evolve(
        stored,
        available=available,
        pending=pending,
        lifetime_earned=earned,
        lifetime_redeemed=redeemed,
        lifetime_expired=expired,
        as_of=at,
    )


def _with(metadata: tuple[tuple[str, Any], ...], key: str, value: str) -> Any:
    return frozen_metadata({**dict(metadata), key: value})


def _parts_by_expiry(entry: Entry, lots: tuple[Lot, ...]) -> list[tuple[Points, datetime | None]]:
    """The points a debit took, grouped by the expiry of the lots they came from."""
    expiry = {lot.id: lot.expires_at for lot in lots}
    parts: dict[datetime | None, Points] = {}
    for change in entry.lots:
        when = expiry[change.lot_id]
        parts[when] = parts.get(when, 0) - change.delta
    return [(points, when) for when, points in parts.items()]


def _tier_status(uow: UnitOfWork, customer_id: CustomerId) -> TierStatus | None:
    document = uow.state.get(customer_id, TIER)
    return None if document is None else tier_status_from_record(document["status"])
