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
from operator import attrgetter
from types import TracebackType
from typing import Any, Self

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
    StoredRecord,
    counter_take,
    lot_is_due,
)
from loyaltykit.values import DEFAULT_TENANT, CustomerId, points_amount, tenant_key, utc

__all__ = ["MemoryStorage"]

AccountKey = tuple[CustomerId, str]
_Slot = tuple[str, datetime | None, str | None]  # a record: JSON text, due_at, lookup
Undo = Callable[[], object]
# an idempotency record, as _State keeps it: (command, recorded_at, length of the
# fingerprint, the fingerprint and the outcome's compact JSON text as one string)
_Kept = tuple[str, datetime, int, str]


# one encoder for every document kept as text: compact, and built once (json.dumps with
# options builds a new encoder on every call); stored data holds no cycles to look for
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False).encode


class _State:
    """All the data of one tenant of a :class:`MemoryStorage`: tenants share nothing but
    the lock, so no read of one can reach another's rows."""

    def __init__(self) -> None:
        self.customers: dict[CustomerId, Customer] = {}
        self.accounts: dict[AccountKey, Account] = {}
        # one book per account: its entries, lots and their indexes in one object (one
        # key tuple and one dict slot per account, not one per index)
        self.books: dict[AccountKey, _Book] = {}
        # by customer, then key: an entry, or the list of several under one key (most
        # keys hold one entry)
        self.entries_by_key: dict[CustomerId, dict[str, Entry | list[Entry]]] = defaultdict(dict)
        self.reversals: dict[tuple[CustomerId, str], list[Entry]] = defaultdict(list)
        # hints (due instant, account): validated when read, so stale ones are harmless
        self.due: list[tuple[datetime, str, CustomerId, str]] = []
        # (command, recorded_at, n, fingerprint + outcome as compact JSON text, the
        # fingerprint its first n characters): the outcome is kept as text, as a durable
        # backend keeps it (encoded once, and proven serialisable by that), in one string
        # with the fingerprint and a tuple rather than a record object (less memory), by
        # customer, then key (no pair of them kept per record)
        self.idempotency: dict[CustomerId, dict[str, _Kept]] = defaultdict(dict)
        self.state: dict[tuple[CustomerId, str], tuple[str, datetime | None]] = {}
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


_spending_order = attrgetter("consumption_key")
_seq_of = attrgetter("seq")


class _Book:
    """One account's rows: its entries in order, its lots by id, the released lots with
    points left in spending order (the lots themselves, ordered by
    ``Lot.consumption_key``: no order tuple kept per lot), and the ids of its pending
    lots (a set made only when the account has one)."""

    __slots__ = ("entries", "lots", "pending", "spendable")

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.lots: dict[str, Lot] = {}
        self.spendable: list[Lot] = []
        self.pending: set[str] | None = None

    def head(self) -> Lot | None:
        """The first lot in spending order."""
        return self.spendable[0] if self.spendable else None

    def index(self, lot: Lot) -> int | None:
        """Where ``lot`` (a stored one) sits in :attr:`spendable`, if it does."""
        spendable = self.spendable
        position = bisect.bisect_left(spendable, lot.consumption_key, key=_spending_order)
        if position < len(spendable) and _same_lot(spendable[position], lot):
            return position
        return None


def _same_lot(one: Lot | None, other: Lot | None) -> bool:
    # within one account (seq, index) names a lot
    if one is None or other is None:
        return one is other
    return one.seq == other.seq and one.index == other.index


