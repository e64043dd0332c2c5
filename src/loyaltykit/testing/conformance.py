"""The storage contract as a test suite every backend runs unchanged.

Subclass :class:`StorageConformance` in a test module and give it a ``storage``
fixture that yields a fresh, empty backend::

    class TestMyBackend(StorageConformance):
        @pytest.fixture
        def storage(self):
            backend = MyStorage(...)
            yield backend
            backend.close()

Tests that need a capability (threads writing at once) are skipped unless the
backend's :class:`~loyaltykit.storage.base.Capabilities` declare it. A backend that
declares ``concurrent_processes`` must also give the suite a ``storage_url`` fixture: the
URL that opens the same (empty) store in another process, through the registry::

        @pytest.fixture
        def storage_url(self):
            return "mystore://localhost/test"

Tests of the optional bulk protocols (:class:`~loyaltykit.storage.base.BulkExpiry`,
:class:`~loyaltykit.storage.base.BulkRelease`) run only on a backend that offers them.
"""

from __future__ import annotations

import itertools
import json
import random
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest

from loyaltykit import Loyalty
from loyaltykit.domain.activity import Purchase
from loyaltykit.domain.complaint_records import MAX_COMPLAINT_BYTES, complaint_to_record
from loyaltykit.domain.complaints import MAX_COMPLAINT_STEPS
from loyaltykit.domain.customer import Customer, CustomerStatus, Profile
from loyaltykit.domain.feedback import Question, Survey
from loyaltykit.domain.ledger import Account, Entry, EntryKind, Lot, LotChange, RefundPolicy
from loyaltykit.errors import (
    ComplaintFull,
    ConcurrencyConflict,
    CustomerAlreadyExists,
    InsufficientPoints,
    InvalidAmount,
    InvalidArgument,
    OutOfOrder,
    ReadOnlyViolation,
)
from loyaltykit.formats.programs import Program
from loyaltykit.outcomes import SettlementReport
from loyaltykit.storage.base import (
    BulkChunk,
    BulkExpiry,
    BulkRelease,
    IdempotencyRecord,
    Storage,
    StoredRecord,
    read_unit_of_work,
)
from loyaltykit.storage.memory import MemoryStorage
from loyaltykit.testing import settlement
from loyaltykit.testing.invariants import ledger_violations
from loyaltykit.testing.races import race_in_processes
from loyaltykit.testing.stored_value_conformance import StoredValueConformance
from loyaltykit.testing.tenant_conformance import TenantConformance
from loyaltykit.values import (
    MAX_ACTOR_LENGTH,
    MAX_IDENTIFIER_LENGTH,
    MAX_LABEL_LENGTH,
    MAX_METADATA_ITEMS,
    MAX_METADATA_KEY_LENGTH,
    MAX_METADATA_VALUE_LENGTH,
    MAX_POINTS,
    MAX_TAGS,
    MAX_TEXT_LENGTH,
    Money,
)

__all__ = ["StorageConformance"]

T0 = datetime(2026, 3, 1, 10, tzinfo=UTC)
# a member with every kind of personal datum, and the values to look for after erasure
PERSONAL = Profile(
    name="Zhao Xiaoming 赵小明",
    email="zhao.xm@example.com",
    phone="+86 138 0013 8000",
    gender="male",
    birthday=date(1987, 11, 23),
    tags={"health-minded-zx", "family-zx"},
    attributes={"city": "Qingdao-zx"},
)
PERSONAL_VALUES = (
    "Zhao Xiaoming",
    "赵小明",
    "zhao.xm@example.com",
    "138 0013 8000",
    "1987-11-23",
    "11-23",
    "11/23",
    "23/11",
    "19871123",
    "1987",
    "health-minded-zx",
    "family-zx",
    "Qingdao-zx",
)
SHANGHAI = timezone(timedelta(hours=8))
WIDE = "\U0001f600"  # four bytes of UTF-8
NEW_YORK = ZoneInfo("America/New_York")
# 01:30 happens twice in New York on 2026-11-01: in EDT (05:30 UTC), then in EST (06:30 UTC)
FALL_BACK = datetime(2026, 11, 1, 1, 30, tzinfo=NEW_YORK)


def _lot(
    seq: int,
    *,
    remaining: int = 100,
    expires: int | None = None,
    pending_until: int | None = None,
    index: int = 0,
) -> Lot:
    return Lot(
        customer_id="c1",
        point_type="points",
        seq=seq,
        index=index,
        amount=100,
        remaining=remaining,
        earned_at=T0 + timedelta(minutes=seq),
        expires_at=None if expires is None else T0 + timedelta(days=expires),
        available_from=None if pending_until is None else T0 + timedelta(days=pending_until),
        pending=pending_until is not None,
    )


def _entry(seq: int, *, key: str | None = "k1", reverses: str | None = None) -> Entry:
    return Entry(
        customer_id="c1",
        point_type="points",
        seq=seq,
        kind=EntryKind.REVERSE if reverses else EntryKind.EARN,
        amount=100,
        occurred_at=T0.astimezone(SHANGHAI),
        recorded_at=T0,
        idempotency_key=key,
        reason="purchase",
        actor="pos-7",
        reverses=reverses,
        portion=Fraction(1, 3) if reverses else None,
        shortfall=2,
        lots=(LotChange(lot_id=f"c1:points:{seq}.0", delta=100),),
        metadata=(("order", "A-1"), ("store", 12)),
    )


PROCESSES = 16


def redeem_in_a_process(url: str, barrier: Any, number: int, results: Any) -> None:
    """A worker of :meth:`StorageConformance.test_processes_never_spend_the_same_points_twice`
    (importable, for the ``spawn`` start method): open the store from its URL, wait for
    every worker, redeem 10 points under this worker's own key, report the outcome."""
    try:
        loyalty = Loyalty(storage=url)
    except Exception as error:  # report, don't leave the others at the barrier
        barrier.abort()
        results.put(f"cannot open {url!r}: {error!r}")
        return
    try:
        barrier.wait()
        loyalty.redeem_points("shared", 10, at=T0, idempotency_key=f"redeem-{number}")
        results.put("ok")
    except InsufficientPoints:
        results.put("refused")
    except Exception as error:  # report, don't hang the parent
        results.put(f"error: {error!r}")
    finally:
        loyalty.close()


def _bulk_work(storage: Storage, work: str) -> Callable[..., BulkChunk]:
    """The backend's bulk method for ``work``; skips the test if it offers none."""
    if work == "expire" and isinstance(storage, BulkExpiry):
        return storage.expire_in_bulk
    if work == "release" and isinstance(storage, BulkRelease):
        return storage.release_in_bulk
    pytest.skip(f"backend does not offer {'BulkExpiry' if work == 'expire' else 'BulkRelease'}")


def _drain(bulk: Callable[..., BulkChunk], at: datetime, *, accounts: int) -> BulkChunk:
    """Every chunk until the backend finds nothing eligible, added up; each chunk must
    take at most ``accounts`` accounts and start after the previous one stopped."""
    total = BulkChunk()
    after = None
    for _ in range(10_000):  # more chunks than a test history has accounts: no progress
        chunk = bulk(at, accounts=accounts, after=after)
        if chunk.last is None:
            assert chunk == BulkChunk(), f"a chunk that found nothing reports work: {chunk}"
            return total
        assert 0 < chunk.accounts <= accounts, f"chunk of {chunk.accounts} accounts"
        assert after is None or chunk.last > after, f"chunk ended at {chunk.last}, after {after}"
        total = BulkChunk(
            accounts=total.accounts + chunk.accounts,
            entries=total.entries + chunk.entries,
            points=total.points + chunk.points,
            last=chunk.last,
        )
        after = chunk.last
    raise AssertionError(f"bulk chunks never ran out (last: {after})")


def _settle(loyalty: Loyalty, work: str, at: datetime) -> SettlementReport:
    return loyalty.expire_due(at=at) if work == "expire" else loyalty.release_pending(at=at)


def _points(report: SettlementReport, work: str) -> int:
    return report.expired if work == "expire" else report.released


