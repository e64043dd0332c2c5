"""Campaign invariants: budgets and member limits hold however events interleave; draws
are reproducible and fair."""

from __future__ import annotations

import contextlib
import random
import threading
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltykit import Loyalty, Money, Profile, Program, Purchase
from loyaltykit.domain.campaigns import period_key
from loyaltykit.domain.draws import DrawEntry, draw
from loyaltykit.errors import OverReversal

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 5, 1, 10, tzinfo=SHANGHAI)
MEMBERS = ("m0", "m1", "m2", "m3")


def service(budget: int | None = None, limit: dict[str, object] | None = None) -> Loyalty:
    campaign: dict[str, object] = {
        "id": "spring",
        "schedule": {"start": "2026-05-01T00:00:00+08:00"},
        "effects": [{"kind": "multiply", "factor": "2"}, {"kind": "bonus", "points": 3}],
    }
    if budget is not None:
        campaign["budget"] = {"points": budget}
    if limit is not None:
        campaign["member_limit"] = limit
    program = Program.from_dict(
        {
            "timezone": "Asia/Shanghai",
            "rules": [{"id": "base", "kind": "base_rate", "per": "10"}],
            "campaigns": [campaign],
        }
    )
    loyalty = Loyalty(program)
    for member in MEMBERS:
        loyalty.enroll(member, at=T0, idempotency_key=f"e-{member}")
    return loyalty


def campaign_points(loyalty: Loyalty, member: str) -> list[tuple[datetime, int]]:
    """(instant, points) of every campaign lot the member earned, from the ledger."""
    return [
        (line.entry.occurred_at, line.entry.amount)
        for line in loyalty.statement(member).lines
        if dict(line.entry.metadata).get("rules") == "campaign:spring"
    ]


events = st.lists(
    st.tuples(
        st.sampled_from(MEMBERS),
        st.integers(min_value=0, max_value=2_000),  # money spent
        st.integers(min_value=0, max_value=40),  # days after T0
    ),
    max_size=25,
).map(lambda happenings: sorted(happenings, key=lambda happening: happening[2]))
# in time order: the ledger refuses a purchase dated before the member's latest entry


@settings(max_examples=60, deadline=None)
@given(budget=st.integers(min_value=1, max_value=400), happenings=events)
def test_a_budget_is_never_overspent(budget: int, happenings: list[tuple[str, int, int]]) -> None:
    loyalty = service(budget=budget)
    wanted = 0
    for n, (member, spent, day) in enumerate(happenings):
        receipt = loyalty.record_purchase(
            member,
            Purchase(amount=Money.of(spent, "CNY")),
            at=T0 + timedelta(days=day),
            idempotency_key=f"p-{n}",
        )
        wanted += spent // 10 + 3
        assert "campaign" not in receipt.explanation or "spring" in receipt.explanation
    given_out = sum(points for m in MEMBERS for _, points in campaign_points(loyalty, m))
    view = loyalty.campaign_budget("spring")
    assert given_out == view.spent == min(budget, wanted)
    assert view.left == budget - given_out >= 0
    participants = loyalty.participants("spring")
    assert sum(p.points for p in participants.values()) == given_out


@settings(max_examples=60, deadline=None)
@given(
    times=st.none() | st.integers(min_value=1, max_value=3),
    points=st.none() | st.integers(min_value=1, max_value=300),
    period=st.sampled_from(["day", "week", "month", "lifetime"]),
    happenings=events,
)
def test_member_limits_are_never_exceeded(
    times: int | None, points: int | None, period: str, happenings: list[tuple[str, int, int]]
) -> None:
    if times is None and points is None:
        times = 1
    limit = {"times": times, "points": points, "period": period}
    loyalty = service(limit={key: value for key, value in limit.items() if value is not None})
    for n, (member, spent, day) in enumerate(happenings):
        loyalty.record_purchase(
            member,
            Purchase(amount=Money.of(spent, "CNY")),
            at=T0 + timedelta(days=day, minutes=n),
            idempotency_key=f"p-{n}",
        )
    for member in MEMBERS:
        by_period: dict[str, list[int]] = {}
        for at, gained in campaign_points(loyalty, member):
            by_period.setdefault(period_key(period, at.astimezone(SHANGHAI)), []).append(gained)
        for gains in by_period.values():
            assert times is None or len(gains) <= times
            assert points is None or sum(gains) <= points


