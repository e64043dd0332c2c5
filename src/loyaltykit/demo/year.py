"""A seeded year of a department store's loyalty programme, as feed rows.

:func:`year_of_events` writes what a year of 2026 at the demo's store looks like: members
enrolling through the year (some referred by a friend), a few heavy shoppers and many
occasional ones, baskets of fashion, beauty, food and coffee, returns, reviews, reward
redemptions, points paid at the till and birthday cakes from the catalogue. The rows are
the ones ``loyaltykit import events`` reads (:mod:`loyaltykit.feed`), in time order.
:func:`complaints_of_year` are the hotline calls of the same year.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import attrs

__all__ = ["SHANGHAI", "YEAR_END", "YEAR_START", "Call", "complaints_of_year", "year_of_events"]

SHANGHAI = ZoneInfo("Asia/Shanghai")
YEAR_START = datetime(2026, 1, 1, tzinfo=SHANGHAI)
YEAR_END = datetime(2027, 1, 1, tzinfo=SHANGHAI)

# (category, typical price in CNY): the store's departments
_SHELVES = (
    ("fashion", 420),
    ("beauty", 260),
    ("food", 90),
    ("coffee", 32),
    ("home", 310),
)
_REVIEWS = ("Lovely staff and a quick fitting room.", "Great coffee, the queue was long though.")


def _instant(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A shop-hours instant between ``start`` and ``end`` (local 10:00-21:59)."""
    days = max(1, (end - start).days)
    day = (start + timedelta(days=rng.randrange(days))).date()
    hour, minute = rng.randrange(10, 22), rng.randrange(60)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def _price(rng: random.Random, typical: int) -> Decimal:
    return Decimal(str(round(typical * rng.lognormvariate(0, 0.45), 1))).quantize(Decimal("0.1"))


def _basket(rng: random.Random) -> tuple[Decimal, list[dict[str, Any]]]:
    items = []
    total = Decimal(0)
    for _ in range(rng.choice((1, 1, 2, 2, 3))):
        category, typical = rng.choice(_SHELVES)
        quantity = 1 if category != "coffee" else rng.randrange(1, 4)
        price = _price(rng, typical)
        total += price * quantity
        items.append(
            {"sku": f"{category}-{rng.randrange(100):02d}", "category": category}
            | {"quantity": quantity, "unit_price": str(price)}
        )
    return total, items


def _visits(rng: random.Random) -> int:
    """How often a member shops in the year: a few heavy shoppers, many occasional."""
    roll = rng.random()
    if roll < 0.08:
        return rng.randrange(10, 18)
    if roll < 0.5:
        return rng.randrange(2, 6)
    return rng.randrange(0, 2)


