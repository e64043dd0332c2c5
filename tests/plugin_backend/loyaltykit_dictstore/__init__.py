"""A third-party storage backend, as a plugin author would write it from the protocols.

``dictstore://`` keeps every row as JSON text in plain dicts, written with loyaltykit's
record converters (:mod:`loyaltykit.domain.records`), exactly as a document store or a
key-value store (Redis, DynamoDB) would keep them. It imports nothing from loyaltykit's
own backends: only the protocols of :mod:`loyaltykit.storage.base`, the domain values,
the converters and the errors. It runs loyaltykit's conformance suite unchanged.

Concurrency: one lock per storage serialises units of work (safe across threads, not
across processes: the capabilities say so). A unit of work copies the tables it starts
from; leaving it without ``commit()`` puts the copy back, and a savepoint is one more
copy. Copies are shallow (every value is an immutable string), which is plenty for a
sample, though a real store would log its writes instead.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from loyaltykit.domain.cards import MemberCard, card_from_record, card_to_record
from loyaltykit.domain.customer import Customer
from loyaltykit.domain.ledger import Account, Entry, Lot
from loyaltykit.domain.records import (
    account_from_record,
    account_to_record,
    customer_from_record,
    customer_to_record,
    entry_from_record,
    entry_to_record,
    instant_from_text,
    lot_from_record,
    lot_to_record,
)
from loyaltykit.domain.stored_value import StoredValueAccount, StoredValueEntry
from loyaltykit.domain.stored_value import account_from_record as stored_value_from_record
from loyaltykit.domain.stored_value import account_to_record as stored_value_to_record
from loyaltykit.domain.stored_value import entry_from_record as stored_value_entry_from_record
from loyaltykit.domain.stored_value import entry_to_record as stored_value_entry_to_record
from loyaltykit.errors import (
    ConcurrencyConflict,
    CustomerAlreadyExists,
    InvalidAmount,
    InvalidArgument,
)
from loyaltykit.storage.base import (
    Capabilities,
    IdempotencyRecord,
    StoredRecord,
    counter_take,
    lot_is_due,
)

__all__ = ["DictStorage"]

Tables = dict[str, dict[Any, str]]
TABLES = (
    "customers",
    "accounts",
    "entries",
    "lots",
    "idempotency",
    "state",
    "records",
    "stored_value",
    "stored_value_entries",
    "cards",
)


def _text(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


class _Repository:
    """Base of the repositories: the unit of work's tables, as JSON text by key."""

    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    def _rows(self, table: str) -> dict[Any, str]:
        return self._tables[table]

    def _read(self, table: str, key: Any) -> dict[str, Any] | None:
        text = self._tables[table].get(key)
        return None if text is None else dict(json.loads(text))

    def _write(self, table: str, key: Any, document: Mapping[str, Any]) -> None:
        self._tables[table][key] = json.dumps(document)


class Customers(_Repository):
    """:class:`~loyaltykit.storage.base.CustomerRepository`."""

    def get(self, customer_id: str, *, for_update: bool = False) -> Customer | None:
        # for_update: the storage lock already serialises every unit of work
        record = self._read("customers", customer_id)
        return None if record is None else customer_from_record(record)

    def add(self, customer: Customer) -> None:
        if customer.id in self._rows("customers"):
            raise CustomerAlreadyExists(customer.id)
        self._write("customers", customer.id, customer_to_record(customer))

    def update(self, customer: Customer) -> None:
        self._write("customers", customer.id, customer_to_record(customer))

    def ids(self, *, after: str | None = None, limit: int) -> list[str]:
        ordered = sorted(self._rows("customers"))
        return [c for c in ordered if after is None or c > after][:limit]


