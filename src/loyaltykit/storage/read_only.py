"""A unit of work that only reads: what every query runs in.

A query (a balance, a tier, a report) needs no lock and writes nothing, so it runs in a
unit of work that cannot write: its repositories answer their reads and refuse every
other method, and every read that could lock a row (``for_update=True``), with
:class:`~loyaltykit.errors.ReadOnlyViolation`. That keeps the promise that reads never
take a write lock (on SQLite a writer's transaction holds the whole database) on every
backend, a third party's too, and turns a write slipped into a query into a typed error
instead of a silent change. The SQL backend also opens the transaction read-only, so the
database itself refuses what gets past this (see ``SqlStorage.read_unit_of_work``).

A method is a read only when :data:`READS` names it: a method added to a repository
protocol is refused here until it is listed (``tests/unit/test_read_only.py`` fails).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, cast

from loyaltykit.errors import ReadOnlyViolation

if TYPE_CHECKING:
    from loyaltykit.storage.base import (
        CardRepository,
        CounterRepository,
        CustomerRepository,
        CustomerStateRepository,
        IdempotencyRepository,
        LedgerRepository,
        RecordRepository,
        Savepoint,
        StoredValueRepository,
        UnitOfWork,
    )

__all__ = ["LOCKING", "READS", "ReadOnlyUnit"]

# repository (as the unit of work names it) -> the methods that only read
READS: Mapping[str, frozenset[str]] = {
    "customers": frozenset({"get", "ids"}),
    "ledger": frozenset(
        {
            "account",
            "accounts",
            "entries",
            "entries_by_key",
            "entries_by_seq",
            "reversals_of",
            "lots",
            "lots_by_id",
            "spendable_lots",
            "due_lots",
            "expiring",
            "accounts_with_due_lots",
        }
    ),
    "idempotency": frozenset({"get"}),
    "state": frozenset({"get", "due", "get_value"}),
    "records": frozenset({"get", "find", "of_owner", "due", "scan"}),
    "counters": frozenset({"value"}),
    "stored_value": frozenset(
        {"get", "entries", "entries_by_key", "refunds_of", "of_holder", "due"}
    ),
    "cards": frozenset({"get", "of_customer"}),
}
# the reads that lock the row instead when given ``for_update=True``
LOCKING = frozenset({"customers.get", "records.get", "stored_value.get", "cards.get"})


def _refused(operation: str) -> Callable[..., Any]:
    def refuse(*_args: object, **_kwargs: object) -> Any:
        raise ReadOnlyViolation(operation)

    return refuse


def _unlocked(read: Callable[..., Any], operation: str) -> Callable[..., Any]:
    def call(*args: Any, for_update: bool = False, **kwargs: Any) -> Any:
        if for_update:
            raise ReadOnlyViolation(f"{operation}(for_update=True)")
        return read(*args, **kwargs)

    return call


class _Reads:
    """One repository of a read-only unit of work: its reads, and refusals."""

    __slots__ = ("_inner", "_name", "_reads")

    def __init__(self, inner: object, name: str) -> None:
        self._inner = inner
        self._name = name
        self._reads = READS[name]

    def __getattr__(self, method: str) -> Any:
        operation = f"{self._name}.{method}"
        if method not in self._reads:
            return _refused(operation)
        found = getattr(self._inner, method)
        return _unlocked(found, operation) if operation in LOCKING else found


class ReadOnlyUnit:
    """``inner`` (any backend's unit of work) with only its reads: every write, lock and
    savepoint raises :class:`~loyaltykit.errors.ReadOnlyViolation`. Entering and leaving
    it enter and leave ``inner``; ``commit`` ends the read (there is nothing to keep)."""

    def __init__(self, inner: UnitOfWork) -> None:
        self._outer = inner
        # what entering it gave (a context manager may hand over another object)
        self._inner = inner

    @property
    def customers(self) -> CustomerRepository:
        return cast("CustomerRepository", _Reads(self._inner.customers, "customers"))

    @property
    def ledger(self) -> LedgerRepository:
        return cast("LedgerRepository", _Reads(self._inner.ledger, "ledger"))

    @property
    def idempotency(self) -> IdempotencyRepository:
        return cast("IdempotencyRepository", _Reads(self._inner.idempotency, "idempotency"))

    @property
    def state(self) -> CustomerStateRepository:
        return cast("CustomerStateRepository", _Reads(self._inner.state, "state"))

    @property
    def records(self) -> RecordRepository:
        return cast("RecordRepository", _Reads(self._inner.records, "records"))

    @property
    def counters(self) -> CounterRepository:
        return cast("CounterRepository", _Reads(self._inner.counters, "counters"))

    @property
    def stored_value(self) -> StoredValueRepository:
        return cast("StoredValueRepository", _Reads(self._inner.stored_value, "stored_value"))

    @property
    def cards(self) -> CardRepository:
        return cast("CardRepository", _Reads(self._inner.cards, "cards"))

    def __enter__(self) -> Self:
        self._inner = self._outer.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._outer.__exit__(exc_type, exc, traceback)

    def commit(self) -> None:
        self._inner.commit()

    def rollback(self) -> None:
        self._inner.rollback()

    def savepoint(self) -> Savepoint:
        raise ReadOnlyViolation("savepoint")