def year_of_events(members: int, *, seed: int = 2026) -> list[dict[str, Any]]:
    """Feed rows for ``members`` members over 2026, sorted by instant (then key)."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    # most members joined in the first half; a few late in the year
    joined = [
        _instant(rng, YEAR_START, YEAR_START + timedelta(days=rng.choice((60, 180, 330))))
        for _ in range(members)
    ]
    for number in range(1, members + 1):
        rows.extend(_member_year(rng, number, joined))
    # a return or a review after the year's end belongs to next year's file
    rows = [row for row in rows if row["at"] < YEAR_END]
    rows.sort(key=lambda row: (row["at"], row["key"]))
    for row in rows:
        row["at"] = row["at"].isoformat()
    return rows


def _member_year(
    rng: random.Random, number: int, joined: list[datetime]
) -> Iterator[dict[str, Any]]:
    customer = f"m-{number:05d}"
    enrolled = joined[number - 1]
    birthday = date(rng.randrange(1960, 2005), rng.randrange(1, 13), rng.randrange(1, 29))
    enrol: dict[str, Any] = {
        "kind": "enrol",
        "customer": customer,
        "key": f"enrol-{customer}",
        "at": enrolled,
        "name": f"Member {number}",
        "birthday": birthday.isoformat(),
        "tags": ["app"] if rng.random() < 0.4 else [],
    }
    if rng.random() < 0.08:  # brought by a friend who joined before
        friend = rng.randrange(len(joined))
        if joined[friend] < enrolled:
            enrol["referred_by"] = f"m-{friend + 1:05d}"
    yield enrol
    visits = sorted(_instant(rng, enrolled, YEAR_END) for _ in range(_visits(rng)))
    # a purchase in the same minute as the enrolment would come before it in the file
    visits = [max(at, enrolled + timedelta(minutes=5)) for at in visits]
    balance = 0
    for visit, at in enumerate(visits, start=1):
        key = f"order-{customer}-{visit}"
        total, items = _basket(rng)
        yield {
            "kind": "purchase",
            "customer": customer,
            "key": key,
            "at": at,
            "amount": str(total),
            "currency": "CNY",
            "channel": rng.choice(("store", "store", "app")),
            "items": items,
        }
        balance += int(total / 10)
        if rng.random() < 0.04:  # a return within the fortnight, part or all of it
            part = total if rng.random() < 0.5 else (total / 2).quantize(Decimal("0.1"))
            yield {
                "kind": "refund",
                "customer": customer,
                "key": f"refund-{key}",
                "at": at + timedelta(days=rng.randrange(1, 14)),
                "purchase": key,
                "amount": str(part),
                "currency": "CNY",
            }
        if rng.random() < 0.05:
            yield {
                "kind": "event",
                "customer": customer,
                "key": f"review-{key}",
                "at": at + timedelta(hours=3),
                "type": "review_written",
                "attributes": {"text": rng.choice(_REVIEWS)},
            }
        # a margin over the price: returns and expiry take points this count ignores
        if balance >= 800 and rng.random() < 0.5:
            reward = "coupon-20" if balance >= 1500 else "jade-mug"
            yield {
                "kind": "redeem",
                "customer": customer,
                "key": f"redeem-{key}",
                "at": at + timedelta(minutes=2),
                "reward": reward,
            }
            balance -= 1000 if reward == "coupon-20" else 500
        elif balance >= 500 and rng.random() < 0.25:
            yield {
                "kind": "pay_with_points",
                "customer": customer,
                "key": f"cash-{key}",
                "at": at + timedelta(minutes=1),
                "reward": "points-as-cash",
                "points": 200,
                "bill": "80.00",
                "currency": "CNY",
            }
            balance -= 200
    cake = datetime(2026, birthday.month, birthday.day, 11, tzinfo=SHANGHAI)
    if cake > enrolled and rng.random() < 0.3:  # some of them come for the cake
        yield {
            "kind": "gift",
            "customer": customer,
            "key": f"birthday-{customer}-2026",
            "at": cake,
            "reward": "birthday-cake",
            "reason": "birthday gift",
        }


@attrs.frozen(kw_only=True)
class Call:
    """One hotline complaint: when it came in, and how late each step of handling was."""

    complaint_id: str
    customer_id: str
    at: datetime
    category: str
    acknowledged_after: timedelta
    responded_after: timedelta
    closed_after: timedelta


def complaints_of_year(
    rows: list[dict[str, Any]], *, count: int = 40, seed: int = 2026
) -> list[Call]:
    """``count`` complaints over the second half of the year from members of ``rows``
    (:func:`year_of_events`) who had joined by then; about one in five handled late."""
    rng = random.Random(seed + 1)
    joined = [(row["at"], row["customer"]) for row in rows if row["kind"] == "enrol"]
    calls = []
    for number in range(1, count + 1):
        late = rng.random() < 0.2
        at = _instant(rng, YEAR_START + timedelta(days=200), YEAR_END - timedelta(days=20))
        members = [customer for enrolled, customer in joined if enrolled < at.isoformat()]
        calls.append(
            Call(
                complaint_id=f"cp-{number:03d}",
                customer_id=rng.choice(members),
                at=at,
                category=rng.choice(("service", "product", "points")),
                acknowledged_after=timedelta(hours=rng.choice((5, 8)) if late else 1),
                responded_after=timedelta(days=4 if late else 1),
                closed_after=timedelta(days=12 if late else 3),
            )
        )
    return sorted(calls, key=lambda call: call.at)
