"""The in-memory backend: the reference implementation of :mod:`loyaltykit.storage.base`.

It is not a mock. Units of work are serialised by one lock (safe across threads),
every write is applied at once and recorded in an undo log, and leaving the unit
of work without ``commit()`` replays the log backwards: a command that raises
leaves no trace. Lots are indexed in spending order per account, and due times
sit in a heap, so a debit and a batch settlement touch only what they need.
"""

from __future__ import annotations

import bisect
import copy
import heapq
import json
import threading
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from datetime import datetime
from functools import partial
from itertools import islice
from types import TracebackType
from typing import Any, Self, TypeVar

from loyaltykit.domain.cards import MemberCard
from loyaltykit.domain.customer import Customer
from loyaltykit.domain.ledger import Account, Entry, Lot
from loyaltykit.domain.shards import Shard
from loyaltykit.domain.stored_value import (
    StoredValueAccount,
    StoredValueEntry,
    StoredValueEntryKind,
    StoredValueStatus,
)
from loyaltykit.errors import ConcurrencyConflict, CustomerAlreadyExists, InvalidArgument
from loyaltykit.storage.base import (
    Capabilities,
    IdempotencyRecord,
    StateCodec,
    StoredRecord,
    counter_take,
)
from loyaltykit.storage.columns import (
    Book,
    EntryColumns,
    KeyColumns,
    LotColumns,
    LotExtras,
    LotValues,
    instant,
    position_of,
)
from loyaltykit.values import DEFAULT_TENANT, CustomerId, points_amount, tenant_key, utc

__all__ = ["MemoryStorage"]

_Slot = tuple[str, datetime | None, str | None]  # a record: JSON text, due_at, lookup
# a customer-state document: its JSON text (None: not written out), due_at, and the
# codec and value it was last decoded into or written from (see KeptValues)
_Document = tuple[str | None, datetime | None, StateCodec[Any] | None, Any]
Undo = Callable[[], object]
V = TypeVar("V")


# one encoder for every document kept as text: compact, and built once (json.dumps with
# options builds a new encoder on every call); stored data holds no cycles to look for
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False).encode


class _State:
    """All the data of one tenant of a :class:`MemoryStorage`: tenants share nothing but
    the lock, so no read of one can reach another's rows."""

    def __init__(self) -> None:
        self.customers: dict[CustomerId, Customer] = {}
        # one book per account (its account value, the heads of its rows and its lot
        # indexes), by customer: a customer's first book, the others chained to it
        self.books: dict[CustomerId, Book] = {}
        # every entry and lot, as rows of primitives (see loyaltykit.storage.columns)
        self.entry_rows = EntryColumns()
        self.lot_rows = LotColumns()
        # by customer, then idempotency key: the key's slot, holding the rows of the
        # entries recorded under it and the command's idempotency record (one dict slot
        # per key for both)
        self.keys: dict[CustomerId, dict[str, int]] = defaultdict(dict)
        self.key_rows = KeyColumns()
        self.reversals: dict[tuple[CustomerId, str], list[int]] = defaultdict(list)
        # hints (due instant as columns.instant gives it, account): validated when read,
        # so stale ones are harmless
        self.due: list[tuple[int, str, CustomerId, str]] = []
        self.state: dict[tuple[CustomerId, str], _Document] = {}
        self.state_due: list[tuple[datetime, str, CustomerId]] = []
        # records by kind, owner and id: (document as JSON text, due_at, lookup)
        self.records: dict[str, dict[str, dict[str, _Slot]]] = defaultdict(
            lambda: defaultdict(dict)
        )
        self.lookups: dict[tuple[str, str], tuple[str, str]] = {}
        # hints (due_at, kind, owner, id), validated when read like the lots' due hints
        self.record_due: list[tuple[datetime, str, str, str]] = []
        self.counters: dict[str, int] = {}
        # stored value and member cards
        self.stored_value: dict[str, StoredValueAccount] = {}
        self.stored_value_entries: dict[str, list[StoredValueEntry]] = defaultdict(list)
        self.stored_value_held: dict[CustomerId, set[str]] = defaultdict(set)
        self.stored_value_due: list[tuple[datetime, str]] = []
        self.cards: dict[str, MemberCard] = {}
        self.cards_held: dict[CustomerId, list[str]] = defaultdict(list)