class StorageConformance(StoredValueConformance, TenantConformance):
    """What every backend must do. Subclasses provide the ``storage`` fixture.

    Gift cards, wallets and member cards come from
    :class:`~loyaltykit.testing.stored_value_conformance.StoredValueConformance`; several
    programmes in one store from
    :class:`~loyaltykit.testing.tenant_conformance.TenantConformance`."""

    @pytest.fixture
    def storage(self) -> Storage:  # pragma: no cover - subclasses override it
        raise NotImplementedError("define a `storage` fixture yielding a fresh backend")

    @pytest.fixture
    def storage_url(self) -> str | None:
        """The URL that opens, in another process, the store ``storage`` yields; needed
        by a backend that declares ``concurrent_processes``. ``None``: no such URL."""
        return None

    @staticmethod
    def _customer(storage: Storage, customer_id: str = "c1") -> Customer:
        customer = Customer(
            id=customer_id,
            enrolled_at=T0,
            profile=Profile(name="Li Wei", tags={"family"}, attributes={"city": "Hangzhou"}),
        )
        with storage.unit_of_work() as uow:
            uow.customers.add(customer)
            uow.commit()
        return customer

    # --- customers ---------------------------------------------------------------------

    def test_customer_round_trips(self, storage: Storage) -> None:
        customer = self._customer(storage)
        with storage.unit_of_work() as uow:
            assert uow.customers.get("c1") == customer
            assert uow.customers.get("nobody") is None

    def test_customer_update_is_stored(self, storage: Storage) -> None:
        customer = self._customer(storage)
        changed = customer.suspended().with_profile(Profile(name="Li", birthday=None))
        with storage.unit_of_work() as uow:
            uow.customers.update(changed)
            uow.commit()
        with storage.unit_of_work() as uow:
            stored = uow.customers.get("c1", for_update=True)
        assert stored == changed
        assert stored is not None and stored.status is CustomerStatus.SUSPENDED

    def test_adding_a_taken_customer_id_raises(self, storage: Storage) -> None:
        self._customer(storage)
        with storage.unit_of_work() as uow, pytest.raises(CustomerAlreadyExists):
            uow.customers.add(Customer(id="c1", enrolled_at=T0))

    # --- units of work -------------------------------------------------------------------

    def test_leaving_without_commit_leaves_no_trace(self, storage: Storage) -> None:
        self._customer(storage)
        with storage.unit_of_work() as uow:
            uow.customers.add(Customer(id="c2", enrolled_at=T0))
            uow.ledger.save_account(
                Account(customer_id="c1", point_type="points", available=100, last_seq=1)
            )
            uow.ledger.add_entries([_entry(1)])
            uow.ledger.save_lots([_lot(1)])
            uow.idempotency.add(self._record("k1"))
        with storage.unit_of_work() as uow:
            assert uow.customers.get("c2") is None
            assert uow.ledger.account("c1", "points") is None
            assert uow.ledger.entries("c1", "points") == []
            assert uow.ledger.lots("c1", "points") == []
            assert uow.idempotency.get("c1", "k1") is None

    def test_an_exception_rolls_back(self, storage: Storage) -> None:
        self._customer(storage)

        def fail() -> None:
            with storage.unit_of_work() as uow:
                uow.ledger.save_lots([_lot(1)])
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom"):
            fail()
        with storage.unit_of_work() as uow:
            assert uow.ledger.lots("c1", "points") == []

    def test_rollback_restores_updated_rows(self, storage: Storage) -> None:
        self._customer(storage)
        with storage.unit_of_work() as uow:
            uow.ledger.save_lots([_lot(1)])
            uow.ledger.save_account(Account(customer_id="c1", point_type="points", available=100))
            uow.commit()
        with storage.unit_of_work() as uow:
            uow.ledger.save_lots([_lot(1, remaining=10)])
            uow.ledger.save_account(Account(customer_id="c1", point_type="points", available=10))
        with storage.unit_of_work() as uow:
            assert [lot.remaining for lot in uow.ledger.lots("c1", "points")] == [100]
            account = uow.ledger.account("c1", "points")
            assert account is not None and account.available == 100
            assert [lot.id for lot in uow.ledger.spendable_lots("c1", "points", T0)] == [
                "c1:points:1.0"
            ]

    def test_a_savepoint_undoes_only_what_came_after_it(self, storage: Storage) -> None:
        self._customer(storage)
        with storage.unit_of_work() as uow:
            uow.ledger.save_lots([_lot(1)])
            kept = uow.savepoint()
            uow.ledger.save_lots([_lot(2)])
            kept.release()
            undone = uow.savepoint()
            uow.ledger.save_lots([_lot(3), _lot(1, remaining=5)])
            uow.idempotency.add(self._record("k9"))
            undone.rollback()
            uow.ledger.save_lots([_lot(4)])
            uow.commit()
        with storage.unit_of_work() as uow:
            assert [(lot.seq, lot.remaining) for lot in uow.ledger.lots("c1", "points")] == [
                (1, 100),
                (2, 100),
                (4, 100),
            ]
            assert uow.idempotency.get("c1", "k9") is None

    # --- idempotency ----------------------------------------------------------------------

    @staticmethod
    def _record(key: str, command: str = "earn") -> IdempotencyRecord:
        return IdempotencyRecord(
            customer_id="c1",
            key=key,
            command=command,
            fingerprint="f" * 64,
            outcome={"entries": [1, 2], "note": "café", "nested": {"a": None}},
            recorded_at=T0,
        )

    def test_idempotency_records_round_trip_and_refuse_duplicates(self, storage: Storage) -> None:
        self._customer(storage)
        with storage.unit_of_work() as uow:
            uow.idempotency.add(self._record("k1"))
            uow.commit()
        with storage.unit_of_work() as uow:
            record = uow.idempotency.get("c1", "k1")
            assert record is not None
            assert record.outcome == {"entries": [1, 2], "note": "café", "nested": {"a": None}}
            assert record.recorded_at == T0 and record.command == "earn"
            with pytest.raises(ConcurrencyConflict):
                uow.idempotency.add(self._record("k1"))

    def test_redact_replaces_outcomes_of_the_named_commands(self, storage: Storage) -> None:
        self._customer(storage)
        with storage.unit_of_work() as uow:
            uow.idempotency.add(self._record("k1", "enroll"))
            uow.idempotency.add(self._record("k2", "earn"))
            uow.idempotency.redact("c1", {"enroll"})
            uow.commit()
        with storage.unit_of_work() as uow:
            first, second = uow.idempotency.get("c1", "k1"), uow.idempotency.get("c1", "k2")
        assert first is not None and first.outcome == {"redacted": True}
        assert second is not None and second.outcome["note"] == "café"

    # --- customer state documents -------------------------------------------------------

    def test_state_documents_round_trip_and_roll_back(self, storage: Storage) -> None:
        self._customer(storage)
        document = {"counters": {"cap:daily:2026-03-01": 15}, "purchases": 2, "tier": None}
        with storage.unit_of_work() as uow:
            uow.state.put("c1", "activity", document)
            uow.commit()
        with storage.unit_of_work() as uow:
            uow.state.put("c1", "activity", {"purchases": 99})
            uow.state.put("c1", "other", {"x": 1})
        with storage.unit_of_work() as uow:
            assert uow.state.get("c1", "activity") == document
            assert uow.state.get("c1", "other") is None
            assert uow.state.get("c2", "activity") is None

    def test_state_documents_that_fall_due_are_found(self, storage: Storage) -> None:
        for customer_id in ("c1", "c2", "c3"):
            self._customer(storage, customer_id)
        with storage.unit_of_work() as uow:
            uow.state.put("c1", "tier", {"t": 1}, due_at=T0 + timedelta(days=2))
            uow.state.put("c2", "tier", {"t": 2}, due_at=T0 + timedelta(days=1))
            uow.state.put("c3", "tier", {"t": 3})
            uow.state.put("c3", "other", {"t": 3}, due_at=T0)
            uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.state.due("tier", T0 + timedelta(days=3), limit=10) == ["c2", "c1"]
            assert uow.state.due("tier", T0 + timedelta(days=1), limit=10) == ["c2"]
            assert uow.state.due("tier", T0 + timedelta(days=3), limit=1) == ["c2"]
            uow.state.put("c2", "tier", {"t": 2}, due_at=T0 + timedelta(days=30))
            uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.state.due("tier", T0 + timedelta(days=3), limit=10) == ["c1"]

    def test_customer_ids_page_in_order(self, storage: Storage) -> None:
        for customer_id in ("c3", "c1", "c2"):
            self._customer(storage, customer_id)
        with storage.unit_of_work() as uow:
            assert uow.customers.ids(limit=2) == ["c1", "c2"]
            assert uow.customers.ids(after="c2", limit=2) == ["c3"]
            assert uow.customers.ids(after="c3", limit=2) == []

    # --- the ledger -----------------------------------------------------------------------

    def test_entries_round_trip_with_every_field(self, storage: Storage) -> None:
        self._customer(storage)
        entries = [_entry(1), _entry(2, key="k2", reverses="c1:points:1")]
        with storage.unit_of_work() as uow:
            uow.ledger.add_entries(entries)
            uow.commit()
        with storage.unit_of_work() as uow:
            stored = uow.ledger.entries("c1", "points")
            assert stored == entries
            assert all(entry.occurred_at.tzinfo is not None for entry in stored)
            assert uow.ledger.entries_by_key("c1", "k2") == [entries[1]]
            assert uow.ledger.reversals_of("c1", "c1:points:1") == [entries[1]]
            assert uow.ledger.entries_by_key("c1", "nope") == []
            assert uow.ledger.entries_by_seq("c1", "points", [2, 9, 1, 2]) == entries
            assert uow.ledger.entries_by_seq("c1", "points", [2]) == [entries[1]]
            assert uow.ledger.entries_by_seq("c1", "points", []) == []
            assert uow.ledger.entries_by_seq("c1", "miles", [1]) == []
            assert uow.ledger.entries_by_seq("c2", "points", [1]) == []

    def test_accounts_round_trip(self, storage: Storage) -> None:
        self._customer(storage)
        account = Account(
            customer_id="c1",
            point_type="points",
            available=-5,
            pending=7,
            deficit=5,
            lifetime_earned=2**40,
            lifetime_redeemed=3,
            lifetime_expired=4,
            last_seq=9,
            last_at=T0.astimezone(SHANGHAI),
        )
        other = Account(customer_id="c1", point_type="miles")
        with storage.unit_of_work() as uow:
            uow.ledger.save_account(account)
            uow.ledger.save_account(other)
            uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.ledger.account("c1", "points") == account
            assert uow.ledger.accounts("c1") == [other, account]
            assert uow.ledger.account("c1", "tier") is None

    def test_spendable_lots_come_in_spending_order(self, storage: Storage) -> None:
        self._customer(storage)
        lots = [
            _lot(1, expires=None),
            _lot(2, expires=30),
            _lot(3, expires=10),
            _lot(4, expires=10, index=1),
            _lot(5, expires=5, remaining=0),
            _lot(6, expires=3, pending_until=1),
            _lot(7, expires=1),
        ]
        with storage.unit_of_work() as uow:
            uow.ledger.save_lots(lots)
            uow.commit()
        with storage.unit_of_work() as uow:
            at = T0 + timedelta(days=2)  # lot 7 has expired by then
            order = [lot.id for lot in uow.ledger.spendable_lots("c1", "points", at)]
            assert order == ["c1:points:3.0", "c1:points:4.1", "c1:points:2.0", "c1:points:1.0"]
            found = uow.ledger.lots_by_id(
                "c1", ["c1:points:4.1", "c1:points:7.0", "c1:points:99.0"]
            )
            assert sorted(lot.id for lot in found) == ["c1:points:4.1", "c1:points:7.0"]
            assert uow.ledger.expiring("c1", "points", at, at + timedelta(days=20)) == 200

    def test_spendable_lots_of_a_big_account_come_in_order_and_stop_early(
        self, storage: Storage
    ) -> None:
        # more lots than a backend reads at once, with ties on expiry and on earning
        # instant, spent, pending and expired lots among them, and never-expiring ones
        self._customer(storage)
        lots = []
        for seq in range(1, 301):
            lot = _lot(
                seq,
                expires=None if seq % 7 == 0 else 3 + seq % 11,
                remaining=0 if seq % 13 == 0 else 100,
                pending_until=1 if seq % 17 == 0 else None,
                index=seq % 2,
            )
            if seq % 5 == 0:  # the same earning instant as its neighbour
                lot = attrs.evolve(lot, earned_at=T0 + timedelta(minutes=seq - 1))
            lots.append(lot)
        lots.append(_lot(301, expires=1))  # expired by the time of the reads
        with storage.unit_of_work() as uow:
            uow.ledger.save_lots(lots)
            uow.commit()
        at = T0 + timedelta(days=2)
        expected = sorted(
            (lot for lot in lots if lot.is_spendable(at)), key=lambda lot: lot.consumption_key
        )
        with storage.unit_of_work() as uow:
            assert list(uow.ledger.spendable_lots("c1", "points", at)) == expected
            first = iter(uow.ledger.spendable_lots("c1", "points", at))
            assert [next(first) for _ in range(3)] == expected[:3]
            # the unit of work goes on while the iterator is left where it stopped
            spent = attrs.evolve(expected[0], remaining=0)
            uow.ledger.save_lots([spent])
            assert list(uow.ledger.spendable_lots("c1", "points", at)) == expected[1:]
            uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.ledger.lots_by_id("c1", [spent.id]) == [spent]

    def test_a_read_unit_of_work_sees_what_was_committed(self, storage: Storage) -> None:
        customer = self._customer(storage)
        with storage.unit_of_work() as uow:
            uow.ledger.save_account(
                Account(customer_id="c1", point_type="points", available=100, last_seq=1)
            )
            uow.ledger.add_entries([_entry(1)])
            uow.commit()
        with read_unit_of_work(storage) as uow:
            assert uow.customers.get("c1") == customer
            account = uow.ledger.account("c1", "points")
            assert account is not None and account.available == 100
            assert uow.ledger.entries("c1", "points") == [_entry(1)]
        assert Loyalty(storage=storage).balance("c1").available == 100

    def test_a_read_unit_of_work_refuses_writes_and_locks(self, storage: Storage) -> None:
        customer = self._customer(storage)
        with read_unit_of_work(storage) as uow:
            with pytest.raises(ReadOnlyViolation, match=r"ledger\.save_account"):
                uow.ledger.save_account(Account(customer_id="c1", point_type="points"))
            with pytest.raises(ReadOnlyViolation, match=r"customers\.update"):
                uow.customers.update(attrs.evolve(customer, status=CustomerStatus.SUSPENDED))
            with pytest.raises(ReadOnlyViolation, match=r"for_update"):
                uow.customers.get("c1", for_update=True)
            with pytest.raises(ReadOnlyViolation, match=r"records\.put"):
                uow.records.put("c1", "note", "n1", {"text": "hello"})
            with pytest.raises(ReadOnlyViolation, match="savepoint"):
                uow.savepoint()
            assert uow.customers.get("c1") == customer  # its reads still answer
        with storage.unit_of_work() as uow:
            assert uow.customers.get("c1") == customer
            assert uow.ledger.account("c1", "points") is None
            assert uow.records.get("c1", "note", "n1") is None

    def test_a_read_is_not_kept_waiting_by_a_writer_holding_its_locks(
        self, storage: Storage, storage_url: str | None
    ) -> None:
        # another store on the same data (another process would do the same), so that
        # the writer's locks are a database's: on SQLite its write lock, elsewhere the
        # customer's row lock. A read that took either would wait for the writer.
        if not storage.capabilities.concurrent_processes or storage_url is None:
            pytest.skip("backend does not declare concurrent_processes")
        self._customer(storage)
        with storage.unit_of_work() as uow:
            uow.ledger.save_account(
                Account(customer_id="c1", point_type="points", available=5, last_seq=1)
            )
            uow.commit()
        reader = Loyalty(storage=storage_url)
        seen: list[object] = []

        def read() -> None:
            try:
                with read_unit_of_work(reader.storage) as uow:
                    account = uow.ledger.account("c1", "points")
                    seen.append(None if account is None else account.available)
                seen.append(reader.balance("c1").available)
                seen.append(reader.customer("c1").id)
            except BaseException as error:  # reported below
                seen.append(error)

        with storage.unit_of_work() as uow:
            assert uow.customers.get("c1", for_update=True) is not None
            uow.ledger.save_account(
                Account(customer_id="c1", point_type="points", available=9, last_seq=2)
            )
            thread = threading.Thread(target=read)
            thread.start()
            # the read answers while the writer still holds its locks (a lock wait
            # would outlast this join: SQLite's busy timeout is 30 s)
            thread.join(20)
            answered = not thread.is_alive()
            uow.commit()
        thread.join()
        reader.close()
        assert answered, "a read waited for a writer's lock"
        assert seen == [5, 5, "c1"]  # what was committed before the writer's change

    def test_due_lots_and_accounts_with_due_work(self, storage: Storage) -> None:
        self._customer(storage)
        self._customer(storage, "c2")
        lots = [
            _lot(1, expires=1),
            _lot(2, pending_until=2),
            _lot(3, expires=9),
            _lot(4, expires=1, remaining=0),
        ]
        with storage.unit_of_work() as uow:
            uow.ledger.save_lots(lots)
            uow.ledger.save_account(Account(customer_id="c1", point_type="points"))
            uow.commit()
        with storage.unit_of_work() as uow:
            at = T0 + timedelta(days=3)
            due = sorted(lot.id for lot in uow.ledger.due_lots("c1", "points", at))
            assert due == ["c1:points:1.0", "c1:points:2.0"]
            assert uow.ledger.accounts_with_due_lots(at, limit=10, work="expire") == [
                ("c1", "points")
            ]
            assert uow.ledger.accounts_with_due_lots(at, limit=10, work="release") == [
                ("c1", "points")
            ]
            early = T0 + timedelta(hours=1)
            assert uow.ledger.accounts_with_due_lots(early, limit=10, work="expire") == []

    # --- through the facade -------------------------------------------------------------

    def test_the_facade_runs_a_programme_on_this_backend(self, storage: Storage) -> None:
        loyalty = Loyalty(storage=storage)
        for customer in ("ann", "ben"):
            loyalty.enroll(customer, at=T0, idempotency_key=f"enroll-{customer}")
        loyalty.earn("ann", 300, at=T0, idempotency_key="o1", expires_at=T0 + timedelta(days=30))
        loyalty.earn("ann", 200, at=T0, idempotency_key="o2")
        loyalty.earn("ann", 50, at=T0, idempotency_key="o3", available_from=T0 + timedelta(days=7))
        loyalty.redeem_points("ann", 250, at=T0 + timedelta(days=1), idempotency_key="r1")
        loyalty.transfer("ann", "ben", 100, at=T0 + timedelta(days=2), idempotency_key="t1")
        loyalty.reverse(
            "ann", "o2", at=T0 + timedelta(days=3), idempotency_key="refund-o2", portion="1/2"
        )
        with pytest.raises(InsufficientPoints):
            loyalty.redeem_points("ann", 10_000, at=T0 + timedelta(days=3), idempotency_key="r2")
        released = loyalty.release_pending(at=T0 + timedelta(days=8))
        expired = loyalty.expire_due(at=T0 + timedelta(days=31))
        assert released.released == 50
        # ann spent all of o1; ben received 50 of o1 (expiring on day 30) and 50 of o2
        assert expired.expired == 50
        ann = loyalty.balance("ann")
        ben = loyalty.balance("ben")
        assert (ann.available, ann.pending) == (100, 0)
        assert (ben.available, ben.pending) == (50, 0)
        replay = loyalty.redeem_points("ann", 250, at=T0 + timedelta(days=1), idempotency_key="r1")
        assert replay.replayed and loyalty.balance("ann").available == 100
        for customer in ("ann", "ben"):
            assert ledger_violations(storage, customer, "points") == []

    def test_a_version_1_metrics_document_reads_as_the_history_it_held(
        self, storage: Storage
    ) -> None:
        """A metric history stored before version 2 (every day in one mapping per metric)
        still counts: a purchase on top of it reaches the tier its days and the purchase
        make together, and the history is written back in the new shape."""
        program = Program.from_dict(
            {
                "rules": [{"id": "base", "kind": "base_rate", "per": "10"}],
                "tiers": {
                    "levels": [
                        {"code": "member", "rank": 0},
                        {
                            "code": "silver",
                            "rank": 1,
                            "requirements": [{"metric": "spend", "at_least": "3000"}],
                        },
                    ]
                },
            }
        )
        loyalty = Loyalty(program, storage=storage)
        loyalty.enroll("old", at=T0, idempotency_key="enroll-old")
        spent = {(T0 + timedelta(days=n)).date().isoformat(): "1450.00" for n in (2, 37)}
        with storage.unit_of_work() as uow:
            uow.state.put(
                "old",
                "metrics",
                {"days": {"spend": spent}, "totals": {"spend": "2900.00"}, "gauges": {}},
            )
            uow.commit()
        at = T0 + timedelta(days=60)
        loyalty.record_purchase(
            "old", Purchase(amount=Money.of(200, "CNY")), at=at, idempotency_key="p1"
        )
        assert loyalty.tier("old", at=at).effective == "silver"
        with storage.unit_of_work() as uow:
            stored = uow.state.get("old", "metrics")
        assert stored is not None and stored["version"] == 2
        assert stored["totals"]["spend"] == "3100.00"

    def test_a_refused_command_leaves_no_trace(self, storage: Storage) -> None:
        loyalty = Loyalty(storage=storage)
        loyalty.enroll("ann", at=T0, idempotency_key="enroll-ann")
        loyalty.earn("ann", 100, at=T0, idempotency_key="o1", expires_at=T0 + timedelta(days=1))
        before = loyalty.statement("ann")
        with pytest.raises(InsufficientPoints):
            # settles the expired lot first, then refuses: the settlement is rolled back too
            loyalty.redeem_points("ann", 1, at=T0 + timedelta(days=2), idempotency_key="r1")
        assert loyalty.statement("ann") == before
        assert loyalty.balance("ann").available == 100

    def test_texts_at_their_limits_are_stored_unchanged(self, storage: Storage) -> None:
        # the widest characters (4 bytes of UTF-8) at every limit: what one backend
        # stores, every backend stores, and reads back equal (docs/reference/limits.md)
        wide = "\U0001f600"
        loyalty = Loyalty(storage=storage)
        customer = "c" * MAX_IDENTIFIER_LENGTH
        profile = Profile(
            name=wide * MAX_LABEL_LENGTH,
            email="e" * MAX_LABEL_LENGTH,
            tags={f"{n:02}" + wide * 62 for n in range(MAX_TAGS)},
            attributes={
                f"{n:02}" + "k" * (MAX_METADATA_KEY_LENGTH - 2): wide * MAX_METADATA_VALUE_LENGTH
                for n in range(MAX_METADATA_ITEMS)
            },
        )
        loyalty.enroll(customer, at=T0, idempotency_key="k" * 128, profile=profile)
        reason = ("\u4f60\u597d\n\t" + wide) * (MAX_TEXT_LENGTH // 5)
        actor = wide * MAX_ACTOR_LENGTH
        metadata = {f"{n:02}": wide * MAX_METADATA_VALUE_LENGTH for n in range(MAX_METADATA_ITEMS)}
        loyalty.earn(
            customer,
            10,
            at=T0,
            idempotency_key="earn-1",
            reason=reason,
            actor=actor,
            metadata=metadata,
        )
        assert loyalty.customer(customer).profile == profile
        (line,) = loyalty.statement(customer).lines
        assert (line.entry.reason, line.entry.actor) == (reason, actor)
        assert dict(line.entry.metadata) == metadata

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("actor", "a" * (MAX_ACTOR_LENGTH + 1)),
            ("actor", "a" * 300),
            ("actor", "agent\n7"),
            ("reason", "x" * (MAX_TEXT_LENGTH + 1)),
            ("reason", "x" * 1_000_000),
            ("reason", "nul \x00 inside"),
            ("reason", "a lone \ud800 surrogate"),
            ("reason", "bell \x07"),
            ("metadata", {"k": "\ud800"}),
            ("metadata", {"k": "v" * (MAX_METADATA_VALUE_LENGTH + 1)}),
            ("metadata", {f"k{n}": n for n in range(MAX_METADATA_ITEMS + 1)}),
            ("metadata", {"k": 2**63}),
            ("idempotency_key", "earn-1\n"),
            ("idempotency_key", "k" * (MAX_IDENTIFIER_LENGTH + 1)),
            ("at", datetime(1, 1, 1, tzinfo=SHANGHAI)),
            ("at", datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-8)))),
        ],
        ids=lambda value: value if isinstance(value, str) and len(value) < 20 else None,
    )
    def test_texts_past_their_limits_are_refused_before_storage(
        self, storage: Storage, field: str, value: object
    ) -> None:
        loyalty = Loyalty(storage=storage)
        loyalty.enroll("ann", at=T0, idempotency_key="enroll-ann")
        before = (loyalty.statement("ann"), loyalty.balance("ann"))
        arguments: dict[str, object] = {"at": T0, "idempotency_key": "earn-1", field: value}
        with pytest.raises(InvalidArgument):
            loyalty.earn("ann", 10, **arguments)  # type: ignore[arg-type]
        assert (loyalty.statement("ann"), loyalty.balance("ann")) == before

    @pytest.mark.parametrize(
        "customer_id", ["ann\n", "a" * (MAX_IDENTIFIER_LENGTH + 1), "ann\x00", "\ud800"]
    )
    def test_identifiers_past_their_limits_are_refused_before_storage(
        self, storage: Storage, customer_id: str
    ) -> None:
        loyalty = Loyalty(storage=storage)
        with pytest.raises(InvalidArgument):
            loyalty.enroll(customer_id, at=T0, idempotency_key="enroll-1")
        with pytest.raises(InvalidArgument):
            loyalty.enroll("ann", at=T0, idempotency_key="enroll-1", profile=Profile(name="\x00"))
        loyalty.enroll("ann", at=T0, idempotency_key="enroll-2")
        assert loyalty.customer("ann").profile == Profile()

    @pytest.mark.parametrize(
        ("actor", "note"), [("agent-7", ""), (WIDE * MAX_ACTOR_LENGTH, WIDE * MAX_TEXT_LENGTH)]
    )
    def test_a_complaint_is_bounded_before_storage(
        self, storage: Storage, actor: str, note: str
    ) -> None:
        # a complaint is one stored document: escalated and resumed again and again it
        # reaches MAX_COMPLAINT_STEPS (short steps) or MAX_COMPLAINT_BYTES (notes of the
        # widest characters) at the same step on every backend, and the refused step
        # changes nothing (docs/reference/limits.md)
        loyalty = Loyalty(storage=storage)
        loyalty.enroll("ann", at=T0, idempotency_key="enroll-ann")
        complaint = loyalty.file_complaint(
            "C-1",
            channel="hotline",
            category="service",
            content=WIDE * MAX_TEXT_LENGTH,
            at=T0,
            idempotency_key="file-1",
            actor=actor,
            customer_id="ann",
        )
        steps = itertools.cycle((loyalty.escalate_complaint, loyalty.resume_complaint))
        refused: ComplaintFull | None = None
        for n in range(MAX_COMPLAINT_STEPS + 1):
            step = next(steps)
            key = f"step-{n}"
            try:
                complaint = step("C-1", at=T0, idempotency_key=key, actor=actor, note=note)
            except ComplaintFull as error:
                refused = error
                break
            stored = json.dumps(
                complaint_to_record(complaint), separators=(",", ":"), ensure_ascii=False
            )
            assert len(stored.encode()) <= MAX_COMPLAINT_BYTES
        assert refused is not None and refused.complaint_id == "C-1"
        if not note:
            assert len(complaint.history) == MAX_COMPLAINT_STEPS
        else:
            assert "bytes" in refused.limit and len(complaint.history) < 10
        assert loyalty.complaint("C-1") == complaint
        # the refusal is not stored under its key either: the same call is refused again
        with pytest.raises(ComplaintFull):
            step("C-1", at=T0, idempotency_key=key, actor=actor, note=note)

    def test_a_batch_keeps_all_or_nothing_and_undoes_a_failed_command_alone(
        self, storage: Storage
    ) -> None:
        loyalty = Loyalty(storage=storage)
        with loyalty.batch():
            loyalty.enroll("ann", at=T0, idempotency_key="enroll-ann")
            loyalty.earn("ann", 30, at=T0, idempotency_key="o1")
            with pytest.raises(InsufficientPoints):
                loyalty.redeem_points("ann", 50, at=T0, idempotency_key="r1")
            loyalty.redeem_points("ann", 10, at=T0, idempotency_key="r2")
            assert loyalty.balance("ann").available == 20  # reads see the batch
        assert loyalty.balance("ann").available == 20
        assert [line.entry.idempotency_key for line in loyalty.statement("ann").lines] == [
            "o1",
            "r2",
        ]

        def failing_batch() -> None:
            with loyalty.batch():
                loyalty.earn("ann", 500, at=T0, idempotency_key="o2")
                raise RuntimeError("the caller gives up")

        with pytest.raises(RuntimeError, match="gives up"):
            failing_batch()
        assert loyalty.balance("ann").available == 20
        # the failed command's key is free: the command may be sent again
        assert loyalty.redeem_points("ann", 5, at=T0, idempotency_key="r1").balance.available == 15
        assert ledger_violations(storage, "ann", "points") == []

    # --- records and shared counters --------------------------------------------------

    def test_records_round_trip_replace_and_roll_back(self, storage: Storage) -> None:
        document = {"reward": "mug", "points": 300, "state": "reserved", "lines": [1, "两"]}
        with storage.unit_of_work() as uow:
            uow.records.put("c1", "redemption", "r-1", document, lookup="CODE-1")
            uow.commit()
        with storage.unit_of_work() as uow:
            found = uow.records.get("c1", "redemption", "r-1", for_update=True)
            assert found == StoredRecord(
                owner="c1", kind="redemption", id="r-1", document=document, lookup="CODE-1"
            )
            uow.records.put("c1", "redemption", "r-1", {"state": "cancelled"}, lookup="CODE-2")
            uow.records.put("c1", "redemption", "r-2", {"state": "reserved"})
            assert uow.records.find("redemption", "CODE-2") is not None
            assert uow.records.find("redemption", "CODE-1") is None
        # left without commit: the first version and its lookup are back
        with storage.unit_of_work() as uow:
            assert uow.records.get("c1", "redemption", "r-2") is None
            back = uow.records.find("redemption", "CODE-1")
            assert back is not None and back.document == document
            assert uow.records.find("redemption", "CODE-2") is None
            assert uow.records.get("c1", "complaint", "r-1") is None
            assert uow.records.get("c2", "redemption", "r-1") is None

    def test_record_lookups_are_unique_within_a_kind(self, storage: Storage) -> None:
        with storage.unit_of_work() as uow:
            uow.records.put("c1", "voucher", "v-1", {"n": 1}, lookup="X7K2")
            uow.records.put("c2", "complaint", "k-1", {"n": 2}, lookup="X7K2")  # other kind
            uow.commit()
        with storage.unit_of_work() as uow:
            found = uow.records.find("voucher", "X7K2")
            assert found is not None and (found.owner, found.id) == ("c1", "v-1")
            other = uow.records.find("complaint", "X7K2")
            assert other is not None and other.owner == "c2"
            uow.records.put("c1", "voucher", "v-1", {"n": 3}, lookup="X7K2")  # same record
            uow.commit()
        with pytest.raises(ConcurrencyConflict), storage.unit_of_work() as uow:
            uow.records.put("c9", "voucher", "v-9", {"n": 9}, lookup="X7K2")
        with storage.unit_of_work() as uow:
            assert uow.records.get("c9", "voucher", "v-9") is None
            found = uow.records.find("voucher", "X7K2")
            assert found is not None and found.document == {"n": 3}

    def test_records_by_owner_due_and_paged(self, storage: Storage) -> None:
        with storage.unit_of_work() as uow:
            uow.records.put("c2", "complaint", "k-b", {"n": 1}, due_at=T0 + timedelta(hours=2))
            uow.records.put("c1", "complaint", "k-c", {"n": 2}, due_at=T0 + timedelta(hours=1))
            uow.records.put("c1", "complaint", "k-a", {"n": 3})
            uow.records.put("c1", "survey", "s-1", {"n": 4}, due_at=T0)
            uow.records.put("campaign:spring", "draw", "d-1", {"n": 5})
            uow.commit()
        with storage.unit_of_work() as uow:
            assert [r.id for r in uow.records.of_owner("c1", "complaint")] == ["k-a", "k-c"]
            assert uow.records.of_owner("c3", "complaint") == []
            due = uow.records.due("complaint", T0 + timedelta(hours=3), limit=10)
            assert [(r.owner, r.id) for r in due] == [("c1", "k-c"), ("c2", "k-b")]
            assert due[0].due_at == T0 + timedelta(hours=1)
            assert [
                r.id for r in uow.records.due("complaint", T0 + timedelta(hours=1), limit=10)
            ] == ["k-c"]
            assert len(uow.records.due("complaint", T0 + timedelta(hours=3), limit=1)) == 1
            uow.records.put("c1", "complaint", "k-c", {"n": 2}, due_at=None)
            uow.commit()
        with storage.unit_of_work() as uow:
            assert [
                r.id for r in uow.records.due("complaint", T0 + timedelta(days=9), limit=9)
            ] == ["k-b"]
            first = uow.records.scan("complaint", limit=2)
            assert [(r.owner, r.id) for r in first] == [("c1", "k-a"), ("c1", "k-c")]
            rest = uow.records.scan("complaint", after=("c1", "k-c"), limit=2)
            assert [(r.owner, r.id) for r in rest] == [("c2", "k-b")]
            assert uow.records.scan("complaint", after=("c2", "k-b"), limit=2) == []
            assert [r.owner for r in uow.records.scan("draw", limit=5)] == ["campaign:spring"]

    def test_counters_take_within_limits_and_roll_back(self, storage: Storage) -> None:
        with storage.unit_of_work() as uow:
            assert uow.counters.value("stock:mug") == 0
            assert uow.counters.take("stock:mug", 3, limit=5) == 3
            assert uow.counters.take("stock:mug", 3, limit=5) == 0  # does not fit whole
            assert uow.counters.value("stock:mug") == 3
            assert uow.counters.take("stock:mug", 3, limit=5, partial=True) == 2
            assert uow.counters.take("stock:mug", 1, limit=5, partial=True) == 0
            assert uow.counters.take("budget:spring", 1000) == 1000  # no limit
            uow.commit()
        with storage.unit_of_work() as uow:
            uow.counters.restore("stock:mug", 2)
            assert uow.counters.value("stock:mug") == 3
            uow.counters.restore("stock:mug", 10)  # never below zero
            assert uow.counters.value("stock:mug") == 0
            assert uow.counters.take("stock:new", 1, limit=1) == 1
        with storage.unit_of_work() as uow:  # the unit above did not commit
            assert uow.counters.value("stock:mug") == 5
            assert uow.counters.value("stock:new") == 0
            assert uow.counters.value("budget:spring") == 1000
            with pytest.raises(InvalidAmount):
                uow.counters.take("stock:mug", 0, limit=9)
            with pytest.raises(InvalidAmount):
                uow.counters.restore("stock:mug", -1)

    def test_a_savepoint_undoes_records_and_counters(self, storage: Storage) -> None:
        with storage.unit_of_work() as uow:
            uow.records.put("c1", "redemption", "r-1", {"v": 1}, lookup="L1")
            uow.counters.take("stock:mug", 1, limit=3)
            savepoint = uow.savepoint()
            uow.records.put("c1", "redemption", "r-1", {"v": 2}, lookup="L2")
            uow.counters.take("stock:mug", 2, limit=3)
            savepoint.rollback()
            uow.commit()
        with storage.unit_of_work() as uow:
            found = uow.records.find("redemption", "L1")
            assert found is not None and found.document == {"v": 1}
            assert uow.counters.value("stock:mug") == 1

    def test_threads_never_take_the_last_unit_twice(self, storage: Storage) -> None:
        if not storage.capabilities.concurrent_threads:
            pytest.skip("backend does not declare concurrent_threads")
        taken: list[int] = []
        lock = threading.Lock()

        def take() -> None:
            for _ in range(20):
                try:
                    with storage.unit_of_work() as uow:
                        got = uow.counters.take("stock:last", 1, limit=5)
                        uow.commit()
                except ConcurrencyConflict:
                    continue  # a lost race changed nothing: try again
                with lock:
                    taken.append(got)
                return

        threads = [threading.Thread(target=take) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(taken) == [0, 0, 0, 1, 1, 1, 1, 1]
        with storage.unit_of_work() as uow:
            assert uow.counters.value("stock:last") == 5

    def test_the_outbox_keeps_one_event_per_committed_command(self, storage: Storage) -> None:
        loyalty = Loyalty(storage=storage, outbox=True)
        for name in ("bob", "ann"):
            loyalty.enroll(name, at=T0, idempotency_key=f"enroll-{name}")
        loyalty.earn("ann", 50, at=T0 + timedelta(hours=1), idempotency_key="o1")
        with pytest.raises(InsufficientPoints):
            loyalty.redeem_points("ann", 80, at=T0 + timedelta(hours=1), idempotency_key="r1")
        loyalty.redeem_points("ann", 20, at=T0 + timedelta(hours=2), idempotency_key="r2")
        events = loyalty.pending_events(limit=3)
        assert [e.id for e in events] == ["ann:1", "bob:1", "ann:2"]
        assert loyalty.mark_published(events[:2]) == 2
        assert [e.id for e in loyalty.pending_events()] == ["ann:2", "ann:3"]
        assert loyalty.relay(lambda event: None) == 2
        assert loyalty.pending_events() == ()

    def test_threads_never_spend_the_same_points_twice(self, storage: Storage) -> None:
        if not storage.capabilities.concurrent_threads:
            pytest.skip("backend does not declare concurrent_threads")
        loyalty = Loyalty(storage=storage)
        loyalty.enroll("ann", at=T0, idempotency_key="enroll-ann")
        loyalty.earn("ann", 50, at=T0, idempotency_key="o1")
        outcomes: list[str] = []

        def spend(number: int) -> None:
            try:
                loyalty.redeem_points("ann", 10, at=T0, idempotency_key=f"r{number}")
                outcomes.append("ok")
            except InsufficientPoints:
                outcomes.append("refused")

        threads = [threading.Thread(target=spend, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["ok"] * 5 + ["refused"] * 3
        assert loyalty.balance("ann").available == 0
        assert ledger_violations(storage, "ann", "points") == []

    def test_processes_never_spend_the_same_points_twice(
        self, storage: Storage, storage_url: str | None
    ) -> None:
        if not storage.capabilities.concurrent_processes:
            pytest.skip("backend does not declare concurrent_processes")
        if storage_url is None:
            pytest.fail(
                "the backend declares concurrent_processes: give the suite a `storage_url` "
                "fixture naming the same store, so that other processes can open it"
            )
        loyalty = Loyalty(storage=storage)
        loyalty.enroll("shared", at=T0, idempotency_key="enroll-shared")
        loyalty.earn("shared", 100, at=T0, idempotency_key="fund")
        outcomes = race_in_processes(redeem_in_a_process, (storage_url,), PROCESSES)
        assert outcomes == ["ok"] * 10 + ["refused"] * (PROCESSES - 10), outcomes
        assert loyalty.balance("shared").available == 0
        redeemed = [line.entry for line in loyalty.statement("shared").lines][1:]
        keys = {entry.idempotency_key for entry in redeemed}
        assert len(redeemed) == len(keys) == 10, redeemed  # one entry per winner
        assert keys <= {f"redeem-{n}" for n in range(PROCESSES)}
        assert all(entry.amount == -10 for entry in redeemed)
        assert ledger_violations(storage, "shared", "points") == []

    # --- the optional bulk protocols --------------------------------------------------

    @pytest.mark.parametrize("seed", range(8))
    @pytest.mark.parametrize("work", ["expire", "release"])
    def test_bulk_settlement_writes_what_per_account_settlement_writes(
        self, storage: Storage, work: str, seed: int
    ) -> None:
        bulk = _bulk_work(storage, work)
        rng = random.Random(f"{work}-{seed}")
        program = Program(refund_policy=rng.choice(list(RefundPolicy)))
        if work == "expire":
            steps = settlement.random_history(rng, size=rng.randint(5, 25))
        else:
            steps = settlement.random_history(
                rng,
                size=rng.randint(5, 25),
                actions=settlement.RELEASE_ACTIONS,
                customers=settlement.CUSTOMERS[:2],
                max_days=8,
            )
        reference = Loyalty(program, storage=MemoryStorage())
        tested = Loyalty(program, storage=storage)
        settlement.play(reference, steps)
        settlement.play(tested, steps)
        at = settlement.T0 + timedelta(days=rng.randint(1, 40 if work == "expire" else 12))
        done = _drain(bulk, at, accounts=rng.randint(1, 3))
        # what the bulk chunks left (accounts that need more than this one kind of work)
        # is settled one by one; together they must write what the reference writes
        expected, rest = _settle(reference, work, at), _settle(tested, work, at)
        assert settlement.snapshot(tested) == settlement.snapshot(reference)
        assert done.accounts + rest.accounts == expected.accounts
        assert done.entries + rest.entries == expected.entries
        assert done.points + _points(rest, work) == _points(expected, work)
        assert bulk(at, accounts=10) == BulkChunk()  # nothing is left: idempotent
        for customer in settlement.CUSTOMERS:
            assert ledger_violations(storage, customer, "points") == []

    @pytest.mark.parametrize("work", ["expire", "release"])
    def test_bulk_settlement_takes_every_eligible_account(
        self, storage: Storage, work: str
    ) -> None:
        # a bulk method that always answers "nothing eligible" passes the comparison above
        # (per-account settlement does the work); here every account is eligible
        bulk = _bulk_work(storage, work)
        loyalty = Loyalty(storage=storage)
        start = settlement.T0
        for customer in settlement.CUSTOMERS:
            loyalty.enroll(customer, at=start, idempotency_key=f"e-{customer}")
            for n in range(3):
                due = start + timedelta(days=n + 1)
                loyalty.earn(
                    customer,
                    10 + n,
                    at=start,
                    idempotency_key=f"{customer}-{n}",
                    expires_at=due if work == "expire" else None,
                    available_from=due if work == "release" else None,
                )
        at = start + timedelta(days=10)
        done = _drain(bulk, at, accounts=3)
        took = (done.accounts, done.entries, done.points)
        assert took == (4, 12, 4 * 33), f"bulk chunks took (accounts, entries, points) {took}"
        assert _settle(loyalty, work, at).accounts == 0
        for customer in settlement.CUSTOMERS:
            balance = loyalty.balance(customer)
            assert (balance.available, balance.pending) == ((0, 0) if work == "expire" else (33, 0))
            assert ledger_violations(storage, customer, "points") == []

    # --- instants and amounts at their edges ------------------------------------------

    def test_instants_across_a_dst_fall_back_compare_in_utc(self, storage: Storage) -> None:
        loyalty = Loyalty(storage=storage)
        first, second = FALL_BACK, FALL_BACK.replace(fold=1)
        loyalty.enroll("ann", at=first - timedelta(hours=1), idempotency_key="e-ann")
        # expires an hour later, although the wall clock shows the same time
        loyalty.earn("ann", 10, at=first, idempotency_key="o1", expires_at=second)
        # 01:45 EST expires after 01:50 EDT: the lot is still spendable then
        later = datetime(2026, 11, 1, 1, 45, fold=1, tzinfo=NEW_YORK)
        loyalty.earn("ann", 20, at=first, idempotency_key="o2", expires_at=later)
        spent = loyalty.redeem_points(
            "ann", 25, at=datetime(2026, 11, 1, 1, 50, tzinfo=NEW_YORK), idempotency_key="r1"
        )
        assert spent.balance.available == 5
        assert loyalty.balance("ann", at=datetime(2026, 11, 1, 6, 29, tzinfo=UTC)).available == 5
        assert loyalty.balance("ann", at=second).available == 5
        assert loyalty.balance("ann", at=later).available == 0
        assert loyalty.expire_due(at=datetime(2026, 11, 1, 6, 44, tzinfo=UTC)).expired == 0
        assert loyalty.expire_due(at=datetime(2026, 11, 1, 6, 45, tzinfo=UTC)).expired == 5
        assert loyalty.balance("ann").available == 0
        assert ledger_violations(storage, "ann", "points") == []

    def test_amounts_beyond_the_maximum_are_refused_up_front(self, storage: Storage) -> None:
        loyalty = Loyalty(storage=storage)
        loyalty.enroll("ann", at=T0, idempotency_key="e-ann")
        for huge in (MAX_POINTS + 1, 2**63, 10**30):
            with pytest.raises(InvalidAmount, match=str(huge)):
                loyalty.earn("ann", huge, at=T0, idempotency_key=f"o-{huge}")
            with pytest.raises(InvalidAmount, match=str(huge)):
                loyalty.adjust(
                    "ann", huge, at=T0, idempotency_key=f"a-{huge}", reason="x", actor="y"
                )
        loyalty.earn("ann", MAX_POINTS, at=T0, idempotency_key="o-max")
        # a balance that would pass the maximum is refused too, and changes nothing
        with pytest.raises(InvalidAmount, match="available"):
            loyalty.earn("ann", 1, at=T0, idempotency_key="o-one")
        assert loyalty.balance("ann").available == MAX_POINTS
        assert [line.entry.idempotency_key for line in loyalty.statement("ann").lines] == ["o-max"]
        with storage.unit_of_work() as uow:
            account = uow.ledger.account("ann", "points")
        assert account is not None and account.lifetime_earned == MAX_POINTS

    # --- identifiers and keys compare exactly -------------------------------------------

    # Case, accents, composed and decomposed forms, trailing spaces: every backend tells
    # them apart (MariaDB's default collation folds case and accents and pads spaces).
    DISTINCT_TEXTS = ("café", "cafe", "CAFÉ", "cafe\u0301", "cafe ", "Cafe")

    def test_customers_and_idempotency_keys_differ_by_case(self, storage: Storage) -> None:
        loyalty = Loyalty(storage=storage)
        loyalty.enroll("ALICE", at=T0, idempotency_key="e-1")
        loyalty.enroll("alice", at=T0, idempotency_key="e-1")  # another customer's key
        loyalty.earn("ALICE", 10, at=T0, idempotency_key="ORDER-1")
        second = loyalty.earn("ALICE", 20, at=T0, idempotency_key="order-1")
        assert not second.replayed
        loyalty.earn("alice", 5, at=T0, idempotency_key="ORDER-1")
        assert loyalty.balance("ALICE").available == 30
        assert loyalty.balance("alice").available == 5
        with storage.unit_of_work() as uow:
            assert uow.customers.ids(limit=5) == ["ALICE", "alice"]
            assert uow.customers.ids(after="ALICE", limit=5) == ["alice"]
            assert [e.amount for e in uow.ledger.entries_by_key("ALICE", "order-1")] == [20]
            assert uow.idempotency.get("ALICE", "Order-1") is None

    def test_records_counters_and_state_differ_by_case_and_accent(self, storage: Storage) -> None:
        texts = self.DISTINCT_TEXTS
        with storage.unit_of_work() as uow:
            for n, text in enumerate(texts):
                uow.records.put("c1", "voucher", text, {"n": n}, lookup=text)
                uow.records.put(text, "note", "r-1", {"n": n})
                uow.counters.take(f"stock:{text}", n + 1)
                uow.state.put("c1", text, {"n": n})
            uow.commit()
        with storage.unit_of_work() as uow:
            for n, text in enumerate(texts):
                found = uow.records.find("voucher", text)
                assert found is not None and found.document == {"n": n}, text
                record = uow.records.get("c1", "voucher", text)
                assert record is not None and record.document == {"n": n}, text
                assert [r.document for r in uow.records.of_owner(text, "note")] == [{"n": n}]
                assert uow.counters.value(f"stock:{text}") == n + 1, text
                assert uow.state.get("c1", text) == {"n": n}, text
            assert uow.records.find("voucher", "CAFE") is None
            scanned = [r.id for r in uow.records.scan("voucher", limit=10)]
            assert scanned == sorted(texts)  # code point order, as Python sorts

    # --- commands come in order ---------------------------------------------------------

    def test_a_command_dated_before_the_latest_entry_is_refused(self, storage: Storage) -> None:
        loyalty = Loyalty(storage=storage)
        loyalty.enroll("ann", at=T0, idempotency_key="e-ann")
        earned_at, backdated = T0 + timedelta(hours=2), T0 + timedelta(hours=1)
        loyalty.earn("ann", 100, at=earned_at, idempotency_key="o1")
        before = loyalty.statement("ann")
        # a redemption dated before the earn that funds it would make the past negative
        with pytest.raises(OutOfOrder) as refused:
            loyalty.redeem_points("ann", 60, at=backdated, idempotency_key="r1")
        assert (refused.value.at, refused.value.latest) == (backdated, earned_at)
        assert backdated.isoformat() in str(refused.value)
        assert earned_at.isoformat() in str(refused.value)
        with pytest.raises(OutOfOrder):
            loyalty.earn("ann", 5, at=backdated, idempotency_key="o2")
        assert loyalty.statement("ann") == before
        # nothing was kept under the key: the command may be sent again, dated now
        loyalty.redeem_points("ann", 60, at=earned_at, idempotency_key="r1")
        assert loyalty.balance("ann", at=backdated).available == 0
        assert [line.available for line in loyalty.statement("ann").lines] == [100, 40]
        with storage.unit_of_work() as uow:
            account = uow.ledger.account("ann", "points")
        assert account is not None and account.last_at == earned_at
        assert ledger_violations(storage, "ann", "points") == []

    def test_a_command_within_the_clock_skew_takes_effect_at_the_latest_entry(
        self, storage: Storage
    ) -> None:
        loyalty = Loyalty(Program(clock_skew=timedelta(minutes=5)), storage=storage)
        loyalty.enroll("ann", at=T0, idempotency_key="e-ann")
        latest = T0 + timedelta(hours=1)
        loyalty.earn("ann", 100, at=latest, idempotency_key="o1")
        late_till = latest - timedelta(minutes=3)
        spent = loyalty.redeem_points("ann", 60, at=late_till, idempotency_key="r1")
        (entry,) = spent.entries
        assert (entry.occurred_at, entry.recorded_at) == (latest, late_till)
        assert loyalty.balance("ann", at=latest - timedelta(minutes=1)).available == 0
        assert loyalty.balance("ann", at=latest).available == 40
        with pytest.raises(OutOfOrder):
            loyalty.redeem_points("ann", 1, at=latest - timedelta(minutes=6), idempotency_key="r2")
        assert ledger_violations(storage, "ann", "points") == []

    def test_batch_settlement_moves_the_latest_entry_forward(self, storage: Storage) -> None:
        loyalty = Loyalty(storage=storage)
        loyalty.enroll("ann", at=T0, idempotency_key="e-ann")
        expiry = T0 + timedelta(days=1)
        loyalty.earn("ann", 30, at=T0, idempotency_key="o1", expires_at=expiry)
        assert loyalty.expire_due(at=T0 + timedelta(days=2)).expired == 30
        with storage.unit_of_work() as uow:
            account = uow.ledger.account("ann", "points")
        assert account is not None and account.last_at == expiry
        with pytest.raises(OutOfOrder):
            loyalty.earn("ann", 5, at=T0 + timedelta(hours=12), idempotency_key="o2")
        loyalty.earn("ann", 5, at=expiry, idempotency_key="o2")
        assert loyalty.balance("ann").available == 5

    def test_a_purchase_dated_before_enrolment_earns_nothing(self, storage: Storage) -> None:
        program = Program.from_dict({"rules": [{"id": "base", "kind": "base_rate", "per": "10"}]})
        loyalty = Loyalty(program, storage=storage)
        loyalty.enroll("ann", at=T0, idempotency_key="e-ann")
        before_joining = T0 - timedelta(days=1)
        with pytest.raises(OutOfOrder, match="enrolment") as refused:
            loyalty.record_purchase(
                "ann",
                Purchase(amount=Money.of(500, "CNY")),
                at=before_joining,
                idempotency_key="p1",
            )
        assert (refused.value.at, refused.value.latest) == (before_joining, T0)
        assert loyalty.statement("ann").lines == ()
        receipt = loyalty.record_purchase(
            "ann", Purchase(amount=Money.of(500, "CNY")), at=T0, idempotency_key="p1"
        )
        assert receipt.balance.available == 50

    # --- erasure ------------------------------------------------------------------------

    @staticmethod
    def personal_lifecycle(
        loyalty: Loyalty, customer_id: str = "zx", *, erase: bool = True
    ) -> list[str]:
        """Enrol a member with a full profile, take a survey with their tags, give the
        birthday care (points, a care record, an outbox event), erase them. Returns the
        idempotency keys used for the member."""
        shanghai = timezone(timedelta(hours=8))
        loyalty.enroll(customer_id, at=T0, idempotency_key="e-zx", profile=PERSONAL)
        survey = Survey(
            id="nps",
            title="Would you recommend us?",
            questions=(Question.nps("nps", "How likely are you to recommend us?"),),
        )
        loyalty.publish_survey(survey, at=T0, idempotency_key="publish-nps")
        loyalty.submit_survey_response(
            customer_id, "nps", {"nps": 9}, at=T0, idempotency_key="s-zx"
        )
        report = loyalty.run_due(at=datetime(2026, 11, 25, 10, tzinfo=shanghai))
        assert [action.kind for action in report.care] == ["birthday"]
        if erase:
            loyalty.erase(
                customer_id, at=datetime(2026, 11, 26, tzinfo=UTC), idempotency_key="x-zx"
            )
        return ["e-zx", "s-zx", "x-zx"]

    @staticmethod
    def stored_text(storage: Storage, customer_id: str, keys: list[str]) -> str:
        """Everything the storage keeps about ``customer_id``, as one text."""
        found: list[object] = []
        with storage.unit_of_work() as uow:
            found.append(repr(uow.customers.get(customer_id)))
            for account in uow.ledger.accounts(customer_id):
                for entry in uow.ledger.entries(customer_id, account.point_type):
                    found.append((entry.reason, entry.metadata, entry.actor))
            for kind in ("care", "outbox", "survey_response", "complaint", "redemption"):
                after: tuple[str, str] | None = None
                while page := uow.records.scan(kind, after=after, limit=50):
                    found.extend((r.owner, r.id, r.document, r.lookup, r.due_at) for r in page)
                    after = (page[-1].owner, page[-1].id)
            for name in ("activity", "tier", "metrics", "outbox", "referrals"):
                found.append(uow.state.get(customer_id, name))
            for key in keys:
                record = uow.idempotency.get(customer_id, key)
                found.append(None if record is None else record.outcome)
        return json.dumps(found, default=str, ensure_ascii=False)

    def test_erasure_leaves_no_personal_value_in_storage(self, storage: Storage) -> None:
        program = Program.from_dict(
            {"timezone": "Asia/Shanghai", "care": {"birthday": {"points": 100, "gift": "cake"}}}
        )
        loyalty = Loyalty(program, storage=storage, outbox=True)
        keys = self.personal_lifecycle(loyalty)
        text = self.stored_text(storage, "zx", keys)
        left = [value for value in PERSONAL_VALUES if value in text]
        assert left == [], f"personal data left after erasure: {left}"
        # the member's care points stay in the ledger, with a reason that names no date
        assert loyalty.balance("zx").available == 100
        assert "care birthday" in text
