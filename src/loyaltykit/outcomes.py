"""What the facade's commands and queries return: immutable, typed values."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from loyaltykit.domain.care import CareAction
from loyaltykit.domain.complaints import SlaAlerts
from loyaltykit.domain.ledger import Account, Entry, EntryKind
from loyaltykit.domain.records import entry_from_record, entry_to_record, instant_from_text
from loyaltykit.domain.tiers import TierChange, TierStatus
from loyaltykit.values import CustomerId, Money, Points, instance_of

__all__ = [
    "Balance",
    "DueReport",
    "JobFailure",
    "Receipt",
    "SettlementReport",
    "Statement",
    "StatementLine",
    "TierView",
    "receipt_from_record",
    "receipt_to_record",
]


@attrs.frozen(kw_only=True)
class Balance:
    """The balances of one customer's point type.

    ``as_of`` is ``None`` for the stored balance (as the last command left it) and the
    instant asked for otherwise. ``expiring`` is filled in when asked for: the points
    that will expire by ``expiring_until`` unless they are spent.
    """

    customer_id: CustomerId
    point_type: str
    available: Points
    pending: Points
    lifetime_earned: Points
    lifetime_redeemed: Points
    lifetime_expired: Points
    as_of: datetime | None = None
    expiring: Points | None = None
    expiring_until: datetime | None = None

    @classmethod
    def of(cls, account: Account) -> Balance:
        """The stored balance of ``account``."""
        instance_of("account", account, Account)
        return balance_of_saved(account)


def balance_of_saved(account: Account) -> Balance:
    """:meth:`Balance.of` for an account the library itself built or read (not checked
    again: the hot path of every command's receipt)."""
    return Balance(
        customer_id=account.customer_id,
        point_type=account.point_type,
        available=account.available,
        pending=account.pending,
        lifetime_earned=account.lifetime_earned,
        lifetime_redeemed=account.lifetime_redeemed,
        lifetime_expired=account.lifetime_expired,
    )


@attrs.frozen(kw_only=True)
class Receipt:
    """What a ledger command did: its entries and the balances it left.

    ``entries`` lists everything the command recorded, in order, including the
    settlement of lots that had fallen due (expiry, release) before it ran.
    ``replayed`` is ``True`` when the command was a replay of an idempotency key;
    it is not part of equality, so a replay compares equal to the first outcome.
    """

    command: str
    idempotency_key: str
    customer_id: CustomerId
    at: datetime
    entries: tuple[Entry, ...]
    balances: tuple[Balance, ...]
    explanation: str = ""
    replayed: bool = attrs.field(default=False, eq=False)
    revenue: Money | None = None
    """Money the command took from the member (points bought), negative when it gave money
    back (a refund of points bought); ``None`` for the rest."""

    @property
    def balance(self) -> Balance:
        """The balance of the account the command was about (the first one)."""
        return self.balances[0]

    def entries_of(self, kind: EntryKind) -> tuple[Entry, ...]:
        """The entries of one kind, e.g. ``receipt.entries_of(EntryKind.REDEEM)``."""
        return tuple(entry for entry in self.entries if entry.kind is kind)


@attrs.frozen(kw_only=True)
class StatementLine:
    """An entry with the balances right after it."""

    entry: Entry
    available: Points
    pending: Points


@attrs.frozen(kw_only=True)
class Statement:
    """The entries of an account in the order they took effect, with running balances."""

    customer_id: CustomerId
    point_type: str
    opening_available: Points
    opening_pending: Points
    lines: tuple[StatementLine, ...]

    @property
    def closing_available(self) -> Points:
        """The available balance after the last line."""
        return self.lines[-1].available if self.lines else self.opening_available

    @property
    def closing_pending(self) -> Points:
        """The pending balance after the last line."""
        return self.lines[-1].pending if self.lines else self.opening_pending


@attrs.frozen(kw_only=True)
class JobFailure:
    """One item a batch job could not do and went past: the member (or record owner),
    what it was working on, and the error's class and message (the job's other items
    were done; the next run tries this one again)."""

    job: str
    owner: str
    reference: str
    error: str
    message: str


@attrs.frozen(kw_only=True)
class SettlementReport:
    """What a batch run (``expire_due``, ``release_pending``) did."""

    at: datetime
    accounts: int
    entries: int
    expired: Points
    released: Points
    failures: tuple[JobFailure, ...] = ()
    """Accounts the job could not settle and went past (logged; the next run retries)."""


@attrs.frozen(kw_only=True)
class DueReport:
    """What :meth:`~loyaltykit.Loyalty.run_due` did, step by step (``unclaimed``: the
    redemptions it cancelled because nobody claimed them in time)."""

    at: datetime
    released: SettlementReport
    expired: SettlementReport
    tier_changes: int = 0
    care: tuple[CareAction, ...] = ()
    complaints: SlaAlerts | None = None  # SLA warnings, breaches and escalations
    unclaimed: int = 0
    failures: tuple[JobFailure, ...] = ()
    """What a step could not do for one member and went past (logged too)."""


@attrs.frozen(kw_only=True)
class TierView:
    """A member's tier at an instant: the one that counts, the earned one, the history."""

    customer_id: CustomerId
    effective: str
    status: TierStatus
    history: tuple[TierChange, ...]


_BALANCE_COUNTS = (
    "available",
    "pending",
    "lifetime_earned",
    "lifetime_redeemed",
    "lifetime_expired",
)


def receipt_to_record(receipt: Receipt) -> dict[str, Any]:
    """A receipt as plain data, for the idempotency record."""
    return {
        "command": receipt.command,
        "idempotency_key": receipt.idempotency_key,
        "customer_id": receipt.customer_id,
        "at": receipt.at.isoformat(),
        "entries": [entry_to_record(entry) for entry in receipt.entries],
        "explanation": receipt.explanation,
        "balances": [
            {
                "customer_id": balance.customer_id,
                "point_type": balance.point_type,
                **{name: getattr(balance, name) for name in _BALANCE_COUNTS},
            }
            for balance in receipt.balances
        ],
        # only when there is some: receipts without it are written as they always were
        **(
            {}
            if receipt.revenue is None
            else {"revenue": [str(receipt.revenue.amount), receipt.revenue.currency]}
        ),
    }


def receipt_from_record(record: Mapping[str, Any]) -> Receipt:
    """The receipt :func:`receipt_to_record` wrote."""
    at = instant_from_text(record["at"])
    assert at is not None
    return Receipt(
        command=record["command"],
        idempotency_key=record["idempotency_key"],
        customer_id=record["customer_id"],
        at=at,
        entries=tuple(entry_from_record(entry) for entry in record["entries"]),
        balances=tuple(Balance(**balance) for balance in record["balances"]),
        explanation=record.get("explanation", ""),
        revenue=(
            None
            if record.get("revenue") is None
            else Money.of(str(record["revenue"][0]), str(record["revenue"][1]))
        ),
    )
