"""Households: creating one, joining and leaving, pooling points, the head redeeming.

Every command locks the member it names first (the customer row), then the household's
record, always in that order, so household commands never deadlock. Pooling moves
points out of the member's account (a ``transfer_out`` entry naming the household) into
the pool in the same unit of work; a member who leaves under the ``return`` rule gets
what is left of their contribution back (``transfer_in``).
"""

from __future__ import annotations

from datetime import datetime

from loyaltykit.domain import ledger
from loyaltykit.domain.customer import SPENDING_STATUSES
from loyaltykit.domain.households import Household
from loyaltykit.domain.ledger import EntryKind
from loyaltykit.errors import HouseholdRefused, NotFound
from loyaltykit.formats.households import (
    HOUSEHOLD,
    MEMBERSHIP,
    household_from_record,
    household_owner,
    household_to_record,
)
from loyaltykit.service import postings
from loyaltykit.service.codecs import POINTS
from loyaltykit.service.commands import (
    CreateHousehold,
    JoinHousehold,
    LeaveHousehold,
    PoolPoints,
    RedeemHouseholdPoints,
)
from loyaltykit.service.kernel import Codec, Kernel, Work
from loyaltykit.values import CustomerId, Points, identifier

__all__ = ["HouseholdWork"]

_CODEC: Codec[Household] = Codec(
    household_to_record, lambda _uow, record: household_from_record(record)
)


