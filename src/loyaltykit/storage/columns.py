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
import re
from array import array
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

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
    "Saved",
    "instant",
    "position_of",
]

KINDS = tuple(EntryKind)
_KIND_CODES = {kind: code for code, kind in enumerate(KINDS)}
_WHOLE = 15  # the kind code of a row that keeps its entry as it came (see EntryColumns)
_KIND = 4  # bits of the kind code, below the lot changes written so far
assert len(KINDS) < _WHOLE

# an entry row: ints (previous row of its account or -1, seq, amount, pending_delta,
# deficit_delta, the lot changes written so far times 16 with the kind code) and refs
# (its book, occurred_at, recorded_at, idempotency_key, the rest or None)
_EI, _ER = 6, 5
# a lot change: ints (the lot's seq, its index, delta)
_CI = 3
# a lot row: ints (seq, index, amount, remaining, expired, flags, the expiry's instant)
# and refs (earned_at, available_from); withdrawn, forgiven and shortfall, rarely not
# zero, are kept apart, by row. Flags: pending, those kept apart, an expiry, its fold, an
# expiry kept as an object; then the code of the expiry's offset (see LotColumns)
_LI, _LR = 7, 2
_PENDING, _EXTRAS, _EXPIRES, _FOLD, _KEPT = 1, 2, 4, 8, 16
_ZONE_SHIFT = 8


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
                    entry.amount,
                    entry.pending_delta,
                    entry.deficit_delta,
                    end << _KIND | kind,
                )
            )
        except (KeyError, OverflowError, TypeError, ValueError):
            # a value no column holds: keep the (frozen) entry itself
            del changes[start * _CI :], ints[row * _EI :]
            ints.extend((book.last, 0, 0, 0, 0, start << _KIND | _WHOLE))
            self.refs.extend((book, None, None, None, entry))
            return row
        self.refs.extend((book, entry.occurred_at, entry.recorded_at, entry.idempotency_key, rest))
        return row

    def drop_last(self) -> None:
        """Remove the last row (the undo of :meth:`append`)."""
        row = len(self.refs) // _ER - 1
        start = self.ints[row * _EI - 1] >> _KIND if row else 0
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
        if self.ints[i + 5] & _WHOLE == _WHOLE:
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
        kind = ints[i + 5] & _WHOLE
        rest = refs[r + 4]
        if kind == _WHOLE:
            whole: Entry = rest
            return whole
        book: Book = refs[r]
        if rest is not None and rest[6] is not None:
            lots = rest[6]
        else:
            start, end = (ints[i - 1] >> _KIND if row else 0), ints[i + 5] >> _KIND
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
                amount=ints[i + 2],
                pending_delta=ints[i + 3],
                deficit_delta=ints[i + 4],
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
            amount=ints[i + 2],
            pending_delta=ints[i + 3],
            deficit_delta=ints[i + 4],
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


