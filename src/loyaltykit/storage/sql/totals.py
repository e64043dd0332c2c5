"""Every account's entries summed in two set-based reads (see ``LedgerTotals``)."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from loyaltykit.storage.base import LedgerTotalsRow
from loyaltykit.storage.sql import schema

__all__ = ["ledger_totals"]


def ledger_totals(connection: Connection, point_type: str, tenant: str) -> list[LedgerTotalsRow]:
    """The accounts of ``point_type`` in ``tenant`` with their entries summed by kind."""
    accounts, entries = schema.accounts, schema.entries
    sums: dict[str, dict[str, int]] = {}
    pending: dict[str, int] = {}
    grouped = (
        select(
            entries.c.customer_id,
            entries.c.kind,
            func.sum(entries.c.amount),
            func.sum(entries.c.pending_delta),
        )
        .where(entries.c.tenant == tenant, entries.c.point_type == point_type)
        .group_by(entries.c.customer_id, entries.c.kind)
    )
    for customer_id, kind, amount, pending_delta in connection.execute(grouped):
        sums.setdefault(customer_id, {})[kind] = int(amount)
        pending[customer_id] = pending.get(customer_id, 0) + int(pending_delta)
    balances = (
        select(
            accounts.c.customer_id,
            accounts.c.available,
            accounts.c.pending,
            accounts.c.lifetime_redeemed,
            accounts.c.lifetime_expired,
        )
        .where(accounts.c.tenant == tenant, accounts.c.point_type == point_type)
        .order_by(accounts.c.customer_id)
    )
    return [
        LedgerTotalsRow(
            customer_id=customer_id,
            point_type=point_type,
            available=int(available),
            pending=int(pending_now),
            lifetime_redeemed=int(redeemed),
            lifetime_expired=int(expired),
            entries=sums.get(customer_id, {}),
            pending_entries=pending.get(customer_id, 0),
        )
        for customer_id, available, pending_now, redeemed, expired in connection.execute(balances)
    ]
