"""Several programmes in one store, as tests: the tenant part of the storage contract.

:class:`~loyaltykit.testing.conformance.StorageConformance` inherits these, so every
backend that runs the suite runs them too. They run on a backend that offers
:class:`~loyaltykit.storage.base.Tenancy` (a backend without it keeps the default
programme only, which the rest of the suite covers) and prove that two tenants of one
store share nothing: the same customer id, idempotency key, record lookup, counter name,
gift card code and card number live in both, apart.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from loyaltykit import Loyalty
from loyaltykit.domain.cards import MemberCard
from loyaltykit.domain.customer import Customer, Profile
from loyaltykit.domain.ledger import Account, Entry, EntryKind, Lot
from loyaltykit.domain.stored_value import (
    StoredValueAccount,
    StoredValueEntry,
    StoredValueEntryKind,
    StoredValueKind,
)
from loyaltykit.errors import InsufficientPoints, InvalidTenant
from loyaltykit.storage.base import (
    BulkExpiry,
    IdempotencyRecord,
    LedgerTotals,
    Storage,
    Tenancy,
    read_unit_of_work,
    tenant_of,
    tenant_storage,
)
from loyaltykit.testing.invariants import ledger_violations
from loyaltykit.testing.races import race_in_processes
from loyaltykit.values import DEFAULT_TENANT, Money

__all__ = ["TenantConformance", "redeem_in_a_tenant", "tenants_of"]

T0 = datetime(2026, 3, 1, 10, tzinfo=UTC)
LATER = T0 + timedelta(days=400)


def tenants_of(storage: Storage) -> tuple[Storage, Storage]:
    """Two tenants of ``storage``'s store, ``brand-a`` and ``brand-b`` (skips the test on a
    backend that keeps one programme)."""
    if not isinstance(storage, Tenancy):
        pytest.skip("the backend keeps one programme (it does not offer Tenancy)")
    return storage.for_tenant("brand-a"), storage.for_tenant("brand-b")


# the race: processes of two programmes redeem 10 points each from the same member id
RACERS = 4
FUNDS = {"brand-a": 20, "brand-b": 30}


def redeem_in_a_tenant(url: str, barrier: Any, number: int, results: Any) -> None:
    """A worker of the tenants' race (importable, for the ``spawn`` start method): open
    the store from its URL as one of two programmes (by ``number``), wait for every
    worker, redeem 10 points of ``shared`` under a key every programme uses too."""
    tenant = sorted(FUNDS)[number % 2]
    try:
        loyalty = Loyalty(storage=url, tenant=tenant)
    except Exception as error:  # report, don't leave the others at the barrier
        barrier.abort()
        results.put(f"cannot open {url!r}: {error!r}")
        return
    try:
        barrier.wait()
        loyalty.redeem_points("shared", 10, at=T0, idempotency_key=f"redeem-{number // 2}")
        results.put(f"{tenant} ok")
    except InsufficientPoints:
        results.put(f"{tenant} refused")
    except Exception as error:  # report, don't hang the parent
        results.put(f"error: {error!r}")
    finally:
        loyalty.close()


def _write_everything(storage: Storage, points: int) -> None:
    """Customer ``c1`` with one account, entry and lot of ``points``, a state document, a
    record with a lookup, a counter, an idempotency key, a gift card and a member card,
    every key the same whatever the tenant, every value told apart by ``points``."""
    cny = Money.of(points, "CNY")
    with storage.unit_of_work() as uow:
        uow.customers.add(Customer(id="c1", enrolled_at=T0, profile=Profile(name=f"n{points}")))
        uow.ledger.save_account(
            Account(
                customer_id="c1",
                point_type="points",
                available=points,
                lifetime_earned=points,
                last_seq=1,
                last_at=T0,
            )
        )
        uow.ledger.add_entries(
            [
                Entry(
                    customer_id="c1",
                    point_type="points",
                    seq=1,
                    kind=EntryKind.EARN,
                    amount=points,
                    occurred_at=T0,
                    recorded_at=T0,
                    idempotency_key="k1",
                    reason=f"earn {points}",
                )
            ]
        )
        uow.ledger.save_lots(
            [
                Lot(
                    customer_id="c1",
                    point_type="points",
                    seq=1,
                    index=0,
                    amount=points,
                    remaining=points,
                    earned_at=T0,
                    expires_at=T0 + timedelta(days=30),
                )
            ]
        )
        uow.state.put("c1", "counters", {"points": points}, due_at=T0 + timedelta(days=1))
        uow.records.put(
            "c1", "voucher", "v1", {"points": points}, due_at=T0 + timedelta(days=1), lookup="CODE"
        )
        uow.records.put("campaign:spring", "entry", "c1", {"points": points})
        assert uow.counters.take("stock:mug", points, limit=1000) == points
        uow.idempotency.add(
            IdempotencyRecord(
                customer_id="c1",
                key="k1",
                command="earn",
                fingerprint=f"f{points}",
                outcome={"points": points},
                recorded_at=T0,
            )
        )
        uow.stored_value.add(
            StoredValueAccount(
                code="GIFT0001",
                kind=StoredValueKind.GIFT_CARD,
                currency="CNY",
                holder="c1",
                issued_at=T0,
                expires_at=T0 + timedelta(days=30),
                balance=cny.quantize(),
                last_seq=1,
                last_at=T0,
            )
        )
        uow.stored_value.add_entries(
            [
                StoredValueEntry(
                    code="GIFT0001",
                    seq=1,
                    kind=StoredValueEntryKind.ISSUE,
                    amount=cny.quantize(),
                    balance=cny.quantize(),
                    at=T0,
                    idempotency_key="k1",
                )
            ]
        )
        uow.cards.add(MemberCard(number="6000000000000001", customer_id="c1", issued_at=T0))
        uow.commit()


def _seen(storage: Storage) -> dict[str, object]:
    """Everything of :func:`_write_everything` that ``storage`` reads back, by every
    kind of read: by key, by owner, by lookup, and the scans across customers."""
    due_at = T0 + timedelta(days=31)
    with read_unit_of_work(storage) as uow:
        customer = uow.customers.get("c1")
        account = uow.ledger.account("c1", "points")
        idempotency = uow.idempotency.get("c1", "k1")
        card = uow.stored_value.get("GIFT0001")
        member_card = uow.cards.get("6000000000000001")
        voucher = uow.records.find("voucher", "CODE")
        return {
            "customer": None if customer is None else customer.profile.name,
            "ids": uow.customers.ids(limit=10),
            "account": None if account is None else account.available,
            "accounts": [a.available for a in uow.ledger.accounts("c1")],
            "entries": [e.reason for e in uow.ledger.entries("c1", "points")],
            "by key": [e.amount for e in uow.ledger.entries_by_key("c1", "k1")],
            "lots": [lot.remaining for lot in uow.ledger.lots("c1", "points")],
            "lots by id": [lot.remaining for lot in uow.ledger.lots_by_id("c1", ["c1:points:1.0"])],
            "spendable": [lot.remaining for lot in uow.ledger.spendable_lots("c1", "points", T0)],
            "due lots": [lot.remaining for lot in uow.ledger.due_lots("c1", "points", due_at)],
            "expiring": uow.ledger.expiring("c1", "points", T0, due_at),
            "due accounts": uow.ledger.accounts_with_due_lots(due_at, limit=10, work="expire"),
            "state": uow.state.get("c1", "counters"),
            "state due": uow.state.due("counters", due_at, limit=10),
            "record": None if voucher is None else voucher.document,
            "of owner": [r.document for r in uow.records.of_owner("campaign:spring", "entry")],
            "records due": [r.document for r in uow.records.due("voucher", due_at, limit=10)],
            "scan": [r.document for r in uow.records.scan("voucher", limit=10)],
            "counter": uow.counters.value("stock:mug"),
            "idempotency": None if idempotency is None else idempotency.outcome,
            "gift card": None if card is None else str(card.balance.amount),
            "gift entries": [str(e.amount.amount) for e in uow.stored_value.entries("GIFT0001")],
            "gift by key": len(uow.stored_value.entries_by_key("GIFT0001", "k1")),
            "held": [c.code for c in uow.stored_value.of_holder("c1")],
            "gift due": uow.stored_value.due(due_at, limit=10),
            "member card": None if member_card is None else member_card.customer_id,
            "cards of": [c.number for c in uow.cards.of_customer("c1")],
        }


def _expected(points: int) -> dict[str, object]:
    cny = str(Money.of(points, "CNY").quantize().amount)
    return {
        "customer": f"n{points}",
        "ids": ["c1"],
        "account": points,
        "accounts": [points],
        "entries": [f"earn {points}"],
        "by key": [points],
        "lots": [points],
        "lots by id": [points],
        "spendable": [points],
        "due lots": [points],
        "expiring": points,
        "due accounts": [("c1", "points")],
        "state": {"points": points},
        "state due": ["c1"],
        "record": {"points": points},
        "of owner": [{"points": points}],
        "records due": [{"points": points}],
        "scan": [{"points": points}],
        "counter": points,
        "idempotency": {"points": points},
        "gift card": cny,
        "gift entries": [cny],
        "gift by key": 1,
        "held": ["GIFT0001"],
        "gift due": ["GIFT0001"],
        "member card": "c1",
        "cards of": ["6000000000000001"],
    }


NOTHING: dict[str, object] = {
    "customer": None,
    "ids": [],
    "account": None,
    "accounts": [],
    "entries": [],
    "by key": [],
    "lots": [],
    "lots by id": [],
    "spendable": [],
    "due lots": [],
    "expiring": 0,
    "due accounts": [],
    "state": None,
    "state due": [],
    "record": None,
    "of owner": [],
    "records due": [],
    "scan": [],
    "counter": 0,
    "idempotency": None,
    "gift card": None,
    "gift entries": [],
    "gift by key": 0,
    "held": [],
    "gift due": [],
    "member card": None,
    "cards of": [],
}


class TenantConformance:
    """Two tenants of one store are two stores. Subclasses provide ``storage``."""

    def test_a_storage_names_the_tenant_it_sees(self, storage: Storage) -> None:
        brand_a, brand_b = tenants_of(storage)
        assert tenant_of(storage) == DEFAULT_TENANT
        assert (tenant_of(brand_a), tenant_of(brand_b)) == ("brand-a", "brand-b")
        assert tenant_of(tenant_storage(brand_a, "brand-b")) == "brand-b"
        assert tenant_storage(brand_a, "brand-a") is brand_a
        assert tenant_of(tenant_storage(brand_a, DEFAULT_TENANT)) == DEFAULT_TENANT

    def test_every_repository_keeps_two_tenants_apart(self, storage: Storage) -> None:
        brand_a, brand_b = tenants_of(storage)
        _write_everything(brand_a, 100)
        assert _seen(brand_a) == _expected(100)
        assert _seen(brand_b) == NOTHING
        assert _seen(storage) == NOTHING  # the default tenant is a tenant like any other
        # the very same keys in a second tenant: no key is taken, nothing is shared
        _write_everything(brand_b, 7)
        assert _seen(brand_b) == _expected(7)
        assert _seen(brand_a) == _expected(100)
        assert _seen(tenant_storage(storage, "brand-a")) == _expected(100)  # a new view

    def test_a_rollback_in_one_tenant_leaves_the_other_alone(self, storage: Storage) -> None:
        brand_a, brand_b = tenants_of(storage)
        _write_everything(brand_a, 100)
        with brand_b.unit_of_work() as uow:
            uow.customers.add(Customer(id="c1", enrolled_at=T0))
            assert uow.counters.take("stock:mug", 5) == 5
            # no commit
        assert _seen(brand_b) == NOTHING
        assert _seen(brand_a) == _expected(100)

    def test_two_programmes_on_one_store_through_the_facade(self, storage: Storage) -> None:
        brand_a, brand_b = tenants_of(storage)
        a = Loyalty(storage=brand_a, outbox=True)
        b = Loyalty(storage=storage, tenant="brand-b", outbox=True)
        assert (a.tenant, b.tenant) == ("brand-a", "brand-b")
        for loyalty in (a, b):
            # the same sequence of card numbers and codes in both: none is taken
            loyalty.code_source = random.Random(7).choice
            loyalty.enroll("c1", at=T0, idempotency_key="enroll-c1")
        a.earn("c1", 300, at=T0, idempotency_key="o1", expires_at=T0 + timedelta(days=30))
        # the same key with other arguments is no conflict in another programme
        b.earn("c1", 40, at=T0, idempotency_key="o1")
        assert b.earn("c1", 40, at=T0, idempotency_key="o1").replayed
        a.redeem_points("c1", 100, at=T0 + timedelta(hours=1), idempotency_key="r1")
        assert (a.balance("c1").available, b.balance("c1").available) == (200, 40)
        assert [line.entry.amount for line in b.statement("c1").lines] == [40]
        card_a = a.issue_card("c1", at=T0, idempotency_key="card")
        card_b = b.issue_card("c1", at=T0, idempotency_key="card")
        assert card_a.number == card_b.number
        assert a.member_by_card(card_a.number) == b.member_by_card(card_b.number) == "c1"
        gift = Money.of("50", "CNY")
        code_a = a.issue_stored_value("gift_card", gift, at=T0, idempotency_key="g").code
        code_b = b.issue_stored_value("gift_card", gift, at=T0, idempotency_key="g").code
        assert code_a == code_b
        a.pay_with_stored_value(code_a, Money.of("20", "CNY"), at=T0, idempotency_key="pay")
        assert a.stored_value_balance(code_a, at=T0).balance == Money.of("30", "CNY")
        assert b.stored_value_balance(code_b, at=T0).balance == Money.of("50", "CNY")
        # batch jobs settle their own programme only
        assert b.expire_due(at=LATER).expired == 0
        assert b.expire_due(at=LATER).expired == 0
        assert a.expire_due(at=LATER).expired == 200
        assert (a.balance("c1").available, b.balance("c1").available) == (0, 40)
        # each outbox holds its own programme's events, and publishing one leaves the other
        events_a, events_b = a.pending_events(), b.pending_events()
        assert [e.id for e in events_a][:2] == ["c1:1", "c1:2"]
        assert len(events_a) > len(events_b) > 1
        assert a.mark_published(events_a) == len(events_a)
        assert a.pending_events() == ()
        assert b.pending_events() == events_b
        # the default programme of the store saw none of it
        assert Loyalty(storage=storage, outbox=True).pending_events() == ()
        for tenant in (brand_a, brand_b):
            assert ledger_violations(tenant, "c1", "points") == []

    def test_bulk_protocols_keep_to_their_tenant(self, storage: Storage) -> None:
        brand_a, brand_b = tenants_of(storage)
        _write_everything(brand_a, 100)
        _write_everything(brand_b, 7)
        if isinstance(brand_b, LedgerTotals):
            totals = brand_b.ledger_totals("points")
            assert [(row.customer_id, row.available) for row in totals] == [("c1", 7)]
        if isinstance(brand_b, BulkExpiry):
            chunk = brand_b.expire_in_bulk(T0 + timedelta(days=31), accounts=10)
            assert (chunk.accounts, chunk.points) == (1, 7)
            with brand_a.unit_of_work() as uow:
                account = uow.ledger.account("c1", "points")
                assert account is not None and account.available == 100
        assert _seen(brand_a) == _expected(100)

    def test_processes_of_two_programmes_race_apart(
        self, storage: Storage, storage_url: str | None
    ) -> None:
        tenants_of(storage)
        if not storage.capabilities.concurrent_processes or storage_url is None:
            pytest.skip("backend does not declare concurrent_processes")
        programmes = {tenant: Loyalty(storage=storage, tenant=tenant) for tenant in FUNDS}
        for tenant, loyalty in programmes.items():
            loyalty.enroll("shared", at=T0, idempotency_key="enroll-shared")
            loyalty.earn("shared", FUNDS[tenant], at=T0, idempotency_key="fund")
        outcomes = race_in_processes(redeem_in_a_tenant, (storage_url,), 2 * RACERS)
        expected = [
            f"{tenant} {outcome}"
            for tenant, funds in FUNDS.items()
            for outcome in ["ok"] * (funds // 10) + ["refused"] * (RACERS - funds // 10)
        ]
        assert outcomes == sorted(expected), outcomes
        for tenant, loyalty in programmes.items():
            assert loyalty.balance("shared").available == 0
            lines = loyalty.statement("shared").lines[1:]
            assert len(lines) == FUNDS[tenant] // 10, lines  # one entry per winner
            assert ledger_violations(tenant_storage(storage, tenant), "shared", "points") == []

    @pytest.mark.parametrize(
        ("key", "reason"),
        [
            ("", "non-empty"),
            ("x" * 65, "at most 64"),
            ("Brand-A", "lowercase"),
            ("brand a", "' ' at position 5"),
            ("-brand", "starting with a letter or a digit"),
            (None, "a string"),
        ],
    )
    def test_a_bad_tenant_key_is_refused_by_name(
        self, storage: Storage, key: object, reason: str
    ) -> None:
        if isinstance(storage, Tenancy):
            with pytest.raises(InvalidTenant, match=reason):
                storage.for_tenant(key)  # type: ignore[arg-type]
        with pytest.raises(InvalidTenant, match=reason):
            tenant_storage(storage, key)  # type: ignore[arg-type]
        if key is not None:  # Loyalty(tenant=None): the storage's own tenant
            with pytest.raises(InvalidTenant, match=reason):
                Loyalty(storage=storage, tenant=key)  # type: ignore[arg-type]
