"""What every area of the facade shares: the programme versions, the storage, the
command kernel (:mod:`loyaltykit.service.kernel`) and the ledger steps the areas reuse.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

import attrs

from loyaltykit.domain import ledger
from loyaltykit.domain.customer import Customer
from loyaltykit.domain.ledger import Account, Command, Entry, Posting
from loyaltykit.domain.records import (
    customer_from_record,
    customer_to_record,
    tier_change_to_record,
    tier_status_from_record,
    tier_status_to_record,
)
from loyaltykit.domain.tiers import TierChange, TierStatus
from loyaltykit.errors import InvalidArgument, UnknownCustomer
from loyaltykit.outcomes import (
    Balance,
    Receipt,
    receipt_from_record,
    receipt_to_record,
)
from loyaltykit.policy.engine import PolicyEngine
from loyaltykit.policy.program import PointType, Program, ProgramVersion, ProgramVersions
from loyaltykit.service.kernel import OUTBOX, Codec, Kernel
from loyaltykit.storage.base import Storage, UnitOfWork
from loyaltykit.storage.memory import MemoryStorage
from loyaltykit.storage.registry import open_storage
from loyaltykit.values import CustomerId, frozen_metadata

__all__ = [
    "ACTIVITY",
    "METRICS",
    "OUTBOX",
    "POINTS",
    "TIER",
    "Pipeline",
    "customer_codec",
    "existing",
    "receipt_codec",
]

TIER = "tier"
METRICS = "metrics"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ACTIVITY = "activity"
POINTS = "points"


def _text(what: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidArgument(f"{what}: {value!r} is not a string")
    return value


def receipt_codec() -> Codec[Receipt]:
    """Receipts stored under their key; a replayed one says so."""
    return Codec(
        receipt_to_record,
        lambda _uow, record: attrs.evolve(receipt_from_record(record), replayed=True),
    )


def customer_codec(customer_id: CustomerId) -> Codec[Customer]:
    """Customers stored under their key; after an erasure, a replay returns the customer
    as they are now (the stored outcome was redacted)."""

    def decode(uow: UnitOfWork, record: Mapping[str, Any]) -> Customer:
        if record.get("redacted"):
            return existing(uow, customer_id)
        return customer_from_record(dict(record))

    return Codec(customer_to_record, decode)


class Pipeline:
    """What every area shares: the programme versions, the storage and the kernel."""

    def __init__(
        self,
        program: Program | ProgramVersions | None = None,
        *,
        storage: Storage | str | None = None,
        retries: int = 5,
        outbox: bool = False,
    ) -> None:
        if program is None:
            program = Program()
        if isinstance(program, Program):
            program = ProgramVersions((ProgramVersion(valid_from=_EPOCH, program=program),))
        if not isinstance(program, ProgramVersions):
            raise InvalidArgument(
                f"program: {program!r} is not a Program or ProgramVersions "
                "(load one with Program.from_toml / from_dict)"
            )
        self.versions: ProgramVersions = program
        self.engine = PolicyEngine()
        self.storage: Storage
        if storage is None:
            self.storage = MemoryStorage()
        elif isinstance(storage, str):
            self.storage = open_storage(storage)
        else:
            self.storage = storage
        self.kernel = Kernel(self.versions, self.storage, retries=retries, outbox=outbox)

    @property
    def outbox(self) -> bool:
        """Whether domain events are recorded in the outbox."""
        return self.kernel.outbox

    def close(self) -> None:
        """Release the storage's connections."""
        self.storage.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # --- batches --------------------------------------------------------------------

    @contextmanager
    def batch(self) -> Iterator[Self]:
        """Run several commands in one transaction: all of them are kept, or none.

        Inside the block every command works as usual (locks, idempotency, typed
        errors); a command that raises is undone alone (a savepoint), so the caller may
        catch its error and go on. The block commits when it ends and rolls everything
        back if an exception leaves it. Locks are held until then: keep batches short.
        Batch jobs (``expire_due``, ``run_due``...) run outside a batch.

        >>> from datetime import datetime, timezone
        >>> loyalty = Loyalty()
        >>> at = datetime(2026, 5, 1, tzinfo=timezone.utc)
        >>> with loyalty.batch():
        ...     _ = loyalty.enroll("c-1", at=at, idempotency_key="e-1")
        ...     _ = loyalty.earn("c-1", 10, at=at, idempotency_key="o-1")
        >>> loyalty.balance("c-1").available
        10
        """
        with self.kernel.batch():
            yield self

    def _unit(self) -> AbstractContextManager[UnitOfWork]:
        """A unit of work: the open batch's (behind a savepoint), or a new one."""
        return self.kernel.unit()

    def _outside_batch(self, job: str) -> None:
        self.kernel.outside_batch(job)

    def _emit(
        self,
        uow: UnitOfWork,
        customer_id: CustomerId,
        kind: str,
        at: datetime,
        key: str | None,
        payload: Mapping[str, Any],
    ) -> None:
        self.kernel.emit(uow, customer_id, kind, at, key, payload)

    @property
    def _retries(self) -> int:
        return self.kernel.retries

    def _stored_customer(self, customer_id: CustomerId) -> Customer:
        """The customer as stored, read in a unit of work of its own."""
        with self._unit() as uow:
            return existing(uow, customer_id)

    @staticmethod
    def _point_type(program: Program, code: object) -> PointType:
        return program.point_type(_text("point_type", code))

    @staticmethod
    def _save(uow: UnitOfWork, posting: Posting, written: list[Entry]) -> Account:
        uow.ledger.add_entries(posting.entries)
        uow.ledger.save_lots(posting.lots)
        uow.ledger.save_account(posting.account)
        written.extend(posting.entries)
        return posting.account

    def _settled(
        self,
        uow: UnitOfWork,
        customer_id: CustomerId,
        point_type: str,
        command: Command,
        written: list[Entry],
    ) -> Account:
        """The account with every lot that fell due by ``command.at`` settled."""
        account = uow.ledger.account(customer_id, point_type) or Account(
            customer_id=customer_id, point_type=point_type
        )
        due = uow.ledger.due_lots(customer_id, point_type, command.at)
        if not due:
            return account
        return self._save(uow, ledger.settle(account, due, command), written)

    def _post(
        self,
        uow: UnitOfWork,
        name: str,
        command: Command,
        customer_id: CustomerId,
        point_type: str,
        post: Callable[[Account], Posting],
    ) -> Receipt:
        """Settle one account, apply ``post`` to it, save, and make the receipt."""
        written: list[Entry] = []
        account = self._settled(uow, customer_id, point_type, command, written)
        account = self._save(uow, post(account), written)
        return self._receipt(name, command, customer_id, written, [account])

    @staticmethod
    def _receipt(
        name: str,
        command: Command,
        customer_id: CustomerId,
        written: list[Entry],
        accounts: Iterable[Account],
    ) -> Receipt:
        assert command.idempotency_key is not None
        return Receipt(
            command=name,
            idempotency_key=command.idempotency_key,
            customer_id=customer_id,
            at=command.at,
            entries=tuple(written),
            balances=tuple(Balance.of(account) for account in accounts),
        )

    @staticmethod
    def _expiry(
        point_type: PointType, at: datetime, expires_at: datetime | None
    ) -> datetime | None:
        """The lot's expiry: the one the caller sent, else the point type's rule (derived
        here, inside the command, so that it never joins the fingerprint)."""
        if expires_at is not None:
            return expires_at
        if point_type.expire_after is None:
            return None
        return at + point_type.expire_after

    @staticmethod
    def _save_tier(
        uow: UnitOfWork, customer_id: CustomerId, status: TierStatus, changes: Iterable[TierChange]
    ) -> None:
        document = uow.state.get(customer_id, TIER) or {"history": []}
        history = list(document.get("history", [])) + [tier_change_to_record(c) for c in changes]
        uow.state.put(
            customer_id,
            TIER,
            {"status": tier_status_to_record(status), "history": history},
            due_at=status.due(),
        )


def _with(metadata: tuple[tuple[str, Any], ...], key: str, value: str) -> Any:
    return frozen_metadata({**dict(metadata), key: value})


def _tier_status(uow: UnitOfWork, customer_id: CustomerId) -> TierStatus | None:
    document = uow.state.get(customer_id, TIER)
    return None if document is None else tier_status_from_record(document["status"])


def existing(uow: UnitOfWork, customer_id: CustomerId) -> Customer:
    """The stored customer; raises :class:`~loyaltykit.errors.UnknownCustomer`."""
    found = uow.customers.get(customer_id)
    if found is None:
        raise UnknownCustomer(customer_id)
    return found
