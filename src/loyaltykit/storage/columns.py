"""The memory backend's ledger rows, kept as columns of primitives.

The memory backend does not keep the frozen values the ledger made: an :class:`Entry` is
an object of 17 fields with another object per lot change and a tuple of those, a
:class:`Lot` one of 15, and the garbage collector walks every one of them on each full
collection. Here a table is two flat columns, a fixed number of slots per row: an
``array`` of 64-bit integers (which the collector does not track at all) and one list of
references (instants, keys, texts the caller's values already hold). A read rebuilds a
value equal to the one saved. Lots are rows updated in place; the unit of work's undo log
puts back the slots a save overwrote. Rows are only ever appended, and removed only by an
undo, which runs last in, first out: removing the last row is truncating the columns.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Iterator
from datetime import datetime
from typing import Any, cast

from loyaltykit.domain.ledger import Account, Entry, EntryKind, Lot, LotChange
from loyaltykit.errors import InvalidArgument
from loyaltykit.values import CustomerId

__all__ = [
    "Book",
    "EntryColumns",
    "Kept",
    "KeyColumns",
    "LotColumns",
    "LotExtras",
    "LotValues",
    "position_of",
]

KINDS = tuple(EntryKind)
_KIND_CODES = {kind: code for code, kind in enumerate(KINDS)}
_WHOLE = -1  # the kind code of a row that keeps its entry as it came (see EntryColumns)

# an entry row: ints (previous row of its account or -1, seq, kind code, amount,
# pending_delta, deficit_delta, lot changes written so far) and refs (its book,
# occurred_at, recorded_at, idempotency_key, the rest or None)
_EI, _ER = 7, 5
# a lot change: ints (the lot's seq, its index, delta)
_CI = 3
# a lot row: ints (seq, index, amount, remaining, expired, flags) and refs (earned_at,
# expires_at, available_from); withdrawn, forgiven and shortfall, rarely not zero, are
# kept apart, by row
_LI, _LR = 6, 3
_PENDING, _EXTRAS = 1, 2


class Book:
    """One account's rows: its account value, the last of its entry rows (each names the
    one before it), its lot rows ordered by ``(seq, index)``, the released ones with
    points left in spending order, the pending ones with points left (a set made only
    when the account has one), and the customer's next book (a customer's books are a
    chain: most customers have one)."""

    __slots__ = (
        "account",
        "customer_id",
        "last",
        "lots",
        "next",
        "pending",
        "point_type",
        "spendable",
    )

    def __init__(self, customer_id: CustomerId, point_type: str) -> None:
        self.customer_id = customer_id
        self.point_type = point_type
        self.account: Account | None = None
        self.last = -1
        self.lots: array[int] = array("q")
        self.spendable: array[int] = array("q")
        self.pending: set[int] | None = None
        self.next: Book | None = None

    @property
    def prefix(self) -> str:
        """What the ids of this account's lots begin with."""
        return f"{self.customer_id}:{self.point_type}:"


def position_of(text: str) -> tuple[int, int] | None:
    """``(seq, index)`` of a lot id's ``"seq.index"`` tail, if it is written as the ledger
    writes it (so that the id rebuilt from the pair is the same text)."""
    seq, dot, index = text.partition(".")
    if not dot:
        return None
    try:
        pair = int(seq), int(index)
    except ValueError:
        return None
    return pair if f"{pair[0]}.{pair[1]}" == text else None


