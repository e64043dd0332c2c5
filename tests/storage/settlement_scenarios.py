"""Random ledger histories for comparing set-based batch work with per-account settlement."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from loyaltykit import Loyalty
from loyaltykit.errors import InsufficientPoints, OverReversal

T0 = datetime(2026, 1, 1, tzinfo=UTC)
CUSTOMERS = ("a", "b", "c", "d")
step = st.tuples(
    st.sampled_from(["earn", "earn", "pending", "pending_forever", "redeem", "refund"]),
    st.sampled_from(CUSTOMERS),
    st.integers(1, 60),
    st.integers(1, 20),
)
# weighted towards pending earns, due within days of each other: several releases per account
release_step = st.tuples(
    st.sampled_from(["earn", "earn_long", "pending", "pending_forever", "redeem", "refund"]),
    st.sampled_from(CUSTOMERS[:2]),
    st.integers(1, 60),
    st.integers(1, 8),
)
Step = tuple[str, str, int, int]


def play(loyalty: Loyalty, steps: list[Step]) -> None:
    """Enroll every customer, then run ``steps``, one hour apart: earns with an expiry
    (``earn_long``: 30 days later),
    pending earns (released after ``days``, expiring 5 days later or never),
    redemptions and half refunds of a customer's first earn (which may leave a deficit
    under the ``negative_balance`` policy)."""
    for customer in CUSTOMERS:
        loyalty.enroll(customer, at=T0, idempotency_key=f"e-{customer}")
    for n, (action, customer, points, days) in enumerate(steps):
        at = T0 + timedelta(hours=n)
        if action in ("earn", "earn_long"):
            loyalty.earn(
                customer,
                points,
                at=at,
                idempotency_key=f"k{n}",
                expires_at=at + timedelta(days=days + (30 if action == "earn_long" else 0)),
            )
        elif action in ("pending", "pending_forever"):
            loyalty.earn(
                customer,
                points,
                at=at,
                idempotency_key=f"k{n}",
                available_from=at + timedelta(days=days),
                expires_at=at + timedelta(days=days + 5) if action == "pending" else None,
            )
        elif action == "redeem":
            with contextlib.suppress(InsufficientPoints):
                loyalty.redeem_points(customer, points, at=at, idempotency_key=f"k{n}")
        else:
            earlier = [
                m
                for m in range(n)
                if steps[m][0] != "redeem" and steps[m][0] != "refund" and steps[m][1] == customer
            ]
            if earlier:
                with contextlib.suppress(OverReversal):
                    loyalty.reverse(
                        customer, f"k{earlier[0]}", at=at, idempotency_key=f"k{n}", portion="1/2"
                    )


def snapshot(loyalty: Loyalty) -> list[Any]:
    """Every customer's entries (what matters of them) and balance."""
    out = []
    for customer in CUSTOMERS:
        statement = loyalty.statement(customer)
        out.append(
            [
                (
                    line.entry.seq,
                    line.entry.kind,
                    line.entry.amount,
                    line.entry.pending_delta,
                    line.entry.deficit_delta,
                    line.entry.occurred_at,
                    line.entry.recorded_at,
                    line.entry.idempotency_key,
                    line.entry.reason,
                    line.entry.lots,
                    line.entry.metadata,
                )
                for line in statement.lines
            ]
        )
        out.append(loyalty.balance(customer))
    return out