class HouseholdWork:
    """Households: family members pool points into a balance the head may redeem."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel

    def create_household(
        self,
        head: CustomerId,
        household_id: str,
        *,
        at: datetime,
        idempotency_key: str,
        on_leave: str = "return",
        max_members: int = 6,
    ) -> Household:
        """Create a household with ``head`` as its head and first member. ``on_leave``:
        ``"return"`` gives a leaving member back what is left of their contribution,
        ``"keep"`` leaves it in the pool. A member belongs to one household at a time."""
        command = CreateHousehold(
            customer_id=head,
            household_id=household_id,
            on_leave=on_leave,
            max_members=max_members,
            at=at,
            idempotency_key=idempotency_key,
        )
        return self.kernel.execute(command, self._create, _CODEC)

    def _create(self, work: Work) -> Household:
        command = work.command
        assert isinstance(command, CreateHousehold)
        work.customer(command.customer_id)
        self._not_in_another(work, command.customer_id, command.household_id)
        owner = household_owner(command.household_id)
        if work.uow.records.get(owner, HOUSEHOLD, command.household_id, for_update=True):
            raise HouseholdRefused(command.household_id, "the id is taken")
        household = Household(
            id=command.household_id,
            head=command.customer_id,
            created_at=command.at,
            on_leave=command.on_leave,
            max_members=command.max_members,
            members={command.customer_id: command.at},
        )
        self._save(work, household)
        self._belong(work, command.customer_id, command.household_id)
        return household

    def join_household(
        self, customer_id: CustomerId, household_id: str, *, at: datetime, idempotency_key: str
    ) -> Household:
        """The member joins the household (refused when they belong to another one, or
        the household is full or closed). Inviting is the caller's business: call this
        once the head has agreed."""
        command = JoinHousehold(
            customer_id=customer_id,
            household_id=household_id,
            at=at,
            idempotency_key=idempotency_key,
        )
        return self.kernel.execute(command, self._join, _CODEC)

    def _join(self, work: Work) -> Household:
        command = work.command
        assert isinstance(command, JoinHousehold)
        work.customer(command.customer_id)
        self._not_in_another(work, command.customer_id, command.household_id)
        household = self._load(work, command.household_id).joined(command.customer_id, command.at)
        self._save(work, household)
        self._belong(work, command.customer_id, command.household_id)
        return household

    def pool_points(
        self,
        customer_id: CustomerId,
        household_id: str,
        points: Points,
        *,
        at: datetime,
        idempotency_key: str,
    ) -> Household:
        """Move ``points`` from the member's account into the household's pool (taken in
        spending order, soonest-expiring first; pooled points do not expire)."""
        command = PoolPoints(
            customer_id=customer_id,
            household_id=household_id,
            points=points,
            at=at,
            idempotency_key=idempotency_key,
        )
        return self.kernel.execute(command, self._pool, _CODEC)

    def _pool(self, work: Work) -> Household:
        command = work.command
        assert isinstance(command, PoolPoints)
        member = command.customer_id
        work.customer(member).require("pool points", allowed=SPENDING_STATUSES)
        household = self._load(work, command.household_id).contributed(member, command.points)
        code = postings.point_type(work.program, POINTS).code
        context = work.context(household=command.household_id)
        lots = work.uow.ledger.spendable_lots
        postings.post(
            work.uow,
            command.name,
            context,
            member,
            code,
            lambda account: ledger.debit(
                account,
                command.points,
                lots(member, code, command.at),
                context,
                kind=EntryKind.TRANSFER_OUT,
            ),
        )
        self._save(work, household)
        return household

    def redeem_household_points(
        self,
        head: CustomerId,
        household_id: str,
        points: Points,
        *,
        at: datetime,
        idempotency_key: str,
        reason: str = "",
    ) -> Household:
        """The head redeems ``points`` from the pool (taken from every contribution in
        proportion to what is left of it). Only the head may; never more than the pool."""
        command = RedeemHouseholdPoints(
            customer_id=head,
            household_id=household_id,
            points=points,
            reason=reason,
            at=at,
            idempotency_key=idempotency_key,
        )
        return self.kernel.execute(command, self._redeem, _CODEC)

    def _redeem(self, work: Work) -> Household:
        command = work.command
        assert isinstance(command, RedeemHouseholdPoints)
        work.customer(command.customer_id).require("redeem", allowed=SPENDING_STATUSES)
        household, _ = self._load(work, command.household_id).spent(
            command.customer_id, command.points
        )
        self._save(work, household)
        return household

    def leave_household(
        self, customer_id: CustomerId, household_id: str, *, at: datetime, idempotency_key: str
    ) -> Household:
        """The member leaves. Under ``on_leave="return"`` what is left of their
        contribution comes back to their account; under ``"keep"`` it stays in the pool.
        The head leaves last: that closes the household and gives them what is left."""
        command = LeaveHousehold(
            customer_id=customer_id,
            household_id=household_id,
            at=at,
            idempotency_key=idempotency_key,
        )
        return self.kernel.execute(command, self._leave, _CODEC)

    def _leave(self, work: Work) -> Household:
        command = work.command
        assert isinstance(command, LeaveHousehold)
        member = command.customer_id
        work.customer(member)
        household, back = self._load(work, command.household_id).without(member, command.at)
        if back:
            kind = postings.point_type(work.program, POINTS)
            context = work.context(household=command.household_id)
            expiry = postings.expiry(kind, command.at, None)
            postings.post(
                work.uow,
                command.name,
                context,
                member,
                kind.code,
                lambda account: ledger.credit(
                    account, back, context, kind=EntryKind.TRANSFER_IN, expires_at=expiry
                ),
            )
        self._save(work, household)
        membership = work.uow.state.get(member, MEMBERSHIP) or {}
        past = [*membership.get("past", ()), command.household_id]
        work.uow.state.put(member, MEMBERSHIP, {"household": None, "past": past[-20:]})
        return household

    def household(self, household_id: str) -> Household:
        """The household as it stands; raises :class:`~loyaltykit.errors.NotFound`."""
        identifier("household_id", household_id)
        with self.kernel.reading() as uow:
            stored = uow.records.get(household_owner(household_id), HOUSEHOLD, household_id)
        if stored is None:
            raise NotFound(f"no household {household_id!r}")
        return household_from_record(stored.document)

    # --- the shared steps ---------------------------------------------------------------

    @staticmethod
    def _not_in_another(work: Work, member: CustomerId, household_id: str) -> None:
        current = (work.uow.state.get(member, MEMBERSHIP) or {}).get("household")
        if current is not None:
            raise HouseholdRefused(household_id, f"{member!r} belongs to {current!r} already")

    @staticmethod
    def _belong(work: Work, member: CustomerId, household_id: str) -> None:
        membership = work.uow.state.get(member, MEMBERSHIP) or {}
        work.uow.state.put(member, MEMBERSHIP, {**membership, "household": household_id})

    @staticmethod
    def _load(work: Work, household_id: str) -> Household:
        owner = household_owner(household_id)
        stored = work.uow.records.get(owner, HOUSEHOLD, household_id, for_update=True)
        if stored is None:
            raise NotFound(f"no household {household_id!r}")
        return household_from_record(stored.document)

    @staticmethod
    def _save(work: Work, household: Household) -> None:
        work.uow.records.put(
            household_owner(household.id), HOUSEHOLD, household.id, household_to_record(household)
        )
