"""A hypothesis state machine that drives the ledger and a reference model together.

:class:`LedgerMachine` runs random sequences of earn (with expiry and pending periods),
redeem, reverse (whole or partial), adjust, transfer, time passing, batch expiry and
release, idempotent replays and key reuse, against the :class:`~loyaltykit.Loyalty`
facade on a storage backend and against :class:`~loyaltykit.testing.model.ReferenceLedger`;
after every step it compares balances and checks every ledger invariant. It is written
the way hypothesis compares its example databases: an ``@initialize`` step, a
``Bundle`` of the commands recorded so far (which reversals and replays draw from) and
``assume`` where a draw makes no sense. Run it on your backend by overriding
:meth:`LedgerMachine.make_storage`::

    class MyBackendLedger(LedgerMachine):
        def make_storage(self) -> Storage:
            return MyStorage.fresh()

    TestMyBackendLedger = MyBackendLedger.TestCase

:func:`ledger_machine` builds such a subclass from a storage factory.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from fractions import Fraction
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

from loyaltykit import Loyalty
from loyaltykit.domain.ledger import RefundPolicy
from loyaltykit.errors import (
    IdempotencyConflict,
    InsufficientPoints,
    NotReversible,
    OutOfOrder,
    OverReversal,
)
from loyaltykit.outcomes import Receipt
from loyaltykit.policy.program import Program
from loyaltykit.storage.base import Storage
from loyaltykit.storage.memory import MemoryStorage
from loyaltykit.testing.invariants import ledger_violations
from loyaltykit.testing.model import ModelError, ReferenceLedger

__all__ = ["LedgerMachine", "Recorded", "ledger_machine"]

CUSTOMERS = ("alice", "bob", "chen")
START = datetime(2026, 1, 1, 9, tzinfo=UTC)
PORTIONS = [Fraction(1), Fraction(1, 2), Fraction(1, 3), Fraction(2, 3), Fraction(1, 4)]


@attrs.frozen
class Recorded:
    """A command the machine ran: its name, customer, idempotency key and arguments."""

    command: str
    customer: str
    key: str
    arguments: tuple[Any, ...]


class LedgerMachine(RuleBasedStateMachine):
    """The ledger on a backend against a plain model (see the module docstring).

    Override :meth:`make_storage` for your backend (a fresh, empty store per run) and,
    if you like, :meth:`make_program` (the machine earns and spends ``points`` itself,
    so the program must keep ``points`` free of a default expiry and pending period).
    Without a fixed ``refund_policy`` each run draws one, so both are exercised.
    """

    refund_policy: RefundPolicy | None = None
    commands = Bundle("commands")

    def __init__(self) -> None:
        super().__init__()
        self.storage = self.make_storage()
        self.now = START
        self.serial = 0
        self.negative = False
        self._loyalty: Loyalty | None = None
        self._model: ReferenceLedger | None = None

    def make_storage(self) -> Storage:
        """A fresh, empty storage for one run (the memory backend by default)."""
        return MemoryStorage()

    def make_program(self, refund_policy: RefundPolicy) -> Program:
        """The program of one run."""
        return Program(refund_policy=refund_policy)

    def teardown(self) -> None:
        self.storage.close()

    @property
    def loyalty(self) -> Loyalty:
        """The facade under test (set by the initialize step)."""
        assert self._loyalty is not None
        return self._loyalty

    @property
    def model(self) -> ReferenceLedger:
        """The reference model (set by the initialize step)."""
        assert self._model is not None
        return self._model

    def _key(self) -> str:
        self.serial += 1
        return f"k{self.serial}"

    @initialize(negative=st.booleans())
    def start(self, negative: bool) -> None:
        if self.refund_policy is not None:
            negative = self.refund_policy is RefundPolicy.NEGATIVE_BALANCE
        policy = RefundPolicy.NEGATIVE_BALANCE if negative else RefundPolicy.TAKE_AVAILABLE
        self.negative = negative
        self._loyalty = Loyalty(self.make_program(policy), storage=self.storage)
        self._model = ReferenceLedger(negative_balance=negative)
        for customer in CUSTOMERS:
            self.loyalty.enroll(customer, at=self.now, idempotency_key=f"enroll-{customer}")
            self.model.add_customer(customer)

    @rule(
        target=commands,
        customer=st.sampled_from(CUSTOMERS),
        points=st.integers(1, 500),
        expires_in=st.none() | st.integers(1, 120),
        pending_for=st.none() | st.integers(1, 30),
    )
    def earn(
        self, customer: str, points: int, expires_in: int | None, pending_for: int | None
    ) -> Recorded:
        key = self._key()
        expires_at = None if expires_in is None else self.now + timedelta(days=expires_in)
        available_from = None if pending_for is None else self.now + timedelta(days=pending_for)
        if expires_at is not None and available_from is not None and expires_at <= available_from:
            expires_at = available_from + timedelta(days=1)
        self.loyalty.earn(
            customer,
            points,
            at=self.now,
            idempotency_key=key,
            expires_at=expires_at,
            available_from=available_from,
        )
        self.model.credit(
            customer,
            points,
            self.now,
            expires_at=expires_at,
            available_from=available_from,
            key=key,
        )
        return Recorded("earn", customer, key, (points, expires_at, available_from))

    def _both(self, model_step: Callable[[], object], done: Recorded, what: str) -> Any:
        """Run a command on the model and through the facade: both accept it (it joins
        the bundle) or both refuse it (the ledger with InsufficientPoints)."""
        try:
            model_step()
        except ModelError:
            try:
                self._run(done)
            except InsufficientPoints:
                return multiple()
            raise AssertionError(f"the ledger allowed {what} the model refused") from None
        self._run(done)
        return done

    @rule(target=commands, customer=st.sampled_from(CUSTOMERS), points=st.integers(1, 400))
    def redeem(self, customer: str, points: int) -> Any:
        key = self._key()
        done = Recorded("redeem", customer, key, (points,))
        return self._both(
            lambda: self.model.debit(customer, points, self.now, key=key), done, "a redemption"
        )

    @rule(
        target=commands,
        customer=st.sampled_from(CUSTOMERS),
        points=st.integers(-300, 300).filter(bool),
    )
    def adjust(self, customer: str, points: int) -> Any:
        key = self._key()

        def model_step() -> object:
            if points > 0:
                return self.model.credit(customer, points, self.now, key=key)
            return self.model.debit(customer, -points, self.now, key=key)

        return self._both(model_step, Recorded("adjust", customer, key, (points,)), "an adjustment")

    @rule(
        target=commands,
        sender=st.sampled_from(CUSTOMERS),
        receiver=st.sampled_from(CUSTOMERS),
        points=st.integers(1, 300),
    )
    def transfer(self, sender: str, receiver: str, points: int) -> Any:
        assume(sender != receiver)
        done = Recorded("transfer", sender, self._key(), (receiver, points))
        return self._both(
            lambda: self.model.transfer(sender, receiver, points, self.now), done, "a transfer"
        )

    @rule(original=commands, share=st.sampled_from(PORTIONS))
    def reverse(self, original: Recorded, share: Fraction) -> None:
        customer, key = original.customer, self._key()
        try:
            self.model.reverse(customer, original.key, share, self.now)
        except ModelError as refusal:
            expected: type[Exception] = OverReversal if refusal.kind == "over" else NotReversible
            try:
                self.loyalty.reverse(
                    customer, original.key, at=self.now, idempotency_key=key, portion=share
                )
            except expected:
                return  # refused alike: what the model said
            raise AssertionError(
                f"the ledger reversed what the model refused ({refusal.kind})"
            ) from None
        self.loyalty.reverse(
            customer, original.key, at=self.now, idempotency_key=key, portion=share
        )

    @rule(days=st.integers(0, 45), hours=st.integers(0, 23))
    def time_passes(self, days: int, hours: int) -> None:
        self.now += timedelta(days=days, hours=hours)

    @rule(work=st.sampled_from(["expire", "release", "both"]))
    def batch(self, work: str) -> None:
        # a batch settles every account it finds whole; the view at ``now`` is checked
        if work in ("release", "both"):
            self.loyalty.release_pending(at=self.now, batch_size=2)
        if work in ("expire", "both"):
            self.loyalty.expire_due(at=self.now, batch_size=2)
        for customer in CUSTOMERS:
            self.model.settle(customer, self.now)

    @rule(done=commands)
    def replay(self, done: Recorded) -> None:
        before = self._snapshot()
        again = self._run(done)
        assert again.replayed
        assert self._snapshot() == before, "replaying an idempotency key changed the ledger"
        try:
            self.loyalty.redeem_points(done.customer, 99_999, at=self.now, idempotency_key=done.key)
        except IdempotencyConflict:
            pass
        else:
            raise AssertionError("reusing a key with other arguments was accepted")
        assert self._snapshot() == before

    def _run(self, done: Recorded) -> Receipt:
        loyalty, customer, key, arguments = self.loyalty, done.customer, done.key, done.arguments
        if done.command == "earn":
            points, expires_at, available_from = arguments
            return loyalty.earn(
                customer,
                points,
                at=self.now,
                idempotency_key=key,
                expires_at=expires_at,
                available_from=available_from,
            )
        if done.command == "redeem":
            return loyalty.redeem_points(customer, arguments[0], at=self.now, idempotency_key=key)
        if done.command == "adjust":
            return loyalty.adjust(
                customer, arguments[0], at=self.now, idempotency_key=key, reason="test", actor="qa"
            )
        return loyalty.transfer(
            customer, arguments[0], arguments[1], at=self.now, idempotency_key=key
        )

    def _snapshot(self) -> list[tuple[int, int, int]]:
        return [
            (b.available, b.pending, len(self.loyalty.statement(c).lines))
            for c in CUSTOMERS
            for b in [self.loyalty.balance(c)]
        ]

    @rule(
        customer=st.sampled_from(CUSTOMERS),
        minutes=st.integers(1, 60 * 24 * 10),
        command=st.sampled_from(["earn", "redeem", "adjust"]),
    )
    def backdated(self, customer: str, minutes: int, command: str) -> None:
        """A command dated before the account's latest entry is refused, naming both
        instants, and changes nothing."""
        loyalty = self.loyalty
        lines = loyalty.statement(customer).lines
        assume(lines)
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
                loyalty.adjust(customer, -1, at=at, idempotency_key=key, reason="test", actor="qa")
        except OutOfOrder as error:
            refused = error
        assert refused is not None, f"a {command} dated {at}, before {latest}, was accepted"
        assert (refused.at, refused.latest) == (at, latest)
        assert self._snapshot() == before, "a refused backdated command changed the ledger"

    @invariant()
    def every_past_balance_is_allowed(self) -> None:
        """Walking each statement in the order entries took effect, the balance never
        shows what the policy forbids: points spent before they were there."""
        if self._loyalty is None:
            return
        for customer in CUSTOMERS:
            deficit = 0
            for line in self.loyalty.statement(customer).lines:
                deficit += line.entry.deficit_delta
                shown = (line.entry.occurred_at, line.available, line.pending, deficit)
                assert line.pending >= 0, (customer, shown)
                # only a refund under negative_balance may leave a deficit
                assert line.available + deficit >= 0, (customer, shown)
                assert self.negative or (deficit == 0 and line.available >= 0), (customer, shown)

    @invariant()
    def balances_match_the_model(self) -> None:
        for customer in CUSTOMERS:
            # the stored balance may lag behind due lots; the view at ``now`` may not
            seen = self.loyalty.balance(customer, at=self.now)
            view = copy.deepcopy(self.model)
            view.settle(customer, self.now)
            expected = (view.available(customer), view.pending(customer))
            assert (seen.available, seen.pending) == expected, (
                f"{customer} at {self.now}: ledger {(seen.available, seen.pending)} "
                f"!= model {expected}"
            )

    @invariant()
    def ledger_is_sound(self) -> None:
        for customer in CUSTOMERS:
            problems = ledger_violations(self.storage, customer, "points")
            assert not problems, problems


def ledger_machine(
    storage_factory: Callable[[], Storage],
    *,
    refund_policy: RefundPolicy | None = None,
) -> type[LedgerMachine]:
    """A :class:`LedgerMachine` subclass on backends made by ``storage_factory``.

    Without ``refund_policy`` each run draws one, so both policies are exercised::

        TestLedger = ledger_machine(MemoryStorage).TestCase
    """

    class BoundLedgerMachine(LedgerMachine):
        def make_storage(self) -> Storage:
            return storage_factory()

    BoundLedgerMachine.refund_policy = refund_policy
    return BoundLedgerMachine
