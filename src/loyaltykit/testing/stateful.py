"""A hypothesis state machine that drives the ledger and a reference model together.

``ledger_machine(storage_factory)`` returns a ``RuleBasedStateMachine`` class. It runs
random sequences of earn (with expiry and pending periods), redeem, reverse (whole or
partial), adjust, transfer, time passing, batch expiry and release, idempotent replays,
key reuse and commands dated before an account's latest entry (refused), against the
:class:`~loyaltykit.Loyalty` facade on the given backend and against
:class:`~loyaltykit.testing.model.ReferenceLedger`; after every step it compares
balances, checks every ledger invariant, and checks that every past balance the
statements show is one the refund policy allows::

    TestLedger = ledger_machine(MemoryStorage).TestCase
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from loyaltykit.domain.ledger import RefundPolicy
from loyaltykit.errors import (
    IdempotencyConflict,
    InsufficientPoints,
    NotReversible,
    OutOfOrder,
    OverReversal,
)
from loyaltykit.policy.program import Program
from loyaltykit.service import Loyalty
from loyaltykit.storage.base import Storage
from loyaltykit.testing.invariants import ledger_violations
from loyaltykit.testing.model import ModelError, ReferenceLedger

__all__ = ["ledger_machine"]

CUSTOMERS = ("alice", "bob", "chen")
START = datetime(2026, 1, 1, 9, tzinfo=UTC)
PORTIONS = [Fraction(1), Fraction(1, 2), Fraction(1, 3), Fraction(2, 3), Fraction(1, 4)]


def ledger_machine(
    storage_factory: Callable[[], Storage],
    *,
    refund_policy: RefundPolicy | None = None,
) -> type[RuleBasedStateMachine]:
    """A state machine class testing the ledger on backends made by ``storage_factory``.

    Without ``refund_policy`` each run draws one, so both policies are exercised.
    """

    class LedgerMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.storage = storage_factory()
            self.loyalty: Loyalty | None = None
            self.model: ReferenceLedger | None = None
            self.now = START
            self.serial = 0
            self.negative = False
            self.history: list[tuple[str, str, str, tuple[Any, ...]]] = []

        def teardown(self) -> None:
            self.storage.close()

        def _key(self) -> str:
            self.serial += 1
            return f"k{self.serial}"

        @rule(
            negative=st.booleans()
            if refund_policy is None
            else st.just(refund_policy is RefundPolicy.NEGATIVE_BALANCE)
        )
        @precondition(lambda self: self.loyalty is None)
        def start(self, negative: bool) -> None:
            policy = RefundPolicy.NEGATIVE_BALANCE if negative else RefundPolicy.TAKE_AVAILABLE
            self.negative = negative
            self.loyalty = Loyalty(Program(refund_policy=policy), storage=self.storage)
            self.model = ReferenceLedger(negative_balance=negative)
            for customer in CUSTOMERS:
                self.loyalty.enroll(customer, at=self.now, idempotency_key=f"enroll-{customer}")
                self.model.add_customer(customer)

        def _ready(self) -> tuple[Loyalty, ReferenceLedger]:
            assert self.loyalty is not None and self.model is not None
            return self.loyalty, self.model

        @rule(
            customer=st.sampled_from(CUSTOMERS),
            points=st.integers(1, 500),
            expires_in=st.none() | st.integers(1, 120),
            pending_for=st.none() | st.integers(1, 30),
        )
        @precondition(lambda self: self.loyalty is not None)
        def earn(
            self, customer: str, points: int, expires_in: int | None, pending_for: int | None
        ) -> None:
            loyalty, model = self._ready()
            key = self._key()
            expires_at = None if expires_in is None else self.now + timedelta(days=expires_in)
            available_from = None if pending_for is None else self.now + timedelta(days=pending_for)
            if (
                expires_at is not None
                and available_from is not None
                and expires_at <= available_from
            ):
                expires_at = available_from + timedelta(days=1)
            arguments = (points, expires_at, available_from)
            loyalty.earn(
                customer,
                points,
                at=self.now,
                idempotency_key=key,
                expires_at=expires_at,
                available_from=available_from,
            )
            model.credit(
                customer,
                points,
                self.now,
                expires_at=expires_at,
                available_from=available_from,
                key=key,
            )
            self.history.append(("earn", customer, key, arguments))

        @rule(customer=st.sampled_from(CUSTOMERS), points=st.integers(1, 400))
        @precondition(lambda self: self.loyalty is not None)
        def redeem(self, customer: str, points: int) -> None:
            loyalty, model = self._ready()
            key = self._key()
            try:
                model.debit(customer, points, self.now, key=key)
            except ModelError:
                try:
                    loyalty.redeem_points(customer, points, at=self.now, idempotency_key=key)
                except InsufficientPoints:
                    return
                raise AssertionError("the ledger allowed a redemption the model refused") from None
            loyalty.redeem_points(customer, points, at=self.now, idempotency_key=key)
            self.history.append(("redeem", customer, key, (points,)))

        @rule(
            customer=st.sampled_from(CUSTOMERS),
            points=st.integers(-300, 300).filter(bool),
        )
        @precondition(lambda self: self.loyalty is not None)
        def adjust(self, customer: str, points: int) -> None:
            loyalty, model = self._ready()
            key = self._key()
            try:
                if points > 0:
                    model.credit(customer, points, self.now, key=key)
                else:
                    model.debit(customer, -points, self.now, key=key)
            except ModelError:
                try:
                    loyalty.adjust(
                        customer,
                        points,
                        at=self.now,
                        idempotency_key=key,
                        reason="test",
                        actor="qa",
                    )
                except InsufficientPoints:
                    return
                raise AssertionError("the ledger allowed an adjustment the model refused") from None
            loyalty.adjust(
                customer, points, at=self.now, idempotency_key=key, reason="test", actor="qa"
            )
            self.history.append(("adjust", customer, key, (points,)))

        @rule(
            sender=st.sampled_from(CUSTOMERS),
            receiver=st.sampled_from(CUSTOMERS),
            points=st.integers(1, 300),
        )
        @precondition(lambda self: self.loyalty is not None)
        def transfer(self, sender: str, receiver: str, points: int) -> None:
            if sender == receiver:
                return
            loyalty, model = self._ready()
            key = self._key()
            try:
                model.transfer(sender, receiver, points, self.now)
            except ModelError:
                try:
                    loyalty.transfer(sender, receiver, points, at=self.now, idempotency_key=key)
                except InsufficientPoints:
                    return
                raise AssertionError("the ledger allowed a transfer the model refused") from None
            loyalty.transfer(sender, receiver, points, at=self.now, idempotency_key=key)
            self.history.append(("transfer", sender, key, (receiver, points)))

        @rule(data=st.data(), share=st.sampled_from(PORTIONS))
        @precondition(lambda self: self.loyalty is not None and self.history)
        def reverse(self, data: st.DataObject, share: Fraction) -> None:
            loyalty, model = self._ready()
            _, customer, original, _ = data.draw(st.sampled_from(self.history))
            key = self._key()
            try:
                model.reverse(customer, original, share, self.now)
            except ModelError as refusal:
                expected: type[Exception] = (
                    OverReversal if refusal.kind == "over" else NotReversible
                )
                try:
                    loyalty.reverse(
                        customer, original, at=self.now, idempotency_key=key, portion=share
                    )
                except expected:
                    return
                raise AssertionError(
                    f"the ledger reversed what the model refused ({refusal.kind})"
                ) from None
            loyalty.reverse(customer, original, at=self.now, idempotency_key=key, portion=share)

        @rule(days=st.integers(0, 45), hours=st.integers(0, 23))
        @precondition(lambda self: self.loyalty is not None)
        def time_passes(self, days: int, hours: int) -> None:
            self.now += timedelta(days=days, hours=hours)

        @rule(work=st.sampled_from(["expire", "release", "both"]))
        @precondition(lambda self: self.loyalty is not None)
        def batch(self, work: str) -> None:
            loyalty, model = self._ready()
            # a batch settles every account it finds whole; the view at ``now`` is checked
            if work in ("release", "both"):
                loyalty.release_pending(self.now, batch_size=2)
            if work in ("expire", "both"):
                loyalty.expire_due(self.now, batch_size=2)
            for customer in CUSTOMERS:
                model.settle(customer, self.now)

        @rule(data=st.data())
        @precondition(lambda self: self.loyalty is not None and self.history)
        def replay(self, data: st.DataObject) -> None:
            loyalty, _ = self._ready()
            command, customer, key, arguments = data.draw(st.sampled_from(self.history))
            before = self._snapshot()
            if command == "earn":
                points, expires_at, available_from = arguments
                again = loyalty.earn(
                    customer,
                    points,
                    at=self.now,
                    idempotency_key=key,
                    expires_at=expires_at,
                    available_from=available_from,
                )
            elif command == "redeem":
                again = loyalty.redeem_points(
                    customer, arguments[0], at=self.now, idempotency_key=key
                )
            elif command == "adjust":
                again = loyalty.adjust(
                    customer,
                    arguments[0],
                    at=self.now,
                    idempotency_key=key,
                    reason="test",
                    actor="qa",
                )
            else:
                again = loyalty.transfer(
                    customer, arguments[0], arguments[1], at=self.now, idempotency_key=key
                )
            assert again.replayed
            assert self._snapshot() == before, "replaying an idempotency key changed the ledger"
            with_other = 99_999
            try:
                loyalty.redeem_points(customer, with_other, at=self.now, idempotency_key=key)
            except IdempotencyConflict:
                pass
            else:
                raise AssertionError("reusing a key with other arguments was accepted")
            assert self._snapshot() == before

        @rule(
            customer=st.sampled_from(CUSTOMERS),
            minutes=st.integers(1, 60 * 24 * 10),
            command=st.sampled_from(["earn", "redeem", "adjust"]),
        )
        @precondition(lambda self: self.loyalty is not None)
        def backdated(self, customer: str, minutes: int, command: str) -> None:
            loyalty, _ = self._ready()
            lines = loyalty.statement(customer).lines
            if not lines:
                return
            latest = max(line.entry.occurred_at for line in lines)
            at = latest - timedelta(minutes=minutes)
            before = self._snapshot()
            key = self._key()
            refused: OutOfOrder | None = None
            try:
                if command == "earn":
                    loyalty.earn(customer, 10, at=at, idempotency_key=key)
                elif command == "redeem":
                    loyalty.redeem_points(customer, 1, at=at, idempotency_key=key)
                else:
                    loyalty.adjust(
                        customer, -1, at=at, idempotency_key=key, reason="test", actor="qa"
                    )
            except OutOfOrder as error:
                refused = error
            assert refused is not None, f"a {command} dated {at}, before {latest}, was accepted"
            assert (refused.at, refused.latest) == (at, latest)
            assert self._snapshot() == before, "a refused backdated command changed the ledger"

        def _snapshot(self) -> list[tuple[int, int, int]]:
            loyalty, _ = self._ready()
            return [
                (b.available, b.pending, len(loyalty.statement(c).lines))
                for c in CUSTOMERS
                for b in [loyalty.balance(c)]
            ]

        @invariant()
        def balances_match_the_model(self) -> None:
            if self.loyalty is None or self.model is None:
                return
            for customer in CUSTOMERS:
                # the stored balance may lag behind due lots; the view at ``now`` may not
                seen = self.loyalty.balance(customer, at=self.now)
                expected = self._model_view(customer)
                assert (seen.available, seen.pending) == expected, (
                    f"{customer} at {self.now}: ledger {(seen.available, seen.pending)} "
                    f"!= model {expected}"
                )

        def _model_view(self, customer: str) -> tuple[int, int]:
            assert self.model is not None
            import copy

            view = copy.deepcopy(self.model)
            view.settle(customer, self.now)
            return view.available(customer), view.pending(customer)

        @invariant()
        def every_past_balance_is_allowed(self) -> None:
            """Walking each statement in the order entries took effect, the balance never
            shows what the policy forbids: points spent before they were there."""
            if self.loyalty is None:
                return
            for customer in CUSTOMERS:
                deficit = 0
                for line in self.loyalty.statement(customer).lines:
                    deficit += line.entry.deficit_delta
                    shown = (line.entry.occurred_at, line.available, line.pending, deficit)
                    assert line.pending >= 0, (customer, shown)
                    # only a refund under negative_balance may leave a deficit
                    assert line.available + deficit >= 0, (customer, shown)
                    assert self.negative or (deficit == 0 and line.available >= 0), (
                        customer,
                        shown,
                    )

        @invariant()
        def ledger_is_sound(self) -> None:
            if self.loyalty is None:
                return
            for customer in CUSTOMERS:
                problems = ledger_violations(self.storage, customer, "points")
                assert not problems, problems

    return LedgerMachine
