"""A state machine: redemptions on a backend against a plain model, after every step.

Members redeem a gift (counted stock, a per-day limit), a coupon (one code per unit)
and a free gift; redemptions are fulfilled, cancelled, codes used, time passes. The
model is a few dicts; after every step the balances, the stock, the member limits and
the ledger invariants must agree with it. Runs on the memory backend and SQLite.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from loyaltykit import (
    Loyalty,
    MemoryStorage,
    Program,
    RedemptionLimit,
    Reward,
    RewardCatalog,
    Storage,
    VoucherTerms,
)
from loyaltykit.errors import (
    InsufficientPoints,
    LimitReached,
    OutOfStock,
    RedemptionClosed,
    VoucherNotValid,
)
from loyaltykit.storage.sql import SqlStorage
from loyaltykit.testing.invariants import ledger_violations

START = datetime(2026, 4, 1, 10, tzinfo=UTC)
CUSTOMERS = ("ann", "ben")
STOCK = 4
PER_DAY = 2
PRICES = {"gift": 30, "coupon": 20, "free": 0}
CATALOG = RewardCatalog.of(
    Reward(
        id="gift",
        kind="gift",
        price=PRICES["gift"],
        stock=STOCK,
        member_limits=(RedemptionLimit(count=PER_DAY, period="day"),),
    ),
    Reward(id="coupon", kind="coupon", price=PRICES["coupon"], voucher=VoucherTerms(length=8)),
    Reward(id="free", kind="gift"),
)


def redemption_machine(make_storage: Callable[[], Storage]) -> type[RuleBasedStateMachine]:
    """The machine class on storages made by ``make_storage``."""

    class RedemptionMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.storage = make_storage()
            self.loyalty = Loyalty(Program(catalog=CATALOG), storage=self.storage)
            self.now = START
            self.serial = 0
            self.balance = dict.fromkeys(CUSTOMERS, 150)
            self.taken = 0  # gift units held by live redemptions
            self.day_counts: dict[tuple[str, object], int] = {}
            # (customer, key) -> (reward, quantity, state)
            self.redemptions: dict[tuple[str, str], tuple[str, int, str]] = {}
            self.codes: dict[str, tuple[str, str]] = {}  # code -> (customer, key)
            for customer in CUSTOMERS:
                self.loyalty.enroll(customer, at=START, idempotency_key="enroll")
                self.loyalty.earn(customer, 150, at=START, idempotency_key="fund")

        def teardown(self) -> None:
            self.storage.close()

        def _key(self) -> str:
            self.serial += 1
            return f"k{self.serial}"

        @rule(hours=st.integers(min_value=1, max_value=30))
        def time_passes(self, hours: int) -> None:
            self.now += timedelta(hours=hours)

        @rule(
            customer=st.sampled_from(CUSTOMERS),
            reward=st.sampled_from(sorted(PRICES)),
            quantity=st.integers(min_value=1, max_value=3),
        )
        def redeem(self, customer: str, reward: str, quantity: int) -> None:
            key, day = self._key(), self.now.date()
            points = PRICES[reward] * quantity
            expected: type[Exception] | None = None
            if reward == "gift" and self.day_counts.get((customer, day), 0) + quantity > PER_DAY:
                expected = LimitReached
            elif reward == "gift" and self.taken + quantity > STOCK:
                expected = OutOfStock
            elif points > self.balance[customer]:
                expected = InsufficientPoints
            refused: type[Exception] | None = None
            try:
                made = self.loyalty.redeem(
                    customer, reward, quantity, at=self.now, idempotency_key=key
                )
            except (LimitReached, OutOfStock, InsufficientPoints) as error:
                refused = type(error)
            assert refused is expected, (refused, expected)
            if refused is not None:
                return
            assert made.points == points
            self.balance[customer] -= points
            if reward == "gift":
                self.taken += quantity
                self.day_counts[customer, day] = self.day_counts.get((customer, day), 0) + quantity
            self.redemptions[customer, key] = (reward, quantity, "reserved")
            assert len(made.vouchers) == (quantity if reward == "coupon" else 0)
            for code in made.vouchers:
                assert code not in self.codes
                self.codes[code] = (customer, key)

        def _pick(self, index: int) -> tuple[str, str] | None:
            if not self.redemptions:
                return None
            return sorted(self.redemptions)[index % len(self.redemptions)]

        @rule(index=st.integers(min_value=0, max_value=50))
        @precondition(lambda self: self.redemptions)
        def cancel(self, index: int) -> None:
            picked = self._pick(index)
            assert picked is not None
            customer, key = picked
            reward, quantity, state = self.redemptions[picked]
            used = any(owner == picked and self._used(code) for code, owner in self.codes.items())
            try:
                self.loyalty.cancel_redemption(
                    customer, key, at=self.now, idempotency_key=self._key()
                )
            except RedemptionClosed:
                assert state != "reserved" or used
                return
            assert state == "reserved" and not used
            self.redemptions[picked] = (reward, quantity, "cancelled")
            self.balance[customer] += PRICES[reward] * quantity
            if reward == "gift":
                self.taken -= quantity
                made = self.loyalty.redemption(customer, key).created_at.date()
                self.day_counts[customer, made] -= quantity

        def _used(self, code: str) -> bool:
            customer, _ = self.codes[code]
            check = self.loyalty.validate_voucher(customer, code, at=self.now)
            return check.voucher is not None and bool(check.voucher.used)

        @rule(index=st.integers(min_value=0, max_value=50))
        @precondition(lambda self: self.redemptions)
        def fulfil(self, index: int) -> None:
            picked = self._pick(index)
            assert picked is not None
            reward, quantity, state = self.redemptions[picked]
            try:
                self.loyalty.fulfil_redemption(
                    picked[0], picked[1], at=self.now, idempotency_key=self._key()
                )
            except RedemptionClosed:
                assert state != "reserved"
                return
            assert state == "reserved"
            self.redemptions[picked] = (reward, quantity, "fulfilled")

        @rule(index=st.integers(min_value=0, max_value=50), other=st.booleans())
        @precondition(lambda self: self.codes)
        def use_code(self, index: int, other: bool) -> None:
            code = sorted(self.codes)[index % len(self.codes)]
            owner, key = self.codes[code]
            presenter = next(c for c in CUSTOMERS if c != owner) if other else owner
            state = self.redemptions[owner, key][2]
            fresh = not self._used(code)
            accepted = True
            try:
                self.loyalty.use_voucher(presenter, code, at=self.now, idempotency_key=self._key())
            except VoucherNotValid:
                accepted = False
            assert accepted == (not other and state != "cancelled" and fresh)
            if not accepted:
                return
            siblings = [c for c, owned in self.codes.items() if owned == (owner, key)]
            if state == "reserved" and all(self._used(c) for c in siblings):
                reward, quantity, _ = self.redemptions[owner, key]
                self.redemptions[owner, key] = (reward, quantity, "fulfilled")

        @invariant()
        def agrees_with_the_model(self) -> None:
            for customer in CUSTOMERS:
                assert self.loyalty.balance(customer).available == self.balance[customer]
                assert ledger_violations(self.storage, customer, "points") == []
                stored = {
                    (customer, r.id): r.state.value for r in self.loyalty.redemptions(customer)
                }
                model = {k: v[2] for k, v in self.redemptions.items() if k[0] == customer}
                assert stored == model
            assert self.loyalty.stock_left("gift", at=self.now) == STOCK - self.taken
            assert all(0 <= n <= PER_DAY for n in self.day_counts.values())

    return RedemptionMachine


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_redemptions_agree_with_the_model(backend: str, tmp_path: Path) -> None:
    files = itertools.count()

    def make() -> Storage:
        if backend == "memory":
            return MemoryStorage()
        return SqlStorage.from_url(f"sqlite:///{tmp_path / f'machine-{next(files)}.db'}")

    machine = redemption_machine(make)
    machine.TestCase.settings = settings(
        max_examples=25 if backend == "memory" else 8,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    machine.TestCase().runTest()