class EntryColumns:
    """Every entry of one tenant, in the order written.

    The common entry (no reason, actor, reversal, portion, shortfall or metadata, lot
    changes named by their ids) holds twelve slots and three per lot change. The others
    keep what differs in one tuple; an entry whose values fit no column (a third party's
    odd value) is kept as it came, frozen as it is."""

    def __init__(self) -> None:
        self.ints: array[int] = array("q")
        self.refs: list[Any] = []
        self.changes: array[int] = array("q")
        self._rest: tuple[Any, ...] | None = None  # the last one kept, shared if equal

    def __len__(self) -> int:
        return len(self.refs) // _ER

    def append(self, book: Book, entry: Entry) -> int:
        """Write ``entry`` as a new row of ``book``; its row number."""
        row = len(self.refs) // _ER
        ints, changes = self.ints, self.changes
        start = len(changes) // _CI
        lots: tuple[LotChange, ...] | None = None
        try:
            if entry.lots:
                prefix = book.prefix
                cut = len(prefix)
                for change in entry.lots:
                    lot_id = change.lot_id
                    pair = position_of(lot_id[cut:]) if lot_id.startswith(prefix) else None
                    if pair is None:
                        del changes[start * _CI :]
                        lots = entry.lots
                        break
                    changes.extend((pair[0], pair[1], change.delta))
            if (
                entry.reason == ""
                and entry.actor is None
                and entry.reverses is None
                and entry.portion is None
                and entry.shortfall == 0
                and entry.metadata == ()
                and lots is None
            ):
                rest = None
            else:
                rest = (
                    entry.reason,
                    entry.actor,
                    entry.reverses,
                    entry.portion,
                    entry.shortfall,
                    entry.metadata,
                    lots,
                )
                shared = self._rest
                # the texts and metadata of one command's entries are the same objects
                if shared is not None and all(a is b for a, b in zip(rest, shared, strict=True)):
                    rest = shared
                self._rest = rest
            kind = _KIND_CODES[entry.kind]
            end = len(changes) // _CI
            ints.extend(
                (
                    book.last,
                    entry.seq,
                    kind,
                    entry.amount,
                    entry.pending_delta,
                    entry.deficit_delta,
                    end,
                )
            )
        except (KeyError, OverflowError, TypeError, ValueError):
            # a value no column holds: keep the (frozen) entry itself
            del changes[start * _CI :], ints[row * _EI :]
            ints.extend((book.last, 0, _WHOLE, 0, 0, 0, start))
            self.refs.extend((book, None, None, None, entry))
            return row
        self.refs.extend((book, entry.occurred_at, entry.recorded_at, entry.idempotency_key, rest))
        return row

    def drop_last(self) -> None:
        """Remove the last row (the undo of :meth:`append`)."""
        row = len(self.refs) // _ER - 1
        start = self.ints[row * _EI - 1] if row else 0
        del self.changes[start * _CI :]
        del self.ints[row * _EI :]
        del self.refs[row * _ER :]
        self._rest = None

    def previous(self, row: int) -> int:
        """The row before ``row`` in its account, or -1."""
        return self.ints[row * _EI]

    def seq(self, row: int) -> int:
        """The seq of ``row``'s entry."""
        i = row * _EI
        if self.ints[i + 2] == _WHOLE:
            whole: Entry = self.refs[row * _ER + 4]
            return whole.seq
        return self.ints[i + 1]

    def book(self, row: int) -> Book:
        """The book ``row`` belongs to."""
        book: Book = self.refs[row * _ER]
        return book

    def rows(self, book: Book) -> list[int]:
        """The rows of ``book``, in the order written."""
        found = []
        ints, row = self.ints, book.last
        while row >= 0:
            found.append(row)
            row = ints[row * _EI]
        found.reverse()
        return found

    def entry(self, row: int) -> Entry:
        """The entry of ``row``, rebuilt."""
        i, r = row * _EI, row * _ER
        ints, refs = self.ints, self.refs
        kind = ints[i + 2]
        rest = refs[r + 4]
        if kind == _WHOLE:
            whole: Entry = rest
            return whole
        book: Book = refs[r]
        if rest is not None and rest[6] is not None:
            lots = rest[6]
        else:
            start, end = (ints[i - 1] if row else 0), ints[i + 6]
            if start == end:
                lots = ()
            else:
                prefix, changes = book.prefix, self.changes
                lots = tuple(
                    [
                        LotChange(
                            lot_id=f"{prefix}{changes[c]}.{changes[c + 1]}",
                            delta=changes[c + 2],
                        )
                        for c in range(start * _CI, end * _CI, _CI)
                    ]
                )
        if rest is None:
            return Entry(
                customer_id=book.customer_id,
                point_type=book.point_type,
                seq=ints[i + 1],
                kind=KINDS[kind],
                amount=ints[i + 3],
                pending_delta=ints[i + 4],
                deficit_delta=ints[i + 5],
                occurred_at=refs[r + 1],
                recorded_at=refs[r + 2],
                idempotency_key=refs[r + 3],
                lots=lots,
            )
        return Entry(
            customer_id=book.customer_id,
            point_type=book.point_type,
            seq=ints[i + 1],
            kind=KINDS[kind],
            amount=ints[i + 3],
            pending_delta=ints[i + 4],
            deficit_delta=ints[i + 5],
            occurred_at=refs[r + 1],
            recorded_at=refs[r + 2],
            idempotency_key=refs[r + 3],
            reason=rest[0],
            actor=rest[1],
            reverses=rest[2],
            portion=rest[3],
            shortfall=rest[4],
            lots=lots,
            metadata=rest[5],
        )


# the slots of a lot row a save may change, as LotColumns.read gives them
LotValues = tuple[int, int, int, int, int, int, datetime, datetime | None, datetime | None]
LotExtras = tuple[int, int, int]


