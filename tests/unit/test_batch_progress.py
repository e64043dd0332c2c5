"""Batch loops stop with NoProgress, instead of spinning, on a backend that breaks its contract."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from loyaltykit import Loyalty
from loyaltykit.errors import NoProgress
from loyaltykit.storage.base import BatchProgress, BulkChunk
from loyaltykit.storage.memory import MemoryStorage, MemoryUnitOfWork

T0 = datetime(2026, 3, 1, tzinfo=UTC)


class StuckDueAccounts(MemoryStorage):
    """The due-lots bug of issue 15: an account is reported due for ``work`` although
    settling it finds nothing due, so the batch is handed it again and again."""

    def __init__(self, work: str) -> None:
        super().__init__()
        self.work = work

    def unit_of_work(self) -> MemoryUnitOfWork:
        uow = super().unit_of_work()
        honest = uow.ledger.accounts_with_due_lots

        def reported(at: datetime, *, limit: int, work: str) -> list[tuple[str, str]]:
            found = honest(at, limit=limit, work=work)
            return [*found, ("ann", "points")] if work == self.work else found

        uow.ledger.accounts_with_due_lots = reported  # type: ignore[method-assign]
        return uow


class StuckBulkRelease(MemoryStorage):
    """A bulk release whose chunks never move on: ``last`` is the same every time."""

    def release_in_bulk(
        self, at: datetime, *, accounts: int, after: tuple[str, str] | None = None
    ) -> BulkChunk:
        return BulkChunk(accounts=1, entries=0, points=0, last=("ann", "points"))


def _funded(storage: MemoryStorage) -> Loyalty:
    loyalty = Loyalty(storage=storage)
    loyalty.enroll("ann", at=T0, idempotency_key="enroll")
    loyalty.earn("ann", 50, at=T0, idempotency_key="o1", available_from=T0 + timedelta(days=1))
    loyalty.earn("ann", 20, at=T0, idempotency_key="o2", expires_at=T0 + timedelta(days=2))
    return loyalty


@pytest.mark.parametrize(
    ("work", "command"), [("release", "release_pending"), ("expire", "expire_due")]
)
def test_an_account_reported_due_forever_raises_no_progress(work: str, command: str) -> None:
    loyalty = _funded(StuckDueAccounts(work))
    with pytest.raises(NoProgress, match=f"{work} settlement loop") as raised:
        getattr(loyalty, command)(at=T0 + timedelta(days=3))
    assert raised.value.key == ("ann", "points")
    assert raised.value.loop == f"{work} settlement loop"


def test_the_due_work_was_done_before_the_guard_stopped_the_loop() -> None:
    # the account is settled whole the first time it is handed out; handing it out again
    # is what stops the run
    loyalty = _funded(StuckDueAccounts("release"))
    with pytest.raises(NoProgress):
        loyalty.release_pending(at=T0 + timedelta(days=3))
    balance = loyalty.balance("ann")
    assert (balance.available, balance.pending, balance.lifetime_expired) == (50, 0, 20)


def test_a_bulk_chunk_that_does_not_move_on_raises_no_progress() -> None:
    loyalty = _funded(StuckBulkRelease())
    with pytest.raises(NoProgress, match="release_in_bulk loop") as raised:
        loyalty.release_pending(at=T0 + timedelta(days=3))
    assert raised.value.key == ("ann", "points")


def test_work_that_changed_something_may_come_back_a_cursor_may_not() -> None:
    progress = BatchProgress("loop")
    progress.step("a", changed=True)
    progress.step("a", changed=True)
    progress.step("a", changed=False)
    progress.step("b", changed=False)
    with pytest.raises(NoProgress, match="handed it 'b' again"):
        progress.step("b", changed=True)