# the slots of a lot row a save may change, as LotColumns.read gives them: the counts and
# flags, the expiry's instant, earned_at and available_from
LotValues = tuple[int, int, int, int, int, int, int, datetime, datetime | None]
LotExtras = tuple[int, int, int]
Saved = tuple[LotValues, LotExtras | None, datetime | None]
"""A lot row's slots, its rarely-not-zero counts and its expiry kept as an object."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = datetime(1970, 1, 1)
_MICROSECOND = timedelta(microseconds=1)
_ZONES = 255  # fixed offsets a tenant's zone table holds; expiries at any other are objects


def instant(when: datetime) -> int:
    """``when`` (aware) as microseconds since 1970 in UTC: the order of instants, from
    year 1 to 9999 at any offset (the difference of two datetimes cannot overflow)."""
    return (when - _EPOCH) // _MICROSECOND


class LotColumns:
    """Every lot of one tenant, updated in place.

    A lot's expiry, an aware datetime, is kept as an instant (microseconds in UTC, which
    orders the lots) and its offset: a code into the tenant's table of fixed offsets
    (``datetime.timezone`` values, told apart by offset and name; UTC is code 0), and the
    fold. Read back, it is a datetime equal to the one saved, with its offset, name and
    fold. An expiry at a zone whose offset changes (``zoneinfo``, any other ``tzinfo``),
    whose wall time a rebuilt value might not give back, is kept as the object, by row."""

    def __init__(self) -> None:
        self.ints: array[int] = array("q")
        self.refs: list[datetime | None] = []
        self.extras: dict[int, LotExtras] = {}
        self.kept: dict[int, datetime] = {}  # expiries kept as the object saved
        self._zones: list[tuple[timezone, int]] = [(UTC, 0)]  # a code's zone, its offset
        self._codes: dict[tuple[timedelta | None, str | None], int] = {(timedelta(0), "UTC"): 0}

    def __len__(self) -> int:
        return len(self.refs) // _LR

    def _code(self, zone: timezone) -> int | None:
        """The code of a fixed offset (its name told apart), made if there is room.
        Codes are never taken back: an undone save leaves an unused code behind."""
        offset = zone.utcoffset(None)
        key = (offset, zone.tzname(None))
        code = self._codes.get(key)
        if code is None and len(self._zones) < _ZONES and offset is not None:
            code = self._codes[key] = len(self._zones)
            self._zones.append((zone, offset // _MICROSECOND))
        return code

    def values(self, lot: Lot) -> Saved:
        """``lot``'s slots, as a row keeps them."""
        withdrawn, forgiven, shortfall = lot.withdrawn, lot.forgiven, lot.shortfall
        extras = (withdrawn, forgiven, shortfall) if withdrawn or forgiven or shortfall else None
        flags = (_PENDING if lot.pending else 0) | (_EXTRAS if extras is not None else 0)
        when, kept, us = lot.expires_at, None, 0
        if when is not None:
            zone = when.tzinfo
            code = 0 if zone is UTC else self._code(zone) if type(zone) is timezone else None
            try:
                us = instant(when)
            except (OverflowError, TypeError) as error:
                raise InvalidArgument(f"lot {lot.seq}.{lot.index}: expires_at: {error}") from None
            if code is None:
                kept, flags = when, flags | _EXPIRES | _KEPT
            else:
                flags |= _EXPIRES | (code << _ZONE_SHIFT) | (_FOLD if when.fold else 0)
        values = (
            lot.seq,
            lot.index,
            lot.amount,
            lot.remaining,
            lot.expired,
            flags,
            us,
            lot.earned_at,
            lot.available_from,
        )
        return values, extras, kept

    def append(self, values: LotValues, extras: LotExtras | None, kept: datetime | None) -> int:
        """A new row holding ``values``; its number."""
        row = len(self.refs) // _LR
        self.write(row, values, extras, kept)
        return row

    def write(
        self, row: int, values: LotValues, extras: LotExtras | None, kept: datetime | None
    ) -> None:
        """Put ``values`` in ``row`` (the row after the last: a new one)."""
        i = row * _LI
        ints = self.ints
        seq, index, amount, remaining, expired, flags, us, earned_at, available_from = values
        counts = (seq, index, amount, remaining, expired, flags, us)
        try:
            if extras is not None:
                array("q", extras)  # the same bounds as the other counts
            if i == len(ints):
                ints.extend(counts)
                self.refs.extend((earned_at, available_from))
            else:
                ints[i : i + _LI] = array("q", counts)
                r = row * _LR
                self.refs[r] = earned_at
                self.refs[r + 1] = available_from
        except (OverflowError, TypeError) as error:
            del ints[len(self.refs) // _LR * _LI :]
            raise InvalidArgument(f"lot {seq}.{index}: {error}") from None
        if extras is None:
            if self.extras:
                self.extras.pop(row, None)
        else:
            self.extras[row] = extras
        if kept is None:
            if self.kept:
                self.kept.pop(row, None)
        else:
            self.kept[row] = kept

    def read(self, row: int) -> Saved:
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
            ints[i + 6],
            refs[r],
            refs[r + 1],
        )
        return values, self.extras.get(row), self.kept.get(row)  # type: ignore[return-value]

    def drop_last(self) -> None:
        """Remove the last row (the undo of :meth:`append`)."""
        row = len(self.refs) // _LR - 1
        del self.ints[row * _LI :], self.refs[row * _LR :]
        self.extras.pop(row, None)
        self.kept.pop(row, None)

    def _expires_at(self, row: int, flags: int, us: int) -> datetime | None:
        if not flags & _EXPIRES:
            return None
        if flags & _KEPT:
            return self.kept[row]
        code = flags >> _ZONE_SHIFT
        if code == 0:
            when = _EPOCH + timedelta(microseconds=us)
        else:
            # through the wall time: the instant of an offset's year 1 or 9999 may not be
            # a datetime in UTC
            zone, offset = self._zones[code]
            when = (_NAIVE_EPOCH + timedelta(microseconds=us + offset)).replace(tzinfo=zone)
        return when.replace(fold=1) if flags & _FOLD else when

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
            expires_at=self._expires_at(row, flags, ints[i + 6]),
            available_from=refs[r + 1],
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

    def spending_key(self, row: int) -> tuple[bool, int, datetime, int, int]:
        """:attr:`Lot.consumption_key` of the row's lot, its expiry as an instant."""
        i = row * _LI
        ints = self.ints
        return (
            not ints[i + 5] & _EXPIRES,
            ints[i + 6],
            self.refs[row * _LR],  # type: ignore[return-value]
            ints[i],
            ints[i + 1],
        )

    def remaining(self, row: int) -> int:
        return self.ints[row * _LI + 3]

    def pending(self, row: int) -> bool:
        return bool(self.ints[row * _LI + 5] & _PENDING)

    def expiry(self, row: int) -> int | None:
        """The instant (see :func:`instant`) the row's lot expires at, if it does."""
        i = row * _LI
        return self.ints[i + 6] if self.ints[i + 5] & _EXPIRES else None

    def available_from(self, row: int) -> datetime | None:
        return self.refs[row * _LR + 1]

    def is_due(self, row: int, at: datetime, now: int, work: str) -> bool:
        """:func:`~loyaltykit.storage.base.lot_is_due` of the row's lot, read in place
        (``now``: ``at`` as an instant)."""
        if self.remaining(row) <= 0:
            return False
        expiry = self.expiry(row)
        if work == "expire":
            return expiry is not None and expiry <= now
        available_from = self.available_from(row)
        return (
            self.pending(row)
            and available_from is not None
            and available_from <= at
            and (expiry is None or instant(available_from) < expiry)
        )

    def find(self, book: Book, seq: int, index: int) -> int:
        """The row of ``book``'s lot ``seq.index``, or -1."""
        rows = book.lots
        if not rows:
            return -1
        target = (seq, index)
        last = self.position(rows[-1])
        if last == target:
            return rows[-1]
        if last < target:
            return -1  # a new lot, after the others: the common save
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

    def expired(self, book: Book, now: int) -> int:
        """How many of ``book``'s released rows (in spending order: expiry order) have
        expired by ``now`` (an instant): the first ones."""
        ints, count = self.ints, 0
        for row in book.spendable:
            i = row * _LI
            if not ints[i + 5] & _EXPIRES or ints[i + 6] > now:
                break
            count += 1
        return count


