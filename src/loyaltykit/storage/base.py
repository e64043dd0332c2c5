"""What a storage backend must do.

A backend provides a :class:`Storage`, whose :meth:`~Storage.unit_of_work` opens one
transaction. Inside it, three repositories load and save the domain objects. The
unit of work rolls back on exit unless :meth:`~UnitOfWork.commit` was called, so a
command that raises leaves no trace. Backends translate their drivers' exceptions
into :mod:`loyaltykit.errors` (a lost race is :class:`~loyaltykit.errors.ConcurrencyConflict`).

Every method is keyed by customer first, so a backend can shard by customer id. A
storage sees one programme (tenant) of its store: :class:`Tenancy`, an optional
protocol, gives the others; the repositories never take a tenant argument.
``loyaltykit.testing.conformance`` is the executable form of this contract.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Generic, Protocol, Self, TypeVar, runtime_checkable

import attrs

from loyaltykit.domain.cards import MemberCard
from loyaltykit.domain.customer import Customer
from loyaltykit.domain.ledger import Account, Entry, Lot
from loyaltykit.domain.shards import Shard
from loyaltykit.domain.stored_value import StoredValueAccount, StoredValueEntry
from loyaltykit.errors import NoProgress, TenancyUnsupported
from loyaltykit.storage.read_only import ReadOnlyUnit
from loyaltykit.values import DEFAULT_TENANT, CustomerId, tenant_key

__all__ = [
    "BatchProgress",
    "BulkChunk",
    "BulkExpiry",
    "BulkRelease",
    "Capabilities",
    "CardRepository",
    "CounterRepository",
    "CustomerRepository",
    "CustomerStateRepository",
    "IdempotencyRecord",
    "IdempotencyRepository",
    "KeptValues",
    "LedgerRepository",
    "LedgerTotals",
    "LedgerTotalsRow",
    "ReadOnlyUnits",
    "RecordRepository",
    "Savepoint",
    "Scrubbing",
    "StateCodec",
    "Storage",
    "StoredRecord",
    "StoredValueRepository",
    "Tenancy",
    "UnitOfWork",
    "counter_take",
    "lot_is_due",
    "put_state_value",
    "read_unit_of_work",
    "state_value",
    "tenant_of",
    "tenant_storage",
]


@attrs.frozen(kw_only=True)
class Capabilities:
    """What a backend can promise; conformance tests are gated on these, never on names.

    ``concurrent_processes``: several processes may write at once and the backend
    serialises conflicting commands (row locks or equivalent). ``concurrent_threads``:
    the same for threads sharing one :class:`Storage`. ``durable``: committed data
    survives the process.
    """

    concurrent_threads: bool = True
    concurrent_processes: bool = False
    durable: bool = False
    #: batch scans take ``shard=`` (:class:`~loyaltykit.domain.shards.Shard`): several
    #: workers split the customers between them (docs/concepts/scaling.md)
    shards: bool = False


@attrs.frozen(kw_only=True)
class IdempotencyRecord:
    """The first outcome of a command, stored under its idempotency key.

    ``outcome`` is plain JSON-compatible data (see :mod:`loyaltykit.domain.records`).
    """

    customer_id: CustomerId
    key: str
    command: str
    fingerprint: str
    outcome: Mapping[str, Any]
    recorded_at: datetime


class CustomerRepository(Protocol):
    """Customers by id."""

    def get(self, customer_id: CustomerId, *, for_update: bool = False) -> Customer | None:
        """The customer, or ``None``. ``for_update`` locks the row until the end of the
        unit of work: every command on a customer takes this lock first."""

    def add(self, customer: Customer) -> None:
        """Insert a new customer; raises ``CustomerAlreadyExists`` if the id is taken."""

    def update(self, customer: Customer) -> None:
        """Replace a stored customer."""

    def ids(self, *, after: CustomerId | None = None, limit: int) -> list[CustomerId]:
        """Up to ``limit`` customer ids greater than ``after``, in order (for paging)."""


class LedgerRepository(Protocol):
    """Accounts, entries and lots."""

    def account(self, customer_id: CustomerId, point_type: str) -> Account | None:
        """The account row, or ``None`` if nothing was ever posted to it."""

    def accounts(self, customer_id: CustomerId) -> list[Account]:
        """Every account of a customer, ordered by point type."""

    def save_account(self, account: Account) -> None:
        """Insert or replace the account row."""

    def add_entries(self, entries: Sequence[Entry]) -> None:
        """Append entries (never updated afterwards)."""

    def save_lots(self, lots: Sequence[Lot]) -> None:
        """Insert new lots and replace changed ones."""

    def entries(self, customer_id: CustomerId, point_type: str) -> list[Entry]:
        """Every entry of an account, in ``seq`` order."""

    def entries_by_key(self, customer_id: CustomerId, idempotency_key: str) -> list[Entry]:
        """The entries a command recorded for this customer, by point type, then seq."""

    def entries_by_seq(
        self, customer_id: CustomerId, point_type: str, seqs: Collection[int]
    ) -> list[Entry]:
        """The entries of an account with these seqs, in seq order; unknown seqs are left
        out (a replayed command reads the entries its stored receipt names)."""

    def reversals_of(self, customer_id: CustomerId, entry_id: str) -> list[Entry]:
        """The entries that reverse ``entry_id``, in the order they were recorded."""

    def lots(self, customer_id: CustomerId, point_type: str) -> list[Lot]:
        """Every lot of an account (for audits and balances at a past instant)."""

    def lots_by_id(self, customer_id: CustomerId, lot_ids: Collection[str]) -> list[Lot]:
        """The lots with these ids, in no particular order."""

    def spendable_lots(
        self, customer_id: CustomerId, point_type: str, at: datetime
    ) -> Iterable[Lot]:
        """Released lots with points left that have not expired by ``at``, in spending
        order (soonest expiry first, never-expiring last; then oldest first).
        May be lazy: the caller stops iterating once it has enough."""

    def due_lots(self, customer_id: CustomerId, point_type: str, at: datetime) -> list[Lot]:
        """Lots with points left that are due by ``at``: expired, or pending with
        ``available_from`` reached."""

    def expiring(
        self, customer_id: CustomerId, point_type: str, after: datetime, until: datetime
    ) -> int:
        """Points left in released lots expiring in ``(after, until]``."""

    def accounts_with_due_lots(
        self, at: datetime, *, limit: int, work: str, shard: Shard | None = None
    ) -> list[tuple[CustomerId, str]]:
        """Up to ``limit`` accounts with lots due by ``at`` for ``work``: ``"expire"``
        (released or pending lots with points left whose ``expires_at <= at``) or
        ``"release"`` (pending lots with ``available_from <= at``). Batch settlement
        calls it until it returns nothing, so it must not return an account whose due
        work is done. ``shard``: only customers in it (asked only of a backend that
        declares ``Capabilities.shards``)."""


class CustomerStateRepository(Protocol):
    """Small JSON documents of per-customer state, by ``(customer_id, name)``.

    The service keeps what the policy engine needs between events here (cap counters,
    purchase counts, tier status); it reads and writes them only while it holds the
    customer's lock, so a plain read-modify-write is safe across processes.
    """

    def get(self, customer_id: CustomerId, name: str) -> dict[str, Any] | None:
        """The stored document, or ``None``."""

    def put(
        self,
        customer_id: CustomerId,
        name: str,
        document: Mapping[str, Any],
        *,
        due_at: datetime | None = None,
    ) -> None:
        """Insert or replace a document (JSON-compatible data). ``due_at`` is when batch
        work on it is next needed (a tier status ending), ``None`` for never."""

    def due(
        self, name: str, at: datetime, *, limit: int, shard: Shard | None = None
    ) -> list[CustomerId]:
        """Up to ``limit`` customers whose ``name`` document is due at or before ``at``,
        soonest first (``shard``: only customers in it)."""


V = TypeVar("V")


@attrs.frozen(eq=False)
class StateCodec(Generic[V]):
    """How one kind of customer-state document maps to the value the service works
    with: ``decode`` reads a document (``None`` when there is none), ``encode`` writes
    the value back as the document every backend stores. A value must be immutable, and
    ``decode(encode(value))`` the same value: a backend may keep either form."""

    decode: Callable[[Mapping[str, Any] | None], V]
    encode: Callable[[V], Mapping[str, Any]]


class KeptValues(Protocol):
    """Optional: a :class:`CustomerStateRepository` that keeps decoded values.

    A backend that holds its documents in this process (the memory backend) can keep
    the value a document was decoded into, or the value it was written from, and hand
    it back, instead of decoding the document again on every command: the service reads
    and writes the member's documents through :func:`state_value` and
    :func:`put_state_value`, which use these methods when the repository has them and
    the plain documents otherwise. ``get`` still gives the document (``codec.encode``
    of a kept value), and a rolled-back write is undone like any other."""

    def get_value(self, customer_id: CustomerId, name: str, codec: StateCodec[V]) -> V:
        """``codec.decode`` of the stored document (of ``None`` when there is none)."""

    def put_value(
        self,
        customer_id: CustomerId,
        name: str,
        codec: StateCodec[V],
        value: V,
        *,
        due_at: datetime | None = None,
    ) -> None:
        """``put`` of ``codec.encode(value)``, ``value`` kept for :meth:`get_value`."""


def state_value(
    states: CustomerStateRepository, customer_id: CustomerId, name: str, codec: StateCodec[V]
) -> V:
    """The value of a customer's ``name`` document (see :class:`KeptValues`)."""
    kept = getattr(states, "get_value", None)
    if kept is None:
        return codec.decode(states.get(customer_id, name))
    found: V = kept(customer_id, name, codec)
    return found