class _Rows:
    """A repository of one unit of work: the tenant's data and the unit's undo log."""

    def __init__(self, state: _State, log: list[Undo]) -> None:
        self._state = state
        self._log = log

    def _key_slot(self, customer_id: CustomerId, key: str) -> int:
        """The slot of a customer's idempotency key, made if there is none."""
        slots = self._state.keys[customer_id]
        slot = slots.get(key)
        if slot is None:
            slot = slots[key] = self._state.key_rows.append()
            self._log.append(partial(self._drop_slot, slots, key))
        return slot

    def _drop_slot(self, slots: dict[str, int], key: str) -> None:
        del slots[key]
        self._state.key_rows.drop_last()


class _Customers(_Rows):
    def get(self, customer_id: CustomerId, *, for_update: bool = False) -> Customer | None:
        return self._state.customers.get(customer_id)

    def add(self, customer: Customer) -> None:
        customers = self._state.customers
        if customer.id in customers:
            raise CustomerAlreadyExists(customer.id)
        customers[customer.id] = customer
        self._log.append(lambda: customers.pop(customer.id))

    def update(self, customer: Customer) -> None:
        customers = self._state.customers
        previous = customers[customer.id]
        customers[customer.id] = customer
        self._log.append(lambda: customers.__setitem__(customer.id, previous))

    def ids(self, *, after: CustomerId | None = None, limit: int) -> list[CustomerId]:
        ordered = sorted(self._state.customers)
        start = 0 if after is None else bisect.bisect_right(ordered, after)
        return ordered[start : start + limit]