class Ledger(_Repository):
    """:class:`~loyaltykit.storage.base.LedgerRepository`: accounts by ``(customer,
    point type)``, entries by ``(customer, point type, seq)``, lots by ``(customer, point
    type, seq, index)``. Every read is a scan: fine for a sample."""

    def account(self, customer_id: str, point_type: str) -> Account | None:
        record = self._read("accounts", (customer_id, point_type))
        return None if record is None else account_from_record(record)

    def accounts(self, customer_id: str) -> list[Account]:
        keys = sorted(key for key in self._rows("accounts") if key[0] == customer_id)
        return [account_from_record(json.loads(self._rows("accounts")[key])) for key in keys]

    def save_account(self, account: Account) -> None:
        self._write("accounts", account.key, account_to_record(account))

    def add_entries(self, entries: Sequence[Entry]) -> None:
        for entry in entries:
            key = (entry.customer_id, entry.point_type, entry.seq)
            self._write("entries", key, entry_to_record(entry))

    def save_lots(self, lots: Sequence[Lot]) -> None:
        for lot in lots:
            key = (lot.customer_id, lot.point_type, lot.seq, lot.index)
            self._write("lots", key, lot_to_record(lot))

    def _entries(self, customer_id: str) -> list[Entry]:
        rows = self._rows("entries")
        keys = sorted(key for key in rows if key[0] == customer_id)
        return [entry_from_record(json.loads(rows[key])) for key in keys]

    def _lots(self, customer_id: str, point_type: str | None = None) -> list[Lot]:
        rows = self._rows("lots")
        keys = sorted(
            key
            for key in rows
            if key[0] == customer_id and (point_type is None or key[1] == point_type)
        )
        return [lot_from_record(json.loads(rows[key])) for key in keys]

    def entries(self, customer_id: str, point_type: str) -> list[Entry]:
        return [e for e in self._entries(customer_id) if e.point_type == point_type]

    def entries_by_key(self, customer_id: str, idempotency_key: str) -> list[Entry]:
        return [e for e in self._entries(customer_id) if e.idempotency_key == idempotency_key]

    def entries_by_seq(
        self, customer_id: str, point_type: str, seqs: Collection[int]
    ) -> list[Entry]:
        wanted = set(seqs)
        return [e for e in self.entries(customer_id, point_type) if e.seq in wanted]

    def reversals_of(self, customer_id: str, entry_id: str) -> list[Entry]:
        return [e for e in self._entries(customer_id) if e.reverses == entry_id]

    def lots(self, customer_id: str, point_type: str) -> list[Lot]:
        return self._lots(customer_id, point_type)

    def lots_by_id(self, customer_id: str, lot_ids: Collection[str]) -> list[Lot]:
        wanted = set(lot_ids)
        return [lot for lot in self._lots(customer_id) if lot.id in wanted]

    def spendable_lots(self, customer_id: str, point_type: str, at: datetime) -> Iterator[Lot]:
        spendable = [lot for lot in self._lots(customer_id, point_type) if lot.is_spendable(at)]
        return iter(sorted(spendable, key=lambda lot: lot.consumption_key))

    def due_lots(self, customer_id: str, point_type: str, at: datetime) -> list[Lot]:
        return [
            lot
            for lot in self._lots(customer_id, point_type)
            if lot_is_due(lot, at, "expire") or lot_is_due(lot, at, "release")
        ]

    def expiring(self, customer_id: str, point_type: str, after: datetime, until: datetime) -> int:
        return sum(
            lot.remaining
            for lot in self._lots(customer_id, point_type)
            if not lot.pending
            and lot.remaining > 0
            and lot.expires_at is not None
            and after < lot.expires_at <= until
        )

    def accounts_with_due_lots(
        self, at: datetime, *, limit: int, work: str
    ) -> list[tuple[str, str]]:
        found = set()
        for text in self._rows("lots").values():
            lot = lot_from_record(json.loads(text))
            if lot_is_due(lot, at, work):
                found.add((lot.customer_id, lot.point_type))
        return sorted(found)[:limit]


class Idempotency(_Repository):
    """:class:`~loyaltykit.storage.base.IdempotencyRepository`."""

    def get(self, customer_id: str, key: str) -> IdempotencyRecord | None:
        record = self._read("idempotency", (customer_id, key))
        if record is None:
            return None
        return IdempotencyRecord(
            customer_id=customer_id,
            key=key,
            command=record["command"],
            fingerprint=record["fingerprint"],
            outcome=record["outcome"],
            recorded_at=datetime.fromisoformat(record["recorded_at"]),
        )

    def add(self, record: IdempotencyRecord) -> None:
        key = (record.customer_id, record.key)
        if key in self._rows("idempotency"):
            raise ConcurrencyConflict(f"idempotency key {record.key!r} is taken")
        document = {
            "command": record.command,
            "fingerprint": record.fingerprint,
            "outcome": dict(record.outcome),
            "recorded_at": record.recorded_at.isoformat(),
        }
        self._write("idempotency", key, document)

    def redact(self, customer_id: str, commands: Collection[str]) -> None:
        for key in [k for k in self._rows("idempotency") if k[0] == customer_id]:
            document = self._read("idempotency", key)
            if document is not None and document["command"] in commands:
                self._write("idempotency", key, {**document, "outcome": {"redacted": True}})


