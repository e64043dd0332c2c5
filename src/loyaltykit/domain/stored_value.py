"""Stored value: gift cards and e-wallets, a balance in money rather than points.

A :class:`StoredValueAccount` holds money in one currency under a code a person can type;
its :class:`StoredValueEntry` rows are its ledger: append-only, numbered, each carrying the
balance after it, so the balance is both maintained and derivable (and a mismatch is a
bug the conformance suite and the state machine look for). The functions here are pure:
they take an account and return the changed account and its new entry, or raise.

Rules every backend and every caller share:

- the balance never goes below zero (a payment asking for more is refused, or with
  ``partial`` takes what there is);
- every amount is in the card's currency (another is :class:`~loyaltykit.errors.CurrencyMismatch`)
  and in whole minor units of it (no tenth of a fen on a card);
- past ``expires_at`` nothing moves but the expiry itself, which takes what is left;
- a command dated before the card's latest entry is refused
  (:class:`~loyaltykit.errors.OutOfOrder`): the entries' order is their time order.

Codes are 16 characters of Crockford's base 32 (digits and capitals without I, L, O, U),
the last a Luhn mod 32 check character, shown in groups of four (``4K7M-9QXW-2PHD-T3RB``):
one mistyped or swapped character is caught before any storage is touched.

>>> import random
>>> code = new_code(random.Random(7).choice)
>>> stored_value_code(code.lower()) == code
True
>>> shown_code("4K7M9QXW2PHDT3R0")
'4K7M-9QXW-2PHD-T3R0'
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from loyaltykit.domain.check_digits import luhn_check, luhn_valid
from loyaltykit.errors import (
    CurrencyMismatch,
    InsufficientStoredValue,
    InvalidAmount,
    InvalidCode,
    OutOfOrder,
    RefundExceedsPayment,
    StoredValueExpired,
)
from loyaltykit.values import CustomerId, Money

__all__ = [
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "Funding",
    "StoredValueAccount",
    "StoredValueBalance",
    "StoredValueEntry",
    "StoredValueEntryKind",
    "StoredValueKind",
    "StoredValuePosting",
    "StoredValueReceipt",
    "StoredValueStatus",
    "account_from_record",
    "account_to_record",
    "entry_from_record",
    "entry_to_record",
    "expire",
    "issue",
    "new_code",
    "pay",
    "refund",
    "shown_code",
    "stored_value_amount",
    "stored_value_code",
    "top_up",
]

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford's base 32: no I, L, O or U, so nothing reads as another character."""
CODE_LENGTH = 16
"""Fifteen drawn characters (75 bits) and the check character."""
# what a person may type for a character of the alphabet (Crockford's decoding)
_TYPED = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None, " ": None})


class StoredValueKind(enum.Enum):
    """A gift card (a bearer code, sold or given, with or without a holder) or a member's
    e-wallet (always held by a member)."""

    GIFT_CARD = "gift_card"
    WALLET = "wallet"


class StoredValueStatus(enum.Enum):
    """``active`` until the expiry job has expired the card; then ``expired``."""

    ACTIVE = "active"
    EXPIRED = "expired"


class Funding(enum.Enum):
    """Where money put on a card came from: ``sold`` (paid for: revenue deferred until
    spent) or ``granted`` (given: a promotional liability)."""

    SOLD = "sold"
    GRANTED = "granted"


class StoredValueEntryKind(enum.Enum):
    """What an entry did to the balance."""

    ISSUE = "issue"
    TOP_UP = "top_up"
    PAYMENT = "payment"
    REFUND = "refund"
    EXPIRY = "expiry"


def _money(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Money):
        raise InvalidAmount(attribute.name, value, "Money")


