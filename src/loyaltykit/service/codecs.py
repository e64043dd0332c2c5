"""How command outcomes are stored under their idempotency keys and read back, and the
names of the member documents and point type every area shares."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

import attrs

from loyaltykit.domain.customer import Customer
from loyaltykit.domain.ledger import Entry, EntryKind, LotChange
from loyaltykit.domain.records import customer_from_record, customer_to_record, instant_from_text
from loyaltykit.errors import UnknownCustomer
from loyaltykit.formats.member import ACTIVITY, METRICS, TIER
from loyaltykit.outcomes import Balance, Receipt, receipt_from_record, receipt_to_record
from loyaltykit.service.kernel import OUTBOX, Codec, Heading
from loyaltykit.storage.base import LedgerRepository, UnitOfWork
from loyaltykit.values import CustomerId, Money, identifier

__all__ = [
    "ACTIVITY",
    "METRICS",
    "OUTBOX",
    "POINTS",
    "TIER",
    "customer_codec",
    "existing",
    "explanation_of",
    "receipt_codec",
    "receipt_from_stored",
    "receipt_to_stored",
]

POINTS = "points"
"""The default point type's code."""


def receipt_codec() -> Codec[Receipt]:
    """Receipts stored under their key in their stored form (referring to their ledger
    entries); a replayed one says so.
    The outbox still gets the receipt's full record form."""
    return _RECEIPTS


def _replayed(uow: UnitOfWork, record: Mapping[str, Any]) -> Receipt:
    return attrs.evolve(receipt_from_stored(record, uow.ledger), replayed=True)


def _restored(uow: UnitOfWork, record: Mapping[str, Any], heading: Heading) -> Receipt:
    return attrs.evolve(receipt_from_stored(record, uow.ledger, heading), replayed=True)


# --- the stored form of a receipt -------------------------------------------------------
#
# A receipt's full record (receipt_to_record) repeats in every entry what the receipt
# says once (its customer, key and instant), and spells out every default: 821 of the
# 1,257 bytes SQLite kept per ledger entry. The compact form (version 2) kept each value
# once and left out what equals the receipt's own value or the field's default. The
# referring form (version 3, written now) keeps only what the ledger does not: the
# receipt's own fields and balances, and for each entry the command wrote its place in
# the ledger (its seq, with its point type and customer when they are not the
# receipt's). A replay reads those entries back (LedgerRepository.entries_by_seq): the
# ledger is append-only and an account's seq names one entry for good (no erasure,
# archival, tenant or export step rewrites or removes an entry), so they are the entries
# the command wrote. An entry that could not be rebuilt exactly from the ledger's copy
# (an instant at an offset that a backend keeping instants in UTC would lose) is kept in
# full, as in version 2. Records of version 2 and earlier (no "v": the full record) are
# read as they were written.

_REFERRING = 3
_COMPACT = 2
_DEFAULT_POINT_TYPE = "points"
_NO_OFFSET = timedelta(0)
# the stored form's own list, not outcomes' (which names the same counts today): rows of
# versions 2 and 3 hold these counts in this order, whatever a later Balance adds
_BALANCE_COUNTS = (
    "available",
    "pending",
    "lifetime_earned",
    "lifetime_redeemed",
    "lifetime_expired",
)


def receipt_to_stored(receipt: Receipt, heading: Heading | None = None) -> dict[str, Any]:
    """The stored form of a receipt, referring to the ledger for the entries it can
    (see :func:`receipt_from_stored`), and to ``heading`` (the idempotency record it is
    kept in) for its customer, key and command where they are the record's."""
    at = receipt.at.isoformat()
    customer_id = receipt.customer_id
    stored: dict[str, Any] = {"v": _REFERRING}
    if heading is None or receipt.command != heading.command:
        stored["c"] = receipt.command
    if heading is None or receipt.idempotency_key != heading.key:
        stored["k"] = receipt.idempotency_key
    if heading is None or customer_id != heading.customer_id:
        stored["u"] = customer_id
    stored["t"] = at
    stored["e"] = [_entry_reference(entry, receipt, at) for entry in receipt.entries]
    stored["b"] = [_balance_to_stored(balance, customer_id) for balance in receipt.balances]
    if (
        receipt.entries
        and not isinstance(stored["e"][0], dict)
        and receipt.at.utcoffset() == _NO_OFFSET
        and receipt.entries[0].recorded_at == receipt.at
    ):
        # the receipt's instant is its first entry's, and a UTC one, which every backend
        # gives back as it was written: read from the ledger's copy of that entry
        del stored["t"]
    if receipt.explanation:
        stored["x"] = receipt.explanation
    if receipt.revenue is not None:
        stored["r"] = [str(receipt.revenue.amount), receipt.revenue.currency]
    return stored


