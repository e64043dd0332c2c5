"""Real processes on real databases: the last points of a campaign budget go once."""

from __future__ import annotations

import pytest

from loyaltykit import Loyalty
from loyaltykit.testing.races import race_in_processes
from tests.databases import storage_factory
from tests.integration import campaign_workers

WORKERS = 12


@pytest.fixture(params=["sqlite", "postgres", "mariadb"])
def database(request: pytest.FixtureRequest) -> str:
    """An empty, migrated database of each kind, as a URL."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    storage_factory(url)().close()  # migrate, then empty
    return url


def test_processes_never_overspend_a_campaign_budget(database: str) -> None:
    with Loyalty(campaign_workers.program(), storage=database) as loyalty:
        for number in range(WORKERS):
            loyalty.enroll(f"m{number}", at=campaign_workers.T0, idempotency_key=f"e-{number}")
    extras = race_in_processes(campaign_workers.purchase, (database,), WORKERS)
    # 5 members get the full 9, one the last 5, the others nothing: 50 in all
    assert sorted(extras, key=lambda e: (len(e), e)) == ["0"] * 6 + ["5"] + ["9"] * 5, extras
    with Loyalty(campaign_workers.program(), storage=database) as loyalty:
        budget = loyalty.campaign_budget("double")
        assert (budget.spent, budget.left) == (campaign_workers.BUDGET, 0)
        participants = loyalty.participants("double")
        assert sum(p.points for p in participants.values()) == campaign_workers.BUDGET


def test_processes_never_overspend_a_money_off_budget(database: str) -> None:
    program = campaign_workers.money_off_program()
    with Loyalty(program, storage=database) as loyalty:
        for number in range(WORKERS):
            loyalty.enroll(f"m{number}", at=campaign_workers.T0, idempotency_key=f"e-{number}")
    offs = race_in_processes(campaign_workers.checkout, (database,), WORKERS)
    # two baskets get the full 20 off, one the last 10, the others nothing: 50 in all
    assert offs == ["0.00"] * (WORKERS - 3) + ["10.00"] + ["20.00"] * 2, offs
    with Loyalty(program, storage=database) as loyalty:
        view = loyalty.campaign_budget("spend-200")
        assert view.money_left is not None and view.money_left.amount == 0
        assert view.cost is not None and view.cost.amount == campaign_workers.MONEY_BUDGET
