"""A state machine: redemptions on a backend against a plain model, after every step.

Members redeem a gift (counted stock, a per-day limit), a coupon (one code per unit)
and a free gift; redemptions are fulfilled, cancelled, codes used (by their owner or
someone else), time passes. The model is a few dicts; after every step the balances,
the stock, the member limits, the redemption states and the ledger invariants must
agree with it. Written like :class:`~loyaltykit.testing.stateful.LedgerMachine`: an
``@initialize`` step, a ``Bundle`` of redemptions made, ``assume`` where a draw makes
no sense. Run it on your backend::

    class MyBackendRedemptions(RedemptionMachine):
        def make_storage(self) -> Storage:
            return MyStorage.fresh()

    TestMyBackendRedemptions = MyBackendRedemptions.TestCase
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import attrs
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
)

from loyaltykit.bootstrap import Loyalty
from loyaltykit.domain.rewards import RedemptionLimit, Reward, RewardCatalog, VoucherTerms
from loyaltykit.errors import (
    InsufficientPoints,
    LimitReached,
    OutOfStock,
    RedemptionClosed,
    VoucherNotValid,
)
from loyaltykit.policy.program import Program
from loyaltykit.storage.base import Storage
from loyaltykit.storage.memory import MemoryStorage
from loyaltykit.testing.invariants import ledger_violations

__all__ = ["CATALOG", "Made", "RedemptionMachine", "redemption_machine"]

START = datetime(2026, 4, 1, 10, tzinfo=UTC)
CUSTOMERS = ("ann", "ben")
FUNDS = 150
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
"""The machine's catalogue: a stocked gift with a per-day limit, a coupon, a free gift."""


@attrs.frozen
class Made:
    """A redemption the machine made: who, its id (the idempotency key), what, how many."""

    customer: str
    key: str
    reward: str
    quantity: int


class RedemptionMachine(RuleBasedStateMachine):
    """Redemptions on a backend against a plain model (see the module docstring).

    Override :meth:`make_storage` for your backend (a fresh, empty store per run).
    """

    redemptions = Bundle("redemptions")

    def __init__(self) -> None:
        super().__init__()
        self.storage = self.make_storage()
        self.loyalty = Loyalty(Program(catalog=CATALOG), storage=self.storage)
        self.now = START
        self.serial = 0
        self.balance = dict.fromkeys(CUSTOMERS, FUNDS)
        self.taken = 0  # gift units held by live redemptions
        self.day_counts: dict[tuple[str, date], int] = {}
        self.states: dict[tuple[str, str], str] = {}  # (customer, key) -> state
        self.codes: dict[str, Made] = {}

    def make_storage(self) -> Storage:
        """A fresh, empty storage for one run (the memory backend by default)."""
        return MemoryStorage()

    def teardown(self) -> None:
        self.storage.close()

    def _key(self) -> str:
        self.serial += 1
        return f"k{self.serial}"

    @initialize()
    def fund_the_members(self) -> None:
        for customer in CUSTOMERS:
            self.loyalty.enroll(customer, at=START, idempotency_key="enroll")
            self.loyalty.earn(customer, FUNDS, at=START, idempotency_key="fund")

    @rule(hours=st.integers(min_value=1, max_value=30))
    def time_passes(self, hours: int) -> None:
        self.now += timedelta(hours=hours)

    @rule(
        target=redemptions,
        customer=st.sampled_from(CUSTOMERS),
        reward=st.sampled_from(sorted(PRICES)),
        quantity=st.integers(min_value=1, max_value=3),
    )
    def redeem(self, customer: str, reward: str, quantity: int) -> Any:
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
            made = self.loyalty.redeem(customer, reward, quantity, at=self.now, idempotency_key=key)
        except (LimitReached, OutOfStock, InsufficientPoints) as error:
            refused = type(error)
        assert refused is expected, (refused, expected)
        if refused is not None:
            return multiple()
        assert made.points == points
        self.balance[customer] -= points
        if reward == "gift":
            self.taken += quantity
            self.day_counts[customer, day] = self.day_counts.get((customer, day), 0) + quantity
        self.states[customer, key] = "reserved"
        redemption = Made(customer, key, reward, quantity)
        assert len(made.vouchers) == (quantity if reward == "coupon" else 0)
        for code in made.vouchers:
            assert code not in self.codes
            self.codes[code] = redemption
        return redemption

    def _used(self, code: str) -> bool:
        check = self.loyalty.validate_voucher(self.codes[code].customer, code, at=self.now)
        return check.voucher is not None and bool(check.voucher.used)

    @rule(made=redemptions)
    def cancel(self, made: Made) -> None:
        state = self.states[made.customer, made.key]
        used = any(owner == made and self._used(code) for code, owner in self.codes.items())
        try:
            self.loyalty.cancel_redemption(
                made.customer, made.key, at=self.now, idempotency_key=self._key()
            )
        except RedemptionClosed:
            assert state != "reserved" or used
            return  # refused, as the model says it must be
        assert state == "reserved" and not used
        self.states[made.customer, made.key] = "cancelled"
        self.balance[made.customer] += PRICES[made.reward] * made.quantity
        if made.reward == "gift":
            self.taken -= made.quantity
            created = self.loyalty.redemption(made.customer, made.key).created_at.date()
            self.day_counts[made.customer, created] -= made.quantity

    @rule(made=redemptions)
    def fulfil(self, made: Made) -> None:
        state = self.states[made.customer, made.key]
        try:
            self.loyalty.fulfil_redemption(
                made.customer, made.key, at=self.now, idempotency_key=self._key()
            )
        except RedemptionClosed:
            assert state != "reserved"
            return  # refused, as the model says it must be
        assert state == "reserved"
        self.states[made.customer, made.key] = "fulfilled"

    @rule(data=st.data(), other=st.booleans())
    def use_code(self, data: st.DataObject, other: bool) -> None:
        assume(self.codes)
        code = data.draw(st.sampled_from(sorted(self.codes)), label="code")
        made = self.codes[code]
        presenter = next(c for c in CUSTOMERS if c != made.customer) if other else made.customer
        state = self.states[made.customer, made.key]
        fresh = not self._used(code)
        try:
            self.loyalty.use_voucher(presenter, code, at=self.now, idempotency_key=self._key())
        except VoucherNotValid:
            assert other or state == "cancelled" or not fresh
            return  # refused, as the model says it must be
        assert not other and state != "cancelled" and fresh
        siblings = [c for c, owner in self.codes.items() if owner == made]
        if state == "reserved" and all(self._used(c) for c in siblings):
            self.states[made.customer, made.key] = "fulfilled"

    @invariant()
    def agrees_with_the_model(self) -> None:
        for customer in CUSTOMERS:
            assert self.loyalty.balance(customer).available == self.balance[customer]
            assert ledger_violations(self.storage, customer, "points") == []
            stored = {(customer, r.id): r.state.value for r in self.loyalty.redemptions(customer)}
            model = {k: v for k, v in self.states.items() if k[0] == customer}
            assert stored == model
        assert self.loyalty.stock_left("gift", at=self.now) == STOCK - self.taken
        assert all(0 <= n <= PER_DAY for n in self.day_counts.values())


def redemption_machine(make_storage: Callable[[], Storage]) -> type[RedemptionMachine]:
    """A :class:`RedemptionMachine` subclass on storages made by ``make_storage``."""

    class BoundRedemptionMachine(RedemptionMachine):
        def make_storage(self) -> Storage:
            return make_storage()

    return BoundRedemptionMachine
