"""How far back a member's metrics go: the months the programme reads (every version in
force now or later), and a facade member's stored history bounded by them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta

from loyaltykit import ChurnPolicy, Loyalty, Money, Program, SegmentPolicy
from loyaltykit.analytics.churn import ChurnPolicy as DefaultChurn
from loyaltykit.analytics.segments import SegmentPolicy as DefaultSegments
from loyaltykit.domain.activity import Purchase
from loyaltykit.domain.metrics import KEEP_MONTHS
from loyaltykit.errors import InvalidArgument
from loyaltykit.policy.program import ProgramVersion, ProgramVersions
from loyaltykit.policy.retention import ANALYTICS_MONTHS, metric_months, metric_months_from

T0 = datetime(2020, 1, 1, 9, tzinfo=UTC)


def laddered(window: dict[str, Any], **more: Any) -> Program:
    """A programme whose gold tier asks for 1,000 of spend over ``window``."""
    gold = {"metric": "spend", "at_least": "1000", "window": window}
    return Program.from_dict(
        {
            "rules": [{"id": "base", "kind": "base_rate", "per": "10"}],
            "tiers": {
                "levels": [
                    {"code": "member", "rank": 0},
                    {"code": "gold", "rank": 1, "requirements": [gold], **more},
                ]
            },
        }
    )


def test_the_analytics_floor_covers_their_default_policies() -> None:
    churn, segments = DefaultChurn(), DefaultSegments()
    reach = max(churn.recent_months + churn.baseline_months, segments.window_months)
    assert reach == ANALYTICS_MONTHS
    assert segments.churn.recent_months + segments.churn.baseline_months <= ANALYTICS_MONTHS


@pytest.mark.parametrize(
    ("window", "months"),
    [
        ({"kind": "rolling", "months": 6}, ANALYTICS_MONTHS + 1),
        ({"kind": "rolling", "months": 36}, 37),
        ({"kind": "rolling", "months": 120}, KEEP_MONTHS),
        ({"kind": "calendar_year"}, ANALYTICS_MONTHS + 1),
        ({"kind": "anniversary_year"}, ANALYTICS_MONTHS + 1),
        ({"kind": "all_time"}, ANALYTICS_MONTHS + 1),
    ],
)
def test_a_programme_keeps_its_longest_window_and_one_month_more(
    window: dict[str, Any], months: int
) -> None:
    assert metric_months(laddered(window)) == months


def test_the_care_churn_trigger_reads_its_recent_and_baseline_months() -> None:
    program = Program.from_dict(
        {"care": {"churn": {"drop": "0.5", "recent_months": 12, "baseline_months": 24}}}
    )
    assert metric_months(program) == 37


def test_a_version_that_starts_later_is_kept_for_from_now_on() -> None:
    later = T0 + relativedelta(years=1)
    versions = ProgramVersions(
        (
            ProgramVersion(valid_from=T0, program=laddered({"kind": "rolling", "months": 12})),
            ProgramVersion(valid_from=later, program=laddered({"kind": "rolling", "months": 48})),
        )
    )
    assert metric_months_from(versions, T0) == 49
    assert metric_months_from(versions, later) == 49
    past = ProgramVersions(
        (
            ProgramVersion(valid_from=T0, program=laddered({"kind": "rolling", "months": 48})),
            ProgramVersion(valid_from=later, program=laddered({"kind": "rolling", "months": 12})),
        )
    )
    assert metric_months_from(past, later + timedelta(days=1)) == ANALYTICS_MONTHS + 1


def stored_metrics(loyalty: Loyalty, customer_id: str) -> dict[str, Any]:
    with loyalty.storage.unit_of_work() as uow:
        document = uow.state.get(customer_id, "metrics")
    assert document is not None
    return document


def test_an_aged_members_history_holds_the_months_the_programme_reads_and_no_more() -> None:
    """Five years of weekly purchases under a rolling-12-month ladder: the stored history
    keeps 16 months of days, the tier and the default analytics read it, and an analysis
    reaching further back is refused by name."""
    loyalty = Loyalty(laddered({"kind": "rolling", "months": 12}))
    loyalty.enroll("ann", at=T0, idempotency_key="enroll-ann")
    basket = Purchase(amount=Money.of(30, "CNY"))
    weeks = 5 * 52
    for week in range(weeks):
        at = T0 + timedelta(weeks=week)
        loyalty.record_purchase("ann", basket, at=at, idempotency_key=f"p{week}")
    last = T0 + timedelta(weeks=weeks - 1)
    document = stored_metrics(loyalty, "ann")
    months = document["months"]["spend"].split(" ")
    assert document["keep_months"] == ANALYTICS_MONTHS + 1
    assert len(months) == ANALYTICS_MONTHS + 2  # the cut month, the 16 after it
    assert len(json.dumps(document)) < 2_000
    assert document["totals"]["spend"] == str(Decimal(30) * weeks)
    # 52 weeks of 30 in the last 12 months: 1,560, gold
    assert loyalty.tier("ann", at=last).effective == "gold"
    segments = loyalty.segments(at=last)
    assert segments.activities["ann"].purchases in (52, 53)
    assert loyalty.churn_warnings(at=last) == ()
    with pytest.raises(InvalidArgument, match="keeps days since"):
        loyalty.segments(at=last, policy=SegmentPolicy(window_months=36))
    with pytest.raises(InvalidArgument, match="keeps days since"):
        loyalty.churn_warnings(at=last, policy=ChurnPolicy(recent_months=6, baseline_months=24))
