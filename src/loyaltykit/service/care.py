"""Care actions: computed for every member, recorded once, worked through in order.

``run_due`` calls :meth:`CareWork.run_care`: for each member the pure
:func:`~loyaltykit.domain.care.due_care` lists what is due (a churn trigger runs the
spending-drop warning of :mod:`loyaltykit.analytics.churn` on the member first, so a
warning becomes a care task by itself); each action not recorded yet is assigned
(:func:`~loyaltykit.domain.care.assign_care`), recorded (kind ``care``, with its due
date) and its points credited, in one unit of work under the member's lock, so a second
run at the same or a later instant never produces the same action again, even when two
runs overlap. Sending the greeting or the gift is the caller's job:
:meth:`CareWork.care_actions` is the service managers' worklist,
:meth:`CareWork.complete_care` ticks an action off, :meth:`CareWork.record_care_call`
records how a call went (and the follow-up offer it leads to), and
:meth:`CareWork.care_action` reads it back. Quality control draws a month's sample of
completed calls (:meth:`CareWork.sample_care_calls`), checks them
(:meth:`CareWork.check_care_call`) and reads the summary (:meth:`CareWork.care_sample`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import attrs

from loyaltykit.analytics.churn import ChurnPolicy, spending_drop
from loyaltykit.domain import ledger
from loyaltykit.domain.care import (
    CareAction,
    CareConfig,
    assign_care,
    care_from_record,
    care_to_event,
    care_to_record,
    due_care,
)
from loyaltykit.domain.care_quality import (
    CareSample,
    check_call,
    draw_sample,
    month_bounds,
    sample_from_record,
    sample_to_record,
)
from loyaltykit.domain.ledger import Command, Entry
from loyaltykit.errors import CareSampleDrawn, ConcurrencyConflict, InvalidArgument, NotFound
from loyaltykit.policy.program import Program
from loyaltykit.service import postings
from loyaltykit.service.codecs import POINTS
from loyaltykit.service.commands import (
    CARE_QUALITY,
    CheckCareCall,
    CompleteCare,
    RecordCareCall,
    SampleCareCalls,
)
from loyaltykit.service.kernel import Codec, Kernel
from loyaltykit.service.members import load_member, tier_history
from loyaltykit.storage.base import StoredRecord, UnitOfWork
from loyaltykit.values import CustomerId, aware, count, derived_identifier, identifier

__all__ = ["CARE", "CARE_SAMPLE", "CareWork"]

CARE = "care"
CARE_SAMPLE = "care_sample"
_CARE_CODEC = Codec(care_to_record, lambda _uow, record: care_from_record(record))
_SAMPLE_CODEC = Codec(sample_to_record, lambda _uow, record: sample_from_record(record))


class CareWork:
    """Care actions (birthdays, churn warnings, anniversaries, welcomes) as data."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel

    def run_care(self, *, at: datetime, batch_size: int = 500) -> tuple[CareAction, ...]:
        """Record the care actions due at ``at`` that were not recorded before, credit
        their points, and return them in care order (birthdays, churn warnings, routine
        follow-ups). Idempotent: a second run returns only what is new."""
        self.kernel.outside_batch("run_care")
        when = aware("at", at)
        count("batch_size", batch_size)
        program = self.kernel.versions.at(when)
        config = program.care
        if config is None:
            return ()
        found: list[CareAction] = []
        after: CustomerId | None = None
        while True:
            with self.kernel.reading() as uow:
                ids = uow.customers.ids(after=after, limit=batch_size)
                pending = {
                    customer_id: self._new_care(uow, customer_id, program, config, when)
                    for customer_id in ids
                }
            if not ids:
                break
            after = ids[-1]
            for customer_id, actions in pending.items():
                if actions:
                    found.extend(self._record_care(customer_id, program, config, when))
        return tuple(sorted(found, key=lambda action: action.order))

    @staticmethod
    def _new_care(
        uow: UnitOfWork, customer_id: CustomerId, program: Program, config: CareConfig, at: datetime
    ) -> list[CareAction]:
        customer = uow.customers.get(customer_id)
        if customer is None:  # pragma: no cover - ids come from the same store
            return []
        member = load_member(uow, customer)
        drop: Decimal | None = None
        churn = config.trigger("churn")
        if churn is not None and churn.drop is not None:
            policy = ChurnPolicy(
                recent_months=churn.recent_months,
                baseline_months=churn.baseline_months,
                drop=churn.drop,
            )
            warning = spending_drop(
                customer_id, member.metrics, at, zone=program.zone, policy=policy
            )
            drop = None if warning is None else warning.drop
        due = due_care(
            config,
            customer,
            at=at,
            zone=program.zone,
            last_purchase=member.last_purchase_at,
            tier_history=list(tier_history(uow, customer_id)),
            spending_drop=drop,
        )
        tier = None
        if member.tier is not None and program.tiers is not None:
            tier = member.tier.effective(at, program.tiers)
        team, assignee = assign_care(config.assignment, customer, tier)
        return [
            attrs.evolve(action, team=team, assignee=assignee)
            for action in due
            if uow.records.get(customer_id, CARE, action.id) is None
        ]

    def _record_care(
        self, customer_id: CustomerId, program: Program, config: CareConfig, at: datetime
    ) -> list[CareAction]:
        for attempt in range(self.kernel.retries + 1):
            try:
                with self.kernel.unit() as uow:
                    if uow.customers.get(customer_id, for_update=True) is None:
                        return []  # pragma: no cover - customers are never deleted
                    # computed again under the lock: another run may have recorded some
                    actions = self._new_care(uow, customer_id, program, config, at)
                    for action in actions:
                        if action.points:
                            self._credit_care(uow, action, at)
                        record = care_to_record(action)
                        uow.records.put(customer_id, CARE, action.id, record, due_at=action.due_at)
                    if actions:  # one domain event per member and run, when the outbox is on
                        payload = {"actions": [care_to_event(action) for action in actions]}
                        self.kernel.emit(uow, customer_id, "care", at, None, payload)
                    uow.commit()
                    return actions
            except ConcurrencyConflict:
                if attempt == self.kernel.retries:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _credit_care(self, uow: UnitOfWork, action: CareAction, at: datetime) -> None:
        command = Command(
            at=at,
            idempotency_key=f"care:{action.id}",
            reason=f"care {action.kind}: {action.detail}",
            metadata=(("care", action.kind),),
        )
        kind = self.kernel.versions.at(at).point_type(POINTS)
        written: list[Entry] = []
        account = postings.settled(uow, action.customer_id, POINTS, command, written)
        posting = ledger.credit(
            account, action.points, command, expires_at=postings.expiry(kind, at, None)
        )
        postings.save(uow, posting, written)

    def care_actions(self, *, at: datetime, limit: int = 1000) -> tuple[CareAction, ...]:
        """The open care actions due by ``at`` (not completed yet), in care order:
        birthdays first, then churn warnings, then routine follow-ups."""
        when = aware("at", at)
        count("limit", limit)
        with self.kernel.reading() as uow:
            found = uow.records.due(CARE, when, limit=limit)
        actions = [care_from_record(record.document) for record in found]
        return tuple(sorted(actions, key=lambda action: action.order))

    def care_action(self, customer_id: CustomerId, action_id: str) -> CareAction:
        """One care action as recorded: who works it, and once done its outcome and note."""
        identifier("customer id", customer_id)
        identifier("care action id", action_id)
        with self.kernel.reading() as uow:
            found = uow.records.get(customer_id, CARE, action_id)
        if found is None:
            raise NotFound(f"customer {customer_id!r} has no care action {action_id!r}")
        return care_from_record(found.document)

    def care_history(self, customer_id: CustomerId) -> tuple[CareAction, ...]:
        """Every care action recorded for the member, open or done, in care order."""
        identifier("customer id", customer_id)
        with self.kernel.reading() as uow:
            found = uow.records.of_owner(customer_id, CARE)
        actions = [care_from_record(record.document) for record in found]
        return tuple(sorted(actions, key=lambda action: action.order))

    def complete_care(
        self,
        customer_id: CustomerId,
        action_id: str,
        *,
        at: datetime,
        idempotency_key: str,
        note: str = "",
    ) -> CareAction:
        """Mark a care action done (called, sent, handed over); it leaves the worklist.
        Its outcome reads ``done``; :meth:`record_care_call` says how a call went."""
        value = CompleteCare(
            customer_id=customer_id,
            action_id=action_id,
            at=at,
            idempotency_key=idempotency_key,
            note=note,
        )
        return self.kernel.execute(
            value,
            lambda work: _done(work.uow, customer_id, action_id, value.at, "done", note, None),
            _CARE_CODEC,
        )

    def record_care_call(
        self,
        customer_id: CustomerId,
        action_id: str,
        *,
        outcome: str,
        at: datetime,
        idempotency_key: str,
        note: str = "",
        offer: str | None = None,
    ) -> CareAction:
        """Record how the call of a care action went: ``outcome`` (one of
        :data:`~loyaltykit.domain.care.CALL_OUTCOMES`) and the caller's ``note``; the
        action leaves the worklist. ``offer`` (a reward id) opens the fourth step of the
        manager's day, a follow-up offer (二次营销) due at once, worked by the same team
        and associate (its id is ``offer:`` and the action's id)."""
        value = RecordCareCall(
            customer_id=customer_id,
            action_id=action_id,
            outcome=outcome,
            note=note,
            offer=offer,
            at=at,
            idempotency_key=idempotency_key,
        )
        return self.kernel.execute(
            value,
            lambda work: _done(
                work.uow, customer_id, action_id, value.at, value.outcome, value.note, value.offer
            ),
            _CARE_CODEC,
        )

    def sample_care_calls(
        self, month: str, *, size: int, seed: str, at: datetime, idempotency_key: str
    ) -> CareSample:
        """Draw quality control's sample of ``size`` of the care calls completed in
        ``month`` (``"2026-06"``, in the programme's time zone), with ``seed``. One
        sample per month: another is :class:`~loyaltykit.errors.CareSampleDrawn`."""
        value = SampleCareCalls(
            month=month, size=size, seed=seed, at=at, idempotency_key=idempotency_key
        )

        def draw(uow: UnitOfWork, program: Program) -> CareSample:
            if uow.records.get(CARE_QUALITY, CARE_SAMPLE, value.month) is not None:
                raise CareSampleDrawn(value.month)
            start, end = month_bounds(value.month, program.zone)
            completed = [
                action
                for action in _every_care(uow)
                if action.done_at is not None and start <= action.done_at < end
            ]
            sample = draw_sample(value.month, completed, size=value.size, seed=value.seed)
            uow.records.put(CARE_QUALITY, CARE_SAMPLE, value.month, sample_to_record(sample))
            return sample

        return self.kernel.execute(value, lambda work: draw(work.uow, work.program), _SAMPLE_CODEC)

    def check_care_call(
        self,
        month: str,
        customer_id: CustomerId,
        action_id: str,
        *,
        passed: bool,
        at: datetime,
        idempotency_key: str,
        note: str = "",
    ) -> CareSample:
        """Record whether a sampled call passed the check; ``note`` (what was found) is
        kept on the member's care action, where erasure reaches it. Returns the sample
        with its summary."""
        value = CheckCareCall(
            month=month,
            customer_id=customer_id,
            action_id=action_id,
            passed=passed,
            note=note,
            at=at,
            idempotency_key=idempotency_key,
        )

        def check(uow: UnitOfWork) -> CareSample:
            stored = uow.records.get(CARE_QUALITY, CARE_SAMPLE, value.month, for_update=True)
            if stored is None:
                raise NotFound(f"no care sample was drawn for {value.month}")
            sample = check_call(
                sample_from_record(stored.document), customer_id, action_id, passed=passed
            )
            found = uow.records.get(customer_id, CARE, action_id, for_update=True)
            if found is None:  # pragma: no cover - sampled calls are recorded actions
                raise NotFound(f"customer {customer_id!r} has no care action {action_id!r}")
            action = attrs.evolve(
                care_from_record(found.document), checked=passed, check_note=value.note
            )
            uow.records.put(customer_id, CARE, action_id, care_to_record(action), due_at=None)
            uow.records.put(CARE_QUALITY, CARE_SAMPLE, value.month, sample_to_record(sample))
            return sample

        return self.kernel.execute(value, lambda work: check(work.uow), _SAMPLE_CODEC)

    def care_sample(self, month: str) -> CareSample:
        """The month's quality-control sample with its summary (``sampled``,
        ``checked``, ``passed``, ``failed``, ``result``)."""
        month_bounds(month, UTC)
        with self.kernel.reading() as uow:
            stored = uow.records.get(CARE_QUALITY, CARE_SAMPLE, month)
        if stored is None:
            raise NotFound(f"no care sample was drawn for {month}")
        return sample_from_record(stored.document)


