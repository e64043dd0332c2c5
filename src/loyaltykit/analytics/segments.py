"""Customer value classes and RFM scores (客户分类: high-value, potential, churned).

Each member's purchase activity is read from the daily metric history the engine keeps
(spend and purchases per local day). Recency, frequency and monetary value are scored
1 to 5 by their rank in the population (5 is best), and every member gets one value
class, decided in this order:

1. ``potential`` — enrolled, never purchased;
2. ``churned`` — no purchase for ``churn_after_days`` days;
3. ``high_value`` — the top ``high_value_share`` of purchasers by spend in the window;
4. ``at_risk`` — spending dropped (see :mod:`loyaltykit.analytics.churn`);
5. ``regular`` — everyone else.
"""

from __future__ import annotations

import bisect
import enum
from collections.abc import Sequence
from datetime import date, datetime, tzinfo
from decimal import Decimal

import attrs
from dateutil.relativedelta import relativedelta

from loyaltykit.analytics.churn import ChurnPolicy, ChurnWarning, spending_drop
from loyaltykit.domain.metrics import MetricHistory
from loyaltykit.errors import InvalidArgument
from loyaltykit.values import CustomerId

__all__ = [
    "Activity",
    "RfmScore",
    "SegmentPolicy",
    "Segmentation",
    "ValueClass",
    "activity_of",
    "segment",
]


class ValueClass(enum.Enum):
    """A member's class by value to the business."""

    POTENTIAL = "potential"
    CHURNED = "churned"
    HIGH_VALUE = "high_value"
    AT_RISK = "at_risk"
    REGULAR = "regular"


def _share(_instance: object, _attribute: object, value: object) -> None:
    if not isinstance(value, Decimal) or not Decimal(0) < value <= Decimal(1):
        raise InvalidArgument(f"high_value_share: {value!r} must be a Decimal in (0, 1]")


def _months(_instance: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 120:
        raise InvalidArgument(f"{attribute.name}: {value!r} must be an int from 1 to 120")


def _days(_instance: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgument(f"{attribute.name}: {value!r} must be a positive int")


@attrs.frozen(kw_only=True)
class SegmentPolicy:
    """How members are classed: the RFM window, when a member counts as churned, the
    share of purchasers that is high-value, and the churn warning rule."""

    window_months: int = attrs.field(default=12, validator=_months)
    churn_after_days: int = attrs.field(default=180, validator=_days)
    high_value_share: Decimal = attrs.field(default=Decimal("0.2"), validator=_share)
    churn: ChurnPolicy = attrs.field(factory=ChurnPolicy)


@attrs.frozen(kw_only=True)
class Activity:
    """One member's purchase activity at an instant, over the policy's window."""

    customer_id: CustomerId
    last_purchase: date | None
    recency_days: int | None
    purchases: int
    spend: Decimal
    warning: ChurnWarning | None = None


@attrs.frozen(kw_only=True)
class RfmScore:
    """Recency, frequency and monetary scores, 1 (lowest) to 5 (best)."""

    recency: int
    frequency: int
    monetary: int

    @property
    def code(self) -> str:
        """The usual three-digit label, ``"545"``."""
        return f"{self.recency}{self.frequency}{self.monetary}"


@attrs.frozen(kw_only=True)
class Segmentation:
    """Every member's value class and, for purchasers, RFM score."""

    at: datetime
    classes: dict[CustomerId, ValueClass]
    scores: dict[CustomerId, RfmScore]
    activities: dict[CustomerId, Activity]

    def members(self, value_class: ValueClass) -> list[CustomerId]:
        """The members of ``value_class``, by id."""
        return sorted(c for c, found in self.classes.items() if found is value_class)

    def counts(self) -> dict[ValueClass, int]:
        """How many members each class has (every class listed, zeros included)."""
        counts = dict.fromkeys(ValueClass, 0)
        for found in self.classes.values():
            counts[found] += 1
        return counts


def activity_of(
    customer_id: CustomerId,
    history: MetricHistory,
    at: datetime,
    *,
    zone: tzinfo,
    policy: SegmentPolicy,
) -> Activity:
    """``customer_id``'s activity at ``at`` from their metric history."""
    today = at.astimezone(zone).date()
    first = today - relativedelta(months=policy.window_months) + relativedelta(days=1)
    last = history.last_day("purchases", today)
    return Activity(
        customer_id=customer_id,
        last_purchase=last,
        recency_days=None if last is None else (today - last).days,
        purchases=int(history.total("purchases", first, today)),
        spend=history.total("spend", first, today),
        warning=spending_drop(customer_id, history, at, zone=zone, policy=policy.churn),
    )


def _scores(values: Sequence[Decimal]) -> list[int]:
    """Each value's score, 1 to 5, by its rank among the values: the lowest scores 1, the
    highest 5, and equal values share the best score among them (everyone who bought
    today is equally recent). A lone value scores 5."""
    ordered = sorted(values)
    last = len(ordered) - 1
    if last <= 0:
        return [5] * len(ordered)
    return [1 + (4 * (bisect.bisect_right(ordered, v) - 1)) // last for v in values]


def segment(activities: Sequence[Activity], at: datetime, *, policy: SegmentPolicy) -> Segmentation:
    """Class every member and score the purchasers (pure; see the module docs)."""
    buyers = [a for a in activities if a.last_purchase is not None]
    recency = _scores([Decimal(-(a.recency_days or 0)) for a in buyers])  # recent is better
    frequency = _scores([Decimal(a.purchases) for a in buyers])
    monetary = _scores([a.spend for a in buyers])
    scores = {
        a.customer_id: RfmScore(recency=r, frequency=f, monetary=m)
        for a, r, f, m in zip(buyers, recency, frequency, monetary, strict=True)
    }
    active = [
        a for a in buyers if a.recency_days is not None and a.recency_days < policy.churn_after_days
    ]
    top = sorted(active, key=lambda a: (-a.spend, a.customer_id))
    wanted = int(
        (policy.high_value_share * len(active)).to_integral_value(rounding="ROUND_CEILING")
    )
    high = {a.customer_id for a in top[:wanted] if a.spend > 0}
    classes: dict[CustomerId, ValueClass] = {}
    for activity in activities:
        if activity.last_purchase is None:
            found = ValueClass.POTENTIAL
        elif activity.recency_days is None or activity.recency_days >= policy.churn_after_days:
            found = ValueClass.CHURNED
        elif activity.customer_id in high:
            found = ValueClass.HIGH_VALUE
        elif activity.warning is not None:
            found = ValueClass.AT_RISK
        else:
            found = ValueClass.REGULAR
        classes[activity.customer_id] = found
    return Segmentation(
        at=at,
        classes=classes,
        scores=scores,
        activities={a.customer_id: a for a in activities},
    )
