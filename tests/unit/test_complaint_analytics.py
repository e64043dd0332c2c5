"""Complaint analytics: volumes, SLA compliance, time to resolve, reopen rate, goodwill."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from loyaltykit import Loyalty, Program
from loyaltykit.analytics.complaints import complaint_report
from loyaltykit.domain.complaints import ComplaintPolicy, GoodwillBudget, SlaPolicy, Target
from loyaltykit.errors import InvalidArgument

T0 = datetime(2026, 5, 4, 9, tzinfo=UTC)  # Monday
H = timedelta(hours=1)
POLICY = ComplaintPolicy(
    sla=(
        SlaPolicy(
            id="s",
            acknowledge=Target(within=2 * H),
            first_response=Target(within=9 * H),
            resolution=Target(within=18 * H),
        ),
    ),
    goodwill=GoodwillBudget(points=10_000),
)


def handled(loyalty: Loyalty, cid: str, *, at: datetime, ack_after: timedelta, points: int) -> None:
    loyalty.file_complaint(
        cid,
        channel="hotline" if cid.endswith("1") else "email",
        category="queue" if cid != "C-3" else "staff",
        content="x",
        at=at,
        idempotency_key=f"f-{cid}",
        actor="op",
        customer_id="ann",
    )
    k = iter(range(100))
    step = {"actor": "op"}
    loyalty.acknowledge_complaint(
        cid, at=at + ack_after, idempotency_key=f"{cid}-{next(k)}", **step
    )
    loyalty.assess_complaint(
        cid,
        severity="minor",
        priority="normal",
        at=at + ack_after,
        idempotency_key=f"{cid}-{next(k)}",
        **step,
    )
    loyalty.investigate_complaint(
        cid, at=at + ack_after, idempotency_key=f"{cid}-{next(k)}", **step
    )
    loyalty.propose_resolution(
        cid,
        resolution="r",
        goodwill_points=points,
        at=at + ack_after,
        idempotency_key=f"{cid}-{next(k)}",
        **step,
    )
    loyalty.respond_to_complaint(
        cid, at=at + ack_after + H, idempotency_key=f"{cid}-{next(k)}", **step
    )
    loyalty.close_complaint(
        cid, at=at + ack_after + 2 * H, idempotency_key=f"{cid}-{next(k)}", satisfaction=4, **step
    )


def test_the_report_measures_what_it_says() -> None:
    loyalty = Loyalty(Program(complaints=POLICY))
    loyalty.enroll("ann", at=T0, idempotency_key="e")
    handled(loyalty, "C-1", at=T0, ack_after=H, points=100)  # acknowledged in time
    handled(loyalty, "C-2", at=T0, ack_after=3 * H, points=50)  # acknowledged late
    loyalty.reopen_complaint("C-2", at=T0 + 6 * H, idempotency_key="re", actor="op")
    loyalty.file_complaint(
        "C-3",
        channel="email",
        category="staff",
        content="x",
        at=T0 + timedelta(days=31),
        idempotency_key="f-3",
        actor="op",
        customer_id="ann",
    )
    report = loyalty.complaint_report(at=T0 + timedelta(days=40))
    assert report.complaints == 3
    assert report.open == 2  # C-2 reopened, C-3 never handled
    assert dict(report.by_category) == {"queue": 2, "staff": 1}
    assert dict(report.by_channel) == {"email": 2, "hotline": 1}
    # acknowledge: C-1 met, C-2 late, C-3 breached while open
    assert report.sla_compliance["acknowledge"] == Decimal("33.3")
    assert report.median_time_to_resolve == 4 * H  # 3h and 5h
    assert report.median_business_time_to_resolve == 4 * H  # all within Monday's hours
    # C-2's late acknowledgement and reopened resolution, C-3's three open clocks
    assert dict(report.breaches_by_category) == {"queue": 2, "staff": 3}
    assert report.reopen_rate == Decimal("50.0")
    assert report.goodwill_granted == 150
    assert report.mean_satisfaction == Decimal("4.0")
    assert dict(report.top_categories) == {"2026-05": (("queue", 2),), "2026-06": (("staff", 1),)}
    may = loyalty.complaint_report(at=T0 + timedelta(days=40), until=T0 + timedelta(days=30))
    assert may.complaints == 2
    assert may.sla_compliance["acknowledge"] == Decimal("50.0")


def test_an_empty_report_has_nothing_to_measure() -> None:
    report = complaint_report([], T0, policy=POLICY, zone=UTC)
    assert report.complaints == 0
    assert report.median_time_to_resolve is None
    assert report.reopen_rate is None
    assert report.sla_compliance == {
        "acknowledge": None,
        "first_response": None,
        "resolution": None,
    }
    with pytest.raises(InvalidArgument, match="top"):
        complaint_report([], T0, policy=POLICY, zone=UTC, top=0)