class State(_Repository):
    """:class:`~loyaltykit.storage.base.CustomerStateRepository`."""

    def get(self, customer_id: str, name: str) -> dict[str, Any] | None:
        stored = self._read("state", (customer_id, name))
        return None if stored is None else dict(stored["document"])

    def put(
        self,
        customer_id: str,
        name: str,
        document: Mapping[str, Any],
        *,
        due_at: datetime | None = None,
    ) -> None:
        stored = {"document": dict(document), "due_at": _text(due_at)}
        self._write("state", (customer_id, name), stored)

    def due(self, name: str, at: datetime, *, limit: int) -> list[str]:
        due = []
        for (customer_id, kind), text in self._rows("state").items():
            when = instant_from_text(json.loads(text)["due_at"])
            if kind == name and when is not None and when <= at:
                due.append((when, customer_id))
        return [customer_id for _, customer_id in sorted(due)[:limit]]


class Records(_Repository):
    """:class:`~loyaltykit.storage.base.RecordRepository`, keyed ``(kind, owner, id)``."""

    def _stored(self, key: tuple[str, str, str]) -> StoredRecord | None:
        stored = self._read("records", key)
        if stored is None:
            return None
        kind, owner, record_id = key
        return StoredRecord(
            owner=owner,
            kind=kind,
            id=record_id,
            document=stored["document"],
            due_at=instant_from_text(stored["due_at"]),
            lookup=stored["lookup"],
        )

    def _all(self, kind: str) -> list[StoredRecord]:
        keys = sorted(key for key in self._rows("records") if key[0] == kind)
        return [record for key in keys if (record := self._stored(key)) is not None]

    def get(
        self, owner: str, kind: str, record_id: str, *, for_update: bool = False
    ) -> StoredRecord | None:
        return self._stored((kind, owner, record_id))

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
        holder = None if lookup is None else self.find(kind, lookup)
        if holder is not None and (holder.owner, holder.id) != (owner, record_id):
            raise ConcurrencyConflict(f"lookup {lookup!r} of kind {kind!r} is taken")
        stored = {"document": dict(document), "due_at": _text(due_at), "lookup": lookup}
        self._write("records", (kind, owner, record_id), stored)

    def find(self, kind: str, lookup: str) -> StoredRecord | None:
        return next((r for r in self._all(kind) if r.lookup == lookup), None)

    def of_owner(self, owner: str, kind: str) -> list[StoredRecord]:
        return [record for record in self._all(kind) if record.owner == owner]

    def due(self, kind: str, at: datetime, *, limit: int) -> list[StoredRecord]:
        due = [r for r in self._all(kind) if r.due_at is not None and r.due_at <= at]
        return sorted(due, key=lambda r: (r.due_at, r.owner, r.id))[:limit]

    def scan(
        self, kind: str, *, after: tuple[str, str] | None = None, limit: int
    ) -> list[StoredRecord]:
        found = [r for r in self._all(kind) if after is None or (r.owner, r.id) > after]
        return found[:limit]


class Counters(_Repository):
    """:class:`~loyaltykit.storage.base.CounterRepository`: the storage lock is the
    counter's lock."""

    def value(self, name: str) -> int:
        text = self._rows("counters").get(name)
        return 0 if text is None else int(text)

    def take(
        self, name: str, amount: int, *, limit: int | None = None, partial: bool = False
    ) -> int:
        _positive("amount", amount)
        current = self.value(name)
        taken = counter_take(current, amount, limit=limit, partial=partial)
        if taken:
            self._rows("counters")[name] = str(current + taken)
        return taken

    def restore(self, name: str, amount: int) -> None:
        _positive("amount", amount)
        self._rows("counters")[name] = str(max(0, self.value(name) - amount))