def put_state_value(
    states: CustomerStateRepository,
    customer_id: CustomerId,
    name: str,
    codec: StateCodec[V],
    value: V,
    *,
    due_at: datetime | None = None,
) -> None:
    """Store ``value`` as the customer's ``name`` document (see :class:`KeptValues`)."""
    kept = getattr(states, "put_value", None)
    if kept is None:
        states.put(customer_id, name, codec.encode(value), due_at=due_at)
    else:
        kept(customer_id, name, codec, value, due_at=due_at)


class IdempotencyRepository(Protocol):
    """First outcomes of commands, by ``(customer_id, key)``."""

    def get(self, customer_id: CustomerId, key: str) -> IdempotencyRecord | None:
        """The stored record, or ``None``."""

    def add(self, record: IdempotencyRecord) -> None:
        """Store a record; raises ``ConcurrencyConflict`` if another writer stored the
        same key first (the service then replays that writer's outcome)."""

    def redact(self, customer_id: CustomerId, commands: Collection[str]) -> None:
        """Replace the stored outcomes of these commands with ``{"redacted": True}``
        (erasure of personal data)."""


@attrs.frozen(kw_only=True)
class StoredRecord:
    """A document kept by :class:`RecordRepository`, with its keys."""

    owner: str
    kind: str
    id: str
    document: dict[str, Any]
    due_at: datetime | None = None
    lookup: str | None = None