class _Ledger(_Rows):
    """Accounts, entries and lots, kept as rows of :mod:`loyaltykit.storage.columns`."""

    def _find(self, customer_id: CustomerId, point_type: str) -> Book | None:
        book = self._state.books.get(customer_id)
        while book is not None and book.point_type != point_type:
            book = book.next
        return book

    def _book(self, customer_id: CustomerId, point_type: str) -> Book:
        books = self._state.books
        first = books.get(customer_id)
        book = first
        while book is not None:
            if book.point_type == point_type:
                return book
            book = book.next
        book = Book(customer_id, point_type)
        if first is None:
            books[customer_id] = book
        else:
            book.next, first.next = first.next, book
        self._log.append(partial(self._unlink, book))
        return book

    def _unlink(self, book: Book) -> None:
        books = self._state.books
        first = books[book.customer_id]
        if first is book:
            if book.next is None:
                del books[book.customer_id]
            else:
                books[book.customer_id] = book.next
            return
        while first.next is not book:
            first = first.next  # type: ignore[assignment]
        first.next = book.next

    def account(self, customer_id: CustomerId, point_type: str) -> Account | None:
        book = self._find(customer_id, point_type)
        return None if book is None else book.account

    def accounts(self, customer_id: CustomerId) -> list[Account]:
        found = []
        book = self._state.books.get(customer_id)
        while book is not None:
            if book.account is not None:
                found.append(book.account)
            book = book.next
        return sorted(found, key=lambda account: account.point_type)

    def save_account(self, account: Account) -> None:
        book = self._book(account.customer_id, account.point_type)
        previous = book.account
        book.account = account
        self._log.append(partial(setattr, book, "account", previous))

    def add_entries(self, entries: Sequence[Entry]) -> None:
        state, log = self._state, self._log
        table = state.entry_rows
        for entry in entries:
            book = self._book(entry.customer_id, entry.point_type)
            previous = book.last
            row = table.append(book, entry)
            book.last = row
            log.append(partial(self._drop_entry, book, previous))
            if entry.reverses is not None:
                reversals = state.reversals[(entry.customer_id, entry.reverses)]
                reversals.append(row)
                log.append(reversals.pop)
            if entry.idempotency_key is not None:
                slot = self._key_slot(entry.customer_id, entry.idempotency_key)
                keys = state.key_rows
                if keys.entry(slot) < 0:
                    keys.set_entry(slot, row)
                    log.append(partial(keys.set_entry, slot, -1))
                else:
                    more = keys.more.get(slot)
                    if more is None:
                        keys.more[slot] = [row]
                        log.append(partial(keys.more.pop, slot))
                    else:
                        more.append(row)
                        log.append(more.pop)

    def _drop_entry(self, book: Book, previous: int) -> None:
        self._state.entry_rows.drop_last()
        book.last = previous

    def save_lots(self, lots: Sequence[Lot]) -> None:
        table, log = self._state.lot_rows, self._log
        for lot in lots:
            book = self._book(lot.customer_id, lot.point_type)
            values, extras, kept = table.values(lot)
            row = table.find(book, lot.seq, lot.index)
            if row < 0:
                self._new_lot(book, values, extras, kept)
                log.append(partial(self._drop_lot, book))
            else:
                previous = table.read(row)
                self._put_lot(book, row, values, extras, kept)
                log.append(partial(self._put_lot, book, row, *previous))

    def _new_lot(
        self, book: Book, values: LotValues, extras: LotExtras | None, kept: datetime | None
    ) -> None:
        table = self._state.lot_rows
        head = self._head(book)
        row = table.append(values, extras, kept)
        table.place(book, row)
        self._index(book, row, None, None)
        self._hint_head(book, head)

    def _drop_lot(self, book: Book) -> None:
        """Undo :meth:`_new_lot`: the lot is the table's last row (undos run last in,
        first out)."""
        table = self._state.lot_rows
        row = len(table) - 1
        head = self._head(book)
        position = self._locate(book, row)
        if position is not None:
            del book.spendable[position]
        if book.pending is not None:
            book.pending.discard(row)
        if book.lots[-1] == row:
            book.lots.pop()
        else:
            book.lots.remove(row)
        table.drop_last()
        self._hint_head(book, head)

    def _put_lot(
        self,
        book: Book,
        row: int,
        values: LotValues,
        extras: LotExtras | None,
        kept: datetime | None,
    ) -> None:
        table = self._state.lot_rows
        head = self._head(book)
        hinted = (
            (table.available_from(row), table.expiry(row))
            if table.pending(row) and table.remaining(row) > 0
            else None
        )
        order = table.spending_key(row)
        position = self._locate(book, row)
        table.write(row, values, extras, kept)  # refuses a value before anything changed
        if book.pending is not None:
            book.pending.discard(row)
        if position is not None:
            del book.spendable[position]
            if table.spending_key(row) != order:
                position = None
        self._index(book, row, position, hinted)
        self._hint_head(book, head)

    def _locate(self, book: Book, row: int) -> int | None:
        """Where ``row`` sits in the spending order, if it does (read before its slots
        change)."""
        table = self._state.lot_rows
        if table.pending(row) or table.remaining(row) <= 0:
            return None
        spendable = book.spendable
        if spendable and spendable[0] == row:
            return 0  # spent from or expired: the first lot, most often
        position = bisect.bisect_left(spendable, table.spending_key(row), key=table.spending_key)
        if position < len(spendable) and spendable[position] == row:
            return position
        return None

    def _index(
        self,
        book: Book,
        row: int,
        position: int | None,
        hinted: tuple[datetime | None, int | None] | None,
    ) -> None:
        """Index ``row`` as its slots now say; ``position``: its old place in the spending
        order if that is unchanged; ``hinted``: the due times it had when pending."""
        table = self._state.lot_rows
        if table.remaining(row) <= 0:
            return
        if not table.pending(row):
            spendable = book.spendable
            if position is not None:
                # the same lot, spent from: its place in the order is unchanged
                spendable.insert(position, row)
            elif not spendable or table.spending_key(spendable[-1]) <= table.spending_key(row):
                spendable.append(row)  # a new lot expiring last: the common save
            else:
                bisect.insort(spendable, row, key=table.spending_key)
            return
        if book.pending is None:
            book.pending = set()
        book.pending.add(row)
        available_from, expiry = table.available_from(row), table.expiry(row)
        if hinted != (available_from, expiry):
            # a pending lot's own hints (a pending lot spent from keeps those it was
            # saved with: a due hint is only ever dropped once its lot is settled)
            due, key = self._state.due, (book.customer_id, book.point_type)
            if available_from is not None:
                heapq.heappush(due, (instant(available_from), "release", *key))
            if expiry is not None:
                heapq.heappush(due, (expiry, "expire", *key))

    def _head(self, book: Book) -> int | None:
        """The expiry of ``book``'s first released lot, if it has one that expires."""
        spendable = book.spendable
        return self._state.lot_rows.expiry(spendable[0]) if spendable else None

    def _hint_head(self, book: Book, before: int | None) -> None:
        # Released lots are spent and expire in one order, so an account's first one is
        # due first: only it needs a due hint, one no later than its expiry. A hint is
        # pushed when the first expiry comes sooner than it was (``before``); when it
        # comes later (the first lot spent or expired), the hint already there is early
        # enough, and accounts_with_due_lots, finding the account not due at a hint,
        # pushes the next one. So an account holds about one hint, however many lots it
        # spends. Stale hints are harmless: accounts_with_due_lots checks the lots.
        expiry = self._head(book)
        if expiry is not None and (before is None or expiry < before):
            heapq.heappush(self._state.due, (expiry, "expire", book.customer_id, book.point_type))

    def entries(self, customer_id: CustomerId, point_type: str) -> list[Entry]:
        book = self._find(customer_id, point_type)
        if book is None:
            return []
        table = self._state.entry_rows
        return [table.entry(row) for row in table.rows(book)]

    def entries_by_seq(
        self, customer_id: CustomerId, point_type: str, seqs: Collection[int]
    ) -> list[Entry]:
        book = self._find(customer_id, point_type)
        wanted = set(seqs)
        if book is None or not wanted:
            return []
        # from the account's last row back (a replay reads its command's entries, the
        # latest ones), until the seqs go below the least one asked for
        table, least, found = self._state.entry_rows, min(wanted), []
        row = book.last
        while row >= 0:
            seq = table.seq(row)
            if seq in wanted:
                found.append(table.entry(row))
            elif seq < least:
                break
            row = table.previous(row)
        return sorted(found, key=lambda entry: entry.seq)

    def entries_by_key(self, customer_id: CustomerId, idempotency_key: str) -> list[Entry]:
        slot = self._state.keys.get(customer_id, {}).get(idempotency_key)
        keys, table = self._state.key_rows, self._state.entry_rows
        if slot is None or keys.entry(slot) < 0:
            return []
        first = table.entry(keys.entry(slot))
        more = keys.more.get(slot)
        if not more:
            return [first]
        entries = [first, *(table.entry(row) for row in more)]
        return sorted(entries, key=lambda entry: (entry.point_type, entry.seq))

    def reversals_of(self, customer_id: CustomerId, entry_id: str) -> list[Entry]:
        table = self._state.entry_rows
        return [table.entry(row) for row in self._state.reversals.get((customer_id, entry_id), ())]

    def lots(self, customer_id: CustomerId, point_type: str) -> list[Lot]:
        book = self._find(customer_id, point_type)
        if book is None:
            return []
        table = self._state.lot_rows
        return [table.lot(book, row) for row in book.lots]  # kept in (seq, index) order

    def lots_by_id(self, customer_id: CustomerId, lot_ids: Collection[str]) -> list[Lot]:
        found = []
        table = self._state.lot_rows
        head = f"{customer_id}:"
        for lot_id in lot_ids:
            if not lot_id.startswith(head):
                continue
            point_type, _, tail = lot_id[len(head) :].rpartition(":")
            pair = position_of(tail)
            book = None if pair is None else self._find(customer_id, point_type)
            if book is None or pair is None:
                continue
            row = table.find(book, *pair)
            if row >= 0:
                found.append(table.lot(book, row))
        return found

    def spendable_lots(
        self, customer_id: CustomerId, point_type: str, at: datetime
    ) -> Iterator[Lot]:
        book = self._find(customer_id, point_type)
        if book is None:
            return
        table = self._state.lot_rows
        # no copy: the ledger never saves while it iterates; past the expired ones, the
        # rest of the spending order is spendable
        for row in islice(book.spendable, table.expired(book, instant(at)), None):
            yield table.lot(book, row)

    def _due_rows(self, book: Book, at: datetime, now: int) -> list[int]:
        """``book``'s rows due by ``at`` (``now``: ``at`` as an instant)."""
        table = self._state.lot_rows
        # spending order is expiry order: the first ones are due
        due = book.spendable[: table.expired(book, now)].tolist()
        for row in book.pending or ():
            if table.is_due(row, at, now, "expire") or table.is_due(row, at, now, "release"):
                due.append(row)
        return due

    def due_lots(self, customer_id: CustomerId, point_type: str, at: datetime) -> list[Lot]:
        book = self._find(customer_id, point_type)
        if book is None:
            return []
        table = self._state.lot_rows
        return [table.lot(book, row) for row in self._due_rows(book, at, instant(at))]

    def expiring(
        self, customer_id: CustomerId, point_type: str, after: datetime, until: datetime
    ) -> int:
        book = self._find(customer_id, point_type)
        if book is None:
            return 0
        table, first, last = self._state.lot_rows, instant(after), instant(until)
        total = 0
        for row in book.spendable:
            expiry = table.expiry(row)
            if expiry is None or expiry > last:
                break
            if expiry > first:
                total += table.remaining(row)
        return total

    def accounts_with_due_lots(
        self, at: datetime, *, limit: int, work: str, shard: Shard | None = None
    ) -> list[tuple[CustomerId, str]]:
        # Popping a stale hint is always safe: a rollback that makes a lot due again
        # re-saves it, which pushes a fresh hint. Hints of accounts found are pushed back;
        # an account not due at an expiry hint gets one for its first lot's expiry, later
        # than ``at`` (see _hint_head).
        due = self._state.due
        table, now = self._state.lot_rows, instant(at)
        found: dict[tuple[CustomerId, str], None] = {}
        kept: list[tuple[int, str, CustomerId, str]] = []
        skipped: list[tuple[int, str, CustomerId, str]] = []
        hinted: set[tuple[CustomerId, str]] = set()
        while due and due[0][0] <= now and len(found) < limit:
            hint = heapq.heappop(due)
            _, kind, customer_id, point_type = hint
            key = (customer_id, point_type)
            if kind != work or (shard is not None and not shard.holds(customer_id)):
                skipped.append(hint)
                continue
            if key in found:
                continue
            book = self._find(customer_id, point_type)
            if book is None:
                continue
            if any(table.is_due(row, at, now, work) for row in self._due_rows(book, at, now)):
                found[key] = None
                kept.append(hint)
            elif kind == "expire" and key not in hinted:
                hinted.add(key)
                expiry = self._head(book)
                if expiry is not None:
                    skipped.append((expiry, kind, customer_id, point_type))
        for hint in kept + skipped:
            heapq.heappush(due, hint)
        return list(found)


