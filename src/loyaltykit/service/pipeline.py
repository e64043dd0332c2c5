"""The command pipeline every facade command runs through.

One unit of work per command: lock the customers, check the idempotency key, act,
record the outcome under the key, commit; retry when another writer won a race.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self, TypeVar

import attrs

from loyaltykit.domain import ledger
from loyaltykit.domain.customer import Customer
from loyaltykit.domain.events import DomainEvent
from loyaltykit.domain.ledger import Account, Command, Entry, Posting
from loyaltykit.domain.records import (
    customer_from_record,
    customer_to_record,
    event_to_record,
    instant_from_text,
    tier_change_to_record,
    tier_status_from_record,
    tier_status_to_record,
)
from loyaltykit.domain.tiers import TierChange, TierStatus
from loyaltykit.errors import (
    ConcurrencyConflict,
    CustomerAlreadyExists,
    IdempotencyConflict,
    InvalidArgument,
    UnknownCustomer,
)
from loyaltykit.outcomes import (
    Balance,
    Receipt,
    receipt_from_record,
    receipt_to_record,
)
from loyaltykit.policy.engine import PolicyEngine
from loyaltykit.policy.program import PointType, Program, ProgramVersion, ProgramVersions
from loyaltykit.storage.base import (
    CounterRepository,
    CustomerRepository,
    CustomerStateRepository,
    IdempotencyRecord,
    IdempotencyRepository,
    LedgerRepository,
    RecordRepository,
    Savepoint,
    Storage,
    UnitOfWork,
)
from loyaltykit.storage.memory import MemoryStorage
from loyaltykit.storage.registry import open_storage
from loyaltykit.values import (
    CustomerId,
    aware,
    frozen_metadata,
    identifier,
)

__all__ = [
    "ACTIVITY",
    "CUSTOMER_COMMANDS",
    "METRICS",
    "OUTBOX",
    "POINTS",
    "TIER",
    "Pipeline",
    "existing",
]


T = TypeVar("T")
TIER = "tier"
OUTBOX = "outbox"
METRICS = "metrics"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ACTIVITY = "activity"
POINTS = "points"
CUSTOMER_COMMANDS = frozenset(
    {"enroll", "update_profile", "suspend", "reactivate", "close", "erase", "link_referrer"}
)


def _fingerprint(command: str, arguments: Mapping[str, Any]) -> str:
    canonical = json.dumps([command, arguments], sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _text(what: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidArgument(f"{what}: {value!r} is not a string")
    return value


class Pipeline:
    """What every command shares: the program, the storage, the unit-of-work pipeline."""

    def __init__(
        self,
        program: Program | ProgramVersions | None = None,
        *,
        storage: Storage | str | None = None,
        retries: int = 5,
        outbox: bool = False,
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
        self.outbox = outbox
        # the unit of work of an open batch() in this context, if any
        self._batch: ContextVar[UnitOfWork | None] = ContextVar(f"batch-{id(self)}", default=None)

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

    # --- batches --------------------------------------------------------------------

    @contextmanager
    def batch(self) -> Iterator[Self]:
        """Run several commands in one transaction: all of them are kept, or none.

        Inside the block every command works as usual (locks, idempotency, typed
        errors); a command that raises is undone alone (a savepoint), so the caller may
        catch its error and go on. The block commits when it ends and rolls everything
        back if an exception leaves it. Locks are held until then: keep batches short.
        Batch jobs (``expire_due``, ``run_due``...) run outside a batch.

        >>> from datetime import datetime, timezone
        >>> loyalty = Loyalty()
        >>> at = datetime(2026, 5, 1, tzinfo=timezone.utc)
        >>> with loyalty.batch():
        ...     _ = loyalty.enroll("c-1", at=at, idempotency_key="e-1")
        ...     _ = loyalty.earn("c-1", 10, at=at, idempotency_key="o-1")
        >>> loyalty.balance("c-1").available
        10
        """
        if self._batch.get() is not None:
            raise InvalidArgument("batch(): a batch is already open; batches do not nest")
        with self.storage.unit_of_work() as uow:
            token = self._batch.set(uow)
            try:
                yield self
                uow.commit()
            finally:
                self._batch.reset(token)

    @contextmanager
    def _unit(self) -> Iterator[UnitOfWork]:
        """A unit of work: the open batch's (behind a savepoint), or a new one."""
        outer = self._batch.get()
        if outer is None:
            with self.storage.unit_of_work() as uow:
                yield uow
            return
        savepoint = outer.savepoint()
        nested = _Nested(outer)
        try:
            yield nested
        except BaseException:
            savepoint.rollback()
            raise
        if nested.committed:
            savepoint.release()
        else:
            savepoint.rollback()

    def _outside_batch(self, job: str) -> None:
        if self._batch.get() is not None:
            raise InvalidArgument(f"{job}: batch jobs run outside loyalty.batch()")

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
        in_batch = self._batch.get() is not None
        for attempt in range(self._retries + 1):
            try:
                with self._unit() as uow:
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
                    encoded = encode(outcome)
                    self._emit(uow, customer_id, name, at, key, self._event_payload(name, encoded))
                    uow.idempotency.add(
                        IdempotencyRecord(
                            customer_id=customer_id,
                            key=key,
                            command=name,
                            fingerprint=fingerprint,
                            outcome=encoded,
                            recorded_at=at,
                        )
                    )
                    uow.commit()
                    return outcome
            except (ConcurrencyConflict, CustomerAlreadyExists) as lost:
                # Another writer won a race: try again, which replays its outcome if it
                # used the same key; give up after a few attempts. Inside a batch a lost
                # lock may have aborted the whole transaction: the batch must fail.
                if attempt == self._retries or (in_batch and isinstance(lost, ConcurrencyConflict)):
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
                return existing(uow, customer_id)
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

    def _event_payload(self, command: str, outcome: Mapping[str, Any]) -> Mapping[str, Any]:
        """What the outbox event of ``command`` carries: its outcome, except where that
        holds personal data (profiles, complaint texts, survey answers), which never leaves
        through the outbox. Areas with such commands override this and call ``super()``."""
        if command in CUSTOMER_COMMANDS:
            return {"customer_id": outcome.get("id"), "status": outcome.get("status")}
        return outcome

    def _emit(
        self,
        uow: UnitOfWork,
        customer_id: CustomerId,
        kind: str,
        at: datetime,
        key: str | None,
        payload: Mapping[str, Any],
    ) -> None:
        """Record a domain event in the outbox, in the command's unit of work (under the
        customer's lock, so a customer's sequence numbers follow commit order)."""
        if not self.outbox:
            return
        counter = uow.state.get(customer_id, OUTBOX) or {"next": 1, "last": None}
        sequence = int(counter["next"])
        # pending events are read in due order: never let a customer's later event
        # (a command sent with an earlier ``at``) overtake an earlier one
        last = instant_from_text(counter["last"])
        due = at if last is None or at >= last else last
        event = DomainEvent(
            customer_id=customer_id,
            sequence=sequence,
            type=kind,
            at=at,
            idempotency_key=key,
            payload=payload,
        )
        uow.records.put(customer_id, OUTBOX, f"{sequence:012d}", event_to_record(event), due_at=due)
        uow.state.put(customer_id, OUTBOX, {"next": sequence + 1, "last": due.isoformat()})

    def _erase_records(self, uow: UnitOfWork, customer_id: CustomerId) -> None:
        """Hook run by ``erase``: each area that keeps personal data in records redacts
        it here, then calls ``super()`` (the areas are mixins of one facade)."""

    def _stored_customer(self, customer_id: CustomerId) -> Customer:
        """The customer as stored, read in a unit of work of its own."""
        with self._unit() as uow:
            return existing(uow, customer_id)

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

    def _post(
        self,
        uow: UnitOfWork,
        name: str,
        command: Command,
        customer_id: CustomerId,
        point_type: str,
        post: Callable[[Account], Posting],
    ) -> Receipt:
        """Settle one account, apply ``post`` to it, save, and make the receipt."""
        written: list[Entry] = []
        account = self._settled(uow, customer_id, point_type, command, written)
        account = self._save(uow, post(account), written)
        return self._receipt(name, command, customer_id, written, [account])

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

    def _command(
        self,
        at: object,
        idempotency_key: object,
        reason: object = "",
        actor: object = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Command:
        instant = aware("at", at)
        return Command(
            at=instant,
            idempotency_key=identifier("idempotency_key", idempotency_key),
            reason=_text("reason", reason),
            actor=None if actor is None else _text("actor", actor),
            metadata=frozen_metadata(metadata),
            # the ledger refuses commands dated before an account's latest entry beyond it
            clock_skew=self.versions.at(instant).clock_skew,
        )

    def _expiry(self, point_type: PointType, at: datetime, expires_at: object) -> datetime | None:
        if expires_at is not None:
            return aware("expires_at", expires_at)
        if point_type.expire_after is None:
            return None
        return at + point_type.expire_after

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


def _with(metadata: tuple[tuple[str, Any], ...], key: str, value: str) -> Any:
    return frozen_metadata({**dict(metadata), key: value})


def _tier_status(uow: UnitOfWork, customer_id: CustomerId) -> TierStatus | None:
    document = uow.state.get(customer_id, TIER)
    return None if document is None else tier_status_from_record(document["status"])


def existing(uow: UnitOfWork, customer_id: CustomerId) -> Customer:
    """The stored customer; raises :class:`~loyaltykit.errors.UnknownCustomer`."""
    found = uow.customers.get(customer_id)
    if found is None:
        raise UnknownCustomer(customer_id)
    return found


class _Nested:
    """A batch's unit of work seen by one command: ``commit`` keeps that command only."""

    def __init__(self, outer: UnitOfWork) -> None:
        self._outer = outer
        self.committed = False

    @property
    def customers(self) -> CustomerRepository:
        return self._outer.customers

    @property
    def ledger(self) -> LedgerRepository:
        return self._outer.ledger

    @property
    def idempotency(self) -> IdempotencyRepository:
        return self._outer.idempotency

    @property
    def state(self) -> CustomerStateRepository:
        return self._outer.state

    @property
    def records(self) -> RecordRepository:
        return self._outer.records

    @property
    def counters(self) -> CounterRepository:
        return self._outer.counters

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def commit(self) -> None:
        self.committed = True

    def rollback(self) -> None:
        self.committed = False

    def savepoint(self) -> Savepoint:
        return self._outer.savepoint()
