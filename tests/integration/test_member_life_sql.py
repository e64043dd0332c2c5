"""Member life on the server databases (issue 17): notices and consent, velocity flags
and a suspension, a four-eyes adjustment, a household and the subject-access export,
all on the generic stores every backend has (memory and SQLite run the unit tests)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from loyaltykit import (
    Approvals,
    CustomerStatus,
    Loyalty,
    Milestones,
    NoticeRules,
    NoticeStatus,
    Program,
    Velocity,
    VelocityRule,
)
from loyaltykit.errors import VelocityExceeded
from loyaltykit.testing import RecordingSender
from tests.databases import storage_factory

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)
PROGRAM = Program(
    notices=NoticeRules(milestones=Milestones(thresholds=[1000, 5000], notify="each")),
    velocity=Velocity(
        rules=[VelocityRule(id="redeems", commands="redeem", per="hour", at_most=2,
                            action="suspend")]
    ),
    approvals=Approvals(adjust_above=1000),
)  # fmt: skip


@pytest.fixture(params=["postgres", "mariadb"])
def database(request: pytest.FixtureRequest) -> str:
    """An empty, migrated database of each server kind, as a URL."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    storage_factory(url)().close()  # migrate, then empty
    return url


def test_member_life_on_a_server_database(database: str) -> None:
    with Loyalty(PROGRAM, storage=database, outbox=True) as loyalty:
        _member_life(loyalty)


def _member_life(loyalty: Loyalty) -> None:
    for member in ("mum", "dad"):
        loyalty.enroll(member, at=T0, idempotency_key=f"e-{member}")
    loyalty.opt_in("mum", "push", at=T0, idempotency_key="c-1")
    loyalty.earn("mum", 6000, at=T0, idempotency_key="o-1")  # 1000 and 5000 at once
    loyalty.earn("dad", 1500, at=T0, idempotency_key="o-1")
    report = loyalty.deliver_notices(RecordingSender(), at=T0)
    assert (report.delivered, report.withheld) == (2, 1)
    assert loyalty.notices("dad", status=NoticeStatus.WITHHELD)[0].reason == ("no consent for push")

    for n in range(2):
        loyalty.redeem_points("mum", 10, at=T0, idempotency_key=f"r-{n}")
    with pytest.raises(VelocityExceeded):
        loyalty.redeem_points("mum", 10, at=T0 + timedelta(minutes=1), idempotency_key="r-2")
    assert loyalty.customer("mum").status is CustomerStatus.SUSPENDED
    assert [f.count for f in loyalty.flags("mum")] == [3]
    loyalty.reactivate("mum", at=T0, idempotency_key="back")

    loyalty.request_adjustment(
        "dad", "q-1", 2000, at=T0, idempotency_key="q-1", reason="lost card", actor="li"
    )
    loyalty.approve_adjustment("dad", "q-1", at=T0, idempotency_key="ok-1", actor="wang")
    assert loyalty.balance("dad").available == 3500

    loyalty.create_household("mum", "wang", at=T0, idempotency_key="h-1")
    loyalty.join_household("dad", "wang", at=T0, idempotency_key="j-1")
    loyalty.pool_points("dad", "wang", 1000, at=T0, idempotency_key="p-1")
    loyalty.pool_points("mum", "wang", 3000, at=T0, idempotency_key="p-1")
    household = loyalty.redeem_household_points("mum", "wang", 2000, at=T0, idempotency_key="x")
    assert household.left == {"dad": 500, "mum": 1500}
    loyalty.leave_household("dad", "wang", at=T0, idempotency_key="l-1")
    assert loyalty.balance("dad").available == 3000

    document = loyalty.export_member("dad", at=T0)
    text = json.dumps(document)
    assert '["approved_by", "wang"]' in text
    assert [r["id"] for r in document["records"]["household"]] == ["wang"]
    assert [r["record"]["state"] for r in document["records"]["adjustment_request"]] == ["approved"]


def test_a_velocity_limit_holds_under_concurrent_transfers(database: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    rule = VelocityRule(id="transfers", commands="transfer", per="hour", at_most=5)
    with Loyalty(Program(velocity=Velocity(rules=[rule])), storage=database) as loyalty:
        for member in ("ann", "bob"):
            loyalty.enroll(member, at=T0, idempotency_key=f"e-{member}")
        loyalty.earn("ann", 100_000, at=T0, idempotency_key="stock")

        def send(n: int) -> bool:
            try:
                loyalty.transfer("ann", "bob", 1000, at=T0, idempotency_key=f"t-{n}")
            except VelocityExceeded:
                return False
            return True

        with ThreadPoolExecutor(max_workers=6) as pool:
            accepted = sum(pool.map(send, range(24)))
        assert accepted == 5
        assert loyalty.balance("bob").available == 5000
        assert len(loyalty.flags("ann")) == 19
