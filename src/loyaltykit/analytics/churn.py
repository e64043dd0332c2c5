"""Churn early warning (流失预警): find members whose spending dropped (消费异动).

A member is warned about when their spend over the last ``recent_months`` fell below
``1 - drop`` times their average spend per ``recent_months`` over the ``baseline_months``
before that, provided the baseline was at least ``min_baseline`` (a member who never
spent much cannot drop much). The warning carries both figures, so a service manager
can see the cause before acting.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from decimal import Decimal

import attrs
from dateutil.relativedelta import relativedelta

from loyaltykit.domain.metrics import MetricHistory
from loyaltykit.errors import InvalidArgument
from loyaltykit.values import CustomerId

__all__ = ["ChurnPolicy", "ChurnWarning", "spending_drop"]


def _months(_instance: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 60:
        raise InvalidArgument(f"{attribute.name}: {value!r} must be an int from 1 to 60")


def _fraction(_instance: object, _attribute: object, value: object) -> None:
    if not isinstance(value, Decimal) or not Decimal(0) < value < Decimal(1):
        raise InvalidArgument(f"drop: {value!r} must be a Decimal between 0 and 1")


def _non_negative(_instance: object, _attribute: object, value: object) -> None:
    if not isinstance(value, Decimal) or value < 0:
        raise InvalidArgument(f"min_baseline: {value!r} must be a Decimal >= 0")


@attrs.frozen(kw_only=True)
class ChurnPolicy:
    """When a drop in spending is worth a warning. Amounts are in the program currency."""

    recent_months: int = attrs.field(default=3, validator=_months)
    baseline_months: int = attrs.field(default=12, validator=_months)
    drop: Decimal = attrs.field(default=Decimal("0.5"), validator=_fraction)
    min_baseline: Decimal = attrs.field(default=Decimal(0), validator=_non_negative)


@attrs.frozen(kw_only=True)
class ChurnWarning:
    """A member whose spending dropped: recent spend against the baseline per period."""

    customer_id: CustomerId
    recent: Decimal
    baseline: Decimal
    drop: Decimal

    def explain(self) -> str:
        """One line for a service manager's task list."""
        return (
            f"{self.customer_id}: spend fell {self.drop:.0%} "
            f"({self.recent:f} against a usual {self.baseline:f} per period)"
        )


def spending_drop(
    customer_id: CustomerId,
    history: MetricHistory,
    at: datetime,
    *,
    zone: tzinfo,
    policy: ChurnPolicy,
) -> ChurnWarning | None:
    """The warning for ``customer_id`` at ``at``, or ``None`` when spending held up."""
    today = at.astimezone(zone).date()
    recent_start = today - relativedelta(months=policy.recent_months) + timedelta(days=1)
    baseline_start = recent_start - relativedelta(months=policy.baseline_months)
    recent = history.total("spend", recent_start, today)
    earlier = history.total("spend", baseline_start, recent_start - timedelta(days=1))
    baseline = earlier * policy.recent_months / policy.baseline_months
    if baseline <= 0 or baseline < policy.min_baseline:
        return None
    if recent >= baseline * (1 - policy.drop):
        return None
    return ChurnWarning(
        customer_id=customer_id,
        recent=recent,
        baseline=baseline,
        drop=(baseline - max(recent, Decimal(0))) / baseline,
    )