@attrs.frozen(kw_only=True)
class StoredValueAccount:
    """A gift card or wallet: its code, currency, holder, expiry and balance.

    ``last_seq`` numbers its entries (the next is ``last_seq + 1``); ``last_at`` is when
    the latest took effect.
    """

    code: str
    kind: StoredValueKind
    currency: str
    holder: CustomerId | None
    issued_at: datetime
    expires_at: datetime | None
    balance: Money = attrs.field(validator=_money)
    last_seq: int
    last_at: datetime
    status: StoredValueStatus = StoredValueStatus.ACTIVE

    def expired_at(self, at: datetime) -> bool:
        """Whether the card is past its expiry at ``at`` (expired or not yet settled)."""
        return self.status is StoredValueStatus.EXPIRED or (
            self.expires_at is not None and at >= self.expires_at
        )

    @property
    def shown_code(self) -> str:
        """The code in groups of four, as printed on the card."""
        return shown_code(self.code)


@attrs.frozen(kw_only=True)
class StoredValueEntry:
    """One change of a card's balance: ``amount`` is signed (a payment is negative),
    ``balance`` what the card held after it. ``reference`` is the caller's (an order id);
    for a refund, the idempotency key of the payment it gives back."""

    code: str
    seq: int
    kind: StoredValueEntryKind
    amount: Money = attrs.field(validator=_money)
    balance: Money = attrs.field(validator=_money)
    at: datetime
    idempotency_key: str | None
    funding: Funding | None = None
    reference: str | None = None


@attrs.frozen(kw_only=True)
class StoredValuePosting:
    """What one operation did: the account after it and the entry it wrote."""

    account: StoredValueAccount
    entry: StoredValueEntry


@attrs.frozen(kw_only=True)
class StoredValueReceipt:
    """The outcome of a stored-value command: the card as it is after it, and the entry
    it wrote (``replayed`` when the command's key had run before)."""

    account: StoredValueAccount
    entry: StoredValueEntry
    replayed: bool = False

    @property
    def code(self) -> str:
        """The card's code."""
        return self.account.code

    @property
    def balance(self) -> Money:
        """The balance after the command."""
        return self.entry.balance


@attrs.frozen(kw_only=True)
class StoredValueBalance:
    """A card's balance as a query sees it at ``at``: ``spendable`` is zero once the card
    is past its expiry, whether or not the expiry job has run."""

    code: str
    kind: StoredValueKind
    holder: CustomerId | None
    balance: Money
    spendable: Money
    expires_at: datetime | None
    status: StoredValueStatus


# --- codes --------------------------------------------------------------------------------


def new_code(source: Callable[[Sequence[str]], str]) -> str:
    """A fresh code: fifteen characters picked by ``source`` (``secrets.choice``, or a
    seeded ``random.Random(7).choice``) and the check character."""
    body = "".join(source(CODE_ALPHABET) for _ in range(CODE_LENGTH - 1))
    if len(body) != CODE_LENGTH - 1 or any(c not in CODE_ALPHABET for c in body):
        raise InvalidCode("code source", body, f"it must pick characters of {CODE_ALPHABET}")
    return body + luhn_check(body, CODE_ALPHABET)


def stored_value_code(value: object) -> str:
    """A code as typed (any case, with dashes or spaces, ``O`` for ``0``, ``I`` or ``L``
    for ``1``) in its stored form; raises :class:`~loyaltykit.errors.InvalidCode`."""
    if not isinstance(value, str):
        raise InvalidCode("stored value code", value, "it is not text")
    code = value.upper().translate(_TYPED)
    if len(code) != CODE_LENGTH:
        raise InvalidCode("stored value code", value, f"a code has {CODE_LENGTH} characters")
    if any(c not in CODE_ALPHABET for c in code):
        raise InvalidCode("stored value code", value, "a character is not in the code alphabet")
    if not luhn_valid(code, CODE_ALPHABET):
        raise InvalidCode("stored value code", value, "the check character does not match")
    return code