class LotColumns:
    """Every lot of one tenant, updated in place."""

    def __init__(self) -> None:
        self.ints: array[int] = array("q")
        self.refs: list[datetime | None] = []
        self.extras: dict[int, LotExtras] = {}

    def __len__(self) -> int:
        return len(self.refs) // _LR

    @staticmethod
    def values(lot: Lot) -> tuple[LotValues, LotExtras | None]:
        """``lot``'s slots, as a row keeps them."""
        extras = (lot.withdrawn, lot.forgiven, lot.shortfall)
        keep = extras if any(extras) else None
        flags = (_PENDING if lot.pending else 0) | (_EXTRAS if keep is not None else 0)
        values = (
            lot.seq,
            lot.index,
            lot.amount,
            lot.remaining,
            lot.expired,
            flags,
            lot.earned_at,
            lot.expires_at,
            lot.available_from,
        )
        return values, keep

    def append(self, values: LotValues, extras: LotExtras | None) -> int:
        """A new row holding ``values``; its number."""
        row = len(self.refs) // _LR
        self.write(row, values, extras)
        return row

    def write(self, row: int, values: LotValues, extras: LotExtras | None) -> None:
        """Put ``values`` in ``row`` (the row after the last: a new one)."""
        i = row * _LI
        ints = self.ints
        counts = cast(tuple[int, ...], values[:_LI])
        instants = cast(tuple[datetime | None, ...], values[_LI:])
        try:
            if extras is not None:
                array("q", extras)  # the same bounds as the other counts
            if i == len(ints):
                ints.extend(counts)
                self.refs.extend(instants)
            else:
                ints[i : i + _LI] = array("q", counts)
                self.refs[row * _LR : row * _LR + _LR] = instants
        except (OverflowError, TypeError) as error:
            del ints[len(self.refs) // _LR * _LI :]
            raise InvalidArgument(f"lot {values[0]}.{values[1]}: {error}") from None
        if extras is None:
            self.extras.pop(row, None)
        else:
            self.extras[row] = extras

    def read(self, row: int) -> tuple[LotValues, LotExtras | None]:
        """What :meth:`write` put in ``row``."""
        i, r = row * _LI, row * _LR
        ints, refs = self.ints, self.refs
        values = (
            ints[i],
            ints[i + 1],
            ints[i + 2],
            ints[i + 3],
            ints[i + 4],
            ints[i + 5],
            refs[r],
            refs[r + 1],
            refs[r + 2],
        )
        return values, self.extras.get(row)  # type: ignore[return-value]

    def drop_last(self) -> None:
        """Remove the last row (the undo of :meth:`append`)."""
        row = len(self.refs) // _LR - 1
        del self.ints[row * _LI :], self.refs[row * _LR :]
        self.extras.pop(row, None)

    def lot(self, book: Book, row: int) -> Lot:
        """The lot of ``row`` (one of ``book``'s), rebuilt."""
        i, r = row * _LI, row * _LR
        ints, refs = self.ints, self.refs
        flags = ints[i + 5]
        withdrawn = forgiven = shortfall = 0
        if flags & _EXTRAS:
            withdrawn, forgiven, shortfall = self.extras[row]
        return Lot(
            customer_id=book.customer_id,
            point_type=book.point_type,
            seq=ints[i],
            index=ints[i + 1],
            amount=ints[i + 2],
            remaining=ints[i + 3],
            earned_at=refs[r],  # type: ignore[arg-type]
            expires_at=refs[r + 1],
            available_from=refs[r + 2],
            pending=bool(flags & _PENDING),
            expired=ints[i + 4],
            withdrawn=withdrawn,
            forgiven=forgiven,
            shortfall=shortfall,
        )

    # --- what the indexes read of a row ----------------------------------------------------

    def position(self, row: int) -> tuple[int, int]:
        """``(seq, index)``: the order of a book's lots."""
        i = row * _LI
        return self.ints[i], self.ints[i + 1]

    def spending_key(self, row: int) -> tuple[bool, datetime | None, datetime, int, int]:
        """:attr:`Lot.consumption_key` of the row's lot."""
        i, r = row * _LI, row * _LR
        expires_at = self.refs[r + 1]
        return (expires_at is None, expires_at, self.refs[r], self.ints[i], self.ints[i + 1])  # type: ignore[return-value]

    def remaining(self, row: int) -> int:
        return self.ints[row * _LI + 3]

    def pending(self, row: int) -> bool:
        return bool(self.ints[row * _LI + 5] & _PENDING)

    def expires_at(self, row: int) -> datetime | None:
        return self.refs[row * _LR + 1]

    def available_from(self, row: int) -> datetime | None:
        return self.refs[row * _LR + 2]

    def is_due(self, row: int, at: datetime, work: str) -> bool:
        """:func:`~loyaltykit.storage.base.lot_is_due` of the row's lot, read in place."""
        if self.remaining(row) <= 0:
            return False
        expires_at = self.expires_at(row)
        if work == "expire":
            return expires_at is not None and expires_at <= at
        available_from = self.available_from(row)
        return (
            self.pending(row)
            and available_from is not None
            and available_from <= at
            and (expires_at is None or available_from < expires_at)
        )

    def find(self, book: Book, seq: int, index: int) -> int:
        """The row of ``book``'s lot ``seq.index``, or -1."""
        rows = book.lots
        if not rows:
            return -1
        target = (seq, index)
        last = rows[-1]
        if self.position(last) == target:
            return last
        at = bisect.bisect_left(rows, target, key=self.position)
        if at < len(rows) and self.position(rows[at]) == target:
            return rows[at]
        return -1

    def place(self, book: Book, row: int) -> None:
        """Add ``row`` to ``book``'s lots, in ``(seq, index)`` order."""
        rows = book.lots
        if not rows or self.position(rows[-1]) < self.position(row):
            rows.append(row)
        else:
            bisect.insort(rows, row, key=self.position)

    def spendable_from(self, book: Book) -> Iterator[int]:
        """``book``'s released rows with points left, in spending order (no copy: a save
        while this is read moves rows)."""
        return iter(book.spendable)


# a key slot: ints (the first entry row under the key or -1, where the record's text
# starts in the blob or -1, the length of its fingerprint there, of the whole text) and
# refs (the record's command name, recorded_at)
_KI, _KR = 4, 2
Kept = tuple[str, datetime, str, bytes]
"""An idempotency record as a key slot keeps it: command, recorded_at, fingerprint and
the outcome's JSON text as UTF-8."""


class KeyColumns:
    """The idempotency keys of one tenant, one slot per customer and key: the rows of the
    entries recorded under the key, and the command's idempotency record, whose
    fingerprint and outcome are kept as UTF-8 in one shared ``bytearray`` (no text
    object per record). A customer's keys map to their slots."""

    def __init__(self) -> None:
        self.ints: array[int] = array("q")
        self.refs: list[Any] = []
        self.blob = bytearray()
        self.more: dict[int, list[int]] = {}  # slots of several entries: the later rows

    def __len__(self) -> int:
        return len(self.refs) // _KR

    def append(self) -> int:
        """A new, empty slot; its number."""
        slot = len(self.refs) // _KR
        self.ints.extend((-1, -1, 0, 0))
        self.refs.extend((None, None))
        return slot

    def drop_last(self) -> None:
        """Remove the last slot (the undo of :meth:`append`)."""
        slot = len(self.refs) // _KR - 1
        del self.ints[slot * _KI :], self.refs[slot * _KR :]
        self.more.pop(slot, None)

    def entry(self, slot: int) -> int:
        """The first entry row recorded under the slot's key, or -1."""
        return self.ints[slot * _KI]

    def set_entry(self, slot: int, row: int) -> None:
        self.ints[slot * _KI] = row

    def holds_record(self, slot: int) -> bool:
        return self.ints[slot * _KI + 1] >= 0

    def command(self, slot: int) -> str | None:
        command: str | None = self.refs[slot * _KR]
        return command

    def record(self, slot: int) -> Kept | None:
        """The slot's idempotency record, if it holds one."""
        i = slot * _KI
        start = self.ints[i + 1]
        if start < 0:
            return None
        cut, end = start + self.ints[i + 2], start + self.ints[i + 3]
        blob = self.blob
        return (
            self.refs[slot * _KR],
            self.refs[slot * _KR + 1],
            blob[start:cut].decode(),
            bytes(blob[cut:end]),
        )

    def put_record(
        self, slot: int, command: str | None, recorded_at: datetime | None, text: bytes, cut: int
    ) -> tuple[Any, ...]:
        """Keep ``text`` (fingerprint, then outcome, ``cut`` bytes of fingerprint) as the
        slot's record; what :meth:`restore` needs to undo it."""
        i, r = slot * _KI, slot * _KR
        ints, refs, blob = self.ints, self.refs, self.blob
        previous = (slot, ints[i + 1], ints[i + 2], ints[i + 3], refs[r], refs[r + 1], len(blob))
        ints[i + 1 : i + 4] = array("q", (len(blob), cut, len(text)))
        refs[r], refs[r + 1] = command, recorded_at
        blob += text
        return previous

    def restore(
        self,
        slot: int,
        start: int,
        cut: int,
        length: int,
        command: str | None,
        recorded_at: datetime | None,
        blob_length: int,
    ) -> None:
        """Undo :meth:`put_record` (undos run last in, first out: the blob's tail is the
        text it added)."""
        i, r = slot * _KI, slot * _KR
        self.ints[i + 1 : i + 4] = array("q", (start, cut, length))
        self.refs[r], self.refs[r + 1] = command, recorded_at
        del self.blob[blob_length:]
