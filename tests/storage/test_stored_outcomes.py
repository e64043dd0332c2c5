"""Receipts are stored under their keys in a form that refers to their ledger entries,
rebuilt exactly on replay; receipts stored in the compact form (version 2) and the full
record form of earlier versions still replay."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path

import attrs
import pytest
import sqlalchemy

from loyaltykit import Loyalty, Money, Program, Purchase
from loyaltykit.outcomes import Receipt, receipt_from_record, receipt_to_record
from loyaltykit.service.codecs import explanation_of, receipt_from_stored, receipt_to_stored
from loyaltykit.service.kernel import Heading
from loyaltykit.storage.base import Storage
from loyaltykit.storage.memory import MemoryStorage
from loyaltykit.storage.sql import SqlStorage
from loyaltykit.values import CustomerId

DATA = Path(__file__).parent / "data"
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


def storage_of(backend: str) -> Storage:
    return MemoryStorage() if backend == "memory" else SqlStorage.from_url("sqlite://")


def text_of(receipt: Receipt) -> str:
    """The receipt's record form as text: equal receipts may still differ in an
    instant's offset, which this shows."""
    return json.dumps(receipt_to_record(receipt), sort_keys=True)


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
@pytest.mark.parametrize("encode", [receipt_to_stored, receipt_to_record])
def test_every_receipt_comes_back_exactly(
    encode: Callable[[Receipt], object], backend: str
) -> None:
    storage = storage_of(backend)
    for receipt in receipts(Loyalty(PROGRAM, storage=storage)):
        stored = json.loads(json.dumps(encode(receipt)))  # as a backend keeps it
        with storage.unit_of_work() as uow:
            back = receipt_from_stored(stored, uow.ledger)
        assert back == receipt
        assert text_of(back) == text_of(receipt)
        assert [entry.occurred_at.utcoffset() for entry in back.entries] == [
            entry.occurred_at.utcoffset() for entry in receipt.entries
        ]


def test_the_stored_form_refers_to_the_entries_the_command_wrote() -> None:
    loyalty = Loyalty(PROGRAM)
    kept = {r.idempotency_key: receipt_to_stored(r) for r in receipts(loyalty)}
    assert kept["o1"]["e"] == [1]  # the receipt's own account: the seq alone
    assert kept["o3"]["e"] == [[1, "miles"]]  # another point type
    assert "t" not in kept["o1"]  # a UTC instant, read from the first entry
    # the transfer's credit to bob (recorded under no key): bob's account and seq
    assert kept["t1"]["e"] == [5, [1, "points", "bob"]]
    assert all(not isinstance(item, dict) for r in kept.values() for item in r["e"])


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_the_stored_form_leaves_to_its_record_what_the_record_holds(backend: str) -> None:
    # the record keeps the customer, key and command in fields of its own: the stored
    # receipt names them only where the receipt's differ, and reads them back from it
    storage = storage_of(backend)
    differing = set()
    for receipt in receipts(Loyalty(PROGRAM, storage=storage)):
        with storage.unit_of_work() as uow:
            key = receipt.idempotency_key
            assert key is not None
            record = uow.idempotency.get(receipt.customer_id, key)
            assert record is not None
            heading = Heading(record.customer_id, record.key, record.command)
            stored = record.outcome
            assert ("c" in stored) == (receipt.command != record.command)
            assert ("k" in stored) == (key != record.key)
            assert ("u" in stored) == (receipt.customer_id != record.customer_id)
            differing |= {"c", "k", "u"} & stored.keys()
            back = receipt_from_stored(stored, uow.ledger, heading)
            assert text_of(back) == text_of(receipt)
            if not {"c", "k", "u"} <= stored.keys():
                with pytest.raises(ValueError, match="heading"):
                    receipt_from_stored(stored, uow.ledger)
    assert differing == set()  # every sample receipt is its record's command's


def test_a_receipt_kept_under_another_heading_names_its_own() -> None:
    storage = MemoryStorage()
    receipt = receipts(Loyalty(PROGRAM, storage=storage))[0]
    other = Heading(CustomerId("bob"), "elsewhere", "adjust")
    stored = json.loads(json.dumps(receipt_to_stored(receipt, other)))
    assert (stored["c"], stored["k"], stored["u"]) == ("earn", "o1", "ann")
    with storage.unit_of_work() as uow:
        assert text_of(receipt_from_stored(stored, uow.ledger, other)) == text_of(receipt)
    # under its own heading it names none of them, and reads them from the heading
    own = receipt_to_stored(receipt, Heading(CustomerId("ann"), "o1", "earn"))
    assert not {"c", "k", "u"} & own.keys()


