"""Fingerprints stored by existing databases must still match: scheme 2 is pinned here.

The values below were computed by scheme 2 as it was first written; a faster computation
of the same scheme must give them byte for byte (a different one is scheme 3, recorded in
the fingerprint's prefix, with the old one still read)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from loyaltykit import Item, Money, Purchase
from loyaltykit.domain.customer import Profile
from loyaltykit.service.commands import (
    CommandValue,
    EarnPoints,
    Enroll,
    RecordPurchase,
    RedeemPoints,
    fingerprint,
)

AT = datetime(2026, 5, 1, 9, tzinfo=timezone(timedelta(hours=8)))
LATTE = Purchase(
    amount=Money.of("59.90", "CNY"), items=(Item(sku="latte", category="coffee", quantity=2),)
)
PINNED: list[tuple[CommandValue, str]] = [
    (
        EarnPoints(customer_id="c-1", points=10, at=AT, idempotency_key="k"),
        "2:1032d61b55380aa859c27fb34bbc0924708ef1f1e15cf1f139",
    ),
    (
        EarnPoints(
            customer_id="c-1",
            points=25,
            at=AT,
            idempotency_key="k",
            point_type="miles",
            expires_at=AT + timedelta(days=30),
            available_from=AT + timedelta(days=1),
            reason="promo",
            actor="ops",
            metadata={"order": "o-1", "n": 3, "flag": True, "none": None},
        ),
        "2:c048acb56aaf94d25cb2ae1ae8502878708e2752adfaf117a0",
    ),
    (
        RedeemPoints(customer_id="c-2", points=5, at=AT, idempotency_key="r"),
        "2:d3c5495d71f775abb9d93296793f4ddb684df1f1ae5c39",
    ),
    (
        RecordPurchase(customer_id="c-3", purchase=LATTE, at=AT, idempotency_key="p"),
        "2:e703a5b7a7809ab4bdec92c1651669dfea0cb0f1",
    ),
    (
        Enroll(
            customer_id="c-4",
            at=AT,
            idempotency_key="e",
            profile=Profile(email="a@example.com", phone="+8613800000000"),
        ),
        "2:6b69edff2de1ca55cd58f65b9aae0b17fecb34f1",
    ),
]


@pytest.mark.parametrize(("command", "stored"), PINNED, ids=lambda value: type(value).__name__)
def test_scheme_2_fingerprints_are_unchanged(command: CommandValue, stored: str) -> None:
    assert fingerprint(command) == stored
