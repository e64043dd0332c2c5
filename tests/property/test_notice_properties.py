"""A milestone fires once per crossing (issue 17): the notices a member gets are exactly
the upward crossings of their balance, counted by a plain reference."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltykit import Loyalty, Milestones, NoticeRules, Program
from loyaltykit.domain.notices import cross

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)
THRESHOLDS = st.lists(st.integers(1, 3000), min_size=1, max_size=4, unique=True)
MOVES = st.lists(st.integers(-1500, 1500).filter(bool), min_size=1, max_size=25)


def _crossings(thresholds: list[int], balances: list[int], notify: str) -> list[int]:
    """The reference: each step from b0 to b1 crosses every t with b0 < t <= b1."""
    found: list[int] = []
    for before, after in itertools.pairwise(balances):
        crossed = sorted(t for t in thresholds if before < t <= after)
        found.extend(crossed[-1:] if notify == "highest" else crossed)
    return found


@settings(max_examples=60)
@given(THRESHOLDS, st.lists(st.integers(0, 5000), min_size=1, max_size=30), st.booleans())
def test_cross_notifies_every_upward_crossing(
    thresholds: list[int], balances: list[int], each: bool
) -> None:
    notify = "each" if each else "highest"
    rules = Milestones(thresholds=thresholds, notify=notify)
    reached = frozenset(t for t in thresholds if t <= balances[0])
    fired: list[int] = []
    for before, after in itertools.pairwise(balances):
        step, reached = cross(rules, reached, [before, after])
        fired.extend(step)
    assert fired == _crossings(thresholds, balances, notify)
    assert reached == {t for t in thresholds if t <= balances[-1]}


@settings(max_examples=25, deadline=None)
@given(THRESHOLDS, MOVES, st.booleans())
def test_a_milestone_fires_once_per_crossing_through_the_facade(
    thresholds: list[int], moves: list[int], each: bool
) -> None:
    notify = "each" if each else "highest"
    rules = NoticeRules(milestones=Milestones(thresholds=thresholds, notify=notify))
    loyalty = Loyalty(Program(notices=rules))
    loyalty.enroll("ann", at=T0, idempotency_key="e")
    balances = [0]
    for n, move in enumerate(moves):
        key = f"m-{n}"
        if move > 0:
            loyalty.earn("ann", move, at=T0, idempotency_key=key)
        elif -move <= balances[-1]:
            loyalty.redeem_points("ann", -move, at=T0, idempotency_key=key)
        else:
            continue  # more than the member has: refused, nothing to compare
        balances.append(balances[-1] + move)
    fired = [n.data["threshold"] for n in loyalty.notices("ann")]
    assert fired == _crossings(thresholds, balances, notify)