class _Idempotency(_Rows):
    def get(self, customer_id: CustomerId, key: str) -> IdempotencyRecord | None:
        slot = self._state.keys.get(customer_id, {}).get(key)
        stored = None if slot is None else self._state.key_rows.record(slot)
        if stored is None:
            return None
        command, recorded_at, fingerprint, outcome = stored
        return IdempotencyRecord(
            customer_id=customer_id,
            key=key,
            command=command,
            fingerprint=fingerprint,
            outcome=json.loads(outcome),
            recorded_at=recorded_at,
        )

    def add(self, record: IdempotencyRecord) -> None:
        keys, key = self._state.key_rows, record.key
        slot = self._state.keys.get(record.customer_id, {}).get(key)
        if slot is not None and keys.holds_record(slot):
            raise ConcurrencyConflict(
                f"idempotency key {key!r} of customer {record.customer_id!r} is taken"
            )
        # the outcome is kept as text, as a durable backend keeps it (encoded once, and
        # proven serialisable by that), before anything is written
        fingerprint = record.fingerprint.encode()
        text = fingerprint + _encode(record.outcome).encode()
        slot = self._key_slot(record.customer_id, key)
        previous = keys.put_record(slot, record.command, record.recorded_at, text, len(fingerprint))
        self._log.append(partial(keys.restore, *previous))

    def redact(self, customer_id: CustomerId, commands: Collection[str]) -> None:
        keys = self._state.key_rows
        redacted = _encode({"redacted": True}).encode()
        for slot in list(self._state.keys.get(customer_id, {}).values()):
            stored = keys.record(slot)
            if stored is not None and stored[0] in commands:
                fingerprint = stored[2].encode()
                previous = keys.put_record(
                    slot, stored[0], stored[1], fingerprint + redacted, len(fingerprint)
                )
                self._log.append(partial(keys.restore, *previous))


