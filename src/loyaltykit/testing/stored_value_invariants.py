"""The stored-value ledger's invariants, checked against what a backend stored.

Use it after any sequence of commands, on any backend::

    assert not stored_value_violations(loyalty.storage, receipt.code)
"""

from __future__ import annotations

from decimal import Decimal

from loyaltykit.storage.base import Storage

__all__ = ["stored_value_violations"]


def stored_value_violations(storage: Storage, code: str) -> list[str]:
    """Every broken invariant of one gift card or wallet, as readable sentences (empty
    when sound): entries numbered 1, 2, 3... with no gap, each one's balance the previous
    plus its amount and never below zero, the card's cached balance, last number and
    latest instant those of its entries, one currency throughout."""
    with storage.unit_of_work() as uow:
        account = uow.stored_value.get(code)
        entries = uow.stored_value.entries(code)
    if account is None:
        return [f"{code}: entries without a card"] if entries else []
    problems: list[str] = []
    running = Decimal(0)
    for number, entry in enumerate(entries, start=1):
        where = f"{code} entry {entry.seq}"
        if entry.seq != number:
            problems.append(f"{where}: numbered {entry.seq}, expected {number}")
        if {entry.amount.currency, entry.balance.currency} != {account.currency}:
            problems.append(f"{where}: in {entry.amount.currency}, the card is {account.currency}")
        running += entry.amount.amount
        if entry.balance.amount != running:
            problems.append(f"{where}: balance {entry.balance.amount}, entries add up to {running}")
        if entry.balance.amount < 0:
            problems.append(f"{where}: the balance went below zero ({entry.balance.amount})")
    if account.balance.amount != running:
        problems.append(f"{code}: balance {account.balance.amount}, entries add up to {running}")
    if account.last_seq != len(entries):
        problems.append(f"{code}: last_seq {account.last_seq}, {len(entries)} entries")
    if entries and account.last_at < max(entry.at for entry in entries):
        problems.append(f"{code}: last_at {account.last_at} before its latest entry")
    return problems