class RecordRepository(Protocol):
    """Documents that are not ledger rows: redemptions, vouchers, complaints, survey
    responses, draws. Keyed by ``(owner, kind, id)``: ``owner`` is the customer id for a
    customer's records, or another partition key (``"campaign:spring"``) for records
    that belong to no customer, so the table still shards by its first column.

    Documents are JSON-compatible (str keys; str, int, float, bool, None, list, dict).
    ``kind`` is at most 32 characters; ``owner``, ``id`` and ``lookup`` at most 128.
    """

    def get(
        self, owner: str, kind: str, record_id: str, *, for_update: bool = False
    ) -> StoredRecord | None:
        """The record, or ``None``. ``for_update`` locks it until the unit of work ends."""

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
        """Insert or replace a record. ``lookup`` is a value unique within ``kind`` (a
        voucher code, a complaint reference) that :meth:`find` finds again; one already
        used by another record raises ``ConcurrencyConflict``. ``due_at`` is when batch
        work on the record is next needed (:meth:`due`), ``None`` for never."""

    def find(self, kind: str, lookup: str) -> StoredRecord | None:
        """The record of ``kind`` whose lookup is ``lookup``, or ``None``."""

    def of_owner(self, owner: str, kind: str) -> list[StoredRecord]:
        """Every record of ``kind`` that ``owner`` has, by id."""

    def due(self, kind: str, at: datetime, *, limit: int) -> list[StoredRecord]:
        """Up to ``limit`` records of ``kind`` due at or before ``at``, soonest first
        (then by owner and id)."""

    def scan(
        self, kind: str, *, after: tuple[str, str] | None = None, limit: int
    ) -> list[StoredRecord]:
        """Up to ``limit`` records of ``kind`` ordered by ``(owner, id)``, strictly after
        ``after`` (for paging through every record, as reports do)."""


