"""MemberState.counted keeps what the plain definition keeps: every counter's sum, and of
each family (keys ``family:period``) the latest KEPT_PERIODS periods only."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltykit.domain.customer import Customer
from loyaltykit.domain.member import KEPT_PERIODS, MemberState

KEYS = st.tuples(st.sampled_from(["cap:day", "referrer"]), st.integers(0, 99)).map(
    lambda pair: f"{pair[0]}:{pair[1]:03d}"
)
# enough steps that a family holds more than KEPT_PERIODS periods
STEPS = st.lists(st.dictionaries(KEYS, st.integers(1, 5), min_size=1, max_size=2), max_size=200)
MANY = st.lists(
    st.integers(0, 99), min_size=KEPT_PERIODS, max_size=KEPT_PERIODS + 40, unique=True
).map(lambda periods: [{f"cap:day:{period:03d}": 1} for period in periods])


def reference(steps: list[dict[str, int]]) -> dict[str, int]:
    counters: dict[str, int] = {}
    for increments in steps:
        for key, amount in increments.items():
            counters[key] = counters.get(key, 0) + amount
            family = key.rsplit(":", 1)[0] + ":"
            periods = sorted(k for k in counters if k.startswith(family))
            for old in periods[:-KEPT_PERIODS]:
                del counters[old]
    return counters


@settings(max_examples=80, deadline=None)
@given(STEPS | MANY)
def test_counters_keep_the_latest_periods_of_each_family(steps: list[dict[str, int]]) -> None:
    customer = Customer(id="ann", enrolled_at=datetime(2026, 1, 1, tzinfo=UTC))
    member = MemberState(customer=customer)
    for increments in steps:
        member = member.counted(increments)
    assert dict(member.counters) == reference(steps)