class _CustomerState(_Rows):
    """Documents by (customer, name). A document written or read through
    :class:`~loyaltykit.storage.base.KeptValues` keeps its value, and is only written
    out as text when ``get`` asks for it: the member's documents are not encoded and
    decoded again on every command."""

    def get(self, customer_id: CustomerId, name: str) -> dict[str, Any] | None:
        stored = self._state.state.get((customer_id, name))
        if stored is None:
            return None
        text, _, codec, value = stored
        if text is None:
            assert codec is not None
            text = _encode(codec.encode(value))
        return dict(json.loads(text))

    def get_value(self, customer_id: CustomerId, name: str, codec: StateCodec[V]) -> V:
        slot = (customer_id, name)
        stored = self._state.state.get(slot)
        if stored is None:
            return codec.decode(None)
        if stored[2] is codec:
            kept: V = stored[3]
            return kept
        # decoded once and kept beside the text it came from (the same document: no
        # undo needed, a rollback restores one or the other form of it)
        text, due_at, other, value = stored
        if text is None:
            assert other is not None
            text = _encode(other.encode(value))
        decoded = codec.decode(json.loads(text))
        self._state.state[slot] = (stored[0], due_at, codec, decoded)
        return decoded

    def put(
        self,
        customer_id: CustomerId,
        name: str,
        document: Mapping[str, Any],
        *,
        due_at: datetime | None = None,
    ) -> None:
        self._place(customer_id, name, (_encode(document), utc(due_at), None, None))

    def put_value(
        self,
        customer_id: CustomerId,
        name: str,
        codec: StateCodec[V],
        value: V,
        *,
        due_at: datetime | None = None,
    ) -> None:
        self._place(customer_id, name, (None, utc(due_at), codec, value))

    def _place(self, customer_id: CustomerId, name: str, stored: _Document) -> None:
        documents = self._state.state
        slot = (customer_id, name)
        previous = documents.get(slot)
        # due_at kept in UTC, as SQL keeps it: due hints compare instants
        documents[slot] = stored
        due_at = stored[1]
        if due_at is not None:
            # a hint, validated when read: stale hints are harmless
            heapq.heappush(self._state.state_due, (due_at, name, customer_id))
        if previous is None:
            self._log.append(lambda: documents.pop(slot))
        else:
            self._log.append(partial(self._restore, slot, previous))

    def _restore(self, slot: tuple[CustomerId, str], previous: _Document) -> None:
        self._state.state[slot] = previous
        if previous[1] is not None:
            heapq.heappush(self._state.state_due, (previous[1], slot[1], slot[0]))

    def due(
        self, name: str, at: datetime, *, limit: int, shard: Shard | None = None
    ) -> list[CustomerId]:
        hints = self._state.state_due
        found: list[CustomerId] = []
        kept: list[tuple[datetime, str, CustomerId]] = []
        skipped: list[tuple[datetime, str, CustomerId]] = []
        while hints and hints[0][0] <= at and len(found) < limit:
            hint = heapq.heappop(hints)
            when, kind, customer_id = hint
            stored = self._state.state.get((customer_id, kind))
            if kind != name or (shard is not None and not shard.holds(customer_id)):
                skipped.append(hint)
            elif stored is not None and stored[1] == when and customer_id not in found:
                found.append(customer_id)
                kept.append(hint)
        for hint in kept + skipped:
            heapq.heappush(hints, hint)
        return found