class CounterRepository(Protocol):
    """Shared counters that no single customer owns: stock taken, budget spent, global
    limits per period. Two units of work never both take the last unit, on any backend:
    :meth:`take` holds the counter's lock until the unit of work ends.

    Counter names are at most 200 characters. Per-customer counters belong in the
    customer's state documents, under the customer's lock.
    """

    def value(self, name: str) -> int:
        """The counter's value; 0 for a counter never touched."""

    def take(
        self, name: str, amount: int, *, limit: int | None = None, partial: bool = False
    ) -> int:
        """Add ``amount`` (> 0) without passing ``limit`` and return what was added:
        ``amount``, or 0 when it does not fit; with ``partial``, as much as fits."""

    def restore(self, name: str, amount: int) -> None:
        """Subtract ``amount`` (> 0), never going below 0 (stock given back, a budget
        refunded)."""


# --- stored value and member cards ---------------------------------------------------------


class StoredValueRepository(Protocol):
    """Gift cards and wallets (:class:`~loyaltykit.domain.stored_value.StoredValueAccount`)
    by code, and their entries, numbered from 1 per card.

    The account row caches the balance its entries add up to, written in the same unit of
    work as them; entries are never updated. Amounts come back in the card's currency
    with its minor units' exponent (``50.00 CNY``), whatever the backend keeps.
    """

    def get(self, code: str, *, for_update: bool = False) -> StoredValueAccount | None:
        """The card, or ``None``. ``for_update`` locks it until the unit of work ends:
        every command that moves its money takes this lock first."""

    def add(self, account: StoredValueAccount) -> None:
        """Insert a new card; raises ``ConcurrencyConflict`` when the code is taken."""

    def update(self, account: StoredValueAccount) -> None:
        """Replace a stored card (its balance, latest entry, status)."""

    def add_entries(self, entries: Sequence[StoredValueEntry]) -> None:
        """Append entries (never updated afterwards)."""

    def entries(self, code: str) -> list[StoredValueEntry]:
        """Every entry of a card, in ``seq`` order."""

    def entries_by_key(self, code: str, idempotency_key: str) -> list[StoredValueEntry]:
        """The entries a command with this key wrote on the card, in ``seq`` order."""

    def refunds_of(self, code: str, payment_key: str) -> list[StoredValueEntry]:
        """The refund entries giving back the payment made under ``payment_key`` (their
        ``reference``), in ``seq`` order."""

    def of_holder(self, customer_id: CustomerId) -> list[StoredValueAccount]:
        """Every card held by a member, by code."""

    def due(self, at: datetime, *, limit: int) -> list[str]:
        """Up to ``limit`` codes of active cards whose ``expires_at`` is at or before
        ``at``, soonest first, then by code. The expiry job calls it until it returns
        nothing, so an expired card must not come back."""


