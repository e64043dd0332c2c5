"""A plan's cap keys, kept for the last local day it saw, are every time the keys each
cap computes for the instant (``Cap.counter``), whatever order the instants come in; and
so for a cap whose own ``counter`` keys by the hour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltykit import Program
from loyaltykit.policy.plan import plan_of
from loyaltykit.policy.rules import PERIODS, Cap

START = datetime(2026, 12, 27, 22, tzinfo=UTC)  # a week, a month and a year end near it


@attrs.frozen(kw_only=True)
class HourlyCap(Cap):
    """A cap keyed by the hour of its instant."""

    def counter(self, at: datetime) -> str | None:
        return f"cap:{self.id}:{at:%Y-%m-%dT%H}"


@settings(max_examples=100, deadline=None)
@given(
    periods=st.lists(st.sampled_from(PERIODS), min_size=1, max_size=4),
    zone=st.sampled_from(["UTC", "Asia/Shanghai", "America/New_York"]),
    offsets=st.lists(st.integers(0, 24 * 20), min_size=1, max_size=12),
    hourly=st.booleans(),
)
def test_the_kept_keys_are_the_caps_own(
    periods: list[str], zone: str, offsets: list[int], hourly: bool
) -> None:
    program = Program.from_dict(
        {
            "name": "keys",
            "timezone": zone,
            "rules": [{"id": "fixed", "kind": "fixed", "amount": 5}],
            "caps": [
                {"id": f"c{n}", "limit": 10, "period": period} for n, period in enumerate(periods)
            ],
        }
    )
    if hourly:
        extra = HourlyCap(id="hourly", limit=10, period="day")
        program = attrs.evolve(program, caps=(*program.caps, extra))
    plan = plan_of(program)
    for hours in offsets:
        local = (START + timedelta(hours=hours)).astimezone(program.zone)
        expected = tuple(cap.counter(local) for cap in plan.caps_for("points"))
        assert plan.cap_keys("points", local) == expected
