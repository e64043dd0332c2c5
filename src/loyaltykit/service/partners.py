"""Coalition partners: points they award, their settlement, their goals.

:meth:`PartnerWork.award_partner_points` credits points a partner funds as a new lot; the
entry carries the partner and the price of a point in force (``event`` is
:data:`~loyaltykit.domain.partners.PARTNER_AWARD`), and the member is listed under the
partner (one ``partner_member`` record, written under the member's lock), so the
settlement reads only the ledgers of the partner's members. Refunds are the ledger's
ordinary :meth:`~loyaltykit.Loyalty.reverse`; redemptions of a partner's rewards are the
catalogue's ordinary commands (the redemption carries its partner and cost).

The queries read one consistent snapshot (:meth:`Kernel.reading`) and compute everything
from the ledger and the redemptions, so running one again gives the same answer, and a
closed period's answer never changes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from loyaltykit.domain import ledger
from loyaltykit.domain.customer import EARNING_STATUSES
from loyaltykit.domain.partners import (
    GoalEvaluation,
    GoalProgress,
    Partner,
    PartnerSettlement,
    award_metadata,
    checked_partner_id,
    settle,
)
from loyaltykit.domain.redemption_records import redemption_from_record
from loyaltykit.domain.redemptions import Redemption
from loyaltykit.errors import InvalidArgument, UnknownGoal, UnknownPartner
from loyaltykit.outcomes import Receipt
from loyaltykit.service import postings
from loyaltykit.service.campaigns import PARTICIPANT, campaign_owner
from loyaltykit.service.codecs import receipt_codec
from loyaltykit.service.commands import AwardPartnerPoints
from loyaltykit.service.kernel import Kernel, Work
from loyaltykit.storage.base import UnitOfWork
from loyaltykit.values import CustomerId, Money, Points, aware, identifier

__all__ = ["PARTNER_MEMBER", "PartnerWork", "partner_owner"]

PARTNER_MEMBER = "partner_member"
"""The record kind listing a member under a partner (``partner:<id>``), by member id."""
_REDEMPTION = "redemption"  # the catalogue's record kind (service.rewards.REDEMPTION)
_PAGE = 500


def partner_owner(partner_id: str) -> str:
    """The records partition of a partner."""
    return f"partner:{partner_id}"


class PartnerWork:
    """Points awarded by coalition partners, their settlement and their goals."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel

    # --- the command ---------------------------------------------------------------

    def award_partner_points(
        self,
        partner_id: str,
        customer_id: CustomerId,
        points: Points,
        *,
        at: datetime,
        idempotency_key: str,
        expires_at: datetime | None = None,
        reason: str = "",
        actor: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Receipt:
        """Credit ``points`` the partner ``partner_id`` funds (a purchase at the partner, a
        campaign it pays for) as a new lot of the partner's point type. The partner owes
        the programme its ``point_price`` for each point, at the price in force at ``at``;
        a :meth:`~loyaltykit.Loyalty.reverse` of ``idempotency_key`` takes points and
        money back. Refused with :class:`~loyaltykit.errors.UnknownPartner` when the
        programme in force declares no such partner, and with
        :class:`~loyaltykit.errors.InvalidArgument` when its agreement has no
        ``point_price`` (it awards no points)."""
        command = AwardPartnerPoints(
            partner_id=partner_id,
            customer_id=customer_id,
            points=points,
            at=at,
            idempotency_key=idempotency_key,
            expires_at=expires_at,
            reason=reason,
            actor=actor,
            metadata=metadata,
        )
        return self.kernel.execute(command, self._award, receipt_codec())

    def _award(self, work: Work) -> Receipt:
        command = work.command
        assert isinstance(command, AwardPartnerPoints)
        partner = work.program.partner(command.partner_id)
        if partner.point_price is None:
            raise InvalidArgument(
                f"award_partner_points: partner {partner.id!r} awards no points "
                "(its agreement has no point_price)"
            )
        work.customer(command.customer_id).require(command.name, allowed=EARNING_STATUSES)
        kind = postings.point_type(work.program, partner.point_type)
        expiry = postings.expiry(kind, command.at, command.expires_at)
        context = work.context(**award_metadata(partner))
        receipt = postings.post(
            work.uow,
            command.name,
            context,
            command.customer_id,
            kind.code,
            lambda account: ledger.credit(account, command.points, context, expires_at=expiry),
        )
        owner = partner_owner(partner.id)
        if work.uow.records.get(owner, PARTNER_MEMBER, command.customer_id) is None:
            work.uow.records.put(
                owner, PARTNER_MEMBER, command.customer_id, {"first_at": command.at.isoformat()}
            )
        return receipt

    # --- the queries ---------------------------------------------------------------

    def partner_settlement(
        self, partner_id: str, *, start: datetime, end: datetime
    ) -> PartnerSettlement:
        """What ``partner_id`` and the programme owe each other for ``[start, end)``: the
        points it awarded, reversed and saw expire, its rewards redeemed and cancelled,
        the money owed each way and the net (see
        :class:`~loyaltykit.PartnerSettlement`). Computed from the ledger and the
        redemptions each time; a movement counts in the period it took effect in."""
        start, end = aware("start", start), aware("end", end)
        partner = self._declared(partner_id, end)
        with self.kernel.reading() as uow:
            return self._settle(uow, partner, start, end)

    def partner_progress(self, partner_id: str, *, at: datetime) -> tuple[GoalProgress, ...]:
        """Every goal of ``partner_id`` (in the programme in force at ``at``) whose period
        has begun by ``at``, with what the partner achieved from its start until ``at``
        (or until its end, once over)."""
        at = aware("at", at)
        partner = self._declared(partner_id, at)
        begun = [goal for goal in partner.goals if goal.start <= at]
        with self.kernel.reading() as uow:
            found = []
            for goal in begun:
                until = max(min(at, goal.end), goal.start)
                achieved = (
                    0
                    if until == goal.start
                    else self._settle(uow, partner, goal.start, until).figure(goal.metric)
                )
                found.append(
                    GoalProgress(partner_id=partner.id, goal=goal, at=at, achieved=achieved)
                )
        return tuple(found)

    def partner_evaluation(self, partner_id: str, goal_id: str, *, at: datetime) -> GoalEvaluation:
        """The verdict on goal ``goal_id`` of ``partner_id`` once its period is over (at
        ``at``, on or after its end): met or missed, with the figures of the period.
        Refused with :class:`~loyaltykit.errors.InvalidArgument` before the period ends."""
        at = aware("at", at)
        goal_id = identifier("goal_id", goal_id)
        partner = self._declared(partner_id, at)
        goal = partner.goal(goal_id)
        if goal is None:
            raise UnknownGoal(partner.id, goal_id, tuple(g.id for g in partner.goals))
        if at < goal.end:
            raise InvalidArgument(
                f"at: goal {goal.id!r} of partner {partner.id!r} runs until "
                f"{goal.end.isoformat()}; it is evaluated once its period is over"
            )
        with self.kernel.reading() as uow:
            settlement = self._settle(uow, partner, goal.start, goal.end)
        return GoalEvaluation(
            partner_id=partner.id,
            goal=goal,
            achieved=settlement.figure(goal.metric),
            settlement=settlement,
        )

    # --- reading ---------------------------------------------------------------------

    def _declared(self, partner_id: str, at: datetime) -> Partner:
        """The partner as the programme in force at ``at`` declares it, else as the latest
        version that declared it (a partner who left the coalition is still settled)."""
        partner_id = checked_partner_id(partner_id)
        versions = self.kernel.versions
        current = versions.at(at)
        if any(partner.id == partner_id for partner in current.partners):
            return current.partner(partner_id)
        for version in reversed(versions.versions):
            if any(partner.id == partner_id for partner in version.program.partners):
                return version.program.partner(partner_id)
        raise UnknownPartner(partner_id, tuple(p.id for p in current.partners))

    def _settle(
        self, uow: UnitOfWork, partner: Partner, start: datetime, end: datetime
    ) -> PartnerSettlement:
        members = {
            stored.id for stored in uow.records.of_owner(partner_owner(partner.id), PARTNER_MEMBER)
        }
        for campaign in partner.campaigns:  # who took part in the campaigns it funds
            members.update(
                stored.id for stored in uow.records.of_owner(campaign_owner(campaign), PARTICIPANT)
            )
        ledgers = (uow.ledger.entries(member, partner.point_type) for member in sorted(members))
        return settle(
            partner,
            start,
            end,
            ledgers,
            _redemptions(uow, partner.id),
            price_at=lambda at: self._price_at(partner, at),
        )

    def _price_at(self, partner: Partner, at: datetime) -> Money:
        """The price of the partner's point in the programme in force at ``at`` (for the
        points of the campaigns it funds), else in the declaration being settled."""
        for declared in self.kernel.versions.at(at).partners:
            if declared.id == partner.id and declared.point_price is not None:
                return declared.point_price
        return partner.point_price or Money.zero(partner.currency)


def _redemptions(uow: UnitOfWork, partner_id: str) -> Iterator[Redemption]:
    """The redemptions of the partner's rewards, read a page at a time (the catalogue
    keeps them per member)."""
    after: tuple[str, str] | None = None
    while True:
        page = uow.records.scan(_REDEMPTION, after=after, limit=_PAGE)
        for stored in page:
            if stored.document.get("partner") == partner_id:
                yield redemption_from_record(stored.document)
        if len(page) < _PAGE:
            return
        after = (page[-1].owner, page[-1].id)