class CardRepository(Protocol):
    """Member cards (:class:`~loyaltykit.domain.cards.MemberCard`) by number. A number is
    a unique key for ever: a blocked card keeps its row, and a row is never deleted."""

    def get(self, number: str, *, for_update: bool = False) -> MemberCard | None:
        """The card, or ``None``; ``for_update`` locks it until the unit of work ends."""

    def add(self, card: MemberCard) -> None:
        """Insert a new card; raises ``ConcurrencyConflict`` when the number was ever
        issued (to anyone)."""

    def update(self, card: MemberCard) -> None:
        """Replace a stored card (blocked, replaced)."""

    def of_customer(self, customer_id: CustomerId) -> list[MemberCard]:
        """Every card issued to a member, blocked ones too, oldest first (then by
        number)."""


def counter_take(current: int, amount: int, *, limit: int | None, partial: bool) -> int:
    """What :meth:`CounterRepository.take` adds to a counter at ``current``: every backend
    decides with this one rule, under its own lock."""
    room = amount if limit is None else max(0, min(amount, limit - current))
    return room if partial or room == amount else 0


def lot_is_due(lot: Lot, at: datetime, work: str) -> bool:
    """Whether ``lot`` has ``work`` to do by ``at``, as
    :meth:`LedgerRepository.accounts_with_due_lots` means it: ``"expire"`` (points left,
    ``expires_at <= at``) or ``"release"`` (pending, points left, ``available_from <=
    at`` and before the lot's expiry: a lot that expires first is expired while pending,
    never released). A lot is in :meth:`LedgerRepository.due_lots` when either holds."""
    if lot.remaining <= 0:
        return False
    if work == "expire":
        return lot.expires_at is not None and lot.expires_at <= at
    return (
        lot.pending
        and lot.available_from is not None
        and lot.available_from <= at
        and (lot.expires_at is None or lot.available_from < lot.expires_at)
    )


class Savepoint(Protocol):
    """A point inside a unit of work to roll back to (one command of a batch)."""

    def release(self) -> None:
        """Keep what was done since the savepoint."""

    def rollback(self) -> None:
        """Undo what was done since the savepoint; the unit of work goes on."""


@runtime_checkable
class UnitOfWork(Protocol):
    """One transaction. Exiting without :meth:`commit` rolls everything back."""

    @property
    def customers(self) -> CustomerRepository:
        """The customers repository of this transaction."""

    @property
    def ledger(self) -> LedgerRepository:
        """The ledger repository of this transaction."""

    @property
    def idempotency(self) -> IdempotencyRepository:
        """The idempotency records of this transaction."""

    @property
    def state(self) -> CustomerStateRepository:
        """Per-customer state documents of this transaction."""

    @property
    def records(self) -> RecordRepository:
        """Documents (redemptions, vouchers, complaints...) of this transaction."""

    @property
    def counters(self) -> CounterRepository:
        """Shared counters (stock, budgets) of this transaction."""

    @property
    def stored_value(self) -> StoredValueRepository:
        """Gift cards, wallets and their entries of this transaction."""

    @property
    def cards(self) -> CardRepository:
        """Member cards of this transaction."""

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None:
        """Make the changes permanent."""

    def rollback(self) -> None:
        """Discard the changes."""

    def savepoint(self) -> Savepoint:
        """Mark the current state; the savepoint can undo what comes after it."""


@attrs.frozen(kw_only=True)
class BulkChunk:
    """What one set-based chunk of batch work did.

    ``last`` is the last account the chunk took (``None`` when it found none: the work
    is done); pass it as ``after`` to the next call, so that each call starts where the
    previous one stopped instead of scanning the accounts already settled.
    """

    accounts: int = 0
    entries: int = 0
    points: int = 0
    last: tuple[CustomerId, str] | None = None


