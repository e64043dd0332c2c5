"""A command that fails mid-way leaves the memory backend as if it had never run.

The memory backend keeps entries, lots and idempotency keys as rows updated in place
(``loyaltykit.storage.columns``), and the member's documents (activity, tier, metrics)
as the values the service decoded them into (``KeptValues``), and undoes a failed unit
of work from its log. Random
commands run on two stores; on the first, some of them fail after a random number of
writes (just before or just after one), and the second runs only the others. Everything
a reader can see of the two stores must be the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyaltykit import Item, Loyalty, Money, Program, Purchase
from loyaltykit.errors import LoyaltyError
from loyaltykit.formats.member import ACTIVITY, METRICS, TIER
from loyaltykit.service.members import load_member
from loyaltykit.storage.memory import MemoryStorage, MemoryUnitOfWork

T0 = datetime(2026, 1, 1, tzinfo=UTC)
CUSTOMERS = ("c0", "c1", "c2")
WRITES = {
    "customers": ("add", "update"),
    "ledger": ("add_entries", "save_lots", "save_account"),
    "idempotency": ("add", "redact"),
    "state": ("put", "put_value"),
    "records": ("put",),
    "counters": ("take", "restore"),
}


# caps (the activity document's counters), a first-purchase rule, and a tier ladder on
# spend (the tier and metrics documents): what a purchase keeps of its member
PROGRAM = Program.from_dict(
    {
        "name": "rollback",
        "timezone": "UTC",
        "currency": "CNY",
        "rules": [
            {"id": "base", "kind": "base_rate", "per": "10", "priority": 10},
            {"id": "welcome", "kind": "first_purchase", "amount": 50, "priority": 20},
        ],
        "caps": [
            {"id": "daily", "limit": 60, "period": "day"},
            {"id": "monthly", "limit": 150, "period": "month"},
        ],
        "tiers": {
            "version": "t1",
            "status_length": {"months": 1},
            "levels": [
                {"code": "blue", "rank": 0},
                {
                    "code": "gold",
                    "rank": 1,
                    "requirements": [
                        {
                            "metric": "spend",
                            "at_least": "600",
                            "window": {"kind": "rolling", "months": 1},
                        }
                    ],
                },
            ],
        },
    }
)


class Boom(Exception):
    """The failure injected into a unit of work."""


class FailingStorage(MemoryStorage):
    """A memory store whose next unit of work (that one only) fails at its
    ``fail_at``-th write (``before``: before the write is made, else just after)."""

    def __init__(self) -> None:
        super().__init__()
        # shared with the views the facade makes of the store (for_tenant copies it)
        self.plan: dict[str, Any] = {"fail_at": None, "before": True, "failed": 0}

    def unit_of_work(self) -> MemoryUnitOfWork:
        uow = super().unit_of_work()
        if self.plan["fail_at"] is None:
            return uow
        left = [self.plan["fail_at"]]
        before = self.plan["before"]
        self.plan["fail_at"] = None
        for name, methods in WRITES.items():
            repository = getattr(uow, name)
            for method in methods:
                setattr(repository, method, _failing(getattr(repository, method), left, before))
        return uow


def _failing(write: Callable[..., Any], left: list[int], before: bool) -> Callable[..., Any]:
    @wraps(write)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        left[0] -= 1
        if left[0] == 0 and before:
            raise Boom
        result = write(*args, **kwargs)
        if left[0] == 0:
            raise Boom
        return result

    return wrapper


@dataclass(frozen=True)
class Step:
    """One command: what it does, and where (if anywhere) it fails on the first store."""

    command: str
    customer: int
    other: int
    points: int
    days: int | None
    fail_at: int | None
    before: bool


steps = st.builds(
    Step,
    command=st.sampled_from(
        [
            "earn",
            "earn",
            "pending",
            "redeem",
            "adjust",
            "transfer",
            "reverse",
            "purchase",
            "purchase",
        ]
    ),
    customer=st.integers(0, len(CUSTOMERS) - 1),
    other=st.integers(0, len(CUSTOMERS) - 1),
    points=st.integers(1, 60),
    days=st.none() | st.integers(1, 20),
    fail_at=st.none() | st.integers(1, 8),
    before=st.booleans(),
)


def _run(loyalty: Loyalty, n: int, step: Step, keys: list[str]) -> None:
    at = T0 + timedelta(days=n)
    key = f"k{n}"
    customer, other = CUSTOMERS[step.customer], CUSTOMERS[step.other]
    expires_at = None if step.days is None else at + timedelta(days=step.days)
    try:
        if step.command == "earn":
            loyalty.earn(customer, step.points, at=at, idempotency_key=key, expires_at=expires_at)
        elif step.command == "pending":
            loyalty.earn(
                customer,
                step.points,
                at=at,
                idempotency_key=key,
                available_from=at + timedelta(days=2),
                expires_at=None if expires_at is None else expires_at + timedelta(days=2),
                reason="held",
                actor="pos-1",
                metadata={"order": key},
            )
        elif step.command == "redeem":
            loyalty.redeem_points(customer, step.points, at=at, idempotency_key=key)
        elif step.command == "adjust":
            loyalty.adjust(
                customer, -step.points, at=at, idempotency_key=key, reason="fix", actor="ops"
            )
        elif step.command == "transfer":
            loyalty.transfer(customer, other, step.points, at=at, idempotency_key=key)
        elif step.command == "purchase":
            purchase = Purchase(
                amount=Money.of(f"{step.points * 7}.50", "CNY"),
                items=(Item(sku="tee", category="clothes", quantity=1),),
            )
            loyalty.record_purchase(customer, purchase, at=at, idempotency_key=key)
        elif keys:
            original = keys[step.points % len(keys)]
            loyalty.reverse(customer, original, at=at, idempotency_key=key, portion="1/2")
        if n % 4 == 3:
            loyalty.expire_due(at=at)
            loyalty.release_pending(at=at)
    except LoyaltyError:
        pass


def _view(storage: MemoryStorage, keys: list[str], at: datetime) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    with storage.unit_of_work() as uow:
        for customer in CUSTOMERS:
            seen[f"{customer} customer"] = uow.customers.get(customer)
            # the documents as every backend stores them, and the member as decoded from
            # the values kept (the same member, whatever form a document is kept in)
            for name in (ACTIVITY, TIER, METRICS):
                seen[f"{customer} {name}"] = uow.state.get(customer, name)
            found = uow.customers.get(customer)
            if found is not None:
                seen[f"{customer} member"] = load_member(uow, found)
            seen[f"{customer} accounts"] = uow.ledger.accounts(customer)
            entries = uow.ledger.entries(customer, "points")
            seen[f"{customer} entries"] = entries
            seen[f"{customer} lots"] = uow.ledger.lots(customer, "points")
            seen[f"{customer} spendable"] = list(uow.ledger.spendable_lots(customer, "points", at))
            seen[f"{customer} due"] = sorted(
                uow.ledger.due_lots(customer, "points", at + timedelta(days=40)),
                key=lambda lot: lot.id,
            )
            seen[f"{customer} lots by id"] = sorted(
                uow.ledger.lots_by_id(customer, [c.lot_id for e in entries for c in e.lots]),
                key=lambda lot: lot.id,
            )
            seen[f"{customer} reversals"] = [
                uow.ledger.reversals_of(customer, entry.id) for entry in entries
            ]
            for key in keys:
                seen[f"{customer} {key} entries"] = uow.ledger.entries_by_key(customer, key)
                seen[f"{customer} {key} record"] = uow.idempotency.get(customer, key)
        for work in ("expire", "release"):
            seen[work] = sorted(
                uow.ledger.accounts_with_due_lots(at + timedelta(days=40), limit=100, work=work)
            )
    return seen


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(plan=st.lists(steps, min_size=1, max_size=14))
def test_failed_commands_leave_the_store_as_if_they_never_ran(plan: list[Step]) -> None:
    failing, clean = FailingStorage(), MemoryStorage()
    one, other = Loyalty(PROGRAM, storage=failing), Loyalty(PROGRAM, storage=clean)
    for loyalty in (one, other):
        for customer in CUSTOMERS:
            loyalty.enroll(customer, at=T0, idempotency_key=f"enrol-{customer}")
    kept: list[str] = []
    tried: list[str] = []
    for n, step in enumerate(plan, start=1):
        tried.append(f"k{n}")
        failing.plan.update(fail_at=step.fail_at, before=step.before)
        try:
            _run(one, n, step, kept)
        except Boom:
            failing.plan["failed"] += 1
            continue
        finally:
            failing.plan["fail_at"] = None
        _run(other, n, step, kept)
        kept.append(f"k{n}")
    at = T0 + timedelta(days=len(plan) + 1)
    assert _view(failing, tried, at) == _view(clean, tried, at)
