"""Points liability: what the programme owes its members, and when it falls due.

Outstanding points (available and pending) are a liability on the company's books until
they are spent or expire; finance wants the total, its money value at a cost per point,
and how much of it expires month by month (积分清理 releases it).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, tzinfo

import attrs

from loyaltykit.domain.ledger import Account, Lot
from loyaltykit.values import Money

__all__ = ["PointsLiability", "combined", "liability"]


@attrs.frozen(kw_only=True)
class PointsLiability:
    """Outstanding points of one point type at an instant.

    ``expiring`` maps a local month (``"2026-07"``) to the points left in lots that expire
    in it; points that never expire are in ``never_expiring``. ``value`` is the money
    value of ``available + pending`` at ``value_per_point``, when one was given.
    """

    point_type: str
    at: datetime
    accounts: int
    available: int
    pending: int
    deficit: int
    expiring: dict[str, int]
    never_expiring: int
    value: Money | None = None

    @property
    def outstanding(self) -> int:
        """Points members hold: available and pending."""
        return self.available + self.pending


def liability(
    point_type: str,
    accounts: Iterable[Account],
    lots: Iterable[Lot],
    at: datetime,
    *,
    zone: tzinfo,
    value_per_point: Money | None = None,
) -> PointsLiability:
    """The liability of ``point_type`` from its accounts and their lots (pure)."""
    counted = available = pending = deficit = 0
    for account in accounts:
        if account.point_type != point_type:
            continue
        counted += 1
        available += account.available
        pending += account.pending
        deficit += account.deficit
    expiring: dict[str, int] = {}
    never = 0
    for lot in lots:
        if lot.point_type != point_type or lot.remaining <= 0:
            continue
        if lot.expires_at is None:
            never += lot.remaining
            continue
        month = lot.expires_at.astimezone(zone).strftime("%Y-%m")
        expiring[month] = expiring.get(month, 0) + lot.remaining
    value = None if value_per_point is None else value_per_point * (available + pending)
    return PointsLiability(
        point_type=point_type,
        at=at,
        accounts=counted,
        available=available,
        pending=pending,
        deficit=deficit,
        expiring=dict(sorted(expiring.items())),
        never_expiring=never,
        value=value,
    )


def combined(
    parts: Iterable[PointsLiability], *, value_per_point: Money | None = None
) -> PointsLiability | None:
    """The sum of liabilities of one point type measured over disjoint sets of accounts
    (pages of customers), or ``None`` for no parts."""
    total: PointsLiability | None = None
    for part in parts:
        if total is None:
            total = part
            continue
        expiring = dict(total.expiring)
        for month, points in part.expiring.items():
            expiring[month] = expiring.get(month, 0) + points
        total = attrs.evolve(
            total,
            accounts=total.accounts + part.accounts,
            available=total.available + part.available,
            pending=total.pending + part.pending,
            deficit=total.deficit + part.deficit,
            expiring=dict(sorted(expiring.items())),
            never_expiring=total.never_expiring + part.never_expiring,
        )
    if total is None:
        return None
    value = None if value_per_point is None else value_per_point * total.outstanding
    return attrs.evolve(total, value=value)