def explanation_of(stored: Mapping[str, Any]) -> str:
    """The explanation a stored receipt holds, in any stored form (empty for an outcome
    that is not a receipt's, or a receipt no rule explained)."""
    key = "x" if stored.get("v") in (_COMPACT, _REFERRING) else "explanation"
    return str(stored.get(key, ""))


def receipt_from_stored(
    stored: Mapping[str, Any],
    ledger: LedgerRepository | None = None,
    heading: Heading | None = None,
) -> Receipt:
    """The receipt :func:`receipt_to_stored` wrote, its entries read back from
    ``ledger`` and what it left to its record from ``heading``, or one stored in a form
    of earlier versions: the compact form of version 2, or the full record form
    (:func:`~loyaltykit.outcomes.receipt_from_record`). Raises ``ValueError`` for a form
    this version does not read, and for one that refers to entries without a ``ledger``
    to read them from, or that the ledger does not hold, or to a record's heading
    without ``heading``."""
    version = stored.get("v")
    if version is None:
        return receipt_from_record(stored)
    if version not in (_COMPACT, _REFERRING):
        raise ValueError(f"a stored receipt of version {version!r} is not one this version reads")
    if heading is not None:
        command = stored.get("c", heading.command)
        key = stored.get("k", heading.key)
        customer_id = stored.get("u", heading.customer_id)
    elif {"c", "k", "u"} <= stored.keys():
        command, key, customer_id = stored["c"], stored["k"], stored["u"]
    else:
        raise ValueError("a stored receipt that leaves its heading to its record needs it")
    if version == _COMPACT:
        at_text = stored["t"]
        at = _instant(at_text)
        entries = tuple(_entry_from_stored(item, customer_id, key, at_text) for item in stored["e"])
        balances = tuple(
            Balance(
                customer_id=row[0],
                point_type=row[1],
                **dict(zip(_BALANCE_COUNTS, row[2:], strict=True)),
            )
            for row in stored["b"]
        )
    else:
        at, entries = _entries_referred(stored, ledger, customer_id, key)
        balances = tuple(_balance_from_stored(row, customer_id) for row in stored["b"])
    return Receipt(
        command=command,
        idempotency_key=key,
        customer_id=customer_id,
        at=at,
        entries=entries,
        balances=balances,
        explanation=stored.get("x", ""),
        revenue=None if stored.get("r") is None else Money.of(stored["r"][0], stored["r"][1]),
    )


def _entry_reference(entry: Entry, receipt: Receipt, at: str) -> Any:
    """An entry of version 3: its seq (an entry of the receipt's own customer and the
    default point type), ``[seq, point_type]`` or ``[seq, point_type, customer]`` (read
    back from the ledger, where an account's seq names one entry for good), or the entry
    in full (a mapping, as in version 2)."""
    if _rebuilt_alike(entry.occurred_at, receipt.at) and _rebuilt_alike(
        entry.recorded_at, receipt.at
    ):
        if entry.customer_id != receipt.customer_id:
            return [entry.seq, entry.point_type, entry.customer_id]
        if entry.point_type != _DEFAULT_POINT_TYPE:
            return [entry.seq, entry.point_type]
        return entry.seq
    return _entry_to_stored(entry, receipt, at)