class _Records(_Rows):
    def get(
        self, owner: str, kind: str, record_id: str, *, for_update: bool = False
    ) -> StoredRecord | None:
        stored = self._state.records[kind][owner].get(record_id)
        return None if stored is None else _record(kind, (owner, record_id), stored)

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
        key = (owner, record_id)
        if lookup is not None:
            holder = self._state.lookups.get((kind, lookup))
            if holder is not None and holder != key:
                raise ConcurrencyConflict(
                    f"lookup {lookup!r} of kind {kind!r} is taken by record {holder[1]!r}"
                )
        previous = self._state.records[kind][owner].get(record_id)
        self._place(kind, key, (_encode(document), utc(due_at), lookup))
        self._log.append(partial(self._place, kind, key, previous))

    def _place(self, kind: str, key: tuple[str, str], stored: _Slot | None) -> None:
        """Put ``stored`` at ``key`` (``None`` removes the record), keeping lookups and
        due hints."""
        owner, record_id = key
        records, lookups = self._state.records[kind][owner], self._state.lookups
        current = records.get(record_id)
        if current is not None and current[2] is not None:
            lookups.pop((kind, current[2]), None)
        if stored is None:
            records.pop(record_id, None)
            return
        records[record_id] = stored
        if stored[2] is not None:
            lookups[(kind, stored[2])] = key
        if stored[1] is not None:
            heapq.heappush(self._state.record_due, (stored[1], kind, owner, record_id))

    def find(self, kind: str, lookup: str) -> StoredRecord | None:
        key = self._state.lookups.get((kind, lookup))
        if key is None:
            return None
        return _record(kind, key, self._state.records[kind][key[0]][key[1]])

    def of_owner(self, owner: str, kind: str) -> list[StoredRecord]:
        records = self._state.records[kind].get(owner, {})
        return [_record(kind, (owner, i), records[i]) for i in sorted(records)]

    def due(self, kind: str, at: datetime, *, limit: int) -> list[StoredRecord]:
        # Hints are popped in (due_at, kind, owner, id) order, the order asked for; a hint
        # whose record no longer has that due_at is stale and dropped.
        hints = self._state.record_due
        found: list[StoredRecord] = []
        seen: set[tuple[str, str, str]] = set()
        kept: list[tuple[datetime, str, str, str]] = []
        skipped: list[tuple[datetime, str, str, str]] = []
        while hints and hints[0][0] <= at and len(found) < limit:
            hint = heapq.heappop(hints)
            when, hinted, owner, record_id = hint
            stored = self._state.records[hinted].get(owner, {}).get(record_id)
            if stored is None or stored[1] != when or (hinted, owner, record_id) in seen:
                continue
            seen.add((hinted, owner, record_id))
            if hinted != kind:
                skipped.append(hint)
                continue
            kept.append(hint)
            found.append(_record(kind, (owner, record_id), stored))
        for hint in kept + skipped:
            heapq.heappush(hints, hint)
        return found

    def scan(
        self, kind: str, *, after: tuple[str, str] | None = None, limit: int
    ) -> list[StoredRecord]:
        records = self._state.records[kind]
        keys = sorted((owner, i) for owner, mine in records.items() for i in mine)
        start = 0 if after is None else bisect.bisect_right(keys, after)
        return [_record(kind, k, records[k[0]][k[1]]) for k in keys[start : start + limit]]


