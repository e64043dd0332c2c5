"""A complaint round trip on each SQL database: records, counters and the ledger
together, surviving a new facade on the same database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from loyaltykit import EntryKind, Loyalty, Program
from loyaltykit.domain.calendar import BusinessCalendar
from loyaltykit.domain.complaints import (
    ComplaintPolicy,
    ComplaintState,
    GoodwillBudget,
    SlaPolicy,
    Target,
)
from loyaltykit.errors import GoodwillBudgetExceeded
from tests.databases import storage_factory

T0 = datetime(2026, 5, 4, 9, tzinfo=UTC)
H = timedelta(hours=1)
PROGRAM = Program(
    complaints=ComplaintPolicy(
        calendars={"hotline": BusinessCalendar.twenty_four_seven()},
        sla=(
            SlaPolicy(
                id="s",
                acknowledge=Target(within=2 * H, calendar="hotline"),
                first_response=Target(within=9 * H),
                resolution=Target(within=45 * H),
            ),
        ),
        goodwill=GoodwillBudget(points=300),
    )
)


@pytest.fixture(params=["sqlite", "postgres", "mariadb"])
def database(request: pytest.FixtureRequest) -> str:
    """An empty, migrated database of each kind, as a URL."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    storage_factory(url)().close()  # migrate, then empty
    return url


def test_a_complaint_round_trip_on_sql(database: str) -> None:
    url = database
    loyalty = Loyalty(PROGRAM, storage=url)
    loyalty.enroll("ann", at=T0, idempotency_key="e")
    for cid in ("C-1", "C-2"):
        loyalty.file_complaint(
            cid,
            channel="hotline",
            category="queue",
            content="slow",
            at=T0,
            idempotency_key=f"f-{cid}",
            actor="op",
            customer_id="ann",
        )
    alerts = loyalty.run_due(at=T0 + 3 * H).complaints
    assert alerts is not None
    assert sorted(alerts.escalated) == ["C-1", "C-2"]
    for cid in ("C-1", "C-2"):
        loyalty.resume_complaint(cid, at=T0 + 3 * H, idempotency_key=f"r-{cid}", actor="sup")
        loyalty.acknowledge_complaint(cid, at=T0 + 3 * H, idempotency_key=f"a-{cid}", actor="op")
        loyalty.assess_complaint(
            cid,
            severity="minor",
            priority="normal",
            at=T0 + 3 * H,
            idempotency_key=f"s-{cid}",
            actor="op",
        )
        loyalty.investigate_complaint(cid, at=T0 + 4 * H, idempotency_key=f"i-{cid}", actor="bd")
        loyalty.propose_resolution(
            cid,
            resolution="points",
            goodwill_points=200,
            at=T0 + 4 * H,
            idempotency_key=f"p-{cid}",
            actor="bd",
        )
    loyalty.respond_to_complaint("C-1", at=T0 + 5 * H, idempotency_key="x-1", actor="op")
    with pytest.raises(GoodwillBudgetExceeded):
        loyalty.respond_to_complaint("C-2", at=T0 + 5 * H, idempotency_key="x-2", actor="op")
    loyalty.close()

    reopened = Loyalty(PROGRAM, storage=url)
    assert reopened.balance("ann").available == 200
    first = reopened.complaint("C-1")
    assert first.state is ComplaintState.RESPONDED
    statement = reopened.statement("ann").lines
    assert [line.entry.kind for line in statement] == [EntryKind.ADJUST]
    assert statement[0].entry.id == first.goodwill_entry
    assert reopened.complaint("C-2").state is ComplaintState.RESOLUTION_PROPOSED
    assert [c.id for c in reopened.complaints_of("ann")] == ["C-1", "C-2"]
    replay = reopened.respond_to_complaint("C-1", at=T0 + 5 * H, idempotency_key="x-1", actor="op")
    assert replay == first
    assert reopened.balance("ann").available == 200
    reopened.close()
