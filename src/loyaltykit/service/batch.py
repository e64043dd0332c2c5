"""Periodic work: pending release, expiry, tier re-qualification."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import attrs

from loyaltykit.domain import ledger
from loyaltykit.domain.ledger import Command, Entry, EntryKind
from loyaltykit.domain.records import entry_to_record
from loyaltykit.domain.shards import Shard
from loyaltykit.errors import ConcurrencyConflict, LoyaltyError
from loyaltykit.outcomes import (
    DueReport,
    JobFailure,
    SettlementReport,
)
from loyaltykit.service import postings
from loyaltykit.service.care import CareWork
from loyaltykit.service.complaints import ComplaintCommands
from loyaltykit.service.kernel import Aftermath, Kernel, job_failure
from loyaltykit.service.rewards import RewardCommands
from loyaltykit.service.shards import shard_arguments
from loyaltykit.service.tiers import TierCommands
from loyaltykit.storage.base import BatchProgress, BulkChunk, BulkExpiry, BulkRelease
from loyaltykit.values import (
    CustomerId,
    aware,
    count,
)

__all__ = ["BatchWork"]


class BatchWork:
    """Periodic work: pending release, expiry, tier re-qualification, care, complaint SLA
    clocks, unclaimed redemptions."""

    def __init__(
        self,
        kernel: Kernel,
        *,
        tiers: TierCommands,
        care: CareWork,
        complaints: ComplaintCommands,
        rewards: RewardCommands,
    ) -> None:
        self.kernel = kernel
        self.tiers = tiers
        self.care = care
        self.complaints = complaints
        self.rewards = rewards

    # --- batch work -----------------------------------------------------------------

    def run_due(
        self, *, at: datetime, batch_size: int = 500, shard: Shard | None = None
    ) -> DueReport:
        """The periodic work, in order: release pending points, expire due lots,
        re-qualify tiers, record the care actions that fell due (``report.care``), check
        complaint SLA clocks (``report.complaints``), then cancel the redemptions not
        claimed in time (``report.unclaimed``).

        Safe to run as often as you like and to re-run after a crash: each step only does
        what is still due at ``at``.

        ``shard``: this worker's share of the customers (``Shard(k, n)``; n workers given
        the n shards cover every customer once). Release, expiry and tier
        re-qualification take only the shard's customers; care, the SLA clocks and
        unclaimed redemptions run in shard 0 alone (whole, as without a shard).
        """
        when = aware("at", at)
        shard_arguments(self.kernel, shard)
        released = self.release_pending(at=when, batch_size=batch_size, shard=shard)
        expired = self.expire_due(at=when, batch_size=batch_size, shard=shard)
        changes = self.tiers.requalify_tiers(at=when, batch_size=batch_size, shard=shard)
        if shard is not None and shard.index != 0:
            return DueReport(
                at=when,
                released=released,
                expired=expired,
                tier_changes=changes,
                failures=released.failures + expired.failures,
            )
        care = self.care.run_care(at=when, batch_size=batch_size)
        complaints = self.complaints.escalate_overdue_complaints(at=when, batch_size=batch_size)
        unclaimed, failures = self.rewards._release_unclaimed(when, batch_size)
        return DueReport(
            at=when,
            released=released,
            expired=expired,
            tier_changes=changes,
            care=care,
            complaints=complaints,
            unclaimed=unclaimed,
            failures=failures + released.failures + expired.failures,
        )

    def expire_due(
        self, *, at: datetime, batch_size: int = 500, shard: Shard | None = None
    ) -> SettlementReport:
        """Expire what is left of every lot whose expiry is at or before ``at``.

        Runs one short transaction per account, so it can be interrupted and run again:
        a lot is expired once, whatever happens (积分清理). An account is settled whole:
        pending points whose release fell before an expiry are released first.
        ``shard``: only the accounts of the shard's customers (see :meth:`run_due`).
        """
        self.kernel.outside_batch("expire_due")
        when = aware("at", at)
        count("batch_size", batch_size)
        shard_arguments(self.kernel, shard)
        bulk = (
            self.kernel.storage.expire_in_bulk
            if isinstance(self.kernel.storage, BulkExpiry)
            else None
        )
        done = self._in_bulk(bulk, when, batch_size, shard)
        rest = self._settle_all(when, "expire", batch_size, shard)
        return attrs.evolve(
            rest,
            accounts=rest.accounts + done[0],
            entries=rest.entries + done[1],
            expired=rest.expired + done[2],
        )

    def release_pending(
        self, *, at: datetime, batch_size: int = 500, shard: Shard | None = None
    ) -> SettlementReport:
        """Make available every pending lot whose ``available_from`` is at or before ``at``
        (settling the account whole, like :meth:`expire_due`; ``shard`` as there)."""
        self.kernel.outside_batch("release_pending")
        when = aware("at", at)
        count("batch_size", batch_size)
        shard_arguments(self.kernel, shard)
        bulk = (
            self.kernel.storage.release_in_bulk
            if isinstance(self.kernel.storage, BulkRelease)
            else None
        )
        done = self._in_bulk(bulk, when, batch_size, shard)
        rest = self._settle_all(when, "release", batch_size, shard)
        return attrs.evolve(
            rest,
            accounts=rest.accounts + done[0],
            entries=rest.entries + done[1],
            released=rest.released + done[2],
        )

    def _in_bulk(
        self,
        work: Callable[..., BulkChunk] | None,
        at: datetime,
        batch_size: int,
        shard: Shard | None = None,
    ) -> tuple[int, int, int]:
        """Set-based chunks while the backend finds eligible accounts: ``(accounts,
        entries, points)``. They write no domain events and give no notices: with the
        outbox on, or notices that follow balances, the accounts are settled one by one."""
        accounts = entries = points = 0
        if work is None or self.kernel.outbox or self.kernel.watches(self.kernel.versions.at(at)):
            return 0, 0, 0
        after = None
        progress = BatchProgress(f"{work.__name__} loop")
        while True:
            chunk = work(
                at, accounts=batch_size, after=after, **shard_arguments(self.kernel, shard)
            )
            if chunk.last is None:
                return accounts, entries, points
            progress.step(chunk.last, changed=False)  # a chunk that does not move on
            accounts, entries = accounts + chunk.accounts, entries + chunk.entries
            points, after = points + chunk.points, chunk.last

    def _settle_all(
        self, at: datetime, work: str, batch_size: int, shard: Shard | None = None
    ) -> SettlementReport:
        self.kernel.outside_batch(f"{work} batch")
        count("batch_size", batch_size)
        accounts = entries = expired = released = 0
        failures: dict[tuple[CustomerId, str], JobFailure] = {}
        progress = BatchProgress(f"{work} settlement loop")
        while True:
            with self.kernel.reading() as uow:
                due = uow.ledger.accounts_with_due_lots(
                    at, limit=batch_size, work=work, **shard_arguments(self.kernel, shard)
                )
            todo = [account for account in due if account not in failures]
            if not todo:
                break
            for customer_id, point_type in todo:
                try:
                    posting = self._settle_one(customer_id, point_type, at, work)
                except LoyaltyError as error:  # one bad account never stops the job
                    failures[(customer_id, point_type)] = job_failure(
                        f"{work}_due", customer_id, point_type, error
                    )
                    continue
                progress.step((customer_id, point_type), changed=bool(posting))
                accounts += 1
                entries += len(posting)
                for entry in posting:
                    if entry.kind is EntryKind.EXPIRE:
                        expired -= entry.amount + entry.pending_delta
                    else:
                        released += entry.amount
        return SettlementReport(
            at=at,
            accounts=accounts,
            entries=entries,
            expired=expired,
            released=released,
            failures=tuple(failures.values()),
        )

    def _settle_one(
        self, customer_id: CustomerId, point_type: str, at: datetime, work: str
    ) -> tuple[Entry, ...]:
        for attempt in range(self.kernel.retries + 1):
            try:
                with self.kernel.unit() as uow:
                    uow.customers.get(customer_id, for_update=True)
                    account = uow.ledger.account(customer_id, point_type)
                    due = uow.ledger.due_lots(customer_id, point_type, at)
                    if account is None or not due:
                        return ()
                    command = Command(at=at, idempotency_key=None)
                    # the account is settled whole, in time order: a release due before an
                    # expiry must come first, whichever batch found the account
                    posting = ledger.settle(account, due, command)
                    postings.save(uow, posting, [])
                    if posting.entries:
                        payload = {
                            "point_type": point_type,
                            "entries": [entry_to_record(e) for e in posting.entries],
                        }
                        self.kernel.emit(uow, customer_id, "settle", at, None, payload)
                        program = self.kernel.versions.at(at)
                        if self.kernel.watches(program):
                            aftermath = Aftermath(
                                command="settle",
                                at=at,
                                idempotency_key=None,
                                customers=(customer_id,),
                                entries=posting.entries,
                            )
                            self.kernel.follow(uow, program, aftermath)
                    uow.commit()
                    return posting.entries
            except ConcurrencyConflict:
                if attempt == self.kernel.retries:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover
