"""A partner's settlement equals the sum of its attributed movements, under any sequence
of awards, purchases at the partner (a campaign it funds) and elsewhere, own earns,
spending, partner-reward redemptions, refunds, cancellations and expiry; it adds up
over split periods and is the same when run again; on memory and on SQLite."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from math import floor
from pathlib import Path
from typing import Any

import attrs
import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from loyaltykit import (
    Loyalty,
    Money,
    Partner,
    PointType,
    Program,
    Purchase,
    Reward,
    RewardCatalog,
)
from loyaltykit.domain.partners import PartnerSettlement
from loyaltykit.errors import InsufficientPoints, OverReversal, RedemptionClosed
from loyaltykit.storage.base import Storage
from loyaltykit.storage.memory import MemoryStorage

T0 = datetime(2026, 1, 1, tzinfo=UTC)
END = T0 + timedelta(days=400)
PRICE = Money.of("0.03", "CNY")  # exact at two places: split periods add up to the coin
COST = Money.of("7.50", "CNY")
BONUS = 50  # what a purchase at the cinema earns from the campaign the cinema funds
PROGRAM = attrs.evolve(
    Program.from_dict(
        {
            "campaigns": [
                {
                    "id": "cinema-night",
                    "schedule": {"start": "2026-01-01T00:00:00+00:00"},
                    "audience": {"condition": "event.channel == 'cinema'"},
                    "effects": [{"kind": "bonus", "points": BONUS}],
                }
            ],
        }
    ),
    point_types=(PointType(code="points", expire_after=relativedelta(days=20)),),
    qualifying_points="points",
    partners=(Partner(id="cinema", currency="CNY", point_price=PRICE, campaigns=["cinema-night"]),),
    catalog=RewardCatalog.of(
        Reward(id="ticket", kind="ticket", price=100, partner="cinema", cost=COST),
    ),
)
MEMBERS = ("c-1", "c-2")
PORTIONS = (None, Fraction(1, 2), Fraction(1, 3))

member = st.sampled_from(MEMBERS)
steps = st.lists(
    st.tuples(
        st.sampled_from((0, 1, 12, 24, 72, 24 * 10)),  # hours since the last step
        st.one_of(
            st.tuples(st.just("award"), member, st.integers(1, 600)),
            st.tuples(st.just("earn"), member, st.integers(1, 200)),
            st.tuples(st.just("purchase"), member, st.booleans()),
            st.tuples(st.just("refund_purchase"), st.integers(0, 20)),
            st.tuples(st.just("spend"), member, st.integers(1, 300)),
            st.tuples(st.just("redeem"), member, st.integers(1, 2)),
            st.tuples(st.just("refund"), st.integers(0, 20), st.sampled_from(PORTIONS)),
            st.tuples(st.just("cancel"), st.integers(0, 20)),
            st.tuples(st.just("expire")),
        ),
    ),
    min_size=8,
    max_size=40,
)


@pytest.fixture(scope="module", params=["memory", "sqlite"])
def storages(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[], Storage]:
    """Fresh empty storages: the reference backend, then SQLite (one migrated file)."""
    if request.param == "memory":
        return MemoryStorage
    from tests.databases import storage_factory

    path: Path = tmp_path_factory.mktemp("partners") / "loyalty.db"
    return storage_factory(f"sqlite:///{path}")


class Model:
    """What the test itself counts of the partner's movements."""

    def __init__(self) -> None:
        self.awards: list[tuple[str, str, int]] = []  # (member, key, points)
        self.purchases: list[tuple[str, str]] = []  # (member, key) at the cinema
        self.award_entries: set[str] = set()
        self.undone: dict[str, Fraction] = {}
        self.redemptions: list[tuple[str, str, int]] = []  # (member, key, quantity)
        self.cancelled: set[str] = set()

    @property
    def issued(self) -> int:
        return sum(points for _, _, points in self.awards)

    @property
    def reversed(self) -> int:
        return sum(floor(points * self.undone.get(key, 0)) for _, key, points in self.awards)


