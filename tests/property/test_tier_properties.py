"""Hypothesis properties of tier ladders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from hypothesis import example, given
from hypothesis import strategies as st

from loyaltykit.domain import tiers
from loyaltykit.domain.metrics import MetricHistory
from loyaltykit.domain.tiers import Override, Requirement, Tier, TierLadder, TierStatus
from loyaltykit.domain.windows import Window

AT = datetime(2026, 3, 1, tzinfo=UTC)
LADDER = TierLadder(
    tiers=(
        Tier(code="t0", rank=0),
        Tier(code="t1", rank=1, requirements=(Requirement(metric="spend", at_least="1000"),)),
        Tier(
            code="t2",
            rank=2,
            mode="any",
            requirements=(
                Requirement(metric="spend", at_least="5000"),
                Requirement(metric="stays", at_least="10"),
            ),
        ),
        Tier(
            code="t3",
            rank=3,
            requirements=(
                Requirement(metric="spend", at_least="20000"),
                Requirement(metric="stays", at_least="20"),
            ),
        ),
    ),
    grace=relativedelta(months=1),
)
values = st.fixed_dictionaries(
    {"spend": st.integers(0, 30000).map(Decimal), "stays": st.integers(0, 30).map(Decimal)}
)


def by(metrics: dict[str, Decimal]) -> tiers.Measure:
    return lambda requirement: metrics[requirement.metric]


@given(low=values, extra=values)
def test_more_of_every_metric_never_qualifies_lower(
    low: dict[str, Decimal], extra: dict[str, Decimal]
) -> None:
    high = {name: low[name] + extra[name] for name in low}
    assert LADDER.qualifying(by(high))[0].rank >= LADDER.qualifying(by(low))[0].rank


@given(metrics=values, tier=st.sampled_from(["t0", "t1", "t2", "t3"]))
def test_upgrades_never_lower_the_earned_tier(metrics: dict[str, Decimal], tier: str) -> None:
    status = TierStatus(tier=tier, since=AT, valid_until=AT + relativedelta(months=12))
    raised, _ = tiers.upgrade(LADDER, status, by(metrics), AT)
    assert LADDER.rank_of(raised.tier) >= LADDER.rank_of(tier)


@given(metrics=values, tier=st.sampled_from(["t1", "t2", "t3"]), days=st.integers(0, 400))
def test_requalifying_with_unchanged_qualifying_metrics_never_downgrades(
    metrics: dict[str, Decimal], tier: str, days: int
) -> None:
    qualified, _ = LADDER.qualifying(by(metrics))
    if qualified.rank < LADDER.rank_of(tier):
        return
    status = TierStatus(tier=tier, since=AT, valid_until=AT + relativedelta(months=12))
    after, _ = tiers.requalify(LADDER, status, by(metrics), AT + timedelta(days=days))
    assert LADDER.rank_of(after.tier) >= LADDER.rank_of(tier)


@given(metrics=values, tier=st.sampled_from(["t1", "t2", "t3"]), months=st.integers(12, 40))
def test_one_step_mode_drops_at_most_one_rank_per_requalification(
    metrics: dict[str, Decimal], tier: str, months: int
) -> None:
    ladder = TierLadder(tiers=LADDER.tiers, downgrade="one_step")
    status = TierStatus(tier=tier, since=AT, valid_until=AT + relativedelta(months=12))
    after, _ = tiers.requalify(ladder, status, by(metrics), AT + relativedelta(months=months))
    assert LADDER.rank_of(after.tier) >= LADDER.rank_of(tier) - 1


@given(
    metrics=values,
    earned=st.sampled_from(["t0", "t1", "t2", "t3"]),
    gift=st.sampled_from(["t0", "t1", "t2", "t3"]),
    days=st.integers(1, 200),
    probe=st.integers(0, 400),
)
def test_overrides_never_lower_and_expire_back_to_the_earned_tier(
    metrics: dict[str, Decimal], earned: str, gift: str, days: int, probe: int
) -> None:
    status = TierStatus(tier=earned, since=AT, valid_until=AT + relativedelta(months=12))
    until = AT + timedelta(days=days)
    status, _ = tiers.grant_override(
        status, Override(tier=gift, until=until, reason="match", actor="qa"), AT
    )
    moment = AT + timedelta(days=probe)
    effective = status.effective(moment, LADDER)
    assert LADDER.rank_of(effective) >= LADDER.rank_of(earned)
    if moment >= until:
        assert effective == earned


@given(
    months=st.integers(1, 120),
    at=st.datetimes(min_value=datetime(2021, 1, 1), max_value=datetime(2030, 1, 1)).map(
        lambda d: d.replace(tzinfo=UTC)
    ),
    kind=st.sampled_from(["rolling", "calendar_year", "anniversary_year", "all_time"]),
)
# found by hypothesis: joined on 29 February, the day before a leap-year anniversary
@example(months=12, at=datetime(2028, 2, 28, 12, tzinfo=UTC), kind="anniversary_year")
def test_windows_contain_the_instant(months: int, at: datetime, kind: str) -> None:
    enrolled = datetime(2020, 2, 29, 15, tzinfo=UTC)
    first, last = Window(kind=kind, months=months).bounds(at, enrolled_at=enrolled, zone=UTC)
    assert first <= at.date() <= last
    if kind == "rolling" and first > enrolled.date():
        assert first == at.date() - relativedelta(months=months) + relativedelta(days=1)


@given(
    granted_until=st.integers(1, 365),
    probe=st.integers(0, 364),
    metrics=values,
)
def test_grandfathered_statuses_are_never_cut_before_their_end(
    granted_until: int, probe: int, metrics: dict[str, Decimal]
) -> None:
    status = TierStatus(
        tier="t3", since=AT, valid_until=AT + timedelta(days=granted_until), granted_under="old"
    )
    moment = AT + timedelta(days=min(probe, granted_until - 1))
    after, changes = tiers.requalify(LADDER, status, by(metrics), moment)
    raised, _ = tiers.upgrade(LADDER, after, by(metrics), moment)
    assert raised.tier == "t3" and changes == []


@given(
    joined_day=st.integers(1, 28),
    joined_month=st.integers(0, 40),
    billed_months=st.integers(1, 40),
    bill=st.integers(1, 10_000),
    months=st.integers(1, 24),
    kind=st.sampled_from(["rolling", "calendar_year", "anniversary_year", "all_time"]),
)
def test_a_steady_monthly_bill_is_its_own_arpu_in_every_window(
    joined_day: int, joined_month: int, billed_months: int, bill: int, months: int, kind: str
) -> None:
    enrolled = datetime(2022, 1, joined_day, 8, tzinfo=UTC) + relativedelta(months=joined_month)
    window = Window(kind=kind, months=months)
    history = MetricHistory()
    for month in range(billed_months):
        day = (enrolled + relativedelta(months=month)).date()
        history = history.add("spend", day, Decimal(bill))
    at = enrolled + relativedelta(months=billed_months - 1)  # measured on the last bill's day
    divisor = window.months_billed(at, enrolled_at=enrolled, zone=UTC)
    assert 1 <= divisor <= (months if kind == "rolling" else 12 if kind != "all_time" else 121)
    arpu = history.measure("spend", window, at, enrolled_at=enrolled, zone=UTC, per_month=True)
    assert arpu == bill
