"""Receipts are stored under their keys in a compact form, rebuilt exactly on replay;
receipts stored in the full record form of earlier versions still replay."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from fractions import Fraction

import attrs
import pytest

from loyaltykit import Loyalty, Money, Program, Purchase
from loyaltykit.outcomes import Receipt, receipt_to_record
from loyaltykit.service.codecs import receipt_from_stored, receipt_to_stored
from loyaltykit.storage.base import Storage
from loyaltykit.storage.memory import MemoryStorage
from loyaltykit.storage.sql import SqlStorage

T0 = datetime(2026, 5, 1, 9, tzinfo=UTC)
SHANGHAI = timezone(timedelta(hours=8))
PROGRAM = Program.from_dict(
    {
        "point_types": [
            {"code": "points", "name": "Points"},
            {"code": "miles", "name": "Miles"},
        ],
        "rules": [{"id": "base", "kind": "base_rate", "per": "10"}],
        "points_sale": {"rate": "0.05"},
    }
)


def receipts(loyalty: Loyalty) -> list[Receipt]:
    """Receipts of many shapes: pending and expiring lots, another point type, lots of
    two members, partial reversals, metadata, an actor, another time zone."""
    loyalty.enroll("ann", at=T0, idempotency_key="e-ann")
    loyalty.enroll("bob", at=T0, idempotency_key="e-bob")
    later = T0 + timedelta(hours=1)
    return [
        loyalty.earn("ann", 50, at=T0, idempotency_key="o1", expires_at=T0 + timedelta(days=30)),
        loyalty.earn(
            "ann",
            20,
            at=T0.astimezone(SHANGHAI),
            idempotency_key="o2",
            available_from=T0 + timedelta(days=1),
            metadata={"order": "A-1", "store": 12},
        ),
        loyalty.earn("ann", 7, at=T0, idempotency_key="o3", point_type="miles"),
        loyalty.record_purchase(
            "ann", Purchase(amount=Money.of("129.90", "CNY")), at=T0, idempotency_key="p1"
        ),
        loyalty.redeem_points("ann", 55, at=later, idempotency_key="r1"),
        loyalty.transfer("ann", "bob", 3, at=later, idempotency_key="t1", reason="gift"),
        loyalty.adjust("bob", -1, at=later, idempotency_key="a1", reason="fix", actor="ops-1"),
        loyalty.reverse("ann", "r1", at=later, idempotency_key="v1", portion=Fraction(1, 3)),
        loyalty.refund(
            "ann", "p1", at=later, idempotency_key="f1", amount=Money.of("60.00", "CNY")
        ),
        loyalty.buy_points("bob", 100, at=later, idempotency_key="b1"),
    ]


def test_the_sample_receipts_set_every_field_of_a_receipt() -> None:
    # a field the stored form forgets only shows when some receipt sets it: a new field
    # of Receipt must be set by one of the receipts above (and so be round-tripped)
    unset = {
        field.name
        for field in attrs.fields(Receipt)
        if all(getattr(r, field.name) == field.default for r in receipts(Loyalty(PROGRAM)))
    }
    assert unset <= {"replayed"}, unset


@pytest.mark.parametrize("encode", [receipt_to_stored, receipt_to_record])
def test_every_receipt_comes_back_exactly(encode: Callable[[Receipt], object]) -> None:
    for receipt in receipts(Loyalty(PROGRAM)):
        stored = json.loads(json.dumps(encode(receipt)))  # as a backend keeps it
        back = receipt_from_stored(stored)
        assert back == receipt
        assert [entry.occurred_at.utcoffset() for entry in back.entries] == [
            entry.occurred_at.utcoffset() for entry in receipt.entries
        ]


def test_an_entry_at_the_receipts_instant_in_another_zone_keeps_its_offsets() -> None:
    # the compact form leaves out an entry's instants that read as the receipt's: the
    # same instant written at another offset is not one of them
    receipt = receipts(Loyalty(PROGRAM))[0]
    new_york = timezone(timedelta(hours=-5))
    entry = attrs.evolve(
        receipt.entries[0],
        occurred_at=receipt.at.astimezone(SHANGHAI),
        recorded_at=receipt.at.astimezone(new_york),
    )
    moved = attrs.evolve(receipt, entries=(entry,))
    back = receipt_from_stored(json.loads(json.dumps(receipt_to_stored(moved))))
    assert back == moved
    assert back.entries[0].occurred_at.utcoffset() == timedelta(hours=8)
    assert back.entries[0].recorded_at.utcoffset() == timedelta(hours=-5)
    assert back.at.utcoffset() == receipt.at.utcoffset()


def test_the_stored_form_is_a_fraction_of_the_full_record() -> None:
    for receipt in receipts(Loyalty(PROGRAM)):
        compact = len(json.dumps(receipt_to_stored(receipt), separators=(",", ":")))
        full = len(json.dumps(receipt_to_record(receipt), separators=(",", ":")))
        assert compact * 2 < full, (receipt.command, compact, full)


def test_an_unknown_stored_version_is_refused_not_guessed() -> None:
    receipt = receipts(Loyalty(PROGRAM))[0]
    with pytest.raises(ValueError, match="version 3"):
        receipt_from_stored({**receipt_to_stored(receipt), "v": 3})


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_a_receipt_stored_in_the_old_form_still_replays(backend: str) -> None:
    written = MemoryStorage()
    first = receipts(Loyalty(PROGRAM, storage=written))[0]
    with written.unit_of_work() as uow:
        record = uow.idempotency.get("ann", "o1")
    assert record is not None and record.outcome["v"] == 2
    # a store that an earlier version wrote: the same command's record, in full form
    storage: Storage = MemoryStorage() if backend == "memory" else SqlStorage.from_url("sqlite://")
    loyalty = Loyalty(PROGRAM, storage=storage)
    loyalty.enroll("ann", at=T0, idempotency_key="e-ann")
    with storage.unit_of_work() as uow:
        uow.idempotency.add(attrs.evolve(record, outcome=receipt_to_record(first)))
        uow.commit()
    again = loyalty.earn("ann", 50, at=T0, idempotency_key="o1", expires_at=T0 + timedelta(days=30))
    assert again.replayed and again == first
    assert loyalty.balance("ann").available == 0  # a replay, nothing posted
