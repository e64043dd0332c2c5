"""The programme report as data: what finance and marketing look at every month.

:func:`programme_report` reads every member once (in short read-only units of work) and
gathers what the facade's reports compute, so the same figures serve Python, the
``loyaltykit report`` command and the HTML page::

    report = programme_report(loyalty, at, cost_per_point=Money.of("0.01", "CNY"))
    report.net_liability           # money owed after the breakage history predicts
    report.liability_by_tier       # points outstanding per tier
    assert not report.discrepancies  # every statement sums to its balance

Breakage (the share of points that will never be redeemed) is expected from history:
of the points that have left members' accounts through redemption or expiry, the share
that expired.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import attrs

from loyaltykit.analytics.churn import ChurnWarning
from loyaltykit.analytics.complaints import ComplaintReport
from loyaltykit.analytics.liability import PointsLiability
from loyaltykit.bootstrap import Loyalty
from loyaltykit.domain.campaigns import CampaignReport
from loyaltykit.domain.feedback import Scores
from loyaltykit.domain.ledger import EntryKind
from loyaltykit.errors import InvalidArgument
from loyaltykit.storage.base import LedgerTotals, LedgerTotalsRow, read_unit_of_work
from loyaltykit.values import CustomerId, Money, aware

__all__ = ["Discrepancy", "ProgrammeReport", "programme_report"]

_CENT = Decimal("0.01")


@attrs.frozen(kw_only=True)
class Discrepancy:
    """A member whose statement does not sum to the stored balance (a bug to report)."""

    customer_id: CustomerId
    point_type: str
    statement: int
    balance: int


@attrs.frozen(kw_only=True)
class ProgrammeReport:
    """Every figure of the programme report at ``at``.

    Points are of ``point_type``. ``entry_totals`` sums the entries of each kind (their
    change of the available balance) and ``pending_total`` the pending changes; together
    they are the liability (see :attr:`reconciles`). ``tiers_by_month`` counts the tier
    members held at the end of each local month; ``tier_movements`` counts the changes of
    each kind (upgrade, renewal, downgrade, grace...) per month.
    """

    at: datetime
    point_type: str
    members: int
    cost_per_point: Money
    liability: PointsLiability
    liability_by_tier: Mapping[str, int]
    breakage_rate: Decimal
    entry_totals: Mapping[str, int]
    pending_total: int
    tiers: Mapping[str, int]
    tiers_by_month: Mapping[str, Mapping[str, int]]
    tier_movements: Mapping[str, Mapping[str, int]]
    value_classes: Mapping[str, int]
    churn_warnings: tuple[ChurnWarning, ...]
    campaigns: tuple[CampaignReport, ...]
    complaints: ComplaintReport
    surveys: Mapping[str, Mapping[str, Scores]]
    discrepancies: tuple[Discrepancy, ...]

    @property
    def outstanding(self) -> int:
        """Points members hold (available and pending)."""
        return self.liability.outstanding

    @property
    def gross_liability(self) -> Money:
        """The outstanding points at the cost per point."""
        return self._money(self.outstanding)

    @property
    def expected_breakage(self) -> int:
        """The outstanding points history says will expire unredeemed."""
        return int((self.outstanding * self.breakage_rate).to_integral_value(ROUND_HALF_UP))

    @property
    def net_liability(self) -> Money:
        """What the points are expected to cost: outstanding less expected breakage."""
        return self._money(self.outstanding - self.expected_breakage)

    @property
    def reconciles(self) -> bool:
        """Every statement sums to its balance, and the entries of every kind add up to
        the liability."""
        return (
            not self.discrepancies
            and sum(self.entry_totals.values()) == self.liability.available
            and self.pending_total == self.liability.pending
        )

    def liability_money(self, points: int) -> Money:
        """``points`` at the report's cost per point."""
        return self._money(points)

    def _money(self, points: int) -> Money:
        amount = (self.cost_per_point.amount * points).quantize(_CENT, ROUND_HALF_UP)
        return Money.of(amount, self.cost_per_point.currency)


def _ids(loyalty: Loyalty, page: int) -> Iterator[list[CustomerId]]:
    after: CustomerId | None = None
    while True:
        with read_unit_of_work(loyalty.storage) as uow:
            ids = uow.customers.ids(after=after, limit=page)
        if not ids:
            return
        yield ids
        after = ids[-1]


def _totals_one_by_one(loyalty: Loyalty, code: str, page: int) -> list[LedgerTotalsRow]:
    """What :class:`LedgerTotals` reads at once, account by account (any backend)."""
    found = []
    for ids in _ids(loyalty, page):
        with read_unit_of_work(loyalty.storage) as uow:
            for customer_id in ids:
                account = uow.ledger.account(customer_id, code)
                if account is None:
                    continue
                sums: Counter[str] = Counter()
                pending = 0
                for entry in uow.ledger.entries(customer_id, code):
                    sums[entry.kind.value] += entry.amount
                    pending += entry.pending_delta
                found.append(
                    LedgerTotalsRow(
                        customer_id=customer_id,
                        point_type=code,
                        available=account.available,
                        pending=account.pending,
                        lifetime_redeemed=account.lifetime_redeemed,
                        lifetime_expired=account.lifetime_expired,
                        entries=dict(sums),
                        pending_entries=pending,
                    )
                )
    return found


