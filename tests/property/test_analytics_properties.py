"""Properties of the reports: classes partition the members, scores follow the figures,
and the liability is exactly what the accounts and lots hold."""

from __future__ import annotations

import contextlib
import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltykit import Loyalty
from loyaltykit.analytics.segments import Activity, SegmentPolicy, ValueClass, segment
from loyaltykit.errors import InsufficientPoints

AT = datetime(2026, 6, 30, 12, tzinfo=UTC)


@st.composite
def activities(draw: st.DrawFn) -> list[Activity]:
    count = draw(st.integers(min_value=0, max_value=30))
    found = []
    for number in range(count):
        recency = draw(st.none() | st.integers(min_value=0, max_value=400))
        bought = recency is not None
        found.append(
            Activity(
                customer_id=f"c{number:02d}",
                last_purchase=None if recency is None else date(2026, 6, 30) - timedelta(recency),
                recency_days=recency,
                purchases=draw(st.integers(1, 50)) if bought else 0,
                spend=Decimal(draw(st.integers(0, 10_000))) if bought else Decimal(0),
            )
        )
    return found


@given(activities(), st.sampled_from(["0.1", "0.2", "0.5", "1"]))
def test_classes_partition_the_members_and_scores_follow_the_figures(
    members: list[Activity], share: str
) -> None:
    policy = SegmentPolicy(high_value_share=Decimal(share), churn_after_days=180)
    result = segment(members, AT, policy=policy)
    assert set(result.classes) == {a.customer_id for a in members}
    for activity in members:
        found = result.classes[activity.customer_id]
        assert (found is ValueClass.POTENTIAL) == (activity.last_purchase is None)
        assert (found is ValueClass.CHURNED) == (
            activity.recency_days is not None and activity.recency_days >= 180
        )
    buyers = [a for a in members if a.last_purchase is not None]
    assert set(result.scores) == {a.customer_id for a in buyers}
    for a in buyers:
        for b in buyers:
            sa, sb = result.scores[a.customer_id], result.scores[b.customer_id]
            assert 1 <= sa.monetary <= 5 and 1 <= sa.recency <= 5 and 1 <= sa.frequency <= 5
            if a.spend > b.spend:
                assert sa.monetary >= sb.monetary
            if a.spend == b.spend:
                assert sa.monetary == sb.monetary
            if (a.recency_days or 0) < (b.recency_days or 0):
                assert sa.recency >= sb.recency
    active = [a for a in buyers if (a.recency_days or 0) < 180]
    high = result.members(ValueClass.HIGH_VALUE)
    assert len(high) <= math.ceil(Decimal(share) * len(active))
    if high:  # nobody active outspends a high-value member while being left out
        floor = min(result.activities[c].spend for c in high)
        assert all(a.spend <= floor or a.customer_id in high for a in active)


commands = st.lists(
    st.tuples(
        st.sampled_from(["ann", "bob", "cai"]),
        st.sampled_from(["earn", "earn-expiring", "redeem"]),
        st.integers(min_value=1, max_value=400),
    ),
    max_size=25,
)


@settings(max_examples=60, deadline=None)
@given(commands)
def test_liability_is_what_the_accounts_and_lots_hold(steps: list[tuple[str, str, int]]) -> None:
    loyalty = Loyalty()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for customer in ("ann", "bob", "cai"):
        loyalty.enroll(customer, at=start, idempotency_key=f"e-{customer}")
    for number, (customer, kind, points) in enumerate(steps):
        at = start + timedelta(days=number)
        key = f"k{number}"
        if kind == "redeem":
            with contextlib.suppress(InsufficientPoints):
                loyalty.redeem_points(customer, points, at=at, idempotency_key=key)
        else:
            expires = at + timedelta(days=40 + 20 * number) if kind == "earn-expiring" else None
            loyalty.earn(customer, points, at=at, idempotency_key=key, expires_at=expires)
    report = loyalty.points_liability(at=start + timedelta(days=len(steps)), page=2)
    balances = [loyalty.balance(c) for c in ("ann", "bob", "cai")]
    assert report.available == sum(b.available for b in balances)
    assert report.pending == sum(b.pending for b in balances)
    assert sum(report.expiring.values()) + report.never_expiring == report.outstanding
