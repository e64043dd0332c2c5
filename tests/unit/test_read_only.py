"""Queries run in read-only units of work: every pure read of the facade, and nothing
written in them (issue 19: reads must not take write locks)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from loyaltykit import Loyalty, Money, Program
from loyaltykit.domain.ledger import Account
from loyaltykit.errors import ReadOnlyViolation
from loyaltykit.storage import base
from loyaltykit.storage.base import read_unit_of_work
from loyaltykit.storage.memory import MemoryStorage
from loyaltykit.storage.read_only import LOCKING, READS

PROGRAMS = Path(__file__).resolve().parents[2] / "examples" / "programs"
AIRLINE = PROGRAMS / "airline.toml"
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)

# every repository method that is not a read: the read-only unit refuses these
WRITES = {
    "customers": {"add", "update"},
    "ledger": {"save_account", "add_entries", "save_lots"},
    "idempotency": {"add", "redact"},
    "state": {"put", "put_value"},
    "records": {"put"},
    "counters": {"take", "restore"},
    "stored_value": {"add", "update", "add_entries"},
    "cards": {"add", "update"},
}
PROTOCOLS = {
    "customers": base.CustomerRepository,
    "ledger": base.LedgerRepository,
    "idempotency": base.IdempotencyRepository,
    "state": base.CustomerStateRepository,
    "records": base.RecordRepository,
    "counters": base.CounterRepository,
    "stored_value": base.StoredValueRepository,
    "cards": base.CardRepository,
}


# the optional protocols a repository may implement too (the service looks for them)
OPTIONAL = {"state": base.KeptValues}


def _methods(protocol: type) -> set[str]:
    return {name for name in vars(protocol) if not name.startswith("_")}


def _method(repository: str, name: str) -> Any:
    optional = OPTIONAL.get(repository)
    if optional is not None and name in _methods(optional):
        return getattr(optional, name)
    return getattr(PROTOCOLS[repository], name)


@pytest.mark.parametrize("repository", sorted(PROTOCOLS))
def test_every_repository_method_is_a_read_or_a_known_write(repository: str) -> None:
    # a method added to a protocol must be classified here (and in READS if it reads)
    methods = _methods(PROTOCOLS[repository])
    if repository in OPTIONAL:
        methods |= _methods(OPTIONAL[repository])
    assert READS[repository] | WRITES[repository] == methods
    assert not READS[repository] & WRITES[repository]


def test_the_locking_reads_are_the_ones_with_for_update() -> None:
    found = set()
    for repository in PROTOCOLS:
        for method in READS[repository]:
            if "for_update" in _method(repository, method).__code__.co_varnames:
                found.add(f"{repository}.{method}")
    assert found == LOCKING


def test_a_read_only_unit_refuses_writes_locks_and_savepoints() -> None:
    storage = MemoryStorage()
    with read_unit_of_work(storage) as uow:
        with pytest.raises(ReadOnlyViolation, match=r"ledger\.save_account") as raised:
            uow.ledger.save_account(Account(customer_id="c1", point_type="points"))
        assert raised.value.operation == "ledger.save_account"
        with pytest.raises(ReadOnlyViolation, match=r"customers\.get\(for_update=True\)"):
            uow.customers.get("c1", for_update=True)
        with pytest.raises(ReadOnlyViolation, match="savepoint"):
            uow.savepoint()
        assert uow.customers.get("c1") is None
        assert uow.ledger.account("c1", "points") is None
    with storage.unit_of_work() as uow:
        assert uow.ledger.account("c1", "points") is None


class _Spy(MemoryStorage):
    """A memory store that refuses a writing unit of work while ``quiet``."""

    def __init__(self) -> None:
        super().__init__()
        self.quiet = False
        self.reads = 0
        self.code = ""  # the gift card's

    def unit_of_work(self) -> Any:
        assert not self.quiet, "a query opened a writing unit of work"
        return super().unit_of_work()

    def read_unit_of_work(self) -> Any:
        self.reads += 1
        return super().unit_of_work()

    @contextmanager
    def queries_only(self) -> Iterator[None]:
        self.quiet = True
        try:
            yield
        finally:
            self.quiet = False


@pytest.fixture
def airline() -> tuple[Loyalty, _Spy]:
    spy = _Spy()
    loyalty = Loyalty(Program.from_toml(AIRLINE), storage=spy, outbox=True)
    loyalty.enroll("ann", at=T0, idempotency_key="e-ann")
    loyalty.enroll("bob", at=T0, idempotency_key="e-bob", referred_by="ann")
    loyalty.earn("ann", 90_000, at=T0, point_type="miles", idempotency_key="m1")
    loyalty.redeem("ann", "lounge-visit", at=T0, idempotency_key="r1")
    card = loyalty.issue_stored_value(
        "gift_card", Money.of("50", "CNY"), holder="ann", at=T0, idempotency_key="g1"
    )
    spy.code = card.code
    return loyalty, spy


LATER = T0 + timedelta(days=3)
QUERIES: dict[str, Callable[[Loyalty, _Spy], object]] = {
    "customer": lambda lk, _: lk.customer("ann"),
    "balance": lambda lk, _: lk.balance("ann", point_type="miles"),
    "statement": lambda lk, _: lk.statement("ann", point_type="miles"),
    "tier": lambda lk, _: lk.tier("ann", at=LATER),
    "forecast": lambda lk, _: lk.forecast("ann", at=LATER),
    "offers": lambda lk, _: lk.offers("ann", at=LATER),
    "redemptions": lambda lk, _: lk.redemptions("ann"),
    "vouchers": lambda lk, _: lk.vouchers("ann"),
    "redemption_summary": lambda lk, _: lk.redemption_summary(),
    "points_liability": lambda lk, _: lk.points_liability(at=LATER, point_type="miles"),
    "segments": lambda lk, _: lk.segments(at=LATER),
    "churn_warnings": lambda lk, _: lk.churn_warnings(at=LATER),
    "referrals_of": lambda lk, _: lk.referrals_of("ann"),
    "consents": lambda lk, _: lk.consents("ann"),
    "notices": lambda lk, _: lk.notices("ann"),
    "flags": lambda lk, _: lk.flags("ann"),
    "complaints_of": lambda lk, _: lk.complaints_of("ann"),
    "all_complaints": lambda lk, _: lk.all_complaints(),
    "care_history": lambda lk, _: lk.care_history("ann"),
    "adjustment_requests": lambda lk, _: lk.adjustment_requests("ann"),
    "stored_value": lambda lk, spy: lk.stored_value(spy.code),
    "stored_value_entries": lambda lk, spy: lk.stored_value_entries(spy.code),
    "stored_value_of": lambda lk, _: lk.stored_value_of("ann"),
    "cards_of": lambda lk, _: lk.cards_of("ann"),
    "pending_events": lambda lk, _: lk.pending_events(),
    "export_member": lambda lk, _: lk.export_member("ann", at=LATER),
}


@pytest.mark.parametrize("query", sorted(QUERIES))
def test_a_query_opens_only_read_only_units(query: str, airline: tuple[Loyalty, _Spy]) -> None:
    loyalty, spy = airline
    with spy.queries_only():
        QUERIES[query](loyalty, spy)
    assert spy.reads >= 1


def test_the_stock_left_is_read_in_a_read_only_unit() -> None:
    spy = _Spy()
    loyalty = Loyalty(Program.from_toml(PROGRAMS / "retail.toml"), storage=spy)
    loyalty.enroll("ann", at=T0, idempotency_key="e-ann")
    loyalty.earn("ann", 10_000, at=T0, idempotency_key="fund")
    loyalty.redeem("ann", "jade-mug", at=T0, idempotency_key="mug")
    with spy.queries_only():
        assert loyalty.stock_left("jade-mug", at=LATER) == 199
    assert spy.reads == 1


def test_a_query_inside_a_batch_reads_the_batch_and_cannot_write_in_it() -> None:
    loyalty = Loyalty()
    loyalty.enroll("ann", at=T0, idempotency_key="e-ann")
    with loyalty.batch():
        loyalty.earn("ann", 7, at=T0, idempotency_key="o1")
        with loyalty.kernel.reading() as uow:
            account = uow.ledger.account("ann", "points")
            assert account is not None and account.available == 7
            with pytest.raises(ReadOnlyViolation):
                uow.ledger.save_account(account)
            with pytest.raises(ReadOnlyViolation):
                uow.savepoint()
    assert loyalty.balance("ann").available == 7