def programme_report(
    loyalty: Loyalty,
    at: datetime,
    *,
    cost_per_point: Money,
    point_type: str = "points",
    campaigns: Sequence[str] | None = None,
    surveys: Sequence[str] = (),
    survey_groups: str = "tier",
    page: int = 500,
) -> ProgrammeReport:
    """The programme report at ``at``, the money at ``cost_per_point``.

    ``campaigns`` defaults to every campaign of the programme that has started by ``at``;
    ``surveys`` names the surveys whose scores to break down by ``survey_groups``
    (``tier``, ``tag``, ``channel`` or ``month``).
    """
    when = aware("at", at)
    if cost_per_point.amount < 0:
        raise InvalidArgument(f"cost_per_point: {cost_per_point.amount} is negative")
    program = loyalty.versions.at(when)
    code = program.point_type(point_type).code
    zone = program.zone
    tier_of: dict[CustomerId, str] = {}
    tiers: Counter[str] = Counter()
    movements: dict[str, Counter[str]] = {}
    held: dict[str, Counter[str]] = {}
    months = _months(loyalty, when)
    members = 0
    for ids in _ids(loyalty, page):
        members += len(ids)
        if program.tiers is None:
            continue
        base = program.tiers.base.code
        with read_unit_of_work(loyalty.storage) as uow:
            joined = {c: customer.enrolled_at for c in ids if (customer := uow.customers.get(c))}
        # one transaction for the page's reads instead of one per member
        with loyalty.batch():
            views = [loyalty.tier(customer_id, at=when) for customer_id in ids]
        for view in views:
            tier_of[view.customer_id] = view.effective
            tiers[view.effective] += 1
            for change in view.history:
                month = f"{change.at.astimezone(zone):%Y-%m}"
                movements.setdefault(month, Counter())[change.kind] += 1
            for month, end in months:
                if joined[view.customer_id] >= end:
                    continue
                standing = [c.to_tier for c in view.history if c.at < end] or [base]
                held.setdefault(month, Counter())[standing[-1]] += 1
    storage = loyalty.storage
    rows = (
        storage.ledger_totals(code)
        if isinstance(storage, LedgerTotals)
        else _totals_one_by_one(loyalty, code, page)
    )
    by_tier: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    pending = redeemed = expired = 0
    discrepancies: list[Discrepancy] = []
    for row in rows:
        by_tier[tier_of.get(row.customer_id, "-")] += row.available + row.pending
        redeemed += row.lifetime_redeemed
        expired += row.lifetime_expired
        totals.update(row.entries)
        pending += row.pending_entries
        summed = sum(row.entries.values())
        if summed != row.available or row.pending_entries != row.pending:
            discrepancies.append(
                Discrepancy(
                    customer_id=row.customer_id,
                    point_type=code,
                    statement=summed,
                    balance=row.available,
                )
            )
    gone = redeemed + expired
    rate = (Decimal(expired) / gone).quantize(Decimal("0.0001")) if gone else Decimal(0)
    liability = loyalty.points_liability(at=when, point_type=code, value_per_point=cost_per_point)
    chosen = campaigns
    if chosen is None:
        chosen = [c.id for c in program.campaigns if c.schedule.window(when)[0] < when]
    segmentation = loyalty.segments(at=when)
    breakdowns: dict[str, Mapping[str, Scores]] = {}
    for survey_id in surveys:
        scores = loyalty.survey_scores(survey_id, until=when, by=survey_groups)
        assert isinstance(scores, dict)
        breakdowns[survey_id] = scores
    return ProgrammeReport(
        at=when,
        point_type=code,
        members=members,
        cost_per_point=cost_per_point,
        liability=liability,
        liability_by_tier=dict(sorted(by_tier.items())),
        breakage_rate=rate,
        entry_totals={kind.value: totals.get(kind.value, 0) for kind in EntryKind},
        pending_total=pending,
        tiers=dict(sorted(tiers.items())),
        tiers_by_month={month: dict(sorted(held[month].items())) for month in sorted(held)},
        tier_movements={m: dict(sorted(movements[m].items())) for m in sorted(movements)},
        value_classes={
            value_class.value: count for value_class, count in segmentation.counts().items()
        },
        churn_warnings=tuple(loyalty.churn_warnings(at=when)),
        campaigns=tuple(loyalty.campaign_report(c, at=when) for c in chosen),
        complaints=loyalty.complaint_report(at=when),
        surveys=breakdowns,
        discrepancies=tuple(discrepancies),
    )


def _months(loyalty: Loyalty, at: datetime) -> list[tuple[str, datetime]]:
    """The twelve local months up to ``at``, each with the instant it ends."""
    zone = loyalty.versions.at(at).zone
    # the month holding the last instant before ``at``: a report at midnight on the
    # first of a month covers the months before it
    local = (at - timedelta(microseconds=1)).astimezone(zone)
    ends = []
    year, month = local.year, local.month
    for _ in range(12):
        end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=zone)
        ends.append((f"{year:04d}-{month:02d}", min(end, at)))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return sorted(ends)