class _Rows:
    """A repository of one unit of work: the tenant's data and the unit's undo log."""

    def __init__(self, state: _State, log: list[Undo]) -> None:
        self._state = state
        self._log = log


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
    def account(self, customer_id: CustomerId, point_type: str) -> Account | None:
        return self._state.accounts.get((customer_id, point_type))

    def accounts(self, customer_id: CustomerId) -> list[Account]:
        return sorted(
            (a for (cid, _), a in self._state.accounts.items() if cid == customer_id),
            key=lambda account: account.point_type,
        )

    def save_account(self, account: Account) -> None:
        accounts = self._state.accounts
        key = account.key
        previous = accounts.get(key)
        accounts[key] = account
        if previous is None:
            self._log.append(lambda: accounts.pop(key))
        else:
            self._log.append(lambda: accounts.__setitem__(key, previous))

    def _book(self, key: AccountKey) -> _Book:
        books = self._state.books
        book = books.get(key)
        if book is None:
            book = books[key] = _Book()
        return book

    def add_entries(self, entries: Sequence[Entry]) -> None:
        state, log = self._state, self._log
        for entry in entries:
            target = self._book((entry.customer_id, entry.point_type)).entries
            target.append(entry)
            log.append(target.pop)
            if entry.reverses is not None:
                reversals = state.reversals[(entry.customer_id, entry.reverses)]
                reversals.append(entry)
                log.append(reversals.pop)
            if entry.idempotency_key is not None:
                by_key, slot = state.entries_by_key[entry.customer_id], entry.idempotency_key
                held = by_key.get(slot)
                if held is None:
                    by_key[slot] = entry
                    log.append(partial(by_key.pop, slot))
                elif isinstance(held, list):
                    held.append(entry)
                    log.append(held.pop)
                else:
                    by_key[slot] = [held, entry]
                    log.append(partial(by_key.__setitem__, slot, held))

    def save_lots(self, lots: Sequence[Lot]) -> None:
        for lot in lots:
            book = self._book((lot.customer_id, lot.point_type))
            previous = self._put_lot(book, lot)
            self._log.append(partial(self._restore_lot, book, lot, previous))

    def _restore_lot(self, book: _Book, lot: Lot, previous: Lot | None) -> None:
        if previous is not None:
            self._put_lot(book, previous)
            return
        head = book.head()
        self._unindex(book, lot)
        del book.lots[lot.id]
        self._hint_head(book, head)

    def _put_lot(self, book: _Book, lot: Lot) -> Lot | None:
        lots = book.lots
        lot_id = lot.id
        head = book.head()
        previous = lots.get(lot_id)
        position = None
        if previous is not None:
            position = self._unindex(book, previous)
            if position is not None and lot.consumption_key != previous.consumption_key:
                position = None
        lots[lot_id] = lot
        if lot.remaining > 0:
            if not lot.pending:
                if position is not None:
                    # the same lot, spent from: its place in the order is unchanged
                    book.spendable.insert(position, lot)
                else:
                    bisect.insort(book.spendable, lot, key=_spending_order)
            else:
                if book.pending is None:
                    book.pending = set()
                book.pending.add(lot_id)
                if previous is None or not (
                    previous.pending
                    and previous.remaining > 0
                    and (previous.available_from, previous.expires_at)
                    == (lot.available_from, lot.expires_at)
                ):
                    # a pending lot's own hints (a pending lot spent from keeps those it
                    # was saved with: a due hint is only ever dropped once its lot is
                    # settled)
                    due, key = self._state.due, (lot.customer_id, lot.point_type)
                    if lot.available_from is not None:
                        heapq.heappush(due, (lot.available_from, "release", *key))
                    if lot.expires_at is not None:
                        heapq.heappush(due, (lot.expires_at, "expire", *key))
        self._hint_head(book, head)
        return previous

    def _hint_head(self, book: _Book, before: Lot | None) -> None:
        # Released lots are spent and expire in one order, so an account's first one is
        # due first: only it needs a due hint, pushed when another lot comes first (a
        # lot saved before it, or the first one spent or expired). Stale hints are
        # harmless: accounts_with_due_lots checks the lots.
        spendable = book.spendable
        if not spendable:
            return
        head = spendable[0]
        if head is not before and head.expires_at is not None and not _same_lot(head, before):
            heapq.heappush(
                self._state.due, (head.expires_at, "expire", head.customer_id, head.point_type)
            )

    def _unindex(self, book: _Book, lot: Lot) -> int | None:
        """Take ``lot`` (a stored one) out of the indexes; where it was in spending order."""
        if book.pending is not None:
            book.pending.discard(lot.id)
        if lot.pending or lot.remaining <= 0:
            return None
        position = book.index(lot)
        if position is not None:
            del book.spendable[position]
        return position

    def entries(self, customer_id: CustomerId, point_type: str) -> list[Entry]:
        book = self._state.books.get((customer_id, point_type))
        return [] if book is None else list(book.entries)

    def entries_by_seq(
        self, customer_id: CustomerId, point_type: str, seqs: Collection[int]
    ) -> list[Entry]:
        book = self._state.books.get((customer_id, point_type))
        if book is None:
            return []
        entries, found = book.entries, []
        for seq in sorted(set(seqs)):
            at = bisect.bisect_left(entries, seq, key=_seq_of)
            if at < len(entries) and entries[at].seq == seq:
                found.append(entries[at])
        return found

    def entries_by_key(self, customer_id: CustomerId, idempotency_key: str) -> list[Entry]:
        found = self._state.entries_by_key.get(customer_id, {}).get(idempotency_key)
        if found is None:
            return []
        if not isinstance(found, list):
            return [found]
        return sorted(found, key=lambda entry: (entry.point_type, entry.seq))

    def reversals_of(self, customer_id: CustomerId, entry_id: str) -> list[Entry]:
        return list(self._state.reversals.get((customer_id, entry_id), ()))

    def lots(self, customer_id: CustomerId, point_type: str) -> list[Lot]:
        book = self._state.books.get((customer_id, point_type))
        if book is None:
            return []
        return sorted(book.lots.values(), key=lambda lot: (lot.seq, lot.index))

    def lots_by_id(self, customer_id: CustomerId, lot_ids: Collection[str]) -> list[Lot]:
        found = []
        for lot_id in lot_ids:
            point_type = lot_id[len(customer_id) + 1 :].rsplit(":", 1)[0]
            book = self._state.books.get((customer_id, point_type))
            lot = None if book is None else book.lots.get(lot_id)
            if lot is not None:
                found.append(lot)
        return found

    def _released(self, customer_id: CustomerId, point_type: str) -> list[Lot]:
        book = self._state.books.get((customer_id, point_type))
        return [] if book is None else book.spendable

    def spendable_lots(
        self, customer_id: CustomerId, point_type: str, at: datetime
    ) -> Iterator[Lot]:
        # no copy: the ledger never saves while it iterates
        for lot in self._released(customer_id, point_type):
            if lot.is_spendable(at):
                yield lot

    def due_lots(self, customer_id: CustomerId, point_type: str, at: datetime) -> list[Lot]:
        book = self._state.books.get((customer_id, point_type))
        if book is None:
            return []
        due = []
        for lot in book.spendable:
            if lot.expires_at is None or lot.expires_at > at:
                break  # spending order is expiry order: nothing later is due
            due.append(lot)
        for lot_id in book.pending or ():
            lot = book.lots[lot_id]
            if lot_is_due(lot, at, "expire") or lot_is_due(lot, at, "release"):
                due.append(lot)
        return due

    def expiring(
        self, customer_id: CustomerId, point_type: str, after: datetime, until: datetime
    ) -> int:
        total = 0
        for lot in self._released(customer_id, point_type):
            if lot.expires_at is None or lot.expires_at > until:
                break
            if lot.expires_at > after:
                total += lot.remaining
        return total

    def accounts_with_due_lots(
        self, at: datetime, *, limit: int, work: str, shard: Shard | None = None
    ) -> list[tuple[CustomerId, str]]:
        # Popping a stale hint is always safe: a rollback that makes a lot due again
        # re-saves it, which pushes a fresh hint. Hints of accounts found are pushed back.
        due = self._state.due
        found: dict[tuple[CustomerId, str], None] = {}
        kept: list[tuple[datetime, str, CustomerId, str]] = []
        skipped: list[tuple[datetime, str, CustomerId, str]] = []
        while due and due[0][0] <= at and len(found) < limit:
            hint = heapq.heappop(due)
            _, kind, customer_id, point_type = hint
            key = (customer_id, point_type)
            if kind != work or (shard is not None and not shard.holds(customer_id)):
                skipped.append(hint)
            elif key not in found and any(
                lot_is_due(lot, at, work) for lot in self.due_lots(customer_id, point_type, at)
            ):
                found[key] = None
                kept.append(hint)
        for hint in kept + skipped:
            heapq.heappush(due, hint)
        return list(found)


