"""The command kernel's promises, on every backend: an idempotency key is bound to
everything the caller sent; the programme version is the one in force at the command's
instant; one command is one unit of work (the lock set is found inside it); only real
conflicts are retried; personal data never leaves through an unregistered path."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest

from loyaltykit import (
    Loyalty,
    Money,
    Program,
    ProgramVersion,
    ProgramVersions,
    Purchase,
    RefundPolicy,
)
from loyaltykit.errors import (
    ConcurrencyConflict,
    IdempotencyConflict,
    ReferralRefused,
    StorageError,
)
from loyaltykit.storage.base import Capabilities, Storage, UnitOfWork
from loyaltykit.storage.memory import MemoryStorage
from tests.databases import storage_factory

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite", "postgres", "mariadb"])
def make_storage(request: pytest.FixtureRequest) -> Iterator[Callable[[], Storage]]:
    """Fresh, empty storages of one backend, closed after the test."""
    if request.param == "memory":
        yield MemoryStorage
        return
    make = storage_factory(request.getfixturevalue(f"{request.param}_url"))
    made: list[Storage] = []

    def fresh() -> Storage:
        made.append(make())
        return made[-1]

    yield fresh
    for storage in made:
        storage.close()


# --- 1. a key reused with different arguments is a conflict ------------------------


@pytest.mark.parametrize(
    "changed",
    [{"reason": "order 2"}, {"actor": "clerk-9"}, {"metadata": {"till": "7"}}],
    ids=["reason", "actor", "metadata"],
)
def test_a_key_reused_with_a_different_reason_actor_or_metadata_conflicts(
    make_storage: Callable[[], Storage], changed: dict[str, Any]
) -> None:
    loyalty = Loyalty(storage=make_storage())
    loyalty.enroll("c-1", at=T0, idempotency_key="e-1")
    first: dict[str, Any] = {"reason": "order 1", "actor": "clerk-1", "metadata": {"till": "3"}}
    loyalty.earn("c-1", 10, at=T0, idempotency_key="o1", **first)
    with pytest.raises(IdempotencyConflict, match="o1"):
        loyalty.earn("c-1", 10, at=T0, idempotency_key="o1", **{**first, **changed})
    assert loyalty.balance("c-1").available == 10
    # the same arguments replay, even sent later (a retry)
    again = loyalty.earn("c-1", 10, at=T0.replace(hour=10), idempotency_key="o1", **first)
    assert again.replayed


def test_a_retry_with_a_later_instant_replays_when_the_expiry_is_derived(
    make_storage: Callable[[], Storage],
) -> None:
    program = Program.from_dict({"point_types": [{"code": "points", "expire_after": {"years": 1}}]})
    loyalty = Loyalty(program, storage=make_storage())
    loyalty.enroll("c-1", at=T0, idempotency_key="e-1")
    first = loyalty.earn("c-1", 10, at=T0, idempotency_key="o1")
    retry = loyalty.earn("c-1", 10, at=T0.replace(minute=5), idempotency_key="o1")
    assert retry.replayed and retry.entries == first.entries
    adjusted = loyalty.adjust("c-1", 5, at=T0, idempotency_key="a1", reason="fix", actor="ops")
    again = loyalty.adjust(
        "c-1", 5, at=T0.replace(minute=5), idempotency_key="a1", reason="fix", actor="ops"
    )
    assert again.replayed and again.entries == adjusted.entries


def test_the_conflict_says_what_differs(make_storage: Callable[[], Storage]) -> None:
    loyalty = Loyalty(storage=make_storage())
    loyalty.enroll("c-1", at=T0, idempotency_key="e-1")
    loyalty.earn("c-1", 10, at=T0, idempotency_key="o1", reason="order 1")
    with pytest.raises(IdempotencyConflict, match="reason"):
        loyalty.earn("c-1", 10, at=T0, idempotency_key="o1", reason="order 2")


# --- 2. the programme version in force at the command's instant ---------------------


def test_a_reversal_uses_the_refund_policy_in_force_at_its_instant(
    make_storage: Callable[[], Storage],
) -> None:
    v1 = Program(refund_policy=RefundPolicy.TAKE_AVAILABLE)
    v2 = Program(refund_policy=RefundPolicy.NEGATIVE_BALANCE)
    versions = ProgramVersions(
        (
            ProgramVersion(valid_from=datetime(1970, 1, 1, tzinfo=UTC), program=v1),
            ProgramVersion(valid_from=datetime(2030, 1, 1, tzinfo=UTC), program=v2),
        )
    )
    loyalty = Loyalty(versions, storage=make_storage())
    loyalty.enroll("c-1", at=T0, idempotency_key="e-1")
    loyalty.earn("c-1", 100, at=T0, idempotency_key="o1")
    loyalty.redeem_points("c-1", 80, at=T0, idempotency_key="r1")
    receipt = loyalty.reverse("c-1", "o1", at=T0, idempotency_key="undo-o1")
    assert receipt.balance.available == 0  # take_available: never below zero
    assert loyalty.balance("c-1").available == 0


# --- 3. one command, one unit of work; locks found inside it ------------------------


class _Counting:
    """A storage that counts the units of work opened, and can run something right
    after one closes (another writer committing in between)."""

    def __init__(self, inner: Storage) -> None:
        self.inner = inner
        self.opened = 0
        self.after_first: Callable[[], None] | None = None

    @property
    def capabilities(self) -> Capabilities:
        return self.inner.capabilities

    def close(self) -> None:
        self.inner.close()

    def unit_of_work(self) -> UnitOfWork:
        self.opened += 1
        return self._unit()  # type: ignore[return-value]

    @contextmanager
    def _unit(self) -> Iterator[UnitOfWork]:
        with self.inner.unit_of_work() as uow:
            yield uow
        if self.after_first is not None:
            hook, self.after_first = self.after_first, None
            hook()


def _referral_program() -> Program:
    return Program.from_dict(
        {
            "rules": [
                {"id": "base", "kind": "base_rate", "per": "10"},
                {
                    "id": "refer",
                    "kind": "referral",
                    "amount": 1,
                    "referrer_amount": 50,
                    "referrer_cap": 1,
                    "referrer_cap_period": "year",
                },
            ]
        }
    )


def test_record_purchase_and_refund_each_open_one_unit_of_work(
    make_storage: Callable[[], Storage],
) -> None:
    # the referrer sorts after the member: locking it inside the transaction keeps the
    # global order, so nothing is read outside the command's unit of work nor restarted
    storage = _Counting(make_storage())
    loyalty = Loyalty(_referral_program(), storage=storage)
    loyalty.enroll("z-boss", at=T0, idempotency_key="e-boss")
    loyalty.enroll("r1", at=T0, idempotency_key="e-r1", referred_by="z-boss")
    purchase = Purchase(amount=Money.of(100, "CNY"))
    storage.opened = 0
    loyalty.record_purchase("r1", purchase, at=T0, idempotency_key="b1")
    assert storage.opened == 1
    assert loyalty.balance("z-boss").available == 50
    storage.opened = 0
    loyalty.refund("r1", "b1", at=T0, idempotency_key="rf1")
    assert storage.opened == 1  # the referrer's reward is clawed back in the same one
    assert loyalty.balance("z-boss").available == 0


def test_an_event_and_a_closing_step_invite_to_surveys_in_their_own_unit_of_work(
    make_storage: Callable[[], Storage],
) -> None:
    # the invitations that follow a stay or a closed case join the command's
    # transaction: one command, one unit of work, both or neither
    from datetime import timedelta

    from loyaltykit import CustomEvent, SurveyTrigger
    from loyaltykit.domain.feedback import Question, Survey

    storage = _Counting(make_storage())
    loyalty = Loyalty(storage=storage)
    loyalty.enroll("ann", at=T0, idempotency_key="e-ann")
    survey = Survey(id="stay", title="Your stay", questions=(Question.scale("overall", "?"),))
    loyalty.publish_survey(survey, at=T0, idempotency_key="publish")
    trigger = SurveyTrigger(
        survey_id="stay", on={"stay", "complaint_closed"}, respond_within=timedelta(days=2)
    )
    loyalty.set_survey_trigger(trigger, at=T0, idempotency_key="trigger")
    storage.opened = 0
    loyalty.record_event("ann", CustomEvent(type="stay"), at=T0, idempotency_key="stay-1")
    assert storage.opened == 1
    assert [i.reference for i in loyalty.survey_invitations("ann")] == ["stay-1"]

    loyalty.file_complaint(
        "K-1",
        customer_id="ann",
        channel="hotline",
        content="cold room",
        category="service",
        at=T0,
        idempotency_key="k1",
        actor="op",
    )
    loyalty.acknowledge_complaint("K-1", at=T0, idempotency_key="a", actor="op")
    loyalty.assess_complaint(
        "K-1", severity="minor", priority="low", at=T0, idempotency_key="s", actor="op"
    )
    loyalty.investigate_complaint("K-1", at=T0, idempotency_key="i", actor="bd")
    loyalty.propose_resolution("K-1", resolution="r", at=T0, idempotency_key="p", actor="bd")
    loyalty.respond_to_complaint("K-1", at=T0, idempotency_key="r", actor="op")
    storage.opened = 0
    loyalty.close_complaint("K-1", at=T0, idempotency_key="close", actor="op")
    assert storage.opened == 1
    assert sorted(i.reference for i in loyalty.survey_invitations("ann")) == ["K-1", "stay-1"]


def test_a_referrer_that_sorts_first_is_locked_by_starting_again(
    make_storage: Callable[[], Storage],
) -> None:
    storage = _Counting(make_storage())
    loyalty = Loyalty(_referral_program(), storage=storage)
    loyalty.enroll("a-boss", at=T0, idempotency_key="e-boss")
    loyalty.enroll("r1", at=T0, idempotency_key="e-r1", referred_by="a-boss")
    storage.opened = 0
    receipt = loyalty.record_purchase(
        "r1", Purchase(amount=Money.of(100, "CNY")), at=T0, idempotency_key="b1"
    )
    assert storage.opened == 2  # the first attempt rolled back, the second locked both
    assert loyalty.balance("a-boss").available == 50
    assert [b.customer_id for b in receipt.balances] == ["r1", "a-boss"]


def test_a_referrer_linked_in_between_is_locked_and_its_cap_holds(
    make_storage: Callable[[], Storage],
) -> None:
    storage = _Counting(make_storage())
    loyalty = Loyalty(_referral_program(), storage=storage)
    purchase = Purchase(amount=Money.of(100, "CNY"))
    loyalty.enroll("boss", at=T0, idempotency_key="e-boss")
    loyalty.enroll("r1", at=T0, idempotency_key="e-r1", referred_by="boss")
    loyalty.record_purchase("r1", purchase, at=T0, idempotency_key="b1")  # boss +50, cap 1
    loyalty.enroll("r2", at=T0, idempotency_key="e-r2")
    # another writer links r2 to boss right after the first unit of work r2's purchase
    # opens closes (refused once the purchase is in: the link is for the first purchase)

    def link() -> None:
        with contextlib.suppress(ReferralRefused):
            loyalty.link_referrer("r2", "boss", at=T0, idempotency_key="link-r2")

    storage.after_first = link
    loyalty.record_purchase("r2", purchase, at=T0, idempotency_key="b2")
    storage.after_first = None
    assert loyalty.balance("boss").available <= 50  # referrer_cap = 1 referral of 50


# --- 4. only real conflicts are retried ------------------------------------------------


class _Broken(_Counting):
    """A storage whose ledger raises one error on every entry it is asked to add."""

    def __init__(self, inner: Storage, error: Exception) -> None:
        super().__init__(inner)
        self.error = error

    @contextmanager
    def _unit(self) -> Iterator[UnitOfWork]:
        with self.inner.unit_of_work() as uow:
            error = self.error

            def refuse(_entries: object) -> None:
                raise error

            uow.ledger.add_entries = refuse  # type: ignore[method-assign]
            yield uow


def test_an_integrity_error_is_not_retried_as_a_race() -> None:
    from loyaltykit.errors import StorageIntegrityError

    storage = _Broken(MemoryStorage(), StorageIntegrityError("NOT NULL constraint failed"))
    loyalty = Loyalty(storage=storage)
    loyalty.enroll("c-1", at=T0, idempotency_key="e-1")
    storage.opened = 0
    with pytest.raises(StorageIntegrityError):
        loyalty.earn("c-1", 10, at=T0, idempotency_key="o1")
    assert storage.opened == 1  # not retried


def test_a_lost_race_is_retried() -> None:
    storage = _Broken(MemoryStorage(), ConcurrencyConflict("deadlock detected"))
    loyalty = Loyalty(storage=storage, retries=2)
    loyalty.enroll("c-1", at=T0, idempotency_key="e-1")
    storage.opened = 0
    with pytest.raises(ConcurrencyConflict):
        loyalty.earn("c-1", 10, at=T0, idempotency_key="o1")
    assert storage.opened == 3


@pytest.mark.parametrize("backend", ["sqlite", "postgres", "mariadb"])
def test_sql_integrity_errors_other_than_a_lost_insert_race_are_not_conflicts(
    backend: str, request: pytest.FixtureRequest
) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from loyaltykit.errors import StorageIntegrityError
    from loyaltykit.storage.sql.repositories import translate

    storage = storage_factory(request.getfixturevalue(f"{backend}_url"))()

    def error_of(statement: str) -> Exception:
        with storage.engine.connect() as connection:
            try:
                connection.execute(text(statement))
            except DBAPIError as error:
                return translate(error)
        raise AssertionError(f"{statement} did not fail")

    # a NOT NULL violation is a programming error, never a race
    null = error_of("INSERT INTO lk_customers (id) VALUES (NULL)")
    assert isinstance(null, StorageIntegrityError)
    assert not isinstance(null, ConcurrencyConflict)
    assert isinstance(null, StorageError)
    # a column named like a lock is no deadlock
    odd = error_of("SELECT locked_deadlock_column FROM lk_customers")
    assert not isinstance(odd, ConcurrencyConflict)
    storage.close()
