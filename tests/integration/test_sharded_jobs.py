"""Batch jobs split by shard: four workers at once on PostgreSQL cover every account
exactly once, including after one is killed inside a chunk's transaction and restarted.

Each worker runs at its own instant (``T + k`` seconds): an entry's ``recorded_at`` says
which worker wrote it, so an account settled by the wrong worker, or twice, shows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from loyaltykit import EntryKind, Loyalty, Shard
from loyaltykit.testing.invariants import ledger_violations
from tests.databases import storage_factory
from tests.integration.workers import T0

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 4
CUSTOMERS = [f"m{n:03d}" for n in range(48)]
T = T0 + timedelta(days=2)


def _seed(url: str) -> None:
    storage_factory(url)().close()  # migrated, emptied
    with Loyalty(storage=url) as loyalty:
        for n, customer in enumerate(CUSTOMERS):
            loyalty.enroll(customer, at=T0, idempotency_key="enroll")
            due = T0 + timedelta(days=1)
            if n % 2 == 0 or n % 5 == 0:  # expiry alone, or both (settled one by one)
                loyalty.earn(customer, 10, at=T0, idempotency_key="x", expires_at=due)
            if n % 2 == 1 or n % 5 == 0:
                loyalty.earn(customer, 5, at=T0, idempotency_key="p", available_from=due)


def _cli(url: str, k: int) -> subprocess.Popen[bytes]:
    at = (T + timedelta(seconds=k)).isoformat()
    command = [sys.executable, "-m", "loyaltykit", "run-due", "--db", url, "--at", at]
    return subprocess.Popen(
        [*command, "--shard", f"{k}/{WORKERS}", "--batch-size", "3"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_four_workers_settle_each_account_once_even_after_a_kill(
    postgres_url: str, tmp_path: Path
) -> None:
    _seed(postgres_url)
    stalled_shard = 2
    marker = tmp_path / "stalled"
    at = (T + timedelta(seconds=stalled_shard)).isoformat()
    stalled = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.integration.shard_workers",
            postgres_url,
            str(stalled_shard),
            str(WORKERS),
            at,
            str(marker),
        ],
        cwd=ROOT,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(600):
            if marker.exists() or stalled.poll() is not None:
                break
            time.sleep(0.1)
        assert marker.exists(), stalled.communicate()[1].decode()
        others = [_cli(postgres_url, k) for k in range(WORKERS) if k != stalled_shard]
        for worker in others:  # they never wait on the stalled worker's locks
            _, error = worker.communicate(timeout=120)
            assert worker.returncode == 0, error.decode()
    finally:
        os.kill(stalled.pid, signal.SIGKILL)
        stalled.communicate()
    again = _cli(postgres_url, stalled_shard)
    _, error = again.communicate(timeout=120)
    assert again.returncode == 0, error.decode()

    shards = [Shard(k, WORKERS) for k in range(WORKERS)]
    assert {k for k in range(WORKERS) for c in CUSTOMERS if shards[k].holds(c)} == set(
        range(WORKERS)
    )  # every worker had customers
    with Loyalty(storage=postgres_url) as loyalty:
        for n, customer in enumerate(CUSTOMERS):
            (k,) = [k for k in range(WORKERS) if shards[k].holds(customer)]
            settled = [
                line.entry
                for line in loyalty.statement(customer).lines
                if line.entry.kind in (EntryKind.EXPIRE, EntryKind.RELEASE)
            ]
            expected = (n % 2 == 0 or n % 5 == 0) + (n % 2 == 1 or n % 5 == 0)
            assert len(settled) == expected, (customer, settled)
            # written by its own shard's worker: recorded at that worker's instant
            assert {e.recorded_at for e in settled} == {T + timedelta(seconds=k)}, customer
            assert ledger_violations(loyalty.storage, customer, "points") == []
            balance = loyalty.balance(customer)
            assert (balance.available, balance.pending) == (5 if n % 2 == 1 or n % 5 == 0 else 0, 0)