def shown_code(code: str) -> str:
    """``code`` in groups of four characters."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


# --- amounts -------------------------------------------------------------------------------


def stored_value_amount(what: str, value: object, currency: str) -> Money:
    """``value`` if it is a positive amount of ``currency`` in whole minor units, with
    its exponent set to them (``Money.of("50", "CNY")`` is kept as ``50.00``)."""
    if not isinstance(value, Money):
        raise InvalidAmount(what, value, f"Money in {currency}")
    if value.currency != currency:
        raise CurrencyMismatch(currency, value.currency)
    return _positive(what, value)


def _positive(what: str, value: Money) -> Money:
    exact = value.quantize(places=value.minor_units)
    if exact.amount != value.amount:
        raise InvalidAmount(what, value, f"whole minor units of {value.currency}")
    if exact.amount <= 0:
        raise InvalidAmount(what, value, "a positive amount")
    return exact


# --- operations -----------------------------------------------------------------------------


def issue(
    code: str,
    kind: StoredValueKind,
    amount: Money,
    *,
    funding: Funding,
    holder: CustomerId | None,
    expires_at: datetime | None,
    at: datetime,
    key: str,
) -> StoredValuePosting:
    """A new card holding ``amount``: a gift card needs a positive amount, a wallet may
    open empty (``Money.zero``)."""
    if not isinstance(amount, Money):
        raise InvalidAmount("amount", amount, "Money")
    if kind is StoredValueKind.WALLET and amount.amount == 0:
        amount = Money.zero(amount.currency).quantize()
    else:
        amount = _positive("amount", amount)
    if expires_at is not None and expires_at <= at:
        raise InvalidAmount("expires_at", expires_at, f"an instant after {at.isoformat()}")
    account = StoredValueAccount(
        code=code,
        kind=kind,
        currency=amount.currency,
        holder=holder,
        issued_at=at,
        expires_at=expires_at,
        balance=amount,
        last_seq=0,
        last_at=at,
    )
    return _post(account, StoredValueEntryKind.ISSUE, amount, at, key, funding=funding)


def top_up(
    account: StoredValueAccount,
    amount: Money,
    *,
    funding: Funding,
    at: datetime,
    key: str,
    reference: str | None = None,
) -> StoredValuePosting:
    """Add ``amount`` to the card."""
    amount = stored_value_amount("amount", amount, account.currency)
    _open(account, at)
    return _post(account, StoredValueEntryKind.TOP_UP, amount, at, key, funding, reference)


def pay(
    account: StoredValueAccount,
    amount: Money,
    *,
    at: datetime,
    key: str,
    reference: str | None = None,
    partial: bool = False,
) -> StoredValuePosting:
    """Take ``amount`` off the card; with ``partial``, as much of it as the card holds
    (at least a minor unit: an empty card is still refused)."""
    amount = stored_value_amount("amount", amount, account.currency)
    _open(account, at)
    taken = amount if amount <= account.balance else account.balance
    if taken != amount and (not partial or taken.amount == 0):
        raise InsufficientStoredValue(account.code, str(amount), str(account.balance))
    return _post(account, StoredValueEntryKind.PAYMENT, -taken, at, key, reference=reference)


def refund(
    account: StoredValueAccount,
    amount: Money,
    *,
    at: datetime,
    key: str,
    payment: str | None,
    payments: Sequence[StoredValueEntry] = (),
    refunds: Sequence[StoredValueEntry] = (),
) -> StoredValuePosting:
    """Give ``amount`` back to the card. Naming ``payment`` (the idempotency key of a
    payment the card made, whose entries are ``payments``, and ``refunds`` those already
    giving it back) caps the refund at what is left of it."""
    amount = stored_value_amount("amount", amount, account.currency)
    _open(account, at)
    if payment is not None:
        paid = -sum((e.amount.amount for e in payments if e.kind is _PAYMENT), Decimal(0))
        back = sum((e.amount.amount for e in refunds), Decimal(0))
        left = Money(amount=paid - back, currency=account.currency).quantize()
        if amount > left:
            raise RefundExceedsPayment(account.code, payment, str(left))
    return _post(account, StoredValueEntryKind.REFUND, amount, at, key, reference=payment)


def expire(account: StoredValueAccount, at: datetime) -> StoredValuePosting | None:
    """Expire a card due at ``at``: an expiry entry takes what is left (an entry of zero
    when the card is empty, so its history says when it expired and its entries stay
    numbered without a gap), and the card is ``expired``. ``None`` when it is not due."""
    if account.status is StoredValueStatus.EXPIRED or not account.expired_at(at):
        return None
    assert account.expires_at is not None
    when = max(account.expires_at, account.last_at)  # it expired then, not when the job ran
    posting = _post(account, StoredValueEntryKind.EXPIRY, -account.balance, when, None)
    return attrs.evolve(
        posting, account=attrs.evolve(posting.account, status=StoredValueStatus.EXPIRED)
    )


_PAYMENT = StoredValueEntryKind.PAYMENT


def _open(account: StoredValueAccount, at: datetime) -> None:
    if account.expired_at(at):
        assert account.expires_at is not None
        raise StoredValueExpired(account.code, account.expires_at)
    if at < account.last_at:
        raise OutOfOrder(f"the latest entry of stored value {account.code}", at, account.last_at)


def _post(
    account: StoredValueAccount,
    kind: StoredValueEntryKind,
    amount: Money,
    at: datetime,
    key: str | None,
    funding: Funding | None = None,
    reference: str | None = None,
) -> StoredValuePosting:
    balance = amount if kind is StoredValueEntryKind.ISSUE else account.balance + amount
    if balance.amount < 0:  # pragma: no cover - pay() refuses first; a guard of the rule
        raise InsufficientStoredValue(account.code, str(-amount), str(account.balance))
    seq = account.last_seq + 1
    entry = StoredValueEntry(
        code=account.code,
        seq=seq,
        kind=kind,
        amount=amount,
        balance=balance,
        at=at,
        idempotency_key=key,
        funding=funding,
        reference=reference,
    )
    changed = attrs.evolve(account, balance=balance, last_seq=seq, last_at=max(at, account.last_at))
    return StoredValuePosting(account=changed, entry=entry)


# --- JSON forms (stored outcomes, document stores) ---------------------------------------


def _text(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _instant(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def account_to_record(account: StoredValueAccount) -> dict[str, Any]:
    """The account as JSON-compatible data."""
    return {
        "code": account.code,
        "kind": account.kind.value,
        "currency": account.currency,
        "holder": account.holder,
        "issued_at": account.issued_at.isoformat(),
        "expires_at": _text(account.expires_at),
        "balance": str(account.balance.amount),
        "last_seq": account.last_seq,
        "last_at": account.last_at.isoformat(),
        "status": account.status.value,
    }


def account_from_record(record: Mapping[str, Any]) -> StoredValueAccount:
    """The account :func:`account_to_record` wrote."""
    currency = record["currency"]
    issued_at = datetime.fromisoformat(record["issued_at"])
    last_at = datetime.fromisoformat(record["last_at"])
    return StoredValueAccount(
        code=record["code"],
        kind=StoredValueKind(record["kind"]),
        currency=currency,
        holder=record["holder"],
        issued_at=issued_at,
        expires_at=_instant(record["expires_at"]),
        balance=Money.of(record["balance"], currency),
        last_seq=int(record["last_seq"]),
        last_at=last_at,
        status=StoredValueStatus(record["status"]),
    )


def entry_to_record(entry: StoredValueEntry) -> dict[str, Any]:
    """The entry as JSON-compatible data."""
    return {
        "code": entry.code,
        "seq": entry.seq,
        "kind": entry.kind.value,
        "amount": str(entry.amount.amount),
        "balance": str(entry.balance.amount),
        "currency": entry.amount.currency,
        "at": entry.at.isoformat(),
        "idempotency_key": entry.idempotency_key,
        "funding": None if entry.funding is None else entry.funding.value,
        "reference": entry.reference,
    }


def entry_from_record(record: Mapping[str, Any]) -> StoredValueEntry:
    """The entry :func:`entry_to_record` wrote."""
    currency = record["currency"]
    at = datetime.fromisoformat(record["at"])
    return StoredValueEntry(
        code=record["code"],
        seq=int(record["seq"]),
        kind=StoredValueEntryKind(record["kind"]),
        amount=Money.of(record["amount"], currency),
        balance=Money.of(record["balance"], currency),
        at=at,
        idempotency_key=record["idempotency_key"],
        funding=None if record["funding"] is None else Funding(record["funding"]),
        reference=record["reference"],
    )
