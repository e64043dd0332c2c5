"""Notices: recorded in the unit of work of the command that caused them, delivered by a
relay to the caller's :class:`~loyaltykit.NoticeSender`.

The area follows every command (it is one of the kernel's followers) when the programme
in force declares notices: after a command, each member it held locked is looked at
once (their balance's path through the command's entries against the milestones, their
tier against the one last seen), and what follows is written beside the command's own
changes: a ``notice`` record, pending until the relay takes it, and a ``notice`` event
in the outbox when it is on. Reminder runs (points about to expire, tiers about to be
lost) list the members concerned and record one notice each, once per run key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from loyaltykit.domain import tiers
from loyaltykit.domain.customer import Customer, CustomerStatus
from loyaltykit.domain.notices import (
    MILESTONE,
    POINTS_EXPIRING,
    TIER_AT_RISK,
    TIER_REACHED,
    DeliveryReport,
    Notice,
    NoticeSender,
    NoticeStatus,
    ReminderLine,
    Reminders,
    cross,
)
from loyaltykit.errors import InvalidArgument
from loyaltykit.formats.notices import (
    NOTICE,
    NOTICE_STATE,
    NoticeState,
    notice_from_record,
    notice_state_document,
    notice_state_from_document,
    notice_to_record,
)
from loyaltykit.policy.engine import measure_with
from loyaltykit.policy.program import Program
from loyaltykit.service.codecs import existing
from loyaltykit.service.kernel import Aftermath, Kernel
from loyaltykit.service.members import load_member, member_tier
from loyaltykit.storage.base import UnitOfWork
from loyaltykit.values import CustomerId, aware, count, identifier

__all__ = ["NoticeWork", "Withhold"]

_PAGE = 500

Withhold = Callable[[UnitOfWork, Notice], str | None]
"""Why a pending notice must not be delivered (consent withdrawn...), or ``None``."""


class NoticeWork:
    """Notices: following commands, reminder runs, the relay, and reading them back."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.withhold: list[Withhold] = []
        kernel.followers.append(self)

    # --- following commands -------------------------------------------------------------

    def watches(self, program: Program) -> bool:
        """Whether ``program`` gives notices that follow commands."""
        return program.notices.watching

    def follow(self, uow: UnitOfWork, program: Program, aftermath: Aftermath) -> None:
        """Record the notices that follow from one command, for every member it touched."""
        members = dict.fromkeys(aftermath.customers)
        members.update(dict.fromkeys(entry.customer_id for entry in aftermath.entries))
        for customer_id in members:
            self._observe(uow, program, customer_id, aftermath)

    def _observe(
        self, uow: UnitOfWork, program: Program, customer_id: CustomerId, aftermath: Aftermath
    ) -> None:
        document = uow.state.get(customer_id, NOTICE_STATE)
        state = notice_state_from_document(document)
        before = notice_state_document(state)
        rules = program.notices
        found: list[tuple[str, dict[str, Any]]] = []
        milestones = rules.milestones
        if milestones is not None:
            point_type = milestones.point_type or program.main_point_type
            account = uow.ledger.account(customer_id, point_type)
            final = 0 if account is None else account.available
            moves = [
                entry.amount
                for entry in aftermath.entries
                if entry.customer_id == customer_id and entry.point_type == point_type
            ]
            balances = [final - sum(moves)]
            for move in moves:
                balances.append(balances[-1] + move)
            reached = state.reached
            if reached is None:  # first seen: what they already hold is no news
                reached = frozenset(t for t in milestones.thresholds if t <= balances[0])
            fired, state.reached = cross(milestones, reached, balances)
            found.extend(
                (MILESTONE, {"threshold": t, "balance": final, "point_type": point_type})
                for t in fired
            )
        ladder = program.tiers
        if rules.tier_reached and ladder is not None:
            status = member_tier(uow, customer_id)
            tier = ladder.base.code if status is None else status.effective(aftermath.at, ladder)
            seen = ladder.base.code if state.tier is None else state.tier
            if ladder.tier(seen) is None:  # a code the ladder no longer has
                seen = ladder.base.code
            if ladder.rank_of(tier) > ladder.rank_of(seen):
                found.append((TIER_REACHED, {"tier": tier, "from_tier": seen}))
            state.tier = tier
        for template, data in found:
            self._record(
                uow, program, customer_id, state, template, data, aftermath.at,
                aftermath.idempotency_key,
            )  # fmt: skip
        if document is None or notice_state_document(state) != before:
            uow.state.put(customer_id, NOTICE_STATE, notice_state_document(state))

    def _record(
        self,
        uow: UnitOfWork,
        program: Program,
        customer_id: CustomerId,
        state: NoticeState,
        template: str,
        data: dict[str, Any],
        at: datetime,
        key: str | None,
        *,
        notice_id: str | None = None,
        channel: str | None = None,
    ) -> Notice:
        if notice_id is None:
            notice_id = f"{state.next:010d}"
            state.next += 1
        notice = Notice(
            customer_id=customer_id,
            id=notice_id,
            template=template,
            channel=channel or program.notices.channel_of(template),
            at=at,
            data=data,
        )
        uow.records.put(customer_id, NOTICE, notice.id, notice_to_record(notice), due_at=at)
        payload = {"id": notice.id, "template": template, "channel": notice.channel, "data": data}
        self.kernel.emit(uow, customer_id, NOTICE, at, key, payload)
        return notice

    def record(
        self,
        uow: UnitOfWork,
        program: Program,
        customer_id: CustomerId,
        template: str,
        data: dict[str, Any],
        at: datetime,
        key: str | None,
        *,
        channel: str | None = None,
    ) -> Notice:
        """Record one notice for a member held locked, in the unit of work of the command
        that caused it (a care message); ``channel`` defaults to the programme's."""
        state = notice_state_from_document(uow.state.get(customer_id, NOTICE_STATE))
        notice = self._record(
            uow, program, customer_id, state, template, data, at, key, channel=channel
        )
        uow.state.put(customer_id, NOTICE_STATE, notice_state_document(state))
        return notice

    # --- reminder runs ----------------------------------------------------------------

    def remind_expiring_points(
        self,
        *,
        at: datetime,
        idempotency_key: str,
        within: timedelta = timedelta(days=30),
        point_type: str | None = None,
        batch_size: int = _PAGE,
    ) -> Reminders:
        """ "Your points expire in 30 days": every member with points of ``point_type``
        (the programme's main one by default) expiring after ``at`` and by ``at +
        within``, listed with the amount, and one ``points.expiring`` notice each.

        Run it again with the same ``idempotency_key`` and the listing comes back without
        recording a notice twice; a new key (the next month's run) records new ones.

        The run pages through every member (one short transaction each for those with
        points expiring), so it fits a nightly or monthly job.
        """
        when, until, key = self._run("remind_expiring_points", at, within, idempotency_key)
        program = self.kernel.versions.at(when)
        code = program.point_type(point_type or program.main_point_type).code
        lines: list[ReminderLine] = []
        recorded = 0
        for customer_id in self._members(batch_size):
            with self.kernel.reading() as uow:
                if uow.ledger.expiring(customer_id, code, when, until) <= 0:
                    continue
            with self.kernel.unit() as uow:
                customer = uow.customers.get(customer_id, for_update=True)
                if customer is None or not _reachable(customer):
                    continue
                points = uow.ledger.expiring(customer_id, code, when, until)
                if points <= 0:
                    continue
                data: dict[str, Any] = {
                    "points": points,
                    "point_type": code,
                    "until": until.isoformat(),
                }
                notice_id, new = self._once(
                    uow, program, customer_id, POINTS_EXPIRING, data, when, key
                )
                uow.commit()
            recorded += new
            lines.append(
                ReminderLine(
                    customer_id=customer_id,
                    until=until,
                    points=points,
                    point_type=code,
                    notice=notice_id,
                )
            )
        return Reminders(
            template=POINTS_EXPIRING, at=when, until=until, lines=tuple(lines), recorded=recorded
        )

    def remind_tiers_at_risk(
        self,
        *,
        at: datetime,
        idempotency_key: str,
        within: timedelta = timedelta(days=30),
        batch_size: int = _PAGE,
    ) -> Reminders:
        """Members whose tier is about to be lost: above the base tier, their status (or
        its grace) ends after ``at`` and by ``at + within``, and today they fall short of
        keeping it. Each is listed (``tier``, the status's end) and gets one
        ``tier.at_risk`` notice per run key, with what they still need (``to_keep``).
        """
        when, until, key = self._run("remind_tiers_at_risk", at, within, idempotency_key)
        program = self.kernel.versions.at(when)
        ladder = program.tiers
        if ladder is None:
            raise InvalidArgument(f"program {program.name!r} has no tiers")
        lines: list[ReminderLine] = []
        recorded = 0
        for customer_id in self._members(batch_size):
            with self.kernel.reading() as uow:
                status = member_tier(uow, customer_id)
                if status is None or status.tier == ladder.base.code:
                    continue
                end = status.grace_until or status.valid_until
                if end is None or not when < end <= until:
                    continue
            with self.kernel.unit() as uow:
                customer = uow.customers.get(customer_id, for_update=True)
                if customer is None or not _reachable(customer):
                    continue
                member = load_member(uow, customer)
                status = member.tier
                if status is None:  # pragma: no cover - read a moment ago
                    continue
                measure = measure_with(member.metrics, customer, when, program.zone)
                outlook = tiers.forecast(ladder, status, measure)
                if not outlook.to_keep:
                    continue
                end = status.grace_until or status.valid_until
                assert end is not None
                data: dict[str, Any] = {
                    "tier": status.tier,
                    "until": end.isoformat(),
                    "to_keep": {metric: str(gap) for metric, gap in outlook.to_keep.items()},
                }
                notice_id, new = self._once(
                    uow, program, customer_id, TIER_AT_RISK, data, when, key
                )
                uow.commit()
            recorded += new
            lines.append(
                ReminderLine(customer_id=customer_id, until=end, tier=status.tier, notice=notice_id)
            )
        return Reminders(
            template=TIER_AT_RISK, at=when, until=until, lines=tuple(lines), recorded=recorded
        )

    def _run(
        self, job: str, at: datetime, within: timedelta, key: str
    ) -> tuple[datetime, datetime, str]:
        self.kernel.outside_batch(job)
        when = aware("at", at)
        if not isinstance(within, timedelta) or within <= timedelta(0):
            raise InvalidArgument(f"within: {within!r} is not a positive timedelta")
        return when, when + within, identifier("idempotency_key", key)

    def _members(self, batch_size: int) -> Iterator[CustomerId]:
        count("batch_size", batch_size)
        after: CustomerId | None = None
        while True:
            with self.kernel.reading() as uow:
                page = uow.customers.ids(after=after, limit=batch_size)
            if not page:
                return
            yield from page
            after = page[-1]

    def _once(
        self,
        uow: UnitOfWork,
        program: Program,
        customer_id: CustomerId,
        template: str,
        data: dict[str, Any],
        at: datetime,
        key: str,
    ) -> tuple[str, int]:
        """The run's notice for the member, recorded unless the run recorded it before."""
        notice_id = _run_notice_id(template, key)
        if uow.records.get(customer_id, NOTICE, notice_id) is not None:
            return notice_id, 0
        state = notice_state_from_document(uow.state.get(customer_id, NOTICE_STATE))
        self._record(uow, program, customer_id, state, template, data, at, key, notice_id=notice_id)
        return notice_id, 1

    # --- the relay --------------------------------------------------------------------

    def deliver_notices(
        self, sender: NoticeSender, *, at: datetime, limit: int = 100
    ) -> DeliveryReport:
        """Hand up to ``limit`` pending notices due by ``at`` to ``sender``, oldest first,
        marking each delivered once ``send`` returned for it. A notice that must not go
        out (see ``docs/concepts/notices.md``) is marked withheld with its reason and
        not sent.

        If ``send`` raises, the notices handled before it keep their marks and the error
        goes to the caller; the failed notice stays pending for the next run.
        """
        when = aware("at", at)
        count("limit", limit)
        with self.kernel.reading() as uow:
            due = uow.records.due(NOTICE, when, limit=limit)
        delivered = withheld = 0
        for stored in due:
            with self.kernel.unit() as uow:
                current = uow.records.get(stored.owner, NOTICE, stored.id, for_update=True)
                if current is None or current.due_at is None:
                    continue  # another relay took it
                notice = notice_from_record(current.document)
                reason = next(
                    (why for why in (check(uow, notice) for check in self.withhold) if why),
                    None,
                )
                if reason is not None:
                    self._settle(uow, notice.withheld(when, reason))
                    uow.commit()
                    withheld += 1
                    continue
            sender.send(notice)
            with self.kernel.unit() as uow:
                self._settle(uow, notice.delivered(when))
                uow.commit()
            delivered += 1
        return DeliveryReport(delivered=delivered, withheld=withheld)

    @staticmethod
    def _settle(uow: UnitOfWork, notice: Notice) -> None:
        uow.records.put(notice.customer_id, NOTICE, notice.id, notice_to_record(notice))

    # --- reading -----------------------------------------------------------------------

    def notices(
        self, customer_id: CustomerId, *, status: NoticeStatus | None = None
    ) -> tuple[Notice, ...]:
        """The member's notices, in the order they were recorded (reminder runs' after
        the others), optionally only those of one ``status``."""
        with self.kernel.reading() as uow:
            existing(uow, customer_id)
            stored = uow.records.of_owner(customer_id, NOTICE)
        found = (notice_from_record(record.document) for record in stored)
        return tuple(n for n in found if status is None or n.status is status)


def _reachable(customer: Customer) -> bool:
    return customer.status is not CustomerStatus.CLOSED and not customer.is_erased


def _run_notice_id(template: str, key: str) -> str:
    # a run's notice has the same id on every re-run of its key; ids stay short
    digest = hashlib.sha256(f"{template}\n{key}".encode()).hexdigest()[:24]
    return f"run:{template}:{digest}"
