"""Gift card codes, card numbers and the stored-value commands' refusals (memory backend;
the storage behaviour is in the conformance suite)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltykit import Loyalty, Money
from loyaltykit.domain.cards import CardFormat, card_number, new_card_number
from loyaltykit.domain.check_digits import luhn_check, luhn_valid
from loyaltykit.domain.stored_value import CODE_ALPHABET, new_code, stored_value_code
from loyaltykit.errors import (
    AccountNotActive,
    CardAlreadyIssued,
    InvalidAmount,
    InvalidArgument,
    InvalidCode,
    UnknownCard,
    UnknownCustomer,
    UnknownStoredValue,
)
from loyaltykit.service.commands import IssueStoredValue
from loyaltykit.service.kernel import Codec, Work

T0 = datetime(2026, 5, 1, 10, tzinfo=UTC)
CNY = "CNY"


def test_luhn_matches_the_published_examples() -> None:
    assert luhn_check("7992739871") == "3"
    assert luhn_valid("79927398713")
    assert luhn_valid("4111111111111111")  # the classic test card number
    assert not luhn_valid("4111111111111112")
    assert not luhn_valid("4111-1111")


@settings(max_examples=60)
@given(seed=st.integers(0, 10_000), position=st.integers(0, 15), data=st.data())
def test_one_mistyped_character_of_a_code_is_always_caught(
    seed: int, position: int, data: st.DataObject
) -> None:
    code = new_code(random.Random(seed).choice)
    wrong = data.draw(st.sampled_from([c for c in CODE_ALPHABET if c != code[position]]))
    typo = code[:position] + wrong + code[position + 1 :]
    with pytest.raises(InvalidCode):
        stored_value_code(typo)
    assert stored_value_code(f" {code[:8].lower()}-{code[8:]} ") == code


@settings(max_examples=60)
@given(seed=st.integers(0, 10_000), position=st.integers(0, 14))
def test_two_swapped_neighbours_of_a_card_number_are_caught(seed: int, position: int) -> None:
    number = new_card_number(random.Random(seed).choice, CardFormat())
    first, second = number[position], number[position + 1]
    swapped = number[:position] + second + first + number[position + 2 :]
    if {first, second} in ({"0", "9"}, {first}):  # Luhn's one blind spot, and no change
        return
    with pytest.raises(InvalidCode):
        card_number(swapped)


def test_codes_and_numbers_read_as_typed() -> None:
    code = new_code(random.Random(3).choice)
    assert stored_value_code(code.replace("0", "O").replace("1", "l")) == code
    for bad in ("", "ABC", 12345, code + "0", code[:-1] + "U"):
        with pytest.raises(InvalidCode):
            stored_value_code(bad)
    with pytest.raises(InvalidArgument):
        CardFormat(prefix="12a")
    with pytest.raises(InvalidArgument):
        CardFormat(prefix="123456789012", length=16)


def test_refusals_name_what_was_wrong_and_change_nothing() -> None:
    loyalty = Loyalty(outbox=True)
    loyalty.code_source = random.Random(1).choice
    with pytest.raises(InvalidArgument, match="wallet belongs to a member"):
        loyalty.issue_stored_value("wallet", Money.zero(CNY), at=T0, idempotency_key="w")
    with pytest.raises(UnknownCustomer):
        loyalty.issue_stored_value(
            "wallet", Money.zero(CNY), holder="nobody", at=T0, idempotency_key="w"
        )
    with pytest.raises(InvalidAmount):
        loyalty.issue_stored_value("gift_card", Money.zero(CNY), at=T0, idempotency_key="g")
    with pytest.raises(InvalidAmount):
        loyalty.issue_stored_value("gift_card", Money.of("-5", CNY), at=T0, idempotency_key="g")
    with pytest.raises(InvalidAmount, match="expires_at"):
        loyalty.issue_stored_value(
            "gift_card", Money.of(5, CNY), expires_at=T0, at=T0, idempotency_key="g"
        )
    with pytest.raises(InvalidArgument, match="funding"):
        loyalty.issue_stored_value(
            "gift_card", Money.of(5, CNY), funding="stolen", at=T0, idempotency_key="g"
        )
    with pytest.raises(InvalidArgument, match="kind"):
        loyalty.issue_stored_value("voucher", Money.of(5, CNY), at=T0, idempotency_key="g")
    unknown = new_code(random.Random(2).choice)
    with pytest.raises(UnknownStoredValue):
        loyalty.pay_with_stored_value(unknown, Money.of(1, CNY), at=T0, idempotency_key="p")
    with pytest.raises(UnknownCard):
        loyalty.card("4111111111111111")
    assert loyalty.pending_events() == ()


def test_a_closed_member_gets_no_wallet_and_one_active_card_at_a_time() -> None:
    loyalty = Loyalty()
    loyalty.enroll("ann", at=T0, idempotency_key="e")
    loyalty.issue_card("ann", at=T0, idempotency_key="c1")
    with pytest.raises(CardAlreadyIssued):
        loyalty.issue_card("ann", at=T0, idempotency_key="c2")
    loyalty.close_account("ann", at=T0, idempotency_key="close")
    with pytest.raises(AccountNotActive):
        loyalty.issue_stored_value(
            "wallet", Money.zero(CNY), holder="ann", at=T0, idempotency_key="w"
        )


def test_another_area_pays_with_a_card_inside_its_own_command() -> None:
    """What a checkout does: its own command and key, the card paid in the same unit of
    work; an error after the payment takes the payment back with it."""
    loyalty = Loyalty(outbox=True)
    loyalty.code_source = random.Random(4).choice
    loyalty.enroll("ann", at=T0, idempotency_key="e")
    code = loyalty.issue_stored_value(
        "gift_card", Money.of(50, CNY), at=T0, idempotency_key="sale"
    ).code
    area = loyalty._stored_value
    command = IssueStoredValue(  # any command value stands for the caller's own
        card_kind="gift_card", amount=Money.of(1, CNY), holder="ann",
        at=T0 + timedelta(hours=1), idempotency_key="checkout-9",
    )  # fmt: skip
    codec: Codec[str] = Codec(lambda text: {"text": text}, lambda _uow, record: record["text"])

    def checkout(work: Work) -> str:
        paid = area.pay_in(work, code, Money.of(20, CNY), reference="order-9")
        return str(paid.balance)

    assert loyalty.kernel.execute(command, checkout, codec) == "30.00 CNY"
    (entry,) = [e for e in loyalty.stored_value_entries(code) if e.kind.value == "payment"]
    assert entry.idempotency_key == "checkout-9" and entry.reference == "order-9"

    def failing(work: Work) -> str:
        area.pay_in(work, code, Money.of(5, CNY))
        raise InvalidArgument("the basket changed")

    failed = IssueStoredValue(
        card_kind="gift_card", amount=Money.of(1, CNY), holder="ann", at=T0 + timedelta(hours=2),
        idempotency_key="checkout-10",
    )  # fmt: skip
    with pytest.raises(InvalidArgument):
        loyalty.kernel.execute(failed, failing, codec)
    assert loyalty.stored_value(code).balance == Money.of("30.00", CNY)

    def order_refund(work: Work) -> str:
        back = area.refund_in(work, code, Money.of(5, CNY), payment="checkout-9")
        return str(back.balance)

    returned = IssueStoredValue(
        card_kind="gift_card", amount=Money.of(1, CNY), holder="ann", at=T0 + timedelta(hours=3),
        idempotency_key="return-9",
    )  # fmt: skip
    assert loyalty.kernel.execute(returned, order_refund, codec) == "35.00 CNY"
    events = [e.type for e in loyalty.pending_events(limit=20)]
    assert events.count("pay_with_stored_value") == 1  # the failed checkout wrote none
    assert events.count("refund_to_stored_value") == 1