def _rebuilt_alike(when: datetime, at: datetime) -> bool:
    """Whether :func:`_as_written` gives back ``when``'s very text from the ledger's
    copy of it, whatever offset the ledger keeps it at: the receipt's own instant, or
    another instant written in UTC."""
    return _same_text(when, at) or (when.utcoffset() == _NO_OFFSET and when != at)


def _as_written(when: datetime, at: datetime) -> datetime:
    """An instant read from the ledger, at the offset the command wrote it at (see
    :func:`_rebuilt_alike`)."""
    if when == at:
        return at
    return when if when.tzinfo is UTC else when.astimezone(UTC)


def _entries_referred(
    stored: Mapping[str, Any],
    ledger: LedgerRepository | None,
    customer_id: CustomerId,
    key: str,
) -> tuple[datetime, tuple[Entry, ...]]:
    """The instant and entries of a receipt of version 3."""
    items = stored["e"]
    places = [_place(item, customer_id) for item in items if not isinstance(item, dict)]
    found: dict[tuple[CustomerId, str, int], Entry] = {}
    if places:
        if ledger is None:
            raise ValueError("a stored receipt of version 3 is read with the ledger it refers to")
        wanted: dict[tuple[CustomerId, str], list[int]] = {}
        for customer, point_type, seq in places:
            wanted.setdefault((customer, point_type), []).append(seq)
        for (customer, point_type), seqs in wanted.items():
            for entry in ledger.entries_by_seq(customer, point_type, seqs):
                found[customer, point_type, entry.seq] = entry
        missing = [place for place in places if place not in found]
        if missing:
            raise ValueError(
                f"a stored receipt (key {key!r}) refers to ledger entries the ledger does not "
                f"hold: {', '.join(':'.join(map(str, place)) for place in missing)}"
            )
    at_text = stored.get("t")
    if at_text is None:  # the first entry's (see receipt_to_stored)
        at = found[places[0]].recorded_at.astimezone(UTC)
        at_text = at.isoformat()
    else:
        at = _instant(at_text)
    entries = []
    for item in items:
        if isinstance(item, dict):
            entries.append(_entry_from_stored(item, customer_id, key, at_text))
            continue
        entry = found[_place(item, customer_id)]
        occurred, recorded = _as_written(entry.occurred_at, at), _as_written(entry.recorded_at, at)
        if occurred is not entry.occurred_at or recorded is not entry.recorded_at:
            entry = attrs.evolve(entry, occurred_at=occurred, recorded_at=recorded)
        entries.append(entry)
    return at, tuple(entries)


def _place(item: int | list[Any], customer_id: CustomerId) -> tuple[CustomerId, str, int]:
    """The account and seq an entry reference of version 3 names."""
    if isinstance(item, int):
        return customer_id, _DEFAULT_POINT_TYPE, item
    return (item[2] if len(item) > 2 else customer_id), item[1], item[0]


def _balance_to_stored(balance: Balance, customer_id: CustomerId) -> list[Any]:
    """A balance of version 3: its counts without the trailing zeros, after its point
    type when it is not the default, after its customer and point type when the
    customer is not the receipt's."""
    counts = [getattr(balance, name) for name in _BALANCE_COUNTS]
    while counts and counts[-1] == 0:
        counts.pop()
    if balance.customer_id != customer_id:
        return [balance.customer_id, balance.point_type, *counts]
    if balance.point_type != _DEFAULT_POINT_TYPE:
        return [balance.point_type, *counts]
    return counts


def _balance_from_stored(row: list[Any], customer_id: CustomerId) -> Balance:
    names = 0
    while names < len(row) and isinstance(row[names], str):
        names += 1
    owner = row[0] if names == 2 else customer_id
    point_type = row[names - 1] if names else _DEFAULT_POINT_TYPE
    counts = [*row[names:], *[0] * (len(_BALANCE_COUNTS) - len(row) + names)]
    return Balance(
        customer_id=owner,
        point_type=point_type,
        **dict(zip(_BALANCE_COUNTS, counts, strict=True)),
    )


def _same_text(one: datetime, other: datetime) -> bool:
    """True if the two instants' ``isoformat()`` texts are equal, without writing them:
    the same instant at the same offset (the same object, most often)."""
    return one is other or (one == other and one.utcoffset() == other.utcoffset())


