"""Hypothesis properties of the ledger's invariants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from loyaltykit import Loyalty, Program, RefundPolicy
from loyaltykit.errors import InsufficientPoints, InvalidArgument, OutOfOrder, OverReversal
from loyaltykit.testing.invariants import ledger_violations
from loyaltykit.testing.strategies import points

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def enrolled(policy: RefundPolicy = RefundPolicy.TAKE_AVAILABLE) -> Loyalty:
    loyalty = Loyalty(Program(refund_policy=policy))
    loyalty.enroll("c", at=T0, idempotency_key="e")
    return loyalty


@given(
    amounts=st.lists(points(max_value=1000), min_size=1, max_size=8),
    policy=st.sampled_from(RefundPolicy),
)
def test_refund_after_earn_with_nothing_spent_nets_to_zero(
    amounts: list[int], policy: RefundPolicy
) -> None:
    loyalty = enrolled(policy)
    for n, amount in enumerate(amounts):
        loyalty.earn("c", amount, at=T0, idempotency_key=f"o{n}")
    for n in range(len(amounts)):
        loyalty.reverse("c", f"o{n}", at=T0 + timedelta(hours=1), idempotency_key=f"r{n}")
    assert loyalty.balance("c").available == 0
    assert ledger_violations(loyalty.storage, "c", "points") == []


@given(
    amount=points(max_value=10_000),
    shares=st.lists(st.fractions(min_value=0, max_value=1).filter(bool), min_size=1, max_size=5),
)
def test_partial_refunds_never_undo_more_than_was_earned(amount: int, shares: list) -> None:  # type: ignore[type-arg]
    loyalty = enrolled()
    loyalty.earn("c", amount, at=T0, idempotency_key="o")
    done = 0
    for n, share in enumerate(shares):
        if done + share > 1:
            break
        done += share
        loyalty.reverse("c", "o", at=T0, idempotency_key=f"r{n}", portion=share)
        assert 0 <= loyalty.balance("c").available <= amount
    if done == 1:
        assert loyalty.balance("c").available == 0


@given(
    earns=st.lists(
        st.tuples(points(max_value=500), st.none() | st.integers(1, 60)), min_size=1, max_size=10
    ),
    spends=st.lists(points(max_value=800), max_size=10),
    horizon=st.integers(0, 90),
)
def test_points_never_appear_from_nowhere(
    earns: list[tuple[int, int | None]], spends: list[int], horizon: int
) -> None:
    loyalty = enrolled()
    for n, (amount, days) in enumerate(earns):
        expires = None if days is None else T0 + timedelta(days=days)
        loyalty.earn("c", amount, at=T0, idempotency_key=f"o{n}", expires_at=expires)
    spent = 0
    for n, amount in enumerate(spends):
        try:
            loyalty.redeem_points("c", amount, at=T0 + timedelta(hours=n), idempotency_key=f"r{n}")
            spent += amount
        except InsufficientPoints:
            pass
    report = loyalty.expire_due(at=T0 + timedelta(days=horizon))
    balance = loyalty.balance("c")
    assert balance.available == sum(a for a, _ in earns) - spent - report.expired
    assert balance.available >= 0
    assert ledger_violations(loyalty.storage, "c", "points") == []


commands_in_any_order = st.lists(
    st.tuples(
        st.sampled_from(["earn", "earn_expiring", "redeem", "refund"]),
        st.integers(1, 200),  # points
        st.integers(0, 72),  # hours after T0, in any order
    ),
    min_size=1,
    max_size=20,
)


@given(
    history=commands_in_any_order,
    policy=st.sampled_from(RefundPolicy),
    skew=st.sampled_from([timedelta(0), timedelta(minutes=30), timedelta(hours=6)]),
)
def test_every_past_balance_the_statement_shows_is_allowed(
    history: list[tuple[str, int, int]], policy: RefundPolicy, skew: timedelta
) -> None:
    """Commands sent in any order: each is refused as out of order or applied so that
    every balance of the past, as the statement and balance(at=...) show it, is one the
    refund policy allows."""
    loyalty = Loyalty(Program(refund_policy=policy, clock_skew=skew))
    loyalty.enroll("c", at=T0, idempotency_key="e")
    earned: list[str] = []
    out_of_order: list[timedelta] = []
    expired_on_arrival: list[tuple[str, bool]] = []
    for n, (command, amount, hours) in enumerate(history):
        at, key = T0 + timedelta(hours=hours), f"k{n}"
        try:
            if command.startswith("earn"):
                expires = at + timedelta(hours=5) if command == "earn_expiring" else None
                loyalty.earn("c", amount, at=at, idempotency_key=key, expires_at=expires)
                earned.append(key)
            elif command == "redeem":
                loyalty.redeem_points("c", amount, at=at, idempotency_key=key)
            elif earned:
                loyalty.reverse("c", earned[amount % len(earned)], at=at, idempotency_key=key)
        except OutOfOrder as error:
            out_of_order.append(error.latest - error.at)
        except (InsufficientPoints, OverReversal):
            pass
        except InvalidArgument as error:
            # taking effect at the latest entry (within the skew), the lot expired on arrival
            expired_on_arrival.append((command, "is not after" in str(error)))
    assert all(gap > skew for gap in out_of_order)
    assert all(refusal == ("earn_expiring", True) for refusal in expired_on_arrival)
    deficit = 0
    for line in loyalty.statement("c").lines:
        deficit += line.entry.deficit_delta
        assert line.available + deficit >= 0
        if policy is RefundPolicy.TAKE_AVAILABLE:
            assert line.available >= 0 and deficit == 0
        past = loyalty.balance("c", at=line.entry.occurred_at)
        assert past.pending >= 0
        assert policy is RefundPolicy.NEGATIVE_BALANCE or past.available >= 0
    assert ledger_violations(loyalty.storage, "c", "points") == []
