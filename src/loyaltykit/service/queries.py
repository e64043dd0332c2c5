"""Read-only queries: balances and statements."""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs

from loyaltykit.domain import ledger
from loyaltykit.domain.ledger import Account, Entry, EntryKind, Lot
from loyaltykit.errors import (
    InvalidArgument,
)
from loyaltykit.outcomes import (
    Balance,
    Statement,
    StatementLine,
)
from loyaltykit.service import postings
from loyaltykit.service.codecs import (
    POINTS,
    existing,
)
from loyaltykit.service.kernel import Kernel
from loyaltykit.values import (
    CustomerId,
    aware,
    instance_of,
)

__all__ = ["Queries"]


# a window of expiring points ends inside every backend's range (values.LATEST)
_LONGEST_WINDOW = timedelta(days=100 * 366)


class Queries:
    """Read-only queries: balances and statements."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel

    # --- queries --------------------------------------------------------------------

    def balance(
        self,
        customer_id: CustomerId,
        *,
        point_type: str = POINTS,
        at: datetime | None = None,
        expiring_within: timedelta | None = None,
    ) -> Balance:
        """The customer's balance.

        Without ``at``: the stored balance, O(1). With ``at``: the balance at that
        instant, derived from the entries (lots that fell due by then count as settled).
        ``expiring_within`` (needs ``at``) adds the points that expire in that window.
        """
        when = None if at is None else aware("at", at)
        program = self.kernel.versions.latest if when is None else self.kernel.versions.at(when)
        code = postings.point_type(program, point_type).code
        if expiring_within is not None and when is None:
            raise InvalidArgument("expiring_within: needs at=, the instant the window starts")
        if expiring_within is not None:
            window = instance_of("expiring_within", expiring_within, timedelta)
            if not timedelta(0) <= window <= _LONGEST_WINDOW:
                raise InvalidArgument(
                    f"expiring_within: {window} is not from zero to {_LONGEST_WINDOW.days} days"
                )
        with self.kernel.reading() as uow:
            existing(uow, customer_id)
            account = uow.ledger.account(customer_id, code) or Account(
                customer_id=customer_id, point_type=code
            )
            balance = Balance.of(account)
            if when is not None:
                balance = _balance_at(
                    balance,
                    uow.ledger.entries(customer_id, code),
                    uow.ledger.lots(customer_id, code),
                    when,
                )
            if when is not None and expiring_within is not None:
                until = when + expiring_within
                balance = attrs.evolve(
                    balance,
                    expiring=uow.ledger.expiring(customer_id, code, when, until),
                    expiring_until=until,
                )
        return balance

    def statement(
        self,
        customer_id: CustomerId,
        *,
        point_type: str = POINTS,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Statement:
        """The account's entries in the order they took effect, with running balances."""
        code = postings.point_type(self.kernel.versions.latest, point_type).code
        start = None if since is None else aware("since", since)
        end = None if until is None else aware("until", until)
        with self.kernel.reading() as uow:
            existing(uow, customer_id)
            entries = sorted(
                uow.ledger.entries(customer_id, code), key=lambda e: (e.occurred_at, e.seq)
            )
        opening_available = opening_pending = 0
        available = pending = 0
        lines: list[StatementLine] = []
        for entry in entries:
            available += entry.amount
            pending += entry.pending_delta
            if start is not None and entry.occurred_at < start:
                opening_available, opening_pending = available, pending
                continue
            if end is not None and entry.occurred_at > end:
                break
            lines.append(StatementLine(entry=entry, available=available, pending=pending))
        return Statement(
            customer_id=customer_id,
            point_type=code,
            opening_available=opening_available,
            opening_pending=opening_pending,
            lines=tuple(lines),
        )


def _balance_at(stored: Balance, entries: list[Entry], lots: list[Lot], at: datetime) -> Balance:
    available, pending = ledger.available_at(entries, lots, at)
    earned = redeemed = expired = 0
    for entry in entries:
        if entry.occurred_at > at:
            continue
        if entry.kind is EntryKind.EARN:
            earned += entry.amount + entry.pending_delta
        elif entry.kind is EntryKind.REDEEM:
            redeemed -= entry.amount
        elif entry.kind is EntryKind.EXPIRE:
            expired -= entry.amount + entry.pending_delta
    return attrs.evolve(
        stored,
        available=available,
        pending=pending,
        lifetime_earned=earned,
        lifetime_redeemed=redeemed,
        lifetime_expired=expired,
        as_of=at,
    )
