"""The pure funding step: what campaign awards get from their budgets."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltykit.policy.campaigns import Award
from loyaltykit.policy.engine import CampaignAward, CampaignEntry, Earn
from loyaltykit.policy.funding import BudgetState, fund

COUNTERS = ("budget:a", "budget:b")
POINT_TYPES = ("points", "tier")


@st.composite
def awards(draw: st.DrawFn, *, budgeted: bool = True) -> CampaignAward:
    points = draw(
        st.lists(
            st.tuples(st.sampled_from(POINT_TYPES), st.integers(0, 500)), min_size=1, max_size=2
        )
    )
    counter = draw(st.sampled_from(COUNTERS)) if budgeted else None
    award = Award(
        # a budget counter belongs to one campaign
        campaign="free" if counter is None else counter.removeprefix("budget:"),
        customer_id="m",
        points=tuple(points),
        entries=draw(st.integers(0, 2)),
        budget_counter=counter,
        # a counter belongs to one campaign, so it always has the same limit
        budget_limit=None if counter is None else 100 * (COUNTERS.index(counter) + 1),
        times_key=draw(st.none() | st.just("times")),
        points_key=draw(st.none() | st.just("points-used")),
    )
    earns = tuple(
        Earn(customer_id="m", point_type=point_type, points=wanted, rules=("campaign:x",))
        for point_type, wanted in points
        if wanted
    )
    return CampaignAward(award=award, earns=earns)


spent = st.fixed_dictionaries({counter: st.integers(0, 250) for counter in COUNTERS})


@settings(max_examples=60, deadline=None)
@given(st.lists(awards(), max_size=5), spent)
def test_funded_points_never_exceed_the_budget_left(
    given_awards: list[CampaignAward], used: dict[str, int]
) -> None:
    funded = fund(given_awards, BudgetState(spent=used))
    taken = Counter[str]()
    for consumption in funded.consumptions:
        assert consumption.points > 0
        taken[consumption.counter] += consumption.points
    for award in given_awards:
        counter, limit = award.award.budget_counter, award.award.budget_limit
        assert counter is not None and limit is not None
        assert taken[counter] <= max(0, limit - used[counter])
        # and an award is cut only when its budget has nothing more to give
        if taken[counter] < max(0, limit - used[counter]):
            assert not any(line.rule == f"campaign:{award.award.campaign}" for line in funded.trace)


@settings(max_examples=60, deadline=None)
@given(st.lists(awards(), max_size=5), spent)
def test_the_consumptions_add_up_to_the_funded_points(
    given_awards: list[CampaignAward], used: dict[str, int]
) -> None:
    funded = fund(given_awards, BudgetState(spent=used))
    assert sum(c.points for c in funded.consumptions) == sum(e.points for e in funded.earns)
    entries = [e for e in funded.effects if isinstance(e, CampaignEntry)]
    assert sum(e.points for e in entries) == sum(e.points for e in funded.earns)


@settings(max_examples=40, deadline=None)
@given(st.lists(awards(budgeted=False), max_size=5))
def test_funding_without_a_budget_is_the_identity(given_awards: list[CampaignAward]) -> None:
    funded = fund(given_awards, BudgetState())
    assert funded.earns == tuple(earn for award in given_awards for earn in award.earns)
    assert funded.consumptions == ()
    assert funded.trace == ()


@settings(max_examples=40, deadline=None)
@given(st.lists(awards(), max_size=5))
def test_funding_from_budgets_that_cover_everything_is_the_identity(
    given_awards: list[CampaignAward],
) -> None:
    # no award here wants more than its budget's limit in all, so untouched budgets pay all
    wanted = Counter[str]()
    for award in given_awards:
        assert award.award.budget_counter is not None
        wanted[award.award.budget_counter] += award.award.wanted
    fits = all(wanted[c] <= 100 * (n + 1) for n, c in enumerate(COUNTERS))
    funded = fund(given_awards, BudgetState(spent=dict.fromkeys(COUNTERS, 0)))
    if fits:
        assert funded.earns == tuple(earn for award in given_awards for earn in award.earns)
        assert funded.trace == ()