class BatchProgress:
    """The guard of a batch loop that asks the backend for work until it has none.

    Such a loop ends only if the backend keeps its contract: an account reported due is
    settled by settling it, a bulk chunk's ``last`` moves on. A broken backend would make
    it spin forever; call :meth:`step` for each piece of work handed out, and a piece
    handed out again after doing it changed nothing raises
    :class:`~loyaltykit.errors.NoProgress` instead. Work that changed something may come
    back (new lots may fall due meanwhile); a cursor position (``changed=False``) may not.

    >>> progress = BatchProgress("release_pending")
    >>> progress.step(("c1", "points"), changed=True)
    >>> progress.step(("c1", "points"), changed=False)
    >>> progress.step(("c1", "points"), changed=False)
    Traceback (most recent call last):
    ...
    loyaltykit.errors.NoProgress: release_pending made no progress: ...
    """

    def __init__(self, loop: str) -> None:
        self.loop = loop
        self._idle: set[Hashable] = set()

    def step(self, key: Hashable, *, changed: bool) -> None:
        """Record that ``key`` was handed out and whether doing it changed anything."""
        if key in self._idle:
            raise NoProgress(self.loop, key)
        if not changed:
            self._idle.add(key)


@runtime_checkable
class BulkExpiry(Protocol):
    """Optional: a backend that can expire many accounts' lots with set-based statements.

    ``expire_in_bulk`` expires, in one transaction under the customers' locks, the due
    lots of up to ``accounts`` accounts whose settlement is expiry alone, in account
    order after ``after``, writing exactly the entries per-account settlement would; it
    returns a :class:`BulkChunk` (no accounts when nothing eligible is left). The service
    uses it when offered and settles the remaining accounts one by one.
    """

    def expire_in_bulk(
        self,
        at: datetime,
        *,
        accounts: int,
        after: tuple[CustomerId, str] | None = None,
        shard: Shard | None = None,
    ) -> BulkChunk: ...


@attrs.frozen(kw_only=True)
class LedgerTotalsRow:
    """One account of a point type: its stored balances and the sums of its entries
    (``entries`` by kind of their change of the available balance, ``pending_entries``
    of their change of the pending balance)."""

    customer_id: CustomerId
    point_type: str
    available: int
    pending: int
    lifetime_redeemed: int
    lifetime_expired: int
    entries: Mapping[str, int]
    pending_entries: int


@runtime_checkable
class LedgerTotals(Protocol):
    """Optional: a backend that sums every account's entries with set-based reads, for
    reports and reconciliation over all members (one read instead of one per member)."""

    def ledger_totals(self, point_type: str) -> list[LedgerTotalsRow]:
        """Every account of ``point_type`` with its entries summed, in customer order."""
        ...


@runtime_checkable
class BulkRelease(Protocol):
    """Optional: a backend that can release many accounts' pending lots with set-based
    statements.

    ``release_in_bulk`` releases, in one transaction under the customers' locks, the due
    pending lots of up to ``accounts`` accounts whose settlement is release alone (no
    deficit, no lot due to expire), in account order after ``after``, writing exactly
    the entries per-account settlement would; it returns a :class:`BulkChunk`. The
    service uses it when offered and settles the remaining accounts one by one.
    """

    def release_in_bulk(
        self,
        at: datetime,
        *,
        accounts: int,
        after: tuple[CustomerId, str] | None = None,
        shard: Shard | None = None,
    ) -> BulkChunk: ...


@runtime_checkable
class Scrubbing(Protocol):
    """Optional: a backend whose files can keep data that a commit replaced readable for
    a while (SQLite's write-ahead log keeps old page images until a checkpoint).

    ``scrub`` makes what committed units of work overwrote unreadable in the files; the
    service calls it after ``erase``. A backend without such files need not offer it.
    """

    def scrub(self) -> None: ...


