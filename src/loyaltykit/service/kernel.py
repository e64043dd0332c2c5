"""The command kernel: every mutating command runs here, the same way.

One unit of work per command (the open batch's, behind a savepoint, or a new one):

1. the programme version in force at the command's ``at`` is resolved, once;
2. the command's customers are locked in one global order (sorted ids: no deadlocks);
3. its idempotency key is checked: a replay returns the first outcome, a key reused with
   other arguments is an :class:`~loyaltykit.errors.IdempotencyConflict` naming them;
4. the handler runs with a :class:`Work`; when it finds, under those locks, another
   customer it must lock (a referrer), the kernel locks it at once if that keeps the
   order, and otherwise starts again with the whole sorted set;
5. the outcome is recorded under the key, the outbox event written, and it commits.

Only a lost race (:class:`~loyaltykit.errors.ConcurrencyConflict`) is retried, a few
times; any other error leaves the unit of work rolled back and reaches the caller.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from datetime import datetime
from types import TracebackType
from typing import Any, Generic, NamedTuple, Protocol, Self, TypeVar

import attrs

from loyaltykit.domain.customer import Customer
from loyaltykit.domain.events import DomainEvent
from loyaltykit.domain.ledger import Command, Entry
from loyaltykit.domain.records import event_to_record, instant_from_text
from loyaltykit.errors import (
    ConcurrencyConflict,
    CustomerAlreadyExists,
    IdempotencyConflict,
    InvalidArgument,
    LoyaltyError,
    UnknownCustomer,
)
from loyaltykit.outcomes import JobFailure
from loyaltykit.policy.program import Program, ProgramVersions
from loyaltykit.service.commands import CommandValue, differing_fields, fingerprint
from loyaltykit.service.personal import PersonalData
from loyaltykit.storage.base import (
    CardRepository,
    CounterRepository,
    CustomerRepository,
    CustomerStateRepository,
    IdempotencyRecord,
    IdempotencyRepository,
    LedgerRepository,
    RecordRepository,
    Savepoint,
    Storage,
    StoredValueRepository,
    UnitOfWork,
    read_unit_of_work,
)
from loyaltykit.storage.read_only import ReadOnlyUnit
from loyaltykit.values import CustomerId, count

__all__ = [
    "OUTBOX",
    "Aftermath",
    "Codec",
    "Follower",
    "Guard",
    "Kernel",
    "Refused",
    "Work",
    "job_failure",
]

T = TypeVar("T")
C = TypeVar("C", bound=CommandValue)
OUTBOX = "outbox"
_log = logging.getLogger("loyaltykit.kernel")
_MOST_RESOLVED = 64  # programme versions resolved at once (a few are in force)
_MOST_LOCKS = 256  # a guard: a handler that keeps finding customers to lock is a bug


class Heading(NamedTuple):
    """What an idempotency record holds in its own fields beside the outcome: the
    customer it is kept under, the key and the command's name. A codec's stored form
    may leave these out and take them back from the record on a replay."""

    customer_id: CustomerId
    key: str
    command: str


@attrs.frozen
class Codec(Generic[T]):
    """How a command's outcome is stored under its key, and read back on a replay.

    ``encode`` gives the outcome's record form (what the outbox event is chosen from);
    ``store``, when given, the compact form kept under the key instead (only what a
    replay needs to rebuild the outcome, given the record's :class:`Heading`), built
    once per command, and ``restore`` reads it back. ``decode`` reads what was stored
    without ``store``, in every form this codec ever stored."""

    encode: Callable[[T], Mapping[str, Any]]
    decode: Callable[[UnitOfWork, Mapping[str, Any]], T]
    store: Callable[[T, Heading], Mapping[str, Any]] | None = None
    restore: Callable[[UnitOfWork, Mapping[str, Any], Heading], T] | None = None

    def stored(self, outcome: T, heading: Heading) -> Mapping[str, Any]:
        """What is kept under the key for ``outcome``, in a record of ``heading``."""
        return self.encode(outcome) if self.store is None else self.store(outcome, heading)

    def replayed(self, uow: UnitOfWork, record: IdempotencyRecord) -> T:
        """The outcome ``record`` keeps."""
        if self.restore is None:
            return self.decode(uow, record.outcome)
        heading = Heading(record.customer_id, record.key, record.command)
        return self.restore(uow, record.outcome, heading)


@attrs.frozen(kw_only=True)
class Aftermath:
    """What one command (or one batch job's step) did, for the areas that follow
    commands (notices): its name, instant and key, the customers it held locked, and
    the ledger entries it wrote, in order."""

    command: str
    at: datetime
    idempotency_key: str | None
    customers: tuple[CustomerId, ...]
    entries: tuple[Entry, ...] = ()


class Follower(Protocol):
    """An area that follows commands (notices): told inside a command's unit of work,
    once the command has done its work and before it commits, so that what follows from
    it joins the same transaction."""

    def watches(self, program: Program) -> bool:
        """Whether commands under ``program`` need following at all (when no follower
        does, the kernel does not watch the command)."""
        ...

    def follow(self, uow: UnitOfWork, program: Program, aftermath: Aftermath) -> None:
        """Add what follows from ``aftermath`` to the unit of work."""
        ...


class Guard(Protocol):
    """An area that may refuse a command before its handler runs (velocity rules,
    approvals), inside its unit of work, under its locks, after the idempotency check
    (a replay is never refused)."""

    def guards(self, program: Program) -> bool:
        """Whether commands under ``program`` need guarding at all."""
        ...

    def check(self, work: Work) -> None:
        """Raise a :class:`~loyaltykit.errors.LoyaltyError` (or :class:`Refused`) to refuse
        the command."""
        ...


class Refused(Exception):
    """Raised by a guard: the command is refused with ``error`` and changes nothing, but
    ``trace`` is kept: the kernel runs it in a unit of work of its own once the
    command's is rolled back (a flag, a suspension), then raises ``error``."""

    def __init__(self, error: LoyaltyError, trace: Callable[[UnitOfWork], None]) -> None:
        super().__init__(str(error))
        self.error = error
        self.trace = trace


class _MoreLocks(Exception):
    """Raised inside an attempt: these customers must be locked too, before the rest."""

    def __init__(self, customer_ids: Iterable[CustomerId]) -> None:
        super().__init__(sorted(customer_ids))
        self.customer_ids = frozenset(customer_ids)


class Work:
    """What a handler is given: the unit of work, the programme version in force at the
    command's instant, and the customers it holds locked."""

    def __init__(self, uow: UnitOfWork, program: Program, command: CommandValue) -> None:
        self.uow = uow
        self.program = program
        self.command = command
        self.customers: dict[CustomerId, Customer] = {}

    @property
    def at(self) -> datetime:
        """The command's instant."""
        return self.command.at

    def context(self, **metadata: str) -> Command:
        """The ledger context of the command under the programme in force (its
        ``clock_skew``), with ``metadata`` added."""
        return self.command.context(self.program.clock_skew, **metadata)

    def customer(self, customer_id: CustomerId) -> Customer:
        """A customer this command holds locked; raises ``UnknownCustomer``."""
        found = self.customers.get(customer_id)
        if found is None:
            return self.lock(customer_id)
        return found

    def lock(self, customer_id: CustomerId) -> Customer:
        """Lock one more customer for the rest of the command. Locks are taken in id
        order; a customer that sorts before one already held makes the kernel start the
        command again with the whole set, so no two commands can deadlock."""
        if customer_id in self.customers:
            return self.customers[customer_id]
        if self.customers and customer_id < max(self.customers):
            raise _MoreLocks({customer_id})
        found = self.uow.customers.get(customer_id, for_update=True)
        if found is None:
            raise UnknownCustomer(customer_id)
        self.customers[customer_id] = found
        return found


class Kernel:
    """Runs commands: one unit of work each, locks, idempotency, retries, the outbox."""

    def __init__(
        self,
        versions: ProgramVersions,
        storage: Storage,
        *,
        retries: int = 5,
        outbox: bool = False,
        personal: PersonalData | None = None,
    ) -> None:
        retries = count("retries", retries, minimum=0, maximum=100)
        self.versions = versions
        self.storage = storage
        self.retries = retries
        self.outbox = outbox
        self.personal = personal if personal is not None else PersonalData()
        self.followers: list[Follower] = []
        self.guards: list[Guard] = []
        # per programme version: whether a follower watches its commands and the guards
        # that guard them, resolved once (again when a follower or a guard is added)
        self._resolved: dict[int, tuple[Program, int, int, bool, tuple[Guard, ...]]] = {}
        # the unit of work of an open batch() in this context, if any
        self._batch: ContextVar[UnitOfWork | None] = ContextVar(f"batch-{id(self)}", default=None)

    # --- units of work -------------------------------------------------------------------

    @property
    def in_batch(self) -> bool:
        """Whether a batch is open in this context."""
        return self._batch.get() is not None

    @contextmanager
    def batch(self) -> Iterator[UnitOfWork]:
        """One transaction for every command run inside the block."""
        if self._batch.get() is not None:
            raise InvalidArgument("batch(): a batch is already open; batches do not nest")
        with self.storage.unit_of_work() as raw:
            uow = _Guarded(raw, self.personal)
            token = self._batch.set(uow)
            try:
                yield uow
                uow.commit()
            finally:
                self._batch.reset(token)

    def unit(self) -> AbstractContextManager[UnitOfWork]:
        """A unit of work: the open batch's (behind a savepoint), or a new one."""
        return _Unit(self.storage, self.personal, self._batch.get())

    @contextmanager
    def reading(self) -> Iterator[UnitOfWork]:
        """A unit of work for a query that only reads: the open batch's (a query inside
        ``batch()`` sees what the batch wrote), or the backend's read-only one, which
        takes no write lock (see :class:`~loyaltykit.storage.base.ReadOnlyUnits`).
        Either way a write or a lock in it raises
        :class:`~loyaltykit.errors.ReadOnlyViolation`."""
        outer = self._batch.get()
        if outer is not None:
            yield ReadOnlyUnit(_Nested(outer))
            return
        with read_unit_of_work(self.storage) as uow:
            yield uow

    def outside_batch(self, job: str) -> None:
        """Refuse to run a batch job inside ``batch()``."""
        if self._batch.get() is not None:
            raise InvalidArgument(f"{job}: batch jobs run outside loyalty.batch()")

    # --- commands ------------------------------------------------------------------------

    def execute(
        self,
        command: C,
        handler: Callable[[Work], T],
        codec: Codec[T],
        *,
        locate: Callable[[UnitOfWork], tuple[str, tuple[CustomerId, ...]]] | None = None,
    ) -> T:
        """Run ``handler`` for ``command`` in one unit of work (see the module's text).

        ``locate`` finds, inside the transaction, whose key space the command belongs to
        and whom to lock, for commands that name a record rather than a customer."""
        program = self.versions.at(command.at)
        watched, guards = self._resolve(program)
        print_ = fingerprint(command)
        extra: frozenset[CustomerId] = frozenset()
        attempt = 0
        while True:
            try:
                with self.unit() as outer:
                    written: list[Entry] = []
                    uow = _Guarded(outer, written=written) if watched else outer
                    if locate is None:
                        owner, locks = command.owner, command.locks()
                    else:
                        owner, locks = locate(uow)
                    work = Work(uow, program, command)
                    if len(locks) == 1 and not extra:  # the usual command: one customer
                        work.lock(locks[0])
                    else:
                        for customer_id in sorted({*locks, *extra}):
                            work.lock(customer_id)
                    record = uow.idempotency.get(owner, command.idempotency_key)
                    if record is not None:
                        return self._replay(command, print_, record, codec, uow)
                    for guard in guards:
                        guard.check(work)
                    outcome = handler(work)
                    if type(command) not in self.personal.views:
                        # unregistered: refused, outbox or not (the registry says why)
                        self.personal.outbox_view(type(command), {})
                    if self.outbox:  # the record form only when an event carries it
                        self.emit(
                            uow,
                            owner,
                            command.name,
                            command.at,
                            command.idempotency_key,
                            self.personal.outbox_view(type(command), codec.encode(outcome)),
                        )
                    if watched:
                        self.follow(
                            uow,
                            program,
                            Aftermath(
                                command=command.name,
                                at=command.at,
                                idempotency_key=command.idempotency_key,
                                customers=tuple(sorted(work.customers)),
                                entries=tuple(written),
                            ),
                        )
                    key, name = command.idempotency_key, command.name
                    uow.idempotency.add(
                        IdempotencyRecord(
                            customer_id=owner,
                            key=key,
                            command=name,
                            fingerprint=print_,
                            outcome=codec.stored(outcome, Heading(owner, key, name)),
                            recorded_at=command.at,
                        )
                    )
                    uow.commit()
                    return outcome
            except Refused as refused:
                with self.unit() as uow:
                    refused.trace(uow)
                    uow.commit()
                raise refused.error from None
            except _MoreLocks as more:
                extra = extra | more.customer_ids | frozenset(work.customers)
                if len(extra) > _MOST_LOCKS:  # pragma: no cover - a guard against a bug
                    raise InvalidArgument(f"{command.name}: too many customers to lock") from more
            except ConcurrencyConflict:
                # Inside a batch a lost lock may have aborted the whole transaction: the
                # batch must fail. Alone, try again (a replay if the winner used our key).
                if attempt >= self.retries or self.in_batch:
                    raise
                attempt += 1
                _log.info("%s: lost a race, attempt %d of %d", command.name, attempt, self.retries)
            except CustomerAlreadyExists:
                # the same enrolment sent twice at once: the loser's second look finds the
                # winner's outcome under the key (a replay), or the key differs (an error)
                if attempt >= min(1, self.retries) or self.in_batch:
                    raise
                attempt += 1

    @staticmethod
    def _replay(
        command: CommandValue,
        print_: str,
        record: IdempotencyRecord,
        codec: Codec[T],
        uow: UnitOfWork,
    ) -> T:
        legacy = ":" not in record.fingerprint  # before fingerprint scheme 2: by name only
        if record.command != command.name or not (legacy or record.fingerprint == print_):
            differs = (
                ()
                if record.command != command.name
                else differing_fields(command, record.fingerprint)
            )
            raise IdempotencyConflict(
                command.idempotency_key, command.name, record.command, differs=differs
            )
        return codec.replayed(uow, record)

    def _resolve(self, program: Program) -> tuple[bool, tuple[Guard, ...]]:
        """Whether a follower watches commands under ``program``, and the guards that
        guard them: once per programme version (and again once a follower or a guard
        was added)."""
        found = self._resolved.get(id(program))
        followers, guards = len(self.followers), len(self.guards)
        if found is None or found[0] is not program or found[1] != followers or found[2] != guards:
            active = tuple(guard for guard in self.guards if guard.guards(program))
            # the programme is kept with its entry: its id is not reused while it is here
            found = (program, followers, guards, self.watches(program), active)
            if len(self._resolved) >= _MOST_RESOLVED:
                self._resolved.clear()
            self._resolved[id(program)] = found
        return found[3], found[4]

    def watches(self, program: Program) -> bool:
        """Whether any follower follows commands under ``program``."""
        return any(follower.watches(program) for follower in self.followers)

    def follow(self, uow: UnitOfWork, program: Program, aftermath: Aftermath) -> None:
        """Let every follower that watches ``program`` add what follows from
        ``aftermath`` to the unit of work."""
        for follower in self.followers:
            if follower.watches(program):
                follower.follow(uow, program, aftermath)

    def emit(
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


def job_failure(job: str, owner: str, reference: str, error: Exception) -> JobFailure:
    """A batch job's item that failed, logged (without personal data: ids and the error)."""
    _log.warning("%s: %s %s failed, going on: %s", job, owner, reference, type(error).__name__)
    return JobFailure(
        job=job, owner=owner, reference=reference, error=type(error).__name__, message=str(error)
    )


class _Unit:
    """What :meth:`Kernel.unit` enters: a new unit of work of ``storage`` when no batch is
    open (``outer`` is ``None``), else the batch's behind a savepoint, kept when the
    command commits and rolled back otherwise. (A class rather than a generator: every
    command enters one.)"""

    __slots__ = ("_nested", "_outer", "_personal", "_raw", "_savepoint", "_storage")

    def __init__(self, storage: Storage, personal: PersonalData, outer: UnitOfWork | None) -> None:
        self._storage = storage
        self._personal = personal
        self._outer = outer

    def __enter__(self) -> UnitOfWork:
        outer = self._outer
        if outer is None:
            self._raw = self._storage.unit_of_work()
            return _Guarded(self._raw.__enter__(), self._personal)
        self._savepoint = outer.savepoint()
        self._nested = _Nested(outer)
        return self._nested

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._outer is None:
            self._raw.__exit__(exc_type, exc, traceback)  # never swallows an error
            return
        if exc_type is None and self._nested.committed:
            self._savepoint.release()
        else:
            self._savepoint.rollback()


class _CheckedRecords:
    """The record repository, refusing to write a kind the personal-data registry does
    not know (so a new kind cannot escape erasure unnoticed)."""

    def __init__(self, inner: RecordRepository, personal: PersonalData) -> None:
        self._inner = inner
        self._personal = personal
        self.get = inner.get
        self.find = inner.find
        self.of_owner = inner.of_owner
        self.due = inner.due
        self.scan = inner.scan

    def put(
        self,
        owner: str,
        kind: str,
        record_id: str,
        document: Mapping[str, Any],
        *,
        due_at: datetime | None = None,
        lookup: str | None = None,
    ) -> None:
        self._personal.check_kind(kind)
        self._inner.put(owner, kind, record_id, document, due_at=due_at, lookup=lookup)


class _Guarded:
    """A backend's unit of work as the service sees it: records are checked against the
    personal-data registry (when given one); with ``written``, the entries a command
    adds are kept there too (while followers watch the command)."""

    def __init__(
        self,
        inner: UnitOfWork,
        personal: PersonalData | None = None,
        *,
        written: list[Entry] | None = None,
    ) -> None:
        self._inner = inner
        self._personal = personal
        self._records: RecordRepository | None = None  # checked when first used
        self.customers: CustomerRepository = inner.customers
        self.ledger: LedgerRepository = (
            inner.ledger if written is None else _WrittenLedger(inner.ledger, written)
        )
        self.idempotency: IdempotencyRepository = inner.idempotency
        self.state: CustomerStateRepository = inner.state
        self.counters: CounterRepository = inner.counters
        self.stored_value: StoredValueRepository = inner.stored_value
        self.cards: CardRepository = inner.cards

    @property
    def records(self) -> RecordRepository:
        found = self._records
        if found is None:
            inner, personal = self._inner.records, self._personal
            found = self._records = inner if personal is None else _CheckedRecords(inner, personal)
        return found

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def commit(self) -> None:
        self._inner.commit()

    def rollback(self) -> None:
        self._inner.rollback()

    def savepoint(self) -> Savepoint:
        return self._inner.savepoint()


class _WrittenLedger:
    """The ledger repository, keeping the entries a command adds (for its followers)."""

    def __init__(self, inner: LedgerRepository, written: list[Entry]) -> None:
        self._inner = inner
        self._written = written
        self.account = inner.account
        self.accounts = inner.accounts
        self.save_account = inner.save_account
        self.save_lots = inner.save_lots
        self.entries = inner.entries
        self.entries_by_key = inner.entries_by_key
        self.entries_by_seq = inner.entries_by_seq
        self.reversals_of = inner.reversals_of
        self.lots = inner.lots
        self.lots_by_id = inner.lots_by_id
        self.spendable_lots = inner.spendable_lots
        self.due_lots = inner.due_lots
        self.expiring = inner.expiring
        self.accounts_with_due_lots = inner.accounts_with_due_lots

    def add_entries(self, entries: Sequence[Entry]) -> None:
        self._inner.add_entries(entries)
        self._written.extend(entries)


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

    @property
    def stored_value(self) -> StoredValueRepository:
        return self._outer.stored_value

    @property
    def cards(self) -> CardRepository:
        return self._outer.cards

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