def test_threads_never_take_the_last_points_of_a_budget_twice() -> None:
    loyalty = service(budget=50)
    errors: list[BaseException] = []
    barrier = threading.Barrier(16)

    def purchase(number: int) -> None:
        try:
            barrier.wait()
            loyalty.record_purchase(
                MEMBERS[number % 4],
                Purchase(amount=Money.of(90, "CNY")),  # wants 9 + 3 = 12 each
                at=T0,
                idempotency_key=f"t-{number}",
            )
        except BaseException as error:  # report in the main thread
            errors.append(error)

    threads = [threading.Thread(target=purchase, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    given_out = sum(points for m in MEMBERS for _, points in campaign_points(loyalty, m))
    assert given_out == loyalty.campaign_budget("spring").spent == 50
    cut = [p for m in MEMBERS for _, p in campaign_points(loyalty, m) if p != 12]
    assert cut == [2]  # 4 full awards of 12, one cut to the last 2, then nothing


weights = st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=12)


@settings(max_examples=100, deadline=None)
@given(weights=weights, seed=st.text(min_size=1, max_size=20), winners=st.integers(1, 15))
def test_a_draw_with_the_same_seed_and_entries_gives_the_same_winners(
    weights: list[int], seed: str, winners: int
) -> None:
    entries = [DrawEntry(holder=f"c-{n:02d}", weight=w) for n, w in enumerate(weights)]
    first = draw(entries, winners=winners, seed=seed)
    shuffled = list(reversed(entries))  # the order entries are given in does not matter
    assert draw(shuffled, winners=winners, seed=seed) == first
    assert len(first) == min(winners, len(entries)) == len(set(first))


def test_over_many_seeds_each_entry_wins_with_its_declared_probability() -> None:
    entries = [DrawEntry(holder=h, weight=w) for h, w in (("a", 1), ("b", 2), ("c", 3), ("d", 4))]
    seeds = random.Random(20260508)  # a fixed seed of seeds: the test cannot flake
    draws = 8_000
    wins = Counter(
        draw(entries, winners=1, seed=str(seeds.getrandbits(64)))[0] for _ in range(draws)
    )
    total = sum(entry.weight for entry in entries)
    chi_square = sum(
        (wins[e.holder] - draws * e.weight / total) ** 2 / (draws * e.weight / total)
        for e in entries
    )
    # 3 degrees of freedom: the 0.1% critical value is 16.27
    assert chi_square < 16.27, (chi_square, wins)
    # and the second prize goes to a winner drawn from the rest, never the first again
    pairs = [draw(entries, winners=2, seed=f"pair-{n}") for n in range(200)]
    assert all(first != second for first, second in pairs)


steps = st.lists(
    st.one_of(
        st.tuples(st.just("buy"), st.sampled_from(MEMBERS), st.integers(0, 1_500)),
        st.tuples(st.just("refund"), st.integers(0, 30), st.sampled_from(["half", "all"])),
    ),
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(budget=st.integers(min_value=1, max_value=300), script=steps)
def test_with_refunds_the_budget_counts_exactly_the_campaign_points_members_keep(
    budget: int, script: list[tuple[str, object, object]]
) -> None:
    loyalty = service(budget=budget)
    bought: list[tuple[str, str, int]] = []
    for n, (what, first, second) in enumerate(script):
        at = T0 + timedelta(minutes=n)
        if what == "buy":
            key = f"p-{n}"
            loyalty.record_purchase(
                str(first), Purchase(amount=Money.of(second, "CNY")), at=at, idempotency_key=key
            )
            bought.append((str(first), key, int(second)))  # type: ignore[call-overload]
        elif bought:
            member, key, spent = bought[int(first) % len(bought)]  # type: ignore[call-overload]
            if spent == 0:
                continue
            amount = None if second == "all" else Money.of(spent, "CNY") * Decimal("0.5")
            with contextlib.suppress(OverReversal):
                loyalty.refund(member, key, amount=amount, at=at, idempotency_key=f"r-{n}")
    lines = [line.entry for m in MEMBERS for line in loyalty.statement(m).lines]
    campaign = {e.id for e in lines if dict(e.metadata).get("rules") == "campaign:spring"}
    earned = sum(e.amount for e in lines if e.id in campaign)
    clawed = sum(-e.amount for e in lines if e.reverses in campaign)
    view = loyalty.campaign_budget("spring")
    assert 0 <= view.spent <= budget
    assert view.spent == earned - clawed
    assert sum(p.points for p in loyalty.participants("spring").values()) == view.spent


@settings(max_examples=40, deadline=None)
@given(
    offsets=st.lists(st.integers(min_value=0, max_value=800), min_size=1, max_size=8),
    birthday=st.dates(min_value=date(1950, 1, 1), max_value=date(2005, 12, 31)),
)
def test_care_runs_never_produce_the_same_action_twice(offsets: list[int], birthday: date) -> None:
    program = Program.from_dict(
        {
            "timezone": "Asia/Shanghai",
            "care": {"birthday": {"points": 10}, "inactive": {"days": 45}, "anniversary": {}},
        }
    )
    loyalty = Loyalty(program)
    loyalty.enroll("m", at=T0, idempotency_key="e", profile=Profile(birthday=birthday))
    seen: list[str] = []
    for offset in offsets:  # runs at any instants, in any order, repeated
        seen += [action.id for action in loyalty.run_due(at=T0 + timedelta(days=offset)).care]
    assert len(seen) == len(set(seen))
    birthdays = [action_id for action_id in seen if action_id.startswith("birthday:")]
    assert loyalty.balance("m").available == 10 * len(birthdays)
    assert len(loyalty.care_actions(at=T0 + timedelta(days=1000))) == len(seen)
