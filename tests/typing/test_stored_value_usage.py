"""Gift cards, wallets and member cards as the docs show them, type-checked by
``mypy --strict tests/typing`` (and run by pytest, so it cannot go stale)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from loyaltykit import (
    CardFormat,
    Loyalty,
    MemberCard,
    Money,
    StoredValueBalance,
    StoredValueEntry,
    StoredValueExpiry,
    StoredValueReceipt,
)

AT = datetime(2026, 5, 1, 10, tzinfo=UTC)


def test_a_gift_card_and_a_wallet_as_documented() -> None:
    loyalty = Loyalty()
    loyalty.code_source = random.Random(7).choice
    card: StoredValueReceipt = loyalty.issue_stored_value(
        "gift_card", Money.of("50", "CNY"), expires_at=AT + timedelta(days=365),
        at=AT, idempotency_key="sale-1",
    )  # fmt: skip
    code: str = card.code
    paid: StoredValueReceipt = loyalty.pay_with_stored_value(
        code, Money.of("30", "CNY"), reference="order-1", partial=False,
        at=AT, idempotency_key="order-1",
    )  # fmt: skip
    loyalty.refund_to_stored_value(
        code, Money.of("10", "CNY"), payment="order-1", at=AT, idempotency_key="back-1"
    )
    loyalty.top_up(code, Money.of("5", "CNY"), funding="granted", at=AT, idempotency_key="t-1")
    balance: StoredValueBalance = loyalty.stored_value_balance(code, at=AT)
    entries: tuple[StoredValueEntry, ...] = loyalty.stored_value_entries(code)
    report: StoredValueExpiry = loyalty.expire_stored_value(at=AT + timedelta(days=400))
    assert paid.balance == Money.of("20.00", "CNY")
    assert balance.spendable == Money.of("35.00", "CNY") and len(entries) == 4
    assert report.cards == 1
    loyalty.enroll("ann", at=AT, idempotency_key="enroll")
    wallet = loyalty.issue_stored_value(
        "wallet", Money.zero("CNY"), holder="ann", at=AT, idempotency_key="wallet"
    )
    assert loyalty.stored_value_of("ann")[0].code == wallet.code


def test_member_cards_as_documented() -> None:
    loyalty = Loyalty()
    loyalty.code_source = random.Random(11).choice
    loyalty.card_format = CardFormat(prefix="8866", length=16)
    loyalty.enroll("ann", at=AT, idempotency_key="enroll")
    card: MemberCard = loyalty.issue_card("ann", at=AT, idempotency_key="card")
    member: str = loyalty.member_by_card(card.number)
    new = loyalty.replace_card(card.number, reason="lost", at=AT, idempotency_key="lost")
    history: tuple[MemberCard, ...] = loyalty.cards_of(member)
    assert {c.number for c in history} == {card.number, new.number}
    assert loyalty.card(card.number).replaced_by == new.number
