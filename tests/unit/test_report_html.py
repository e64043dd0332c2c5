"""The programme report: its figures as data, and the HTML page showing them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from loyaltykit import Loyalty, Money, PointType, Program, Purchase
from loyaltykit.domain.tiers import Requirement, Tier, TierLadder
from loyaltykit.domain.windows import Window
from loyaltykit.policy.rules import BaseRate
from loyaltykit.reports import CHARTS, programme_report, render_html

T0 = datetime(2026, 1, 5, 10, tzinfo=UTC)
CNY = "CNY"


def program() -> Program:
    spend = Requirement(metric="spend", at_least=Decimal(1000), window=Window.rolling(12))
    return Program(
        point_types=(PointType(code="points", expire_after=relativedelta(months=3)),),
        rules=(BaseRate(id="base", per=Money.of(10, CNY)),),
        tiers=TierLadder(
            tiers=(Tier(code="member", rank=0), Tier(code="gold", rank=1, requirements=(spend,)))
        ),
    )


def loyalty_with_history() -> Loyalty:
    loyalty = Loyalty(program())
    for number, amount in enumerate(("1500", "300", "80"), start=1):
        customer = f"c-{number}"
        loyalty.enroll(customer, at=T0, idempotency_key=f"e-{number}")
        loyalty.record_purchase(
            customer, Purchase(amount=Money.of(amount, CNY)), at=T0, idempotency_key=f"o-{number}"
        )
    loyalty.redeem_points("c-1", 100, at=T0 + timedelta(days=1), idempotency_key="r-1")
    loyalty.run_due(at=T0 + relativedelta(months=4))  # c-3's 8 points expire, unspent
    loyalty.record_purchase(
        "c-2",
        Purchase(amount=Money.of("200", CNY)),
        at=T0 + relativedelta(months=5),
        idempotency_key="o-4",
    )
    return loyalty


def test_the_figures_add_up() -> None:
    at = T0 + relativedelta(months=6)
    report = programme_report(loyalty_with_history(), at, cost_per_point=Money.of("0.05", CNY))
    # c-1: 150 - 100 redeemed (then its last 50 expired); c-2: 30 expired, 20 new; c-3: 8 expired
    assert report.outstanding == 20
    assert report.entry_totals["earn"] == 150 + 30 + 8 + 20
    assert report.entry_totals["redeem"] == -100
    assert report.entry_totals["expire"] == -(50 + 30 + 8)
    assert report.reconciles
    assert report.breakage_rate == Decimal("0.4681")  # 88 expired of 188 gone
    assert report.expected_breakage == 9  # 20 * 0.4681, rounded
    assert report.net_liability == Money.of("0.55", CNY)  # (20 - 9) * 0.05
    assert report.tiers == {"gold": 1, "member": 2}
    assert report.liability_by_tier == {"gold": 0, "member": 20}
    assert report.tier_movements["2026-01"] == {"upgrade": 1}
    assert report.tiers_by_month["2026-01"] == {"gold": 1, "member": 2}


def test_the_page_holds_every_chart_and_the_key_figures() -> None:
    at = T0 + relativedelta(months=6)
    report = programme_report(loyalty_with_history(), at, cost_per_point=Money.of("0.05", CNY))
    page = render_html(report, title="Test programme")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    for chart, title in CHARTS:
        assert re.search(rf'<figure data-chart="{chart}"><svg[^>]*>', page), chart
        assert f">{title}</h2>" in page
    assert '<div class="figure" data-figure="Net liability">Net liability<b>0.55 CNY</b>' in page
    assert "46.8% (9 points)" in page
    assert "The ledger reconciles" in page
    # self-contained: nothing fetched from elsewhere, no script
    assert not re.search(r'(src|href)="(https?:)?//', page) and "<script" not in page
    # the chart text is text: the tier names are in the liability-by-tier chart
    tier_chart = page.split('data-chart="liability-by-tier"')[1].split("</figure>")[0]
    assert ">member<" in tier_chart or "member</text>" in tier_chart
