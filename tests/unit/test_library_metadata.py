"""The names loyaltykit writes on ledger entries are its own: a caller's metadata may
not carry them, and every name the library writes is in the reserved set."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta

from loyaltykit import (
    Loyalty,
    Money,
    Partner,
    PointsSale,
    PointType,
    Program,
    Purchase,
)
from loyaltykit.errors import InvalidArgument
from loyaltykit.policy.rules import BaseRate
from loyaltykit.service.commands import LIBRARY_METADATA

T0 = datetime(2026, 3, 1, tzinfo=UTC)
PROGRAM = Program(
    point_types=(PointType(code="points", expire_after=relativedelta(years=1)),),
    rules=(BaseRate(id="base", per=Money.of(1, "CNY")),),
    partners=(Partner(id="cinema", currency="CNY", point_price=Money.of("0.02", "CNY")),),
    points_sale=PointsSale(rate=Money.of("0.1", "CNY")),
)


@pytest.mark.parametrize("name", sorted(LIBRARY_METADATA))
def test_a_reserved_name_in_a_caller_s_metadata_is_refused_and_changes_nothing(
    name: str,
) -> None:
    loyalty = Loyalty(PROGRAM)
    loyalty.enroll("c-1", at=T0, idempotency_key="enroll")
    with pytest.raises(InvalidArgument, match=f"metadata: {name!r} is written by loyaltykit"):
        loyalty.earn("c-1", 10, at=T0, idempotency_key="e", metadata={name: "x"})
    assert loyalty.balance("c-1").available == 0
    assert loyalty.statement("c-1").lines == ()


def test_every_name_the_library_writes_on_an_entry_is_reserved() -> None:
    loyalty = Loyalty(PROGRAM)
    at = T0
    for member in ("c-1", "c-2"):
        loyalty.enroll(member, at=at, idempotency_key=f"enroll-{member}")
    purchase = Purchase(amount=Money.of(Decimal("120"), "CNY"))
    loyalty.record_purchase("c-1", purchase, at=at, idempotency_key="p-1")
    loyalty.refund(
        "c-1",
        "p-1",
        amount=Money.of(Decimal("20"), "CNY"),
        at=at + timedelta(hours=1),
        idempotency_key="r-1",
    )
    loyalty.award_partner_points(
        "cinema", "c-1", 50, at=at + timedelta(hours=1), idempotency_key="a-1"
    )
    loyalty.buy_points("c-1", 100, at=at + timedelta(hours=1), idempotency_key="b-1")
    loyalty.transfer("c-1", "c-2", 30, at=at + timedelta(hours=2), idempotency_key="t-1")
    written = {
        name
        for member in ("c-1", "c-2")
        for line in loyalty.statement(member).lines
        for name, _ in line.entry.metadata
    }
    assert written, "the scenario wrote no metadata: it proves nothing"
    assert written <= LIBRARY_METADATA, sorted(written - LIBRARY_METADATA)