# a key slot: ints (the first entry row under the key or -1, where the record starts in
# the blob or -1, its length there times 4 with the record's flags) and refs (the
# record's command name, recorded_at). A record in the blob: the fingerprint's length
# there (a varint), the fingerprint, the outcome.
_KI, _KR = 3, 2
_HEX, _TOKENS = 1, 2  # flags: the fingerprint's hex kept as bytes; the outcome's fragments
_CODES = re.compile(b"[\x01-\x05]")  # the fragments' codes
# Fragments the outcomes' JSON repeats (receipts of form 3, documents), each kept as one
# control byte, which JSON text never holds raw (the encoder escapes it): any text not
# holding one round-trips. Applied in this order, undone in the reverse one.
_FRAGMENTS = tuple(
    (fragment.encode(), bytes([code]))
    for code, fragment in enumerate(
        ('{"v":3,"e":[', '],"b":[[', "],[", "]]}", '":null,"'),
        start=1,
    )
)
Kept = tuple[str, datetime, str, bytes]
"""An idempotency record as a key slot keeps it: command, recorded_at, fingerprint and
the outcome's JSON text as UTF-8."""


def _packed(text: bytes, cut: int) -> tuple[bytes, int]:
    """``text`` (``cut`` bytes of fingerprint, then the outcome) as the blob keeps it, and
    its flags: a fingerprint ``prefix:hex`` (lowercase, even) keeps its hex as bytes."""
    fingerprint, outcome = text[:cut], text[cut:]
    flags = 0
    prefix, colon, digits = fingerprint.partition(b":")
    if colon and digits:
        try:
            raw = bytes.fromhex(digits.decode("ascii"))
        except ValueError:
            pass
        else:
            if raw.hex().encode() == digits:
                fingerprint, flags = prefix + colon + raw, _HEX
    if _CODES.search(outcome) is None:
        for fragment, code in _FRAGMENTS:
            outcome = outcome.replace(fragment, code)
        flags |= _TOKENS
    return _varint(len(fingerprint)) + fingerprint + outcome, flags


