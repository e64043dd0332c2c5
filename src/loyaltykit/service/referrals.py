"""Referral programmes in the service: links checked at enrolment, the leaderboard.

The ``referral`` rule rewards a referrer on the referred member's first qualifying
purchase (capped per referrer if the rule says so); each qualified referral is recorded
under the referrer (kind ``referral``, id the referred member) for
:meth:`ReferralWork.referral_leaderboard`.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from loyaltykit.domain.customer import Customer
from loyaltykit.domain.records import instant_from_text
from loyaltykit.domain.referrals import LeaderboardLine, referral_refusal
from loyaltykit.errors import InvalidArgument, ReferralRefused, UnknownCustomer
from loyaltykit.service.codecs import customer_codec, existing
from loyaltykit.service.commands import LinkReferrer
from loyaltykit.service.kernel import Kernel, Work
from loyaltykit.service.members import load_member
from loyaltykit.storage.base import UnitOfWork
from loyaltykit.values import CustomerId, aware, count, identifier

__all__ = ["REFERRAL", "ReferralWork", "check_referral"]

REFERRAL = "referral"
_LONGEST_CHAIN = 10_000  # a guard: stored links can never loop, but data can be imported


def check_referral(uow: UnitOfWork, customer: Customer, referrer_id: CustomerId) -> None:
    """Raise :class:`ReferralRefused` if ``referrer_id`` may not refer ``customer``
    (self-referral, a cycle) and :class:`UnknownCustomer` if the referrer is unknown."""
    referrer = uow.customers.get(referrer_id)
    if referrer is None:
        raise UnknownCustomer(referrer_id)
    upline: list[CustomerId] = []
    above = referrer.referred_by
    while above is not None and above not in upline and len(upline) < _LONGEST_CHAIN:
        upline.append(above)
        found = uow.customers.get(above)
        above = None if found is None else found.referred_by
    refusal = referral_refusal(customer, referrer, upline)
    if refusal is not None:
        reason, detail = refusal
        raise ReferralRefused(customer.id, referrer_id, reason, detail)


class ReferralWork:
    """Referral links made after enrolment, and the leaderboard."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel

    def link_referrer(
        self, customer_id: CustomerId, referrer: CustomerId, *, at: datetime, idempotency_key: str
    ) -> Customer:
        """Record who referred a member who enrolled without saying so (a referral code
        entered later). Refused with :class:`ReferralRefused` when the member already
        has a referrer or has already bought (the reward is for the first purchase),
        for the same person, and for a link that would close a cycle (A refers B refers
        A)."""
        command = LinkReferrer(
            customer_id=customer_id, referrer=referrer, at=at, idempotency_key=idempotency_key
        )
        return self.kernel.execute(command, self._link, customer_codec(command.owner))

    def _link(self, work: Work) -> Customer:
        command = work.command
        assert isinstance(command, LinkReferrer)
        customer_id, referrer = command.customer_id, command.referrer
        customer = work.customer(customer_id)
        if customer.referred_by is not None:
            raise ReferralRefused(
                customer_id,
                referrer,
                "already_referred",
                f"they were already referred by {customer.referred_by!r}",
            )
        if load_member(work.uow, customer).purchases:
            raise ReferralRefused(
                customer_id, referrer, "too_late", "they have already made a purchase"
            )
        if referrer == customer_id:
            raise ReferralRefused(customer_id, referrer, "self", "a member cannot refer themselves")
        check_referral(work.uow, customer, referrer)
        linked = attrs.evolve(customer, referred_by=referrer)
        work.uow.customers.update(linked)
        return linked

    def referral_leaderboard(
        self, *, since: datetime, until: datetime, top: int = 10
    ) -> tuple[LeaderboardLine, ...]:
        """The ``top`` referrers by qualified referrals in ``[since, until)`` (then by
        points, then by id), with the points their referrals earned them (排行榜)."""
        start, end = aware("since", since), aware("until", until)
        if end <= start:
            raise InvalidArgument(
                f"until: {end.isoformat()} is not after since {start.isoformat()}"
            )
        count("top", top)
        tally: dict[CustomerId, list[int]] = {}
        after: tuple[str, str] | None = None
        with self.kernel.reading() as uow:
            while True:
                page = uow.records.scan(REFERRAL, after=after, limit=1000)
                if not page:
                    break
                after = (page[-1].owner, page[-1].id)
                for record in page:
                    if record.document.get("revoked"):
                        continue  # refunded below what qualifies: no longer a referral
                    at = instant_from_text(record.document["at"])
                    if at is not None and start <= at < end:
                        counts = tally.setdefault(record.owner, [0, 0])
                        counts[0] += 1
                        counts[1] += record.document["points"]
        ranked = sorted(tally.items(), key=lambda item: (-item[1][0], -item[1][1], item[0]))
        return tuple(
            LeaderboardLine(referrer=referrer, referrals=count, points=points)
            for referrer, (count, points) in ranked[:top]
        )

    def referrals_of(self, referrer: CustomerId) -> dict[CustomerId, datetime]:
        """The members whose referral by ``referrer`` qualified, and when (a referral
        revoked by a refund no longer counts)."""
        with self.kernel.reading() as uow:
            existing(uow, identifier("referrer", referrer))
            found = uow.records.of_owner(referrer, REFERRAL)
        return {
            record.id: at
            for record in found
            if (at := instant_from_text(record.document["at"])) is not None
            and not record.document.get("revoked")
        }