class _Idempotency(_Rows):
    def get(self, customer_id: CustomerId, key: str) -> IdempotencyRecord | None:
        stored = self._state.idempotency.get(customer_id, {}).get(key)
        if stored is None:
            return None
        command, recorded_at, cut, text = stored
        return IdempotencyRecord(
            customer_id=customer_id,
            key=key,
            command=command,
            fingerprint=text[:cut],
            outcome=json.loads(text[cut:]),
            recorded_at=recorded_at,
        )

    def add(self, record: IdempotencyRecord) -> None:
        records, key = self._state.idempotency[record.customer_id], record.key
        if key in records:
            raise ConcurrencyConflict(
                f"idempotency key {key!r} of customer {record.customer_id!r} is taken"
            )
        fingerprint = record.fingerprint
        text = fingerprint + _encode(record.outcome)
        records[key] = (record.command, record.recorded_at, len(fingerprint), text)
        self._log.append(partial(records.pop, key))

    def redact(self, customer_id: CustomerId, commands: Collection[str]) -> None:
        records = self._state.idempotency.get(customer_id, {})
        for key, stored in list(records.items()):
            if stored[0] in commands:
                command, recorded_at, cut, text = stored
                redacted = text[:cut] + _encode({"redacted": True})
                records[key] = (command, recorded_at, cut, redacted)
                self._log.append(partial(records.__setitem__, key, stored))


class _CustomerState(_Rows):
    def get(self, customer_id: CustomerId, name: str) -> dict[str, Any] | None:
        stored = self._state.state.get((customer_id, name))
        return None if stored is None else dict(json.loads(stored[0]))

    def put(
        self,
        customer_id: CustomerId,
        name: str,
        document: Mapping[str, Any],
        *,
        due_at: datetime | None = None,
    ) -> None:
        documents = self._state.state
        slot = (customer_id, name)
        previous = documents.get(slot)
        due_at = utc(due_at)  # kept in UTC, as SQL keeps it: due hints compare instants
        documents[slot] = (_encode(document), due_at)
        if due_at is not None:
            # a hint, validated when read: stale hints are harmless
            heapq.heappush(self._state.state_due, (due_at, name, customer_id))
        if previous is None:
            self._log.append(lambda: documents.pop(slot))
        else:
            self._log.append(partial(self._restore, slot, previous))

    def _restore(self, slot: tuple[CustomerId, str], previous: tuple[str, datetime | None]) -> None:
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