def _record(kind: str, key: tuple[str, str], stored: _Slot) -> StoredRecord:
    return StoredRecord(
        owner=key[0],
        kind=kind,
        id=key[1],
        document=dict(json.loads(stored[0])),
        due_at=stored[1],
        lookup=stored[2],
    )


class _Counters(_Rows):
    def value(self, name: str) -> int:
        return self._state.counters.get(name, 0)

    def take(
        self, name: str, amount: int, *, limit: int | None = None, partial: bool = False
    ) -> int:
        points_amount("amount", amount)
        current = self.value(name)
        taken = counter_take(current, amount, limit=limit, partial=partial)
        if taken:
            self._set(name, current + taken)
        return taken

    def restore(self, name: str, amount: int) -> None:
        points_amount("amount", amount)
        self._set(name, max(0, self.value(name) - amount))

    def _set(self, name: str, value: int) -> None:
        counters = self._state.counters
        previous = counters.get(name)
        counters[name] = value
        if previous is None:
            self._log.append(lambda: counters.pop(name))
        else:
            self._log.append(partial(counters.__setitem__, name, previous))


# --- stored value and member cards ---------------------------------------------------------


class _StoredValue(_Rows):
    def get(self, code: str, *, for_update: bool = False) -> StoredValueAccount | None:
        return self._state.stored_value.get(code)

    def add(self, account: StoredValueAccount) -> None:
        accounts = self._state.stored_value
        if account.code in accounts:
            raise ConcurrencyConflict(f"stored value code {account.code!r} is taken")
        accounts[account.code] = account
        self._log.append(lambda: accounts.pop(account.code))
        if account.holder is not None:
            held = self._state.stored_value_held[account.holder]
            held.add(account.code)
            self._log.append(partial(held.discard, account.code))
        self._hint(account)

    def update(self, account: StoredValueAccount) -> None:
        previous = self._state.stored_value[account.code]
        self._place(account)
        # undone through _place too: a card due again gets a fresh hint (due() drops the
        # hints of cards it finds expired, which a rollback may make active again)
        self._log.append(partial(self._place, previous))

    def _place(self, account: StoredValueAccount) -> None:
        self._state.stored_value[account.code] = account
        self._hint(account)

    def _hint(self, account: StoredValueAccount) -> None:
        if account.expires_at is not None and account.status is StoredValueStatus.ACTIVE:
            heapq.heappush(self._state.stored_value_due, (account.expires_at, account.code))

    def add_entries(self, entries: Sequence[StoredValueEntry]) -> None:
        for entry in entries:
            target = self._state.stored_value_entries[entry.code]
            if target and target[-1].seq >= entry.seq:
                raise ConcurrencyConflict(f"entry {entry.seq} of {entry.code!r} exists")
            target.append(entry)
            self._log.append(target.pop)

    def entries(self, code: str) -> list[StoredValueEntry]:
        return list(self._state.stored_value_entries.get(code, ()))

    def entries_by_key(self, code: str, idempotency_key: str) -> list[StoredValueEntry]:
        return [e for e in self.entries(code) if e.idempotency_key == idempotency_key]

    def refunds_of(self, code: str, payment_key: str) -> list[StoredValueEntry]:
        return [
            e
            for e in self.entries(code)
            if e.kind is StoredValueEntryKind.REFUND and e.reference == payment_key
        ]

    def of_holder(self, customer_id: CustomerId) -> list[StoredValueAccount]:
        codes = self._state.stored_value_held.get(customer_id, set())
        return [self._state.stored_value[code] for code in sorted(codes)]

    def due(self, at: datetime, *, limit: int) -> list[str]:
        # hints, validated when read (a stale one, of a card expired since, is dropped)
        hints = self._state.stored_value_due
        found: list[str] = []
        kept: list[tuple[datetime, str]] = []
        while hints and hints[0][0] <= at and len(found) < limit:
            hint = heapq.heappop(hints)
            account = self._state.stored_value.get(hint[1])
            if (
                account is not None
                and account.status is StoredValueStatus.ACTIVE
                and account.expires_at == hint[0]
                and hint[1] not in found
            ):
                found.append(hint[1])
                kept.append(hint)
        for hint in kept:
            heapq.heappush(hints, hint)
        return found


