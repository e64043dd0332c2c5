"""Reports over every member: value classes and RFM scores, churn warnings, points liability.

Each report pages through the customers in short read-only units of work, so it can run
beside live traffic; it sees every member as their last command left them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from loyaltykit.analytics.churn import ChurnPolicy, ChurnWarning, spending_drop
from loyaltykit.analytics.liability import PointsLiability, combined, liability
from loyaltykit.analytics.segments import (
    Activity,
    Segmentation,
    SegmentPolicy,
    activity_of,
    segment,
)
from loyaltykit.domain.ledger import Account, Lot
from loyaltykit.domain.metrics import MetricHistory
from loyaltykit.service import postings
from loyaltykit.service.codecs import POINTS
from loyaltykit.service.kernel import Kernel
from loyaltykit.service.members import member_metrics
from loyaltykit.values import CustomerId, Money, aware, count, instance_of

__all__ = ["Insights"]


class Insights:
    """Reports over every member (read-only)."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel

    def segments(
        self, *, at: datetime, policy: SegmentPolicy | None = None, page: int = 500
    ) -> Segmentation:
        """Every member's value class (potential, churned, high-value, at risk, regular)
        and RFM score at ``at``; see :mod:`loyaltykit.analytics.segments`."""
        when = aware("at", at)
        chosen = SegmentPolicy() if policy is None else instance_of("policy", policy, SegmentPolicy)
        zone = self.kernel.versions.at(when).zone
        activities: list[Activity] = [
            activity_of(customer_id, history, when, zone=zone, policy=chosen)
            for customer_id, history in self._histories(page)
        ]
        return segment(activities, when, policy=chosen)

    def churn_warnings(
        self, *, at: datetime, policy: ChurnPolicy | None = None, page: int = 500
    ) -> tuple[ChurnWarning, ...]:
        """Members whose spending dropped (消费异动), biggest drop first."""
        when = aware("at", at)
        chosen = ChurnPolicy() if policy is None else instance_of("policy", policy, ChurnPolicy)
        zone = self.kernel.versions.at(when).zone
        found = [
            warning
            for customer_id, history in self._histories(page)
            if (warning := spending_drop(customer_id, history, when, zone=zone, policy=chosen))
            is not None
        ]
        return tuple(sorted(found, key=lambda w: (-w.drop, w.customer_id)))

    def points_liability(
        self,
        *,
        at: datetime,
        point_type: str = POINTS,
        value_per_point: Money | None = None,
        page: int = 500,
    ) -> PointsLiability:
        """Outstanding points of ``point_type``, their money value at ``value_per_point``
        and their expiry month by month, as stored (run ``expire_due`` first to drop what
        has already expired)."""
        if value_per_point is not None:
            instance_of("value_per_point", value_per_point, Money)
        when = aware("at", at)
        code = postings.point_type(self.kernel.versions.at(when), point_type).code
        zone = self.kernel.versions.at(when).zone
        parts: list[PointsLiability] = []
        for customer_ids in self._pages(page):
            accounts: list[Account] = []
            lots: list[Lot] = []
            with self.kernel.reading() as uow:
                for customer_id in customer_ids:
                    account = uow.ledger.account(customer_id, code)
                    if account is not None:
                        accounts.append(account)
                        lots.extend(uow.ledger.lots(customer_id, code))
            parts.append(liability(code, accounts, lots, when, zone=zone))
        empty = liability(code, (), (), when, zone=zone)
        return combined([empty, *parts], value_per_point=value_per_point) or empty

    def _pages(self, page: int) -> Iterator[list[CustomerId]]:
        count("page", page)
        after: CustomerId | None = None
        while True:
            with self.kernel.reading() as uow:
                ids = uow.customers.ids(after=after, limit=page)
            if not ids:
                return
            yield ids
            after = ids[-1]

    def _histories(self, page: int) -> Iterator[tuple[CustomerId, MetricHistory]]:
        for customer_ids in self._pages(page):
            with self.kernel.reading() as uow:
                histories = [(c, member_metrics(uow, c)) for c in customer_ids]
            yield from histories