def run(loyalty: Loyalty, plan: list[tuple[int, Any]]) -> tuple[Model, datetime]:
    model = Model()
    now = T0
    for number, (hours, step) in enumerate(plan):
        now += timedelta(hours=hours)
        key = f"k-{number}"
        match step:
            case ("award", who, points):
                receipt = loyalty.award_partner_points(
                    "cinema", who, points, at=now, idempotency_key=key
                )
                model.awards.append((who, key, points))
                model.award_entries.add(receipt.entries[-1].id)
            case ("earn", who, points):
                loyalty.earn(who, points, at=now, idempotency_key=key)
            case ("purchase", who, at_cinema):
                channel = "cinema" if at_cinema else "web"
                purchase = Purchase(amount=Money.of("100", "CNY"), channel=channel)
                receipt = loyalty.record_purchase(who, purchase, at=now, idempotency_key=key)
                if at_cinema:
                    model.awards.append((who, key, BONUS))
                    model.award_entries.add(receipt.entries[-1].id)
                    model.purchases.append((who, key))
            case ("refund_purchase", index):
                if model.purchases:
                    who, original = model.purchases[index % len(model.purchases)]
                    try:
                        loyalty.refund(who, original, at=now, idempotency_key=key)
                    except OverReversal:
                        continue
                    model.undone[original] = Fraction(1)
            case ("spend", who, points):
                with contextlib.suppress(InsufficientPoints):
                    loyalty.redeem_points(who, points, at=now, idempotency_key=key)
            case ("redeem", who, quantity):
                try:
                    loyalty.redeem(who, "ticket", quantity, at=now, idempotency_key=key)
                    model.redemptions.append((who, key, quantity))
                except InsufficientPoints:
                    pass
            case ("refund", index, portion):
                awards = [a for a in model.awards if (a[0], a[1]) not in model.purchases]
                if awards:
                    who, original, _ = awards[index % len(awards)]
                    try:
                        loyalty.reverse(who, original, at=now, idempotency_key=key, portion=portion)
                    except OverReversal:
                        continue
                    before = model.undone.get(original, Fraction(0))
                    model.undone[original] = 1 if portion is None else before + portion
            case ("cancel", index):
                if model.redemptions:
                    who, original, _ = model.redemptions[index % len(model.redemptions)]
                    try:
                        loyalty.cancel_redemption(who, original, at=now, idempotency_key=key)
                        model.cancelled.add(original)
                    except RedemptionClosed:
                        pass
            case ("expire",):
                loyalty.expire_due(at=now)
    return model, now


def expired_in_lots(loyalty: Loyalty, model: Model) -> int:
    """What the stored lots of the partner's awards say expired."""
    with loyalty.kernel.reading() as uow:
        lots: Iterator[Any] = (lot for who in MEMBERS for lot in uow.ledger.lots(who, "points"))
        return sum(lot.expired for lot in lots if lot.id.rsplit(".", 1)[0] in model.award_entries)


def counts(settlement: PartnerSettlement) -> tuple[int, ...]:
    return (
        settlement.points_issued,
        settlement.points_reversed,
        settlement.points_expired,
        settlement.units_redeemed,
        settlement.units_cancelled,
        settlement.points_redeemed,
        settlement.points_restored,
        settlement.members_acquired,
    )


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(plan=steps, split=st.integers(0, 400 * 24 - 1))
def test_the_settlement_is_the_sum_of_the_partner_s_movements(
    storages: Callable[[], Storage], plan: list[tuple[int, Any]], split: int
) -> None:
    loyalty = Loyalty(PROGRAM, storage=storages())
    for who in MEMBERS:
        loyalty.enroll(who, at=T0, idempotency_key=f"enroll-{who}")
    model, now = run(loyalty, plan)
    loyalty.expire_due(at=now)

    whole = loyalty.partner_settlement("cinema", start=T0, end=END)
    event(f"reversed: {whole.points_reversed > 0}, expired: {whole.points_expired > 0}")
    event(f"cancelled: {whole.units_cancelled > 0}")
    assert whole == loyalty.partner_settlement("cinema", start=T0, end=END)  # rerun
    assert whole.points_issued == model.issued
    assert whole.points_reversed == model.reversed
    assert whole.points_expired == expired_in_lots(loyalty, model)
    assert whole.points_expired <= whole.points_issued
    assert whole.members_acquired == len({who for who, _, _ in model.awards})
    assert whole.owed_by_partner == PRICE * (model.issued - model.reversed)
    units = sum(quantity for _, _, quantity in model.redemptions)
    cancelled = sum(q for _, key, q in model.redemptions if key in model.cancelled)
    assert (whole.units_redeemed, whole.units_cancelled) == (units, cancelled)
    assert (whole.points_redeemed, whole.points_restored) == (100 * units, 100 * cancelled)
    assert whole.owed_to_partner == COST * (units - cancelled)
    assert whole.net == whole.owed_by_partner - whole.owed_to_partner

    # split periods add up to the whole, figure by figure and coin by coin
    middle = T0 + timedelta(hours=split)
    first = loyalty.partner_settlement("cinema", start=T0, end=middle) if split else None
    second = loyalty.partner_settlement("cinema", start=middle, end=END)
    parts = [part for part in (first, second) if part is not None]
    assert tuple(map(sum, zip(*map(counts, parts), strict=True))) == counts(whole)
    assert sum((p.net.amount for p in parts), Decimal(0)) == whole.net.amount
