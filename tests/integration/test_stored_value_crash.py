"""A worker killed inside a stored-value command leaves whole commands, and a rerun of the
same keys applies each once (no double top-up, no double payment)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from loyaltykit import Loyalty, Money
from loyaltykit.testing.stored_value_invariants import stored_value_violations
from tests.databases import emptied, storage_factory
from tests.integration import workers

ROOT = Path(__file__).resolve().parents[2]


def test_a_killed_worker_leaves_whole_stored_value_commands(sqlite_url: str) -> None:
    storage = storage_factory(sqlite_url)()
    emptied(storage.engine)
    with Loyalty(storage=sqlite_url) as loyalty:
        code = loyalty.issue_stored_value(
            "gift_card", Money.of(5, "CNY"), at=workers.T0, idempotency_key="sale"
        ).code
    count, kill_after = 16, 9
    script = [sys.executable, "-m", "tests.integration.stored_value_workers", sqlite_url, code]
    killed = subprocess.run([*script, str(count), str(kill_after)], cwd=ROOT, check=False)
    assert killed.returncode == -9, "the worker should have died by SIGKILL"
    with Loyalty(storage=sqlite_url) as loyalty:
        assert stored_value_violations(loyalty.storage, code) == []
        keys = {e.idempotency_key for e in loyalty.stored_value_entries(code)}
        assert f"card-{kill_after}" not in keys and f"card-{kill_after - 1}" in keys
    subprocess.run([*script, str(count), "none"], cwd=ROOT, check=True)
    with Loyalty(storage=sqlite_url) as loyalty:
        assert stored_value_violations(loyalty.storage, code) == []
        entries = loyalty.stored_value_entries(code)
        applied = [e.idempotency_key for e in entries]
        assert len(applied) == len(set(applied)), "a command was applied twice"
        balance = Money.of(5, "CNY")
        for n in range(count):  # the model: what the batch does once, in order
            if n % 4 != 3:
                balance += Money.of(10, "CNY")
            elif balance >= Money.of(15, "CNY"):
                balance -= Money.of(15, "CNY")
        assert loyalty.stored_value(code).balance == balance
    storage.close()