def _every_care(uow: UnitOfWork, page: int = 500) -> list[CareAction]:
    found: list[StoredRecord] = []
    after: tuple[str, str] | None = None
    while batch := uow.records.scan(CARE, after=after, limit=page):
        found.extend(batch)
        after = (batch[-1].owner, batch[-1].id)
    return [care_from_record(record.document) for record in found]


def _done(
    uow: UnitOfWork,
    customer_id: CustomerId,
    action_id: str,
    at: datetime,
    outcome: str,
    note: str,
    offer: str | None,
) -> CareAction:
    found = uow.records.get(customer_id, CARE, action_id, for_update=True)
    if found is None:
        raise NotFound(f"customer {customer_id!r} has no care action {action_id!r}")
    action = care_from_record(found.document)
    if offer is not None and action.kind == "offer":
        raise InvalidArgument(f"care action {action_id!r} is a follow-up offer already")
    done = attrs.evolve(action, done_at=at, outcome=outcome, note=note)
    uow.records.put(customer_id, CARE, action_id, {**found.document, **care_to_record(done)})
    if offer is not None:
        follow = CareAction(
            customer_id=customer_id,
            kind="offer",
            id=derived_identifier("offer", action_id),
            due_at=at,
            gift=offer,
            detail=f"follow-up offer after {action.kind}",
            team=action.team,
            assignee=action.assignee,
            follows=action_id,
        )
        if uow.records.get(customer_id, CARE, follow.id) is None:
            uow.records.put(customer_id, CARE, follow.id, care_to_record(follow), due_at=at)
    return done
