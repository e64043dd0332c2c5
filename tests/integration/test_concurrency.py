"""Real processes on real databases: one entry per key, no oversold stock, crash safety.

No double spend across processes is a conformance test
(``StorageConformance.test_processes_never_spend_the_same_points_twice``), run by every
backend that declares ``concurrent_processes``.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from loyaltykit import EntryKind, Loyalty
from loyaltykit.testing.invariants import ledger_violations
from tests.databases import emptied, storage_factory
from tests.integration import workers

WORKERS = 16
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", "postgres", "mariadb"])
def database(request: pytest.FixtureRequest) -> str:
    """An empty, migrated database of each kind, as a URL."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    storage_factory(url)().close()  # migrate, then empty
    return url


def _run_all(target: Callable[..., None], url: str) -> list[str]:
    return workers.run_all(target, url, WORKERS)


def test_sixteen_processes_replaying_one_key_make_one_entry(database: str) -> None:
    with Loyalty(storage=database) as loyalty:
        loyalty.enroll("shared", at=workers.T0, idempotency_key="enroll-shared")
    outcomes = _run_all(workers.replay, database)
    assert outcomes == ["first"] + ["replayed"] * 15, outcomes
    with Loyalty(storage=database) as loyalty:
        entries = [line.entry for line in loyalty.statement("shared").lines]
        assert [(e.kind, e.amount) for e in entries] == [(EntryKind.EARN, 7)]


def test_sixteen_processes_never_oversell_a_flash_redemption(database: str) -> None:
    with Loyalty(workers.flash_program(), storage=database) as loyalty:
        for n in range(WORKERS):
            loyalty.enroll(f"m{n}", at=workers.T0, idempotency_key="enroll")
            loyalty.earn(f"m{n}", 100, at=workers.T0, idempotency_key="fund")
    outcomes = _run_all(workers.grab, database)
    assert outcomes == ["ok"] * 3 + ["sold out"] * 13, outcomes
    with Loyalty(workers.flash_program(), storage=database) as loyalty:
        assert loyalty.stock_left("flash", at=workers.T0) == 0
        winners = [f"m{n}" for n in range(WORKERS) if loyalty.redemptions(f"m{n}")]
        assert len(winners) == 3
        for n in range(WORKERS):
            spent = 100 if f"m{n}" in winners else 0
            assert loyalty.balance(f"m{n}").available == 100 - spent
            assert ledger_violations(loyalty.storage, f"m{n}", "points") == []


def _expected_keys(commands: int) -> set[str]:
    """The keys of the batch's first ``commands`` commands that change the ledger."""
    balance, keys = 0, set()
    for n in range(commands):
        if n % 4 != 3:
            balance += 10
        elif balance >= 15:
            balance -= 15
        else:
            continue
        keys.add(f"batch-{n}")
    return keys


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_killed_worker_leaves_whole_commands_and_a_rerun_applies_each_once(
    kind: str, request: pytest.FixtureRequest
) -> None:
    url: str = request.getfixturevalue(f"{kind}_url")
    storage = storage_factory(url)()
    emptied(storage.engine)
    with Loyalty(storage=url) as loyalty:
        loyalty.enroll("crash", at=workers.T0, idempotency_key="enroll-crash")
    count, kill_after = 40, 23
    script = [sys.executable, "-m", "tests.integration.workers", url, str(count)]
    killed = subprocess.run([*script, str(kill_after)], cwd=ROOT, check=False)
    assert killed.returncode == -9, "the worker should have died by SIGKILL"
    with Loyalty(storage=url) as loyalty:
        assert ledger_violations(loyalty.storage, "crash", "points") == []
        applied = {line.entry.idempotency_key for line in loyalty.statement("crash").lines}
        assert applied == _expected_keys(kill_after)
    subprocess.run([*script, "none"], cwd=ROOT, check=True)
    with Loyalty(storage=url) as loyalty:
        assert ledger_violations(loyalty.storage, "crash", "points") == []
        keys = [line.entry.idempotency_key for line in loyalty.statement("crash").lines]
        assert len(keys) == len(set(keys)), "a command was applied twice"
        earned = sum(10 for n in range(count) if n % 4 != 3)
        balance = loyalty.balance("crash")
        assert balance.lifetime_earned == earned
        assert balance.available == earned - balance.lifetime_redeemed
    storage.close()


def test_the_same_enrolment_sent_at_once_is_one_member_and_every_loser_replays(
    database: str,
) -> None:
    outcomes = _run_all(workers.enroll, database)
    assert outcomes == [f"enrolled twin at {workers.T0.isoformat()}"] * WORKERS, outcomes