@runtime_checkable
class ReadOnlyUnits(Protocol):
    """Optional: a backend that can open units of work for reading only.

    A query (a balance, a statement) needs no lock and writes nothing, so it need not
    pay for a writer's transaction, nor make writers wait: ``read_unit_of_work`` opens a
    unit of work whose repositories are only read, that sees one consistent state of the
    data where the backend can give one, and that takes no write lock. The service opens
    it through :func:`read_unit_of_work`, which falls back to :meth:`Storage.unit_of_work`
    for a backend without it, and refuses every write in it either way.
    """

    def read_unit_of_work(self) -> UnitOfWork: ...


def read_unit_of_work(storage: Storage) -> UnitOfWork:
    """A unit of work to read in: the backend's read-only one (:class:`ReadOnlyUnits`)
    if it has one, else a full :meth:`~Storage.unit_of_work` (always correct, only
    dearer). Either way only its reads answer: a write, a ``for_update`` read or a
    savepoint raises :class:`~loyaltykit.errors.ReadOnlyViolation`
    (:class:`~loyaltykit.storage.read_only.ReadOnlyUnit`)."""
    reader = getattr(storage, "read_unit_of_work", None)
    return ReadOnlyUnit(storage.unit_of_work() if reader is None else reader())


@runtime_checkable
class Storage(Protocol):
    """A backend: where customers and the ledger live."""

    @property
    def capabilities(self) -> Capabilities:
        """What this backend promises."""

    def unit_of_work(self) -> UnitOfWork:
        """A new unit of work (use it as a context manager)."""

    def close(self) -> None:
        """Release connections and files."""


# --- several programmes in one store ---------------------------------------------------


@runtime_checkable
class Tenancy(Protocol):
    """Optional: a backend that keeps several programmes (tenants) apart in one store.

    ``for_tenant(key)`` is a :class:`Storage` over the same store (the same connections,
    files or memory) whose every repository, optional protocol and batch scan sees only
    ``key``'s rows: customers, accounts, entries, lots, state documents, records and their
    lookups, counters, idempotency keys, stored value and member cards. The same customer
    id, voucher code, counter name or card number may exist in two tenants; neither ever
    reads, locks, finds or pages through the other's. A storage opened without it is the
    :data:`~loyaltykit.values.DEFAULT_TENANT`'s, and ``tenant`` names the one it sees.

    A backend without it still works, as the default tenant's only store
    (:func:`tenant_storage` refuses another). ``loyaltykit.testing.conformance`` proves
    the isolation of a backend that offers it.
    """

    @property
    def tenant(self) -> str:
        """The tenant whose rows this storage sees."""
        ...

    def for_tenant(self, tenant: str) -> Storage:
        """This store as ``tenant`` sees it (a valid key: :func:`~loyaltykit.values.tenant_key`)."""
        ...


def tenant_of(storage: Storage) -> str:
    """The tenant ``storage`` sees: its own for a :class:`Tenancy` backend, else the
    default (a backend that keeps one programme keeps the default one)."""
    return storage.tenant if isinstance(storage, Tenancy) else DEFAULT_TENANT


def tenant_storage(storage: Storage, tenant: str) -> Storage:
    """``storage`` as ``tenant`` sees it: itself when it already sees ``tenant``, the
    backend's :meth:`Tenancy.for_tenant` otherwise. A key that is not valid raises
    :class:`~loyaltykit.errors.InvalidTenant`; another tenant than the default of a backend
    without :class:`Tenancy` raises :class:`~loyaltykit.errors.TenancyUnsupported`.

    >>> from loyaltykit.storage.memory import MemoryStorage
    >>> store = MemoryStorage()
    >>> tenant_storage(store, "brand-a").tenant
    'brand-a'
    """
    key = tenant_key(tenant)
    if tenant_of(storage) == key:
        return storage
    if not isinstance(storage, Tenancy):
        raise TenancyUnsupported(type(storage).__name__, key)
    return storage.for_tenant(key)
