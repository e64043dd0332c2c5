"""A state machine: gift cards on a backend against a plain model, after every step.

Cards are issued (some with an expiry), topped up, paid with (in full or ``partial``),
refunded against their payments, replayed under a used key, and expired by the batch
job as time passes. The model is a few dicts of ``Decimal``; after every step each
card's balance, status and the stored-value invariants
(:func:`~loyaltykit.testing.stored_value_invariants.stored_value_violations`) must agree
with it. Run it on your backend::

    class MyBackendCards(StoredValueMachine):
        def make_storage(self) -> Storage:
            return MyStorage.fresh()

    TestMyBackendCards = MyBackendCards.TestCase
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import attrs
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from loyaltykit.bootstrap import Loyalty
from loyaltykit.domain.stored_value import StoredValueStatus
from loyaltykit.errors import (
    InsufficientStoredValue,
    RefundExceedsPayment,
    StoredValueExpired,
)
from loyaltykit.storage.base import Storage
from loyaltykit.storage.memory import MemoryStorage
from loyaltykit.testing.stored_value_invariants import stored_value_violations
from loyaltykit.values import Money

__all__ = ["StoredValueMachine", "stored_value_machine"]

START = datetime(2026, 4, 1, 10, tzinfo=UTC)
_amounts = st.integers(min_value=1, max_value=12_000).map(lambda cents: Decimal(cents) / 100)


@attrs.define
class _Card:
    """What the model knows of a card."""

    code: str
    balance: Decimal
    expires_at: datetime | None
    expired: bool = False


@attrs.frozen
class Payment:
    """A payment the machine made: the card, its key, how much it took."""

    code: str
    key: str
    amount: Decimal


def _cny(amount: Decimal) -> Money:
    return Money.of(amount, "CNY")


class StoredValueMachine(RuleBasedStateMachine):
    """Gift cards on a backend against a plain model (see the module docstring).

    Override :meth:`make_storage` for your backend (a fresh, empty store per run).
    """

    cards = Bundle("cards")
    payments = Bundle("payments")

    def __init__(self) -> None:
        super().__init__()
        self.storage = self.make_storage()
        self.loyalty = Loyalty(storage=self.storage)
        self.loyalty.code_source = random.Random(0).choice
        self.now = START
        self.serial = 0
        self.model: dict[str, _Card] = {}
        self.refunded: dict[str, Decimal] = {}  # payment key -> given back
        # payments made: code, key, amount, partial, the balance after
        self.sent: list[tuple[str, str, Decimal, bool, Decimal]] = []

    def make_storage(self) -> Storage:
        """A fresh, empty storage for one run (the memory backend by default)."""
        return MemoryStorage()

    def teardown(self) -> None:
        self.storage.close()

    def _key(self) -> str:
        self.serial += 1
        return f"k{self.serial}"

    def _live(self, card: _Card) -> bool:
        return not card.expired and (card.expires_at is None or self.now < card.expires_at)

    @rule(target=cards, amount=_amounts, days=st.one_of(st.none(), st.integers(1, 20)))
    def issue(self, amount: Decimal, days: int | None) -> str:
        expires = None if days is None else self.now + timedelta(days=days)
        receipt = self.loyalty.issue_stored_value(
            "gift_card", _cny(amount), expires_at=expires, at=self.now, idempotency_key=self._key()
        )
        assert receipt.code not in self.model
        self.model[receipt.code] = _Card(receipt.code, amount, expires)
        return receipt.code

    @rule(hours=st.integers(min_value=1, max_value=24 * 6))
    def time_passes(self, hours: int) -> None:
        self.now += timedelta(hours=hours)

    @rule(code=cards, amount=_amounts)
    def top_up(self, code: str, amount: Decimal) -> None:
        card = self.model[code]
        try:
            receipt = self.loyalty.top_up(
                code, _cny(amount), at=self.now, idempotency_key=self._key()
            )
        except StoredValueExpired:
            assert not self._live(card)
            return
        assert self._live(card)
        card.balance += amount
        assert receipt.balance.amount == card.balance

    @rule(target=payments, code=cards, amount=_amounts, partial=st.booleans())
    def pay(self, code: str, amount: Decimal, partial: bool) -> Payment:
        card, key = self.model[code], self._key()
        try:
            receipt = self.loyalty.pay_with_stored_value(
                code, _cny(amount), partial=partial, at=self.now, idempotency_key=key
            )
        except StoredValueExpired:
            assert not self._live(card)
            return Payment(code, key, Decimal(0))
        except InsufficientStoredValue:
            assert self._live(card) and amount > card.balance
            assert not partial or card.balance == 0
            return Payment(code, key, Decimal(0))
        assert self._live(card)
        taken = min(amount, card.balance)
        assert amount <= card.balance or partial
        card.balance -= taken
        assert receipt.entry.amount.amount == -taken and receipt.balance.amount == card.balance
        self.sent.append((code, key, amount, partial, card.balance))
        return Payment(code, key, taken)

    @rule(payment=payments, amount=_amounts)
    def refund(self, payment: Payment, amount: Decimal) -> None:
        card = self.model[payment.code]
        left = payment.amount - self.refunded.get(payment.key, Decimal(0))
        try:
            receipt = self.loyalty.refund_to_stored_value(
                payment.code, _cny(amount), payment=payment.key, at=self.now,
                idempotency_key=self._key(),
            )  # fmt: skip
        except StoredValueExpired:
            assert not self._live(card)
            return
        except RefundExceedsPayment:
            assert self._live(card) and amount > left
            return
        assert self._live(card) and amount <= left
        self.refunded[payment.key] = self.refunded.get(payment.key, Decimal(0)) + amount
        card.balance += amount
        assert receipt.balance.amount == card.balance

    @rule()
    def replay_a_payment(self) -> None:
        assume(self.sent)
        code, key, amount, partial, balance = self.sent[len(self.sent) // 2]
        receipt = self.loyalty.pay_with_stored_value(
            code, _cny(amount), partial=partial, at=self.now, idempotency_key=key
        )
        assert receipt.replayed and receipt.balance.amount == balance

    @rule()
    def expire(self) -> None:
        report = self.loyalty.expire_stored_value(at=self.now)
        due = [
            card
            for card in self.model.values()
            if not card.expired and card.expires_at is not None and card.expires_at <= self.now
        ]
        assert report.cards == len(due)
        assert sorted(-e.amount.amount for e in report.entries) == sorted(
            card.balance for card in due
        )
        for card in due:
            card.expired, card.balance = True, Decimal(0)

    @invariant()
    def agrees_with_the_model(self) -> None:
        for code, card in self.model.items():
            stored = self.loyalty.stored_value(code)
            assert stored.balance.amount == card.balance, (code, stored.balance, card.balance)
            assert (stored.status is StoredValueStatus.EXPIRED) == card.expired
            assert stored_value_violations(self.storage, code) == []


def stored_value_machine(make_storage: Callable[[], Storage]) -> type[StoredValueMachine]:
    """A :class:`StoredValueMachine` subclass on storages made by ``make_storage``."""

    class BoundStoredValueMachine(StoredValueMachine):
        def make_storage(self) -> Storage:
            return make_storage()

    return BoundStoredValueMachine
