"""The member aggregate: what the programme remembers about a member besides the ledger.

A :class:`MemberState` holds the member's counters (cap and limit usage per period),
purchase count and last purchase, tier status with the changes made to it, and the
metric history tiers qualify on. It is loaded and saved whole by the service's member
repository; every change is a method returning a new state, so a command that raises
leaves the stored state untouched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal

import attrs

from loyaltykit.domain.customer import Customer
from loyaltykit.domain.metrics import MetricHistory
from loyaltykit.domain.tiers import TierChange, TierStatus

__all__ = ["KEPT_PERIODS", "MemberState"]

KEPT_PERIODS = 62
"""Periods kept per counter family (two months of daily counters: events may arrive that
late; a cap or limit reads the period of its event)."""


@attrs.frozen(kw_only=True)
class MemberState:
    """A member's counters, activity, tier status and metrics (see the module's text).

    >>> from datetime import datetime, timezone
    >>> from loyaltykit import Customer
    >>> at = datetime(2026, 5, 1, tzinfo=timezone.utc)
    >>> member = MemberState(customer=Customer(id="c-1", enrolled_at=at))
    >>> member.counted({"cap:day:2026-05-01": 10}).bought(at).purchases
    1
    """

    customer: Customer
    counters: Mapping[str, int] = attrs.field(factory=dict)
    purchases: int = 0
    last_purchase_at: datetime | None = None
    tier: TierStatus | None = None
    tier_changes: tuple[TierChange, ...] = ()
    """Changes made to the tier status since the state was loaded (history is appended)."""
    metrics: MetricHistory = attrs.field(factory=MetricHistory)

    @property
    def id(self) -> str:
        """The member's customer id."""
        return self.customer.id

    def counted(self, increments: Mapping[str, int]) -> MemberState:
        """The state with these counters increased, keeping the latest
        :data:`KEPT_PERIODS` periods of each counter family (keys ``family:period``,
        which sort by time)."""
        if not increments:
            return self
        counters = dict(self.counters)
        for key, amount in increments.items():
            if key in counters:  # a period already kept: the family keeps as many
                counters[key] += amount
                continue
            counters[key] = amount
            prefix = key.rsplit(":", 1)[0] + ":"
            periods = [k for k in counters if k.startswith(prefix)]
            if len(periods) > KEPT_PERIODS:
                for old in sorted(periods)[:-KEPT_PERIODS]:
                    del counters[old]
        return attrs.evolve(self, counters=counters)

    def bought(self, at: datetime) -> MemberState:
        """The state after one more purchase at ``at``."""
        return attrs.evolve(self, purchases=self.purchases + 1, last_purchase_at=at)

    def measured(
        self, samples: Iterable[tuple[str, Decimal]], day: date, *, keep_months: int
    ) -> MemberState:
        """The state with metric samples added on the local ``day``, the history keeping
        ``keep_months`` months of days (what the programme reads, see
        :func:`loyaltykit.policy.retention.metric_months`)."""
        history = self.metrics.keeping(keep_months)
        for metric, value in samples:
            history = history.add(metric, day, value)
        return attrs.evolve(self, metrics=history)

    def gauged(self, metric: str, value: Decimal) -> MemberState:
        """The state with a gauge metric (an asset balance, ARPU) set to ``value``."""
        return attrs.evolve(self, metrics=self.metrics.set_gauge(metric, value))

    def rated(self, status: TierStatus, changes: Iterable[TierChange]) -> MemberState:
        """The state with a new tier status and the history lines that explain it."""
        return attrs.evolve(self, tier=status, tier_changes=(*self.tier_changes, *changes))