class _Cards(_Rows):
    def get(self, number: str, *, for_update: bool = False) -> MemberCard | None:
        return self._state.cards.get(number)

    def add(self, card: MemberCard) -> None:
        cards = self._state.cards
        if card.number in cards:
            raise ConcurrencyConflict(f"card number {card.number!r} was issued before")
        cards[card.number] = card
        self._log.append(lambda: cards.pop(card.number))
        held = self._state.cards_held[card.customer_id]
        held.append(card.number)
        self._log.append(held.pop)

    def update(self, card: MemberCard) -> None:
        cards = self._state.cards
        previous = cards[card.number]
        cards[card.number] = card
        self._log.append(partial(cards.__setitem__, card.number, previous))

    def of_customer(self, customer_id: CustomerId) -> list[MemberCard]:
        found = [self._state.cards[n] for n in self._state.cards_held.get(customer_id, ())]
        return sorted(found, key=lambda card: (card.issued_at, card.number))


class _Savepoint:
    """A position in the undo log."""

    def __init__(self, log: list[Undo]) -> None:
        self._log = log
        self._position = len(log)

    def release(self) -> None:
        """Nothing to do: the entries stay in the log until commit or rollback."""

    def rollback(self) -> None:
        while len(self._log) > self._position:
            self._log.pop()()


class MemoryUnitOfWork:
    """One serialised transaction over a :class:`MemoryStorage`."""

    def __init__(self, storage: MemoryStorage) -> None:
        self._storage = storage
        self._log: list[Undo] = []
        state = storage._state
        self.customers = _Customers(state, self._log)
        self.ledger = _Ledger(state, self._log)
        self.idempotency = _Idempotency(state, self._log)
        self.state = _CustomerState(state, self._log)
        self.records = _Records(state, self._log)
        self.counters = _Counters(state, self._log)
        self.stored_value = _StoredValue(state, self._log)
        self.cards = _Cards(state, self._log)
        self._open = False

    def __enter__(self) -> Self:
        self._storage._lock.acquire()
        self._open = True
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
            self._open = False
            self._storage._lock.release()

    def commit(self) -> None:
        if not self._open:
            raise InvalidArgument("commit() outside the unit of work's with-block")
        self._log.clear()

    def savepoint(self) -> _Savepoint:
        return _Savepoint(self._log)

    def rollback(self) -> None:
        while self._log:
            self._log.pop()()


class MemoryStorage:
    """Keeps everything in this process's memory; the default backend.

    One store holds any number of programmes (:class:`~loyaltykit.storage.base.Tenancy`):
    :meth:`for_tenant` is a view of the same store that sees one tenant's data only.
    """

    capabilities = Capabilities(
        concurrent_threads=True, concurrent_processes=False, durable=False, shards=True
    )

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._tenant = DEFAULT_TENANT
        self._tenants: dict[str, _State] = {}
        self._state = self._tenants[DEFAULT_TENANT] = _State()

    @property
    def tenant(self) -> str:
        """The tenant whose data this view sees."""
        return self._tenant

    def for_tenant(self, tenant: str) -> MemoryStorage:
        """This store as ``tenant`` sees it: the same lock, that tenant's data."""
        key = tenant_key(tenant)
        view = copy.copy(self)
        view._tenant = key
        with self._lock:
            view._state = self._tenants.setdefault(key, _State())
        return view

    @classmethod
    def from_url(cls, url: str) -> MemoryStorage:
        """``memory://`` (anything after the scheme is ignored)."""
        return cls()

    def unit_of_work(self) -> MemoryUnitOfWork:
        """A new unit of work; use it in a ``with`` block."""
        return MemoryUnitOfWork(self)

    def close(self) -> None:
        """Nothing to release."""
