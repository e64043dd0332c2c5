"""Ledger histories for comparing set-based batch work with per-account settlement.

A history is a list of :data:`Step` values played through the facade by :func:`play`;
:func:`snapshot` is what two backends must agree on afterwards. The conformance suite
draws histories with :func:`random_history` (a seeded ``random.Random``: the same seed,
the same history); property tests draw them with hypothesis.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from loyaltykit import Loyalty
from loyaltykit.errors import InsufficientPoints, OverReversal

__all__ = [
    "CUSTOMERS",
    "EXPIRY_ACTIONS",
    "RELEASE_ACTIONS",
    "T0",
    "Step",
    "play",
    "random_history",
    "snapshot",
]

T0 = datetime(2026, 1, 1, tzinfo=UTC)
CUSTOMERS = ("a", "b", "c", "d")
Step = tuple[str, str, int, int]
"""``(action, customer, points, days)``: see :func:`play`."""

EXPIRY_ACTIONS = ("earn", "earn", "pending", "pending_forever", "redeem", "refund")
# weighted towards pending earns, due within days of each other: several releases per account
RELEASE_ACTIONS = ("earn", "earn_long", "pending", "pending_forever", "redeem", "refund")


def random_history(
    rng: random.Random,
    *,
    size: int,
    actions: Sequence[str] = EXPIRY_ACTIONS,
    customers: Sequence[str] = CUSTOMERS,
    max_days: int = 20,
) -> list[Step]:
    """``size`` steps drawn from ``rng``: actions, customers, 1-60 points, 1-``max_days``
    days."""
    return [
        (rng.choice(actions), rng.choice(customers), rng.randint(1, 60), rng.randint(1, max_days))
        for _ in range(size)
    ]


def play(loyalty: Loyalty, steps: Sequence[Step]) -> None:
    """Enroll every customer, then run ``steps``, one hour apart: earns with an expiry
    (``earn_long``: 30 days later), pending earns (released after ``days``, expiring 5
    days later or never), redemptions, and half refunds of a customer's first earn (which
    may leave a deficit under the ``negative_balance`` policy)."""
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
                if steps[m][0] not in ("redeem", "refund") and steps[m][1] == customer
            ]
            if earlier:
                with contextlib.suppress(OverReversal):
                    loyalty.reverse(
                        customer, f"k{earlier[0]}", at=at, idempotency_key=f"k{n}", portion="1/2"
                    )


def snapshot(loyalty: Loyalty) -> list[Any]:
    """Every customer's entries (what matters of them) and balance."""
    out: list[Any] = []
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
