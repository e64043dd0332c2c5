"""The stored-value and member-card part of the storage contract, as tests.

:class:`~loyaltykit.testing.conformance.StorageConformance` inherits these, so every
backend that runs the suite runs them too; they use its ``storage`` and ``storage_url``
fixtures and are gated on the same capabilities.
"""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from loyaltykit import Loyalty
from loyaltykit.domain.cards import BlockReason, CardStatus, MemberCard
from loyaltykit.domain.customer import Profile
from loyaltykit.domain.stored_value import (
    Funding,
    StoredValueAccount,
    StoredValueEntry,
    StoredValueEntryKind,
    StoredValueKind,
    StoredValueStatus,
    new_code,
)
from loyaltykit.errors import (
    CardBlocked,
    ConcurrencyConflict,
    CurrencyMismatch,
    IdempotencyConflict,
    InsufficientStoredValue,
    InvalidAmount,
    OutOfOrder,
    RefundExceedsPayment,
    StoredValueExpired,
)
from loyaltykit.storage.base import Storage
from loyaltykit.testing.races import race_in_processes
from loyaltykit.testing.stored_value_invariants import stored_value_violations
from loyaltykit.values import Money

__all__ = ["StoredValueConformance", "pay_in_a_process"]

T0 = datetime(2026, 3, 1, 10, tzinfo=UTC)
CARD_PROCESSES = 2
CARD_FUNDS = 10  # one payment of 10 fits: one of the two processes must be refused


def _cny(amount: str) -> Money:
    return Money.of(amount, "CNY")


def _account(code: str, currency: str = "CNY", **changes: Any) -> StoredValueAccount:
    balance = Money.of(changes.pop("balance", "0"), currency).quantize()
    values: dict[str, Any] = {
        "code": code,
        "kind": StoredValueKind.GIFT_CARD,
        "currency": currency,
        "holder": None,
        "issued_at": T0,
        "expires_at": None,
        "balance": balance,
        "last_seq": 0,
        "last_at": T0,
    }
    values.update(changes)
    return StoredValueAccount(**values)


def _entry(code: str, seq: int, amount: Money, balance: Money, **changes: Any) -> StoredValueEntry:
    values: dict[str, Any] = {
        "code": code,
        "seq": seq,
        "kind": StoredValueEntryKind.ISSUE if seq == 1 else StoredValueEntryKind.PAYMENT,
        "amount": amount,
        "balance": balance,
        "at": T0 + timedelta(minutes=seq),
        "idempotency_key": f"k{seq}",
    }
    values.update(changes)
    return StoredValueEntry(**values)


def pay_in_a_process(url: str, code: str, barrier: Any, number: int, results: Any) -> None:
    """A worker of :meth:`StoredValueConformance.test_processes_never_overspend_a_card`
    (importable, for ``spawn``): open the store, wait for every worker, pay 10 CNY from
    the card under this worker's own key, report the outcome."""
    try:
        loyalty = Loyalty(storage=url)
    except Exception as error:  # report, don't leave the others at the barrier
        barrier.abort()
        results.put(f"cannot open {url!r}: {error!r}")
        return
    try:
        barrier.wait()
        loyalty.pay_with_stored_value(code, _cny("10"), at=T0, idempotency_key=f"pay-{number}")
        results.put("ok")
    except InsufficientStoredValue:
        results.put("refused")
    except Exception as error:  # report, don't hang the parent
        results.put(f"error: {error!r}")
    finally:
        loyalty.close()