def _varint(number: int) -> bytes:
    if number < 0x80:
        return bytes((number,))
    out = bytearray()
    while number >= 0x80:
        out.append(number & 0x7F | 0x80)
        number >>= 7
    out.append(number)
    return bytes(out)


class KeyColumns:
    """The idempotency keys of one tenant, one slot per customer and key: the rows of the
    entries recorded under the key, and the command's idempotency record, whose
    fingerprint and outcome are kept as UTF-8 in one shared ``bytearray`` (no text
    object per record), a hexadecimal fingerprint as its bytes and the outcome's common
    JSON fragments as one byte each. A customer's keys map to their slots."""

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
        self.ints.extend((-1, -1, 0))
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
        packed = self.ints[i + 2]
        blob = self.blob
        length, at, shift = 0, start, 0
        while True:
            byte = blob[at]
            length |= (byte & 0x7F) << shift
            at += 1
            if byte < 0x80:
                break
            shift += 7
        cut, end = at + length, start + (packed >> 2)
        fingerprint = blob[at:cut]
        if packed & _HEX:
            prefix, _, raw = fingerprint.partition(b":")
            text = prefix.decode() + ":" + raw.hex()
        else:
            text = fingerprint.decode()
        outcome = bytes(blob[cut:end])
        if packed & _TOKENS:
            for fragment, code in reversed(_FRAGMENTS):
                outcome = outcome.replace(code, fragment)
        return self.refs[slot * _KR], self.refs[slot * _KR + 1], text, outcome

    def put_record(
        self, slot: int, command: str | None, recorded_at: datetime | None, text: bytes, cut: int
    ) -> tuple[Any, ...]:
        """Keep ``text`` (fingerprint, then outcome, ``cut`` bytes of fingerprint) as the
        slot's record; what :meth:`restore` needs to undo it."""
        i, r = slot * _KI, slot * _KR
        ints, refs, blob = self.ints, self.refs, self.blob
        previous = (slot, ints[i + 1], ints[i + 2], refs[r], refs[r + 1], len(blob))
        packed, flags = _packed(text, cut)
        ints[i + 1], ints[i + 2] = len(blob), len(packed) << 2 | flags
        refs[r], refs[r + 1] = command, recorded_at
        blob += packed
        return previous

    def restore(
        self,
        slot: int,
        start: int,
        packed: int,
        command: str | None,
        recorded_at: datetime | None,
        blob_length: int,
    ) -> None:
        """Undo :meth:`put_record` (undos run last in, first out: the blob's tail is the
        text it added)."""
        i, r = slot * _KI, slot * _KR
        self.ints[i + 1], self.ints[i + 2] = start, packed
        self.refs[r], self.refs[r + 1] = command, recorded_at
        del self.blob[blob_length:]