def test_a_referring_form_needs_the_ledger_and_the_entries_it_refers_to() -> None:
    receipt = receipts(Loyalty(PROGRAM))[0]
    stored = receipt_to_stored(receipt)
    with pytest.raises(ValueError, match="with the ledger"):
        receipt_from_stored(stored)
    # a ledger without the entry (a store restored without its ledger): refused, not
    # a receipt without its entries
    empty = MemoryStorage()
    with empty.unit_of_work() as uow, pytest.raises(ValueError, match="does not hold"):
        receipt_from_stored(stored, uow.ledger)


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_an_entry_dated_apart_from_its_command_is_read_back_exactly(backend: str) -> None:
    # the lot's expiry, settled inside a later command: an entry dated at the lot's
    # expiry and recorded under no key, then the earn
    shanghai_later = (T0 + timedelta(days=3)).astimezone(SHANGHAI)
    storage = storage_of(backend)
    loyalty = Loyalty(PROGRAM, storage=storage)
    loyalty.enroll("ann", at=T0, idempotency_key="e-ann")
    loyalty.earn("ann", 5, at=T0, idempotency_key="o1", expires_at=shanghai_later)
    receipt = loyalty.earn("ann", 1, at=T0 + timedelta(days=4), idempotency_key="o2")
    assert [entry.occurred_at for entry in receipt.entries] == [shanghai_later, receipt.at]
    stored = receipt_to_stored(receipt)
    assert receipt.entries[0].idempotency_key is None
    assert stored["e"] == [2, 3]
    with storage.unit_of_work() as uow:
        back = receipt_from_stored(json.loads(json.dumps(stored)), uow.ledger)
    assert back == receipt and text_of(back) == text_of(receipt)
    again = loyalty.earn("ann", 1, at=T0 + timedelta(days=4), idempotency_key="o2")
    assert again.replayed and text_of(again) == text_of(receipt)


def test_receipts_stored_in_version_2_read_back_exactly() -> None:
    # records that the previous version wrote (tests/storage/data/receipts_v2.json, made
    # from the receipts above), with the full record of the receipt each was made from
    written = json.loads((DATA / "receipts_v2.json").read_text())
    assert len(written) == len(receipts(Loyalty(PROGRAM)))
    for case in written:
        assert case["stored"]["v"] == 2
        back = receipt_from_stored(case["stored"])  # refers to nothing: no ledger
        assert back == receipt_from_record(case["record"])
        assert json.loads(json.dumps(receipt_to_record(back))) == case["record"]
        assert explanation_of(case["stored"]) == case["record"]["explanation"]


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_a_receipt_stored_in_version_2_still_replays(backend: str) -> None:
    storage = storage_of(backend)
    loyalty = Loyalty(PROGRAM, storage=storage)
    first = receipts(loyalty)
    written = json.loads((DATA / "receipts_v2.json").read_text())
    with storage.unit_of_work() as uow:
        for receipt in first:
            record = uow.idempotency.get(receipt.customer_id, receipt.idempotency_key)
            assert record is not None and record.outcome["v"] == 3
    # the same store, as the previous version left it: every outcome in version 2
    if isinstance(storage, MemoryStorage):
        keys = storage._state.key_rows  # the memory backend's key slots (storage.columns)
        for receipt, case in zip(first, written, strict=True):
            slot = storage._state.keys[receipt.customer_id][receipt.idempotency_key]
            kept = keys.record(slot)
            assert kept is not None
            command, recorded_at, fingerprint, _ = kept
            text = fingerprint.encode()
            keys.put_record(
                slot, command, recorded_at, text + json.dumps(case["stored"]).encode(), len(text)
            )
    else:
        with storage.engine.begin() as connection:
            for receipt, case in zip(first, written, strict=True):
                connection.execute(
                    sqlalchemy.text(
                        "UPDATE lk_idempotency SET outcome = :o WHERE customer_id = :c AND key = :k"
                    ),
                    {
                        "o": json.dumps(case["stored"]),
                        "c": receipt.customer_id,
                        "k": receipt.idempotency_key,
                    },
                )
    with storage.unit_of_work() as uow:
        for receipt in first:
            record = uow.idempotency.get(receipt.customer_id, receipt.idempotency_key)
            assert record is not None and record.outcome["v"] == 2
    again = receipts(Loyalty(PROGRAM, storage=storage))
    assert all(receipt.replayed for receipt in again)
    assert [text_of(receipt) for receipt in again] == [text_of(receipt) for receipt in first]


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
    with pytest.raises(ValueError, match="version 4"):
        receipt_from_stored({**receipt_to_stored(receipt), "v": 4})


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_a_receipt_stored_in_the_old_form_still_replays(backend: str) -> None:
    written = MemoryStorage()
    first = receipts(Loyalty(PROGRAM, storage=written))[0]
    with written.unit_of_work() as uow:
        record = uow.idempotency.get("ann", "o1")
    assert record is not None and record.outcome["v"] == 3
    # a store that an earlier version wrote: the same command's record, in full form
    storage = storage_of(backend)
    loyalty = Loyalty(PROGRAM, storage=storage)
    loyalty.enroll("ann", at=T0, idempotency_key="e-ann")
    with storage.unit_of_work() as uow:
        uow.idempotency.add(attrs.evolve(record, outcome=receipt_to_record(first)))
        uow.commit()
    again = loyalty.earn("ann", 50, at=T0, idempotency_key="o1", expires_at=T0 + timedelta(days=30))
    assert again.replayed and again == first
    assert loyalty.balance("ann").available == 0  # a replay, nothing posted