class StoredValueConformance:
    """Gift cards, wallets and member cards on a backend (see the module's text)."""

    # --- the repositories ----------------------------------------------------------------

    def test_stored_value_round_trips_in_each_currencys_minor_units(self, storage: Storage) -> None:
        source = random.Random(1).choice
        codes = [new_code(source) for _ in range(3)]
        cards = [
            _account(codes[0], "CNY", balance="50.25", holder="ann"),
            _account(codes[1], "JPY", balance="5000", expires_at=T0 + timedelta(days=9)),
            _account(codes[2], "BHD", balance="1.125", holder="ann"),
        ]
        with storage.unit_of_work() as uow:
            for card in cards:
                uow.stored_value.add(card)
            first = _entry(codes[2], 1, Money.of("1.125", "BHD"), Money.of("1.125", "BHD"))
            uow.stored_value.add_entries([first])
            uow.commit()
        with storage.unit_of_work() as uow:
            assert [uow.stored_value.get(code) for code in codes] == cards
            assert uow.stored_value.get(codes[0], for_update=True) == cards[0]
            assert uow.stored_value.get("0" * 16) is None
            assert uow.stored_value.of_holder("ann") == sorted(
                [cards[0], cards[2]], key=lambda card: card.code
            )
            assert uow.stored_value.of_holder("ben") == []
            (entry,) = uow.stored_value.entries(codes[2])
            assert entry == first
            assert str(entry.amount.amount) == "1.125"  # the exponent comes back too
            assert str(uow.stored_value.get(codes[0]).balance.amount) == "50.25"  # type: ignore[union-attr]

    def test_stored_value_entries_by_key_and_refunds_of_a_payment(self, storage: Storage) -> None:
        code = new_code(random.Random(2).choice)
        refund = StoredValueEntryKind.REFUND
        entries = [
            _entry(code, 1, _cny("50.00"), _cny("50.00"), idempotency_key="sale"),
            _entry(code, 2, _cny("-30.00"), _cny("20.00"), idempotency_key="order-1"),
            _entry(code, 3, _cny("5.00"), _cny("25.00"), kind=refund, reference="order-1"),
            _entry(code, 4, _cny("-5.00"), _cny("20.00"), idempotency_key="order-2"),
            _entry(code, 5, _cny("1.00"), _cny("21.00"), kind=refund, reference="order-1"),
        ]
        with storage.unit_of_work() as uow:
            uow.stored_value.add(
                _account(code, balance="21.00", last_seq=5, last_at=T0 + timedelta(minutes=5))
            )
            uow.stored_value.add_entries(entries[:2])
            uow.stored_value.add_entries(entries[2:])
            uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.stored_value.entries(code) == entries
            assert uow.stored_value.entries_by_key(code, "order-1") == [entries[1]]
            assert uow.stored_value.entries_by_key(code, "ORDER-1") == []
            assert uow.stored_value.refunds_of(code, "order-1") == [entries[2], entries[4]]
            assert uow.stored_value.refunds_of(code, "order-2") == []
        assert stored_value_violations(storage, code) == []

    def test_stored_value_codes_and_entry_numbers_are_unique(self, storage: Storage) -> None:
        code = new_code(random.Random(3).choice)
        with storage.unit_of_work() as uow:
            uow.stored_value.add(_account(code, balance="10"))
            uow.stored_value.add_entries([_entry(code, 1, _cny("10.00"), _cny("10.00"))])
            uow.commit()
        with storage.unit_of_work() as uow, pytest.raises(ConcurrencyConflict):
            uow.stored_value.add(_account(code, balance="99"))
        with storage.unit_of_work() as uow, pytest.raises(ConcurrencyConflict):
            uow.stored_value.add_entries([_entry(code, 1, _cny("1.00"), _cny("11.00"))])
        with storage.unit_of_work() as uow:
            assert uow.stored_value.get(code) == _account(code, balance="10")
            assert len(uow.stored_value.entries(code)) == 1

    def test_stored_value_rolls_back_whole_and_to_a_savepoint(self, storage: Storage) -> None:
        source = random.Random(4).choice
        code, other = new_code(source), new_code(source)
        with storage.unit_of_work() as uow:
            uow.stored_value.add(_account(code, balance="10", holder="ann"))
            uow.stored_value.add_entries([_entry(code, 1, _cny("10.00"), _cny("10.00"))])
            uow.commit()
        with storage.unit_of_work() as uow:  # leaves without commit
            uow.stored_value.update(_account(code, balance="4", last_seq=2, holder="ann"))
            uow.stored_value.add_entries([_entry(code, 2, _cny("-6.00"), _cny("4.00"))])
            uow.stored_value.add(_account(other, balance="1", holder="ann"))
        with storage.unit_of_work() as uow:
            uow.stored_value.update(_account(code, balance="4", last_seq=2, holder="ann"))
            uow.stored_value.add_entries([_entry(code, 2, _cny("-6.00"), _cny("4.00"))])
            savepoint = uow.savepoint()
            uow.stored_value.update(_account(code, balance="0", last_seq=3, holder="ann"))
            uow.stored_value.add_entries([_entry(code, 3, _cny("-4.00"), _cny("0.00"))])
            uow.stored_value.add(_account(other, balance="1", holder="ann"))
            savepoint.rollback()
            uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.stored_value.get(code) == _account(
                code, balance="4", last_seq=2, holder="ann"
            )
            assert [e.seq for e in uow.stored_value.entries(code)] == [1, 2]
            assert uow.stored_value.get(other) is None
            assert [card.code for card in uow.stored_value.of_holder("ann")] == [code]

    def test_stored_value_due_for_expiry_in_order(self, storage: Storage) -> None:
        source = random.Random(5).choice
        codes = sorted(new_code(source) for _ in range(5))
        days = [3, 1, 1, None, 2]
        with storage.unit_of_work() as uow:
            for code, day in zip(codes, days, strict=True):
                expires = None if day is None else T0 + timedelta(days=day)
                uow.stored_value.add(_account(code, balance="5", expires_at=expires))
            # an expired card is no longer due
            expired = _account(
                codes[4], balance="0", expires_at=T0 + timedelta(days=2),
                status=StoredValueStatus.EXPIRED, last_seq=1,
            )  # fmt: skip
            uow.stored_value.update(expired)
            uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.stored_value.due(T0, limit=10) == []
            assert uow.stored_value.due(T0 + timedelta(days=1), limit=10) == codes[1:3]
            assert uow.stored_value.due(T0 + timedelta(days=5), limit=10) == [*codes[1:3], codes[0]]
            assert uow.stored_value.due(T0 + timedelta(days=5), limit=1) == [codes[1]]

    def test_member_cards_round_trip_and_a_number_is_never_issued_twice(
        self, storage: Storage
    ) -> None:
        old = MemberCard(
            number="4000000000000002",
            customer_id="ann",
            issued_at=T0,
            status=CardStatus.BLOCKED,
            blocked_at=T0 + timedelta(days=1),
            reason=BlockReason.LOST,
            replaced_by="4000000000000010",
        )
        new = MemberCard(
            number="4000000000000010",
            customer_id="ann",
            issued_at=T0 + timedelta(days=1),
            replaces=old.number,
        )
        with storage.unit_of_work() as uow:
            uow.cards.add(MemberCard(number=old.number, customer_id="ann", issued_at=T0))
            uow.cards.add(new)
            uow.cards.update(old)
            uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.cards.get(old.number) == old
            assert uow.cards.get(new.number, for_update=True) == new
            assert uow.cards.get("4000000000000028") is None
            assert uow.cards.of_customer("ann") == [old, new]
            assert uow.cards.of_customer("ben") == []
        with storage.unit_of_work() as uow, pytest.raises(ConcurrencyConflict):
            # blocked, the number is still taken: by anyone
            uow.cards.add(MemberCard(number=old.number, customer_id="ben", issued_at=T0))
        with storage.unit_of_work() as uow:
            uow.cards.add(MemberCard(number="4000000000000028", customer_id="ben", issued_at=T0))
        with storage.unit_of_work() as uow:
            assert uow.cards.of_customer("ben") == []  # rolled back

    # --- through the facade ------------------------------------------------------------

    @staticmethod
    def _loyalty(storage: Storage, seed: int = 7, *, outbox: bool = False) -> Loyalty:
        loyalty = Loyalty(storage=storage, outbox=outbox)
        loyalty.code_source = random.Random(seed).choice
        return loyalty

    def test_a_gift_card_is_issued_paid_refunded_and_expired(self, storage: Storage) -> None:
        loyalty = self._loyalty(storage, outbox=True)
        ends = T0 + timedelta(days=30)
        card = loyalty.issue_stored_value(
            "gift_card", _cny("50"), expires_at=ends, at=T0, idempotency_key="sale-1"
        )
        code, later = card.code, T0 + timedelta(hours=1)
        assert card.balance == _cny("50.00") and card.entry.funding is Funding.SOLD
        paid = loyalty.pay_with_stored_value(
            card.account.shown_code.lower(), _cny("30"), at=later, idempotency_key="order-1"
        )
        assert paid.balance == _cny("20.00") and paid.entry.amount == _cny("-30.00")
        again = loyalty.pay_with_stored_value(code, _cny("30"), at=later, idempotency_key="order-1")
        assert again.replayed and again.balance == _cny("20.00")
        with pytest.raises(IdempotencyConflict):
            loyalty.pay_with_stored_value(code, _cny("3"), at=later, idempotency_key="order-1")
        with pytest.raises(InsufficientStoredValue):
            loyalty.pay_with_stored_value(code, _cny("20.01"), at=later, idempotency_key="o-2")
        with pytest.raises(CurrencyMismatch):
            loyalty.pay_with_stored_value(code, Money.of(5, "EUR"), at=later, idempotency_key="o-3")
        with pytest.raises(InvalidAmount):
            loyalty.pay_with_stored_value(code, _cny("0.001"), at=later, idempotency_key="o-4")
        with pytest.raises(OutOfOrder):
            loyalty.pay_with_stored_value(code, _cny("1"), at=T0, idempotency_key="o-5")
        split = loyalty.pay_with_stored_value(
            code, _cny("25"), partial=True, at=later, idempotency_key="o-6"
        )
        assert split.entry.amount == _cny("-20.00") and split.balance == _cny("0.00")
        back = loyalty.refund_to_stored_value(
            code, _cny("12"), payment="order-1", at=later, idempotency_key="rf-1"
        )
        assert back.balance == _cny("12.00") and back.entry.reference == "order-1"
        with pytest.raises(RefundExceedsPayment):
            loyalty.refund_to_stored_value(
                code, _cny("18.01"), payment="order-1", at=later, idempotency_key="rf-2"
            )
        with pytest.raises(RefundExceedsPayment):
            loyalty.refund_to_stored_value(
                code, _cny("1"), payment="never", at=later, idempotency_key="rf-3"
            )
        loyalty.top_up(code, _cny("8"), funding="granted", at=later, idempotency_key="tu-1")
        assert loyalty.stored_value_balance(code, at=later).spendable == _cny("20.00")
        assert loyalty.stored_value_balance(code, at=ends).spendable == _cny("0.00")
        with pytest.raises(StoredValueExpired):
            loyalty.pay_with_stored_value(code, _cny("1"), at=ends, idempotency_key="o-7")
        report = loyalty.expire_stored_value(at=ends + timedelta(days=1))
        assert report.cards == 1 and [e.amount for e in report.entries] == [_cny("-20.00")]
        assert loyalty.expire_stored_value(at=ends + timedelta(days=2)).cards == 0
        kinds = [e.kind.value for e in loyalty.stored_value_entries(code)]
        assert kinds == ["issue", "payment", "payment", "refund", "top_up", "expiry"]
        assert loyalty.stored_value(code).status is StoredValueStatus.EXPIRED
        assert stored_value_violations(storage, code) == []
        types = [event.type for event in loyalty.pending_events(limit=20)]
        assert types.count("pay_with_stored_value") == 2  # refused payments wrote none
        assert "expire_stored_value" in types

    def test_a_wallet_belongs_to_a_member_and_earns_no_tier_credit(self, storage: Storage) -> None:
        loyalty = self._loyalty(storage)
        loyalty.enroll("ann", at=T0, idempotency_key="enroll-ann")
        member = ("activity", "metrics", "tier", "counters")
        with storage.unit_of_work() as uow:
            before = [uow.state.get("ann", name) for name in member]
        wallet = loyalty.issue_stored_value(
            "wallet", Money.zero("CNY"), holder="ann", at=T0, idempotency_key="wallet"
        )
        loyalty.top_up(wallet.code, _cny("200"), at=T0, idempotency_key="top-1")
        gift = loyalty.issue_stored_value(
            "gift_card", _cny("20"), holder="ann", funding="granted", at=T0, idempotency_key="g"
        )
        assert [card.code for card in loyalty.stored_value_of("ann")] == sorted(
            [wallet.code, gift.code]
        )
        loyalty.pay_with_stored_value(wallet.code, _cny("80"), at=T0, idempotency_key="pay-1")
        assert loyalty.balance("ann").available == 0  # money on a card is not points
        with storage.unit_of_work() as uow:  # nor purchases, spend or tier credit
            assert [uow.state.get("ann", name) for name in member] == before
        loyalty.erase("ann", at=T0 + timedelta(days=1), idempotency_key="erase-ann")
        # erasure keeps the money: a balance is owed, under the pseudonymous holder id
        assert loyalty.stored_value_balance(wallet.code, at=T0).balance == _cny("120.00")
        assert stored_value_violations(storage, wallet.code) == []

    def test_threads_never_overspend_a_card(self, storage: Storage) -> None:
        if not storage.capabilities.concurrent_threads:
            pytest.skip("backend does not declare concurrent_threads")
        loyalty = self._loyalty(storage)
        code = loyalty.issue_stored_value(
            "gift_card", _cny(str(CARD_FUNDS)), at=T0, idempotency_key="fund"
        ).code
        outcomes: list[str] = []

        def pay(number: int) -> None:
            try:
                loyalty.pay_with_stored_value(code, _cny("10"), at=T0, idempotency_key=f"p{number}")
                outcomes.append("ok")
            except InsufficientStoredValue:
                outcomes.append("refused")

        threads = [threading.Thread(target=pay, args=(n,)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        fit = CARD_FUNDS // 10
        assert sorted(outcomes) == ["ok"] * fit + ["refused"] * (6 - fit)
        assert loyalty.stored_value_balance(code, at=T0).balance == _cny("0.00")
        assert stored_value_violations(storage, code) == []

    def test_processes_never_overspend_a_card(
        self, storage: Storage, storage_url: str | None
    ) -> None:
        if not storage.capabilities.concurrent_processes:
            pytest.skip("backend does not declare concurrent_processes")
        if storage_url is None:
            pytest.fail("the backend declares concurrent_processes: give a `storage_url`")
        loyalty = self._loyalty(storage)
        code = loyalty.issue_stored_value(
            "gift_card", _cny(str(CARD_FUNDS)), at=T0, idempotency_key="fund"
        ).code
        outcomes = race_in_processes(pay_in_a_process, (storage_url, code), CARD_PROCESSES)
        fit = CARD_FUNDS // 10
        assert outcomes == ["ok"] * fit + ["refused"] * (CARD_PROCESSES - fit), outcomes
        payments = loyalty.stored_value_entries(code)[1:]
        assert len({entry.idempotency_key for entry in payments}) == len(payments) == fit
        assert loyalty.stored_value_balance(code, at=T0).balance == _cny("0.00")
        assert stored_value_violations(storage, code) == []

    def test_a_lost_member_card_is_replaced_and_its_number_never_reused(
        self, storage: Storage
    ) -> None:
        loyalty = self._loyalty(storage, seed=11)
        loyalty.enroll("ann", at=T0, idempotency_key="enroll-ann")
        loyalty.earn("ann", 120, at=T0, idempotency_key="o1")
        first = loyalty.issue_card("ann", at=T0, idempotency_key="card-1")
        assert loyalty.member_by_card(first.number) == "ann"
        later = T0 + timedelta(days=3)
        new = loyalty.replace_card(first.number, reason="lost", at=later, idempotency_key="lost")
        assert new.replaces == first.number and new.number != first.number
        assert loyalty.member_by_card(new.number) == "ann"
        with pytest.raises(CardBlocked, match="lost"):
            loyalty.member_by_card(first.number)
        old = loyalty.card(first.number)
        assert old.replaced_by == new.number and old.blocked_at == later
        assert [c.number for c in loyalty.cards_of("ann")] == [first.number, new.number]
        assert loyalty.balance("ann").available == 120  # the account is untouched
        replay = loyalty.replace_card(first.number, reason="lost", at=later, idempotency_key="lost")
        assert replay == new
        with pytest.raises(CardBlocked):
            loyalty.replace_card(first.number, reason="lost", at=later, idempotency_key="lost-2")
        loyalty.erase("ann", at=later, idempotency_key="erase-ann")
        with pytest.raises(CardBlocked, match="erased"):
            loyalty.member_by_card(new.number)
        # a source that draws the same numbers again finds every one of them taken
        loyalty.enroll("ben", at=later, idempotency_key="enroll-ben")
        loyalty.code_source = random.Random(11).choice
        third = loyalty.issue_card("ben", at=later, idempotency_key="card-ben")
        assert third.number not in {first.number, new.number}

    def test_erasure_keeps_money_and_numbers_and_they_hold_no_profile(
        self, storage: Storage
    ) -> None:
        loyalty = self._loyalty(storage, seed=13, outbox=True)
        profile = Profile(name="Qian Duoduo 钱多多", email="qdd@example.com", phone="+86 139 1234")
        loyalty.enroll("qdd", at=T0, idempotency_key="enroll-qdd", profile=profile)
        wallet = loyalty.issue_stored_value(
            "wallet", _cny("0"), holder="qdd", at=T0, idempotency_key="wallet"
        )
        loyalty.top_up(wallet.code, _cny("66"), at=T0, idempotency_key="top-up")
        card = loyalty.issue_card("qdd", at=T0, idempotency_key="card")
        loyalty.erase("qdd", at=T0 + timedelta(days=1), idempotency_key="erase")
        with storage.unit_of_work() as uow:
            kept = [
                uow.stored_value.of_holder("qdd"),
                uow.stored_value.entries(wallet.code),
                uow.cards.of_customer("qdd"),
            ]
        text = repr(kept) + repr(loyalty.pending_events(limit=50))
        assert not [value for value in ("Qian", "钱多多", "qdd@example", "1234") if value in text]
        assert loyalty.stored_value_balance(wallet.code, at=T0).balance == _cny("66.00")
        assert [c.number for c in loyalty.cards_of("qdd")] == [card.number]

    def test_a_card_whose_expiry_is_rolled_back_is_due_again(self, storage: Storage) -> None:
        code = new_code(random.Random(6).choice)
        ends = T0 + timedelta(days=1)
        due = _account(code, balance="5", expires_at=ends)
        with storage.unit_of_work() as uow:
            uow.stored_value.add(due)
            uow.commit()
        with storage.unit_of_work() as uow:  # expired, looked for, then rolled back
            uow.stored_value.update(attrs.evolve(due, status=StoredValueStatus.EXPIRED))
            assert uow.stored_value.due(ends, limit=5) == []
        with storage.unit_of_work() as uow:
            assert uow.stored_value.due(ends, limit=5) == [code]
