"""The demo year, smaller: it imports through the feed, runs, reconciles and reports."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from loyaltykit import Loyalty, Program
from loyaltykit.demo import PROGRAMME, run_demo
from loyaltykit.feed import BadRow, FeedReport, FeedRow, apply_feed
from loyaltykit.reports import CHARTS


def quiet(
    loyalty: Loyalty, rows: Iterable[FeedRow | BadRow], _total: int, _label: str
) -> FeedReport:
    return apply_feed(loyalty, rows)


def test_the_demo_year_reconciles_and_writes_its_report(tmp_path: Path) -> None:
    result = run_demo(tmp_path, members=150, importer=quiet, complaints=6)
    report = result.report
    assert result.rows > 400 and result.applied + len(result.refused) == result.rows
    assert report.members == 150 and report.reconciles
    # every member's statement sums to the stored balance, checked again from the outside
    with Loyalty(Program.from_toml(PROGRAMME), storage=f"sqlite:///{result.database}") as loyalty:
        total = 0
        for number in range(1, 151):
            customer = f"m-{number:05d}"
            statement = loyalty.statement(customer)
            balance = loyalty.balance(customer)
            assert sum(line.entry.amount for line in statement.lines) == balance.available
            total += balance.available + balance.pending
    assert total == report.outstanding == sum(report.entry_totals.values()) + report.pending_total
    kinds = {kind for kind, points in report.entry_totals.items() if points}
    assert {"earn", "redeem", "expire", "reverse"} <= kinds
    assert report.complaints.complaints == 6 and report.complaints.open == 0
    by_tier = report.surveys["after-complaint"]
    assert sum(scores.responses for scores in by_tier.values()) == 6
    assert set(report.tiers) <= {"member", "silver", "gold"} and report.tiers["member"] > 0
    page = result.html.read_text(encoding="utf-8")
    for chart, _title in CHARTS:
        assert re.search(rf'<figure data-chart="{chart}"><svg', page), chart
    assert f"{report.outstanding:,}" in page
    assert "Survey after-complaint by segment" in page


def test_the_demo_is_the_same_year_every_time(tmp_path: Path) -> None:
    first = run_demo(tmp_path / "a", members=40, importer=quiet, complaints=2)
    second = run_demo(tmp_path / "b", members=40, importer=quiet, complaints=2)
    assert first.feed.read_bytes() == second.feed.read_bytes()
    assert first.report.entry_totals == second.report.entry_totals