def _entry_to_stored(entry: Entry, receipt: Receipt, at: str) -> dict[str, Any]:
    item: dict[str, Any] = {"s": entry.seq, "n": entry.kind.value, "a": entry.amount}
    if entry.customer_id != receipt.customer_id:
        item["u"] = entry.customer_id
    if entry.point_type != _DEFAULT_POINT_TYPE:
        item["p"] = entry.point_type
    if entry.pending_delta:
        item["pd"] = entry.pending_delta
    if entry.deficit_delta:
        item["dd"] = entry.deficit_delta
    # an entry dated by its command holds the receipt's instant: its text is the
    # receipt's, without writing it out again
    when, then = entry.occurred_at, entry.recorded_at
    occurred = at if _same_text(when, receipt.at) else when.isoformat()
    if occurred != at:
        item["o"] = occurred
    if not _same_text(then, when) and then.isoformat() != occurred:
        item["r"] = then.isoformat()
    if entry.idempotency_key != receipt.idempotency_key:
        item["k"] = entry.idempotency_key
    if entry.reason:
        item["w"] = entry.reason
    if entry.actor is not None:
        item["by"] = entry.actor
    if entry.reverses is not None:
        item["rv"] = entry.reverses
    if entry.portion is not None:
        item["po"] = str(entry.portion)
    if entry.shortfall:
        item["sf"] = entry.shortfall
    if entry.lots:
        # a lot of the entry's own account by its "seq.index" (no colon), others in full
        own = f"{entry.customer_id}:{entry.point_type}:"
        item["l"] = [
            [
                change.lot_id.removeprefix(own) if change.lot_id.startswith(own) else change.lot_id,
                change.delta,
            ]
            for change in entry.lots
        ]
    if entry.metadata:
        item["m"] = [[name, value] for name, value in entry.metadata]
    return item


def _entry_from_stored(
    item: Mapping[str, Any], customer_id: CustomerId, key: str, at: str
) -> Entry:
    entry_customer = item.get("u", customer_id)
    point_type = item.get("p", _DEFAULT_POINT_TYPE)
    own = f"{entry_customer}:{point_type}:"
    occurred = item.get("o", at)
    portion = item.get("po")
    return Entry(
        customer_id=entry_customer,
        point_type=point_type,
        seq=item["s"],
        kind=EntryKind(item["n"]),
        amount=item["a"],
        pending_delta=item.get("pd", 0),
        deficit_delta=item.get("dd", 0),
        occurred_at=_instant(occurred),
        recorded_at=_instant(item.get("r", occurred)),
        idempotency_key=item.get("k", key),
        reason=item.get("w", ""),
        actor=item.get("by"),
        reverses=item.get("rv"),
        portion=None if portion is None else Fraction(portion),
        shortfall=item.get("sf", 0),
        lots=tuple(
            LotChange(lot_id=lot_id if ":" in lot_id else own + lot_id, delta=delta)
            for lot_id, delta in item.get("l", ())
        ),
        metadata=tuple((name, value) for name, value in item.get("m", ())),
    )


def _instant(text: str) -> Any:
    found = instant_from_text(text)
    assert found is not None
    return found


_RECEIPTS: Codec[Receipt] = Codec(
    receipt_to_record, _replayed, store=receipt_to_stored, restore=_restored
)


def customer_codec(customer_id: CustomerId) -> Codec[Customer]:
    """Customers stored under their key; after an erasure, a replay returns the customer
    as they are now (the stored outcome was redacted)."""

    def decode(uow: UnitOfWork, record: Mapping[str, Any]) -> Customer:
        if record.get("redacted"):
            return existing(uow, customer_id)
        return customer_from_record(dict(record))

    return Codec(customer_to_record, decode)


def existing(uow: UnitOfWork, customer_id: CustomerId) -> Customer:
    """The stored customer; raises :class:`~loyaltykit.errors.UnknownCustomer`."""
    found = uow.customers.get(identifier("customer_id", customer_id))
    if found is None:
        raise UnknownCustomer(customer_id)
    return found