class StoredValue(_Repository):
    """:class:`~loyaltykit.storage.base.StoredValueRepository`: cards by code, entries by
    ``(code, seq)``, as the records of :mod:`loyaltykit.domain.stored_value` write them."""

    def get(self, code: str, *, for_update: bool = False) -> StoredValueAccount | None:
        found = self._read("stored_value", code)
        return None if found is None else stored_value_from_record(found)

    def add(self, account: StoredValueAccount) -> None:
        if account.code in self._rows("stored_value"):
            raise ConcurrencyConflict(f"stored value code {account.code!r} is taken")
        self._write("stored_value", account.code, stored_value_to_record(account))

    def update(self, account: StoredValueAccount) -> None:
        self._write("stored_value", account.code, stored_value_to_record(account))

    def add_entries(self, entries: Sequence[StoredValueEntry]) -> None:
        for entry in entries:
            key = (entry.code, entry.seq)
            if key in self._rows("stored_value_entries"):
                raise ConcurrencyConflict(f"entry {entry.seq} of {entry.code!r} exists")
            self._write("stored_value_entries", key, stored_value_entry_to_record(entry))

    def entries(self, code: str) -> list[StoredValueEntry]:
        rows = self._rows("stored_value_entries")
        keys = sorted(key for key in rows if key[0] == code)
        return [stored_value_entry_from_record(json.loads(rows[key])) for key in keys]

    def entries_by_key(self, code: str, idempotency_key: str) -> list[StoredValueEntry]:
        return [e for e in self.entries(code) if e.idempotency_key == idempotency_key]

    def refunds_of(self, code: str, payment_key: str) -> list[StoredValueEntry]:
        return [
            e for e in self.entries(code) if e.kind.value == "refund" and e.reference == payment_key
        ]

    def of_holder(self, customer_id: str) -> list[StoredValueAccount]:
        rows = self._rows("stored_value")
        found = [stored_value_from_record(json.loads(rows[code])) for code in sorted(rows)]
        return [account for account in found if account.holder == customer_id]

    def due(self, at: datetime, *, limit: int) -> list[str]:
        rows = self._rows("stored_value")
        found = [stored_value_from_record(json.loads(text)) for text in rows.values()]
        due = [
            (a.expires_at, a.code)
            for a in found
            if a.status.value == "active" and a.expires_at is not None and a.expires_at <= at
        ]
        return [code for _, code in sorted(due)[:limit]]


class Cards(_Repository):
    """:class:`~loyaltykit.storage.base.CardRepository`: cards by number."""

    def get(self, number: str, *, for_update: bool = False) -> MemberCard | None:
        found = self._read("cards", number)
        return None if found is None else card_from_record(found)

    def add(self, card: MemberCard) -> None:
        if card.number in self._rows("cards"):
            raise ConcurrencyConflict(f"card number {card.number!r} was issued before")
        self._write("cards", card.number, card_to_record(card))

    def update(self, card: MemberCard) -> None:
        self._write("cards", card.number, card_to_record(card))

    def of_customer(self, customer_id: str) -> list[MemberCard]:
        cards = [card_from_record(json.loads(text)) for text in self._rows("cards").values()]
        mine = [card for card in cards if card.customer_id == customer_id]
        return sorted(mine, key=lambda card: (card.issued_at, card.number))


def _positive(name: str, amount: int) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidAmount(name, amount, "a whole number above 0")


def _copy(tables: Tables) -> Tables:
    return {name: dict(rows) for name, rows in tables.items()}


def _restore(tables: Tables, copy: Tables) -> None:
    # in place: the repositories hold the table dicts themselves
    for name, rows in copy.items():
        tables[name].clear()
        tables[name].update(rows)


class Savepoint:
    """:class:`~loyaltykit.storage.base.Savepoint`: a copy of the tables."""

    def __init__(self, tables: Tables) -> None:
        self._tables = tables
        self._copy = _copy(tables)

    def release(self) -> None:
        """Keep what was done: nothing to do."""

    def rollback(self) -> None:
        _restore(self._tables, self._copy)


class DictUnitOfWork:
    """:class:`~loyaltykit.storage.base.UnitOfWork`: one serialised transaction."""

    def __init__(self, storage: DictStorage) -> None:
        self._storage = storage
        tables = storage.tables
        self._committed: Tables | None = None
        self.customers = Customers(tables)
        self.ledger = Ledger(tables)
        self.idempotency = Idempotency(tables)
        self.state = State(tables)
        self.records = Records(tables)
        self.counters = Counters(tables)
        self.stored_value = StoredValue(tables)
        self.cards = Cards(tables)

    def __enter__(self) -> Self:
        self._storage.lock.acquire()
        self._committed = _copy(self._storage.tables)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            self.rollback()
        finally:
            self._committed = None
            self._storage.lock.release()

    def commit(self) -> None:
        if self._committed is None:
            raise InvalidArgument("commit() outside the unit of work's with-block")
        self._committed = _copy(self._storage.tables)

    def rollback(self) -> None:
        if self._committed is not None:
            _restore(self._storage.tables, self._committed)

    def savepoint(self) -> Savepoint:
        return Savepoint(self._storage.tables)


class DictStorage:
    """:class:`~loyaltykit.storage.base.Storage`: the plugin's backend."""

    capabilities = Capabilities(concurrent_threads=True, concurrent_processes=False, durable=False)

    def __init__(self) -> None:
        self.tables: Tables = {name: {} for name in (*TABLES, "counters")}
        self.lock = threading.RLock()

    @classmethod
    def from_url(cls, url: str) -> DictStorage:
        """The entry point's callable: ``dictstore://`` (nothing else is read)."""
        return cls()

    def unit_of_work(self) -> DictUnitOfWork:
        return DictUnitOfWork(self)

    def close(self) -> None:
        """Nothing to release."""
