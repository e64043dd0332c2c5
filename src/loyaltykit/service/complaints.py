"""Complaint commands: file, move through the ISO 10002 lifecycle, SLA batch, goodwill.

Every command runs through the pipeline: one unit of work, the idempotency key, the
customer's lock (for a customer's complaint) and the complaint record's lock. A
complaint is a record of kind ``complaint`` owned by its customer (or by
:data:`~loyaltykit.domain.complaints.ANONYMOUS`), found by its id (the record's
lookup), and due for the SLA batch at its next warning or breach.

Goodwill points are granted when customer service responds with a proposal that
carries them: an ``adjust`` ledger entry whose metadata names the complaint, in the
same unit of work, taken from the period's goodwill budget (a shared counter).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from enum import Enum
from typing import Any

from loyaltykit.analytics.complaints import ComplaintReport, complaint_report
from loyaltykit.domain import ledger
from loyaltykit.domain.complaint_records import (
    checked_complaint_record,
    complaint_from_record,
    complaint_to_record,
)
from loyaltykit.domain.complaints import (
    ALLOW_ALL,
    ANONYMOUS,
    TRANSITIONS,
    Authorizer,
    ClockStatus,
    Complaint,
    ComplaintPolicy,
    Priority,
    Role,
    Severity,
    SlaAlerts,
    check_authorized,
)
from loyaltykit.domain.customer import EARNING_STATUSES, Customer
from loyaltykit.domain.ledger import Command, Entry, EntryKind
from loyaltykit.errors import (
    ComplaintAlreadyExists,
    ConcurrencyConflict,
    GoodwillBudgetExceeded,
    UnknownComplaint,
)
from loyaltykit.service import postings
from loyaltykit.service.commands import ComplaintStep, FileComplaint
from loyaltykit.service.kernel import Codec, Kernel, Work
from loyaltykit.storage.base import UnitOfWork
from loyaltykit.values import (
    CustomerId,
    aware,
    count,
    frozen_metadata,
    identifier,
    identifiers,
)

__all__ = ["COMPLAINT", "COMPLAINT_COMMANDS", "SLA_ACTOR", "ComplaintCommands"]

COMPLAINT = "complaint"
SLA_ACTOR = "loyaltykit:sla"
"""The actor the SLA batch records when it escalates a breached complaint."""

Step = Callable[[Complaint, ComplaintPolicy, datetime], Complaint]
COMPLAINT_COMMANDS = frozenset(
    {"file_complaint"} | {f"complaint.{transition}" for transition in TRANSITIONS}
)


class ComplaintCommands:
    """Complaints (投诉处理): the lifecycle, SLA clocks, escalation and goodwill."""

    def __init__(self, kernel: Kernel, authorizer: Authorizer = ALLOW_ALL) -> None:
        self.kernel = kernel
        # who may act in which role: the embedding service knows its staff; without one
        # every caller's word is taken (ALLOW_ALL)
        self.authorizer = authorizer
        # what follows a closed case in the closing step's unit of work (the facade sends
        # survey invitations): called with the work, the member and the case id
        self.after_close: Callable[[Work, CustomerId, str], object] | None = None

    def complaint_policy(self, *, at: datetime) -> ComplaintPolicy:
        """The complaint policy of the program in force at ``at``."""
        return self.kernel.versions.at(aware("at", at)).complaints

    # --- intake ---------------------------------------------------------------------

    def file_complaint(
        self,
        complaint_id: str,
        *,
        channel: str,
        category: str,
        content: str,
        at: datetime,
        idempotency_key: str,
        actor: str,
        role: Role | str = Role.CUSTOMER_SERVICE,
        customer_id: CustomerId | None = None,
        contact: str | None = None,
        subcategory: str = "",
        remedy_requested: str = "",
        priority: Priority | str = Priority.NORMAL,
    ) -> Complaint:
        """Register a complaint received at ``at`` through ``channel`` (state
        ``received``, SLA clocks started). A customer's complaint needs the customer
        to exist; an anonymous one needs a ``contact``."""
        value = FileComplaint(
            complaint_id=complaint_id,
            channel=channel,
            category=category,
            content=content,
            at=at,
            idempotency_key=idempotency_key,
            actor=actor,
            role=role,
            customer_id=customer_id,
            contact=contact,
            subcategory=subcategory,
            remedy_requested=remedy_requested,
            priority=priority,
        )
        when = value.at
        check_authorized(self.authorizer, actor, role, "file")
        policy = self.complaint_policy(at=when)
        complaint = Complaint.file(
            complaint_id,
            policy=policy,
            channel=channel,
            received_at=when,
            category=category,
            content=content,
            actor=actor,
            role=role,
            customer_id=customer_id,
            contact=contact,
            subcategory=subcategory,
            remedy_requested=remedy_requested,
            priority=priority,
        )

        def action(work: Work) -> Complaint:
            if work.uow.records.find(COMPLAINT, complaint.id) is not None:
                raise ComplaintAlreadyExists(complaint.id)
            self._save_complaint(work.uow, complaint, policy)
            return complaint

        return self.kernel.execute(
            value,
            action,
            Codec(
                complaint_to_record,
                lambda uow, record: _decoded(uow, complaint.owner, complaint.id, record),
            ),
        )

    # --- the lifecycle --------------------------------------------------------------

    def acknowledge_complaint(
        self,
        complaint_id: str,
        *,
        at: datetime,
        idempotency_key: str,
        actor: str,
        role: Role | str = Role.CUSTOMER_SERVICE,
        note: str = "",
    ) -> Complaint:
        """Acknowledge receipt to the customer (stops the acknowledge clock)."""
        return self._complaint_step(
            "acknowledge",
            complaint_id,
            at,
            idempotency_key,
            {"actor": actor, "role": _value(role), "note": note},
            lambda c, _p, when: c.acknowledge(actor=actor, role=role, at=when, note=note),
        )

    def assess_complaint(
        self,
        complaint_id: str,
        *,
        severity: Severity | str,
        priority: Priority | str,
        at: datetime,
        idempotency_key: str,
        actor: str,
        role: Role | str = Role.CUSTOMER_SERVICE,
        category: str | None = None,
        subcategory: str | None = None,
        note: str = "",
    ) -> Complaint:
        """The initial assessment: severity, priority, and the category if it was wrong."""
        return self._complaint_step(
            "assess",
            complaint_id,
            at,
            idempotency_key,
            {
                "actor": actor,
                "role": _value(role),
                "severity": _value(severity),
                "priority": _value(priority),
                "category": category,
                "subcategory": subcategory,
                "note": note,
            },
            lambda c, policy, when: c.assess(
                actor=actor,
                role=role,
                at=when,
                severity=severity,
                priority=priority,
                policy=policy,
                category=category,
                subcategory=subcategory,
                note=note,
            ),
        )

    def investigate_complaint(
        self,
        complaint_id: str,
        *,
        at: datetime,
        idempotency_key: str,
        actor: str,
        role: Role | str = Role.BUSINESS_DEPARTMENT,
        note: str = "",
    ) -> Complaint:
        """The business department takes the case."""
        return self._simple("investigate", complaint_id, at, idempotency_key, actor, role, note)

    def propose_resolution(
        self,
        complaint_id: str,
        *,
        resolution: str,
        at: datetime,
        idempotency_key: str,
        actor: str,
        role: Role | str = Role.BUSINESS_DEPARTMENT,
        goodwill_points: int = 0,
        rewards: tuple[str, ...] = (),
        note: str = "",
    ) -> Complaint:
        """The business department proposes a resolution, with goodwill points or none
        (granted only when customer service responds), and catalogue rewards by
        reference (``complaint.goodwill_rewards`` lists them once responded, for the
        catalogue to issue)."""
        rewards = identifiers("rewards", rewards)  # hostile-input fix, issue 12
        return self._complaint_step(
            "propose",
            complaint_id,
            at,
            idempotency_key,
            {
                "actor": actor,
                "role": _value(role),
                "resolution": resolution,
                "goodwill_points": goodwill_points,
                "rewards": list(rewards),
                "note": note,
            },
            lambda c, policy, when: c.propose(
                actor=actor,
                role=role,
                at=when,
                resolution=resolution,
                goodwill_points=goodwill_points,
                rewards=tuple(rewards),
                policy=policy,
                note=note,
            ),
        )

    def submit_for_review(
        self,
        complaint_id: str,
        *,
        at: datetime,
        idempotency_key: str,
        actor: str,
        role: Role | str = Role.BUSINESS_DEPARTMENT,
        note: str = "",
    ) -> Complaint:
        """Send the proposal to quality control."""
        return self._simple(
            "submit_for_review", complaint_id, at, idempotency_key, actor, role, note
        )

    def approve_resolution(
        self,
        complaint_id: str,
        *,
        at: datetime,
        idempotency_key: str,
        actor: str,
        role: Role | str = Role.QUALITY_CONTROL,
        note: str = "",
    ) -> Complaint:
        """Quality control approves the proposal; under the QC rule's ``four_eyes`` (the
        default) the actor who proposed it may not."""
        return self._simple(
            "approve", complaint_id, at, idempotency_key, actor, role, note, with_policy=True
        )

    def reject_resolution(
        self,
        complaint_id: str,
        *,
        at: datetime,
        idempotency_key: str,
        actor: str,
        role: Role | str = Role.QUALITY_CONTROL,
        note: str = "",
    ) -> Complaint:
        """Quality control sends the case back to the business department."""
        return self._simple("reject", complaint_id, at, idempotency_key, actor, role, note)

    def respond_to_complaint(
        self,
        complaint_id: str,
        *,
        at: datetime,
        idempotency_key: str,
        actor: str,
        role: Role | str = Role.CUSTOMER_SERVICE,
        note: str = "",
    ) -> Complaint:
        """Customer service communicates the decision and grants the proposal's goodwill
        points, within the goodwill budget, in the same unit of work.

        Raises :class:`~loyaltykit.errors.GoodwillBudgetExceeded` (and changes nothing)
        when the period's budget cannot pay the points.
        """
        key = identifier("idempotency_key", idempotency_key)

        def step(
            uow: UnitOfWork,
            customers: dict[CustomerId, Customer],
            complaint: Complaint,
            policy: ComplaintPolicy,
            when: datetime,
        ) -> Complaint:
            responded = complaint.respond(actor=actor, role=role, at=when, policy=policy, note=note)
            points = 0 if complaint.proposal is None else complaint.proposal.goodwill_points
            if not points:
                return responded
            entry = self._grant_goodwill(
                uow, customers, complaint, policy, points, when, key, actor
            )
            return responded.granted(entry)

        return self._complaint_step(
            "respond",
            complaint_id,
            at,
            key,
            {"actor": actor, "role": _value(role), "note": note},
            None,
            full=step,
        )

    def reinvestigate_complaint(
        self,
        complaint_id: str,
        *,
        at: datetime,
        idempotency_key: str,
        actor: str,
        role: Role | str = Role.CUSTOMER_SERVICE,
        note: str = "",
    ) -> Complaint:
        """The customer does not accept the answer: back to the business department."""
        return self._simple("reinvestigate", complaint_id, at, idempotency_key, actor, role, note)

    def close_complaint(
        self,
        complaint_id: str,
        *,
        at: datetime,
        idempotency_key: str,
        actor: str,
        role: Role | str = Role.CUSTOMER_SERVICE,
        satisfaction: int | None = None,
        note: str = "",
    ) -> Complaint:
        """Close the case, with the customer's satisfaction (1 to 5) when they gave it."""
        return self._complaint_step(
            "close",
            complaint_id,
            at,
            idempotency_key,
            {"actor": actor, "role": _value(role), "satisfaction": satisfaction, "note": note},
            lambda c, _p, when: c.close(
                actor=actor, role=role, at=when, satisfaction=satisfaction, note=note
            ),
            then=self._after_close,
        )

    def _after_close(self, work: Work, closed: Complaint) -> None:
        if self.after_close is not None and closed.customer_id is not None:
            self.after_close(work, closed.customer_id, closed.id)

    def request_customer_info(
        self,
        complaint_id: str,
        *,
        at: datetime,
        idempotency_key: str,
        actor: str,
        role: Role | str = Role.CUSTOMER_SERVICE,
        note: str = "",
    ) -> Complaint:
        """Ask the customer for information: the SLA clocks pause until they reply."""
        return self._simple("request_info", complaint_id, at, idempotency_key, actor, role, note)

    def customer_replied(
        self,
        complaint_id: str,
        *,
        at: datetime,
        idempotency_key: str,
        actor: str,
        role: Role | str = Role.CUSTOMER_SERVICE,
        note: str = "",
    ) -> Complaint:
        """The customer replied: the clocks run again."""
        return self._simple(
            "customer_replied", complaint_id, at, idempotency_key, actor, role, note
        )

    def escalate_complaint(
        self,
        complaint_id: str,
        *,
        at: datetime,
        idempotency_key: str,
        actor: str,
        role: Role | str = Role.SUPERVISOR,
        note: str = "",
    ) -> Complaint:
        """Hand the case to a supervisor, raising its priority one level."""
        return self._simple("escalate", complaint_id, at, idempotency_key, actor, role, note)

    def resume_complaint(
        self,
        complaint_id: str,
        *,
        at: datetime,
        idempotency_key: str,
        actor: str,
        role: Role | str = Role.SUPERVISOR,
        note: str = "",
    ) -> Complaint:
        """The supervisor hands an escalated case back to where it was."""
        return self._simple("resume", complaint_id, at, idempotency_key, actor, role, note)

    def reopen_complaint(
        self,
        complaint_id: str,
        *,
        at: datetime,
        idempotency_key: str,
        actor: str,
        role: Role | str = Role.CUSTOMER_SERVICE,
        note: str = "",
    ) -> Complaint:
        """Reopen a closed case within the policy's reopen window."""
        return self._complaint_step(
            "reopen",
            complaint_id,
            at,
            idempotency_key,
            {"actor": actor, "role": _value(role), "note": note},
            lambda c, policy, when: c.reopen(
                actor=actor, role=role, at=when, policy=policy, note=note
            ),
        )

    def withdraw_complaint(
        self,
        complaint_id: str,
        *,
        at: datetime,
        idempotency_key: str,
        actor: str,
        role: Role | str = Role.CUSTOMER_SERVICE,
        note: str = "",
    ) -> Complaint:
        """The customer withdraws the complaint."""
        return self._simple("withdraw", complaint_id, at, idempotency_key, actor, role, note)

    # --- queries ----------------------------------------------------------------------

    def complaint(self, complaint_id: str) -> Complaint:
        """The complaint as stored; raises :class:`~loyaltykit.errors.UnknownComplaint`."""
        with self.kernel.reading() as uow:
            found = uow.records.find(COMPLAINT, identifier("complaint_id", complaint_id))
        if found is None:
            raise UnknownComplaint(complaint_id)
        return complaint_from_record(found.document)

    def complaints_of(self, customer_id: CustomerId) -> tuple[Complaint, ...]:
        """A customer's complaints, by id."""
        with self.kernel.reading() as uow:
            stored = uow.records.of_owner(identifier("customer_id", customer_id), COMPLAINT)
        return tuple(complaint_from_record(record.document) for record in stored)

    def all_complaints(self, *, page: int = 500) -> tuple[Complaint, ...]:
        """Every complaint, read page by page (for reports)."""
        count("page", page)  # hostile-input fix, issue 12: bounded, fits every backend
        found: list[Complaint] = []
        after: tuple[str, str] | None = None
        while True:
            with self.kernel.reading() as uow:
                stored = uow.records.scan(COMPLAINT, after=after, limit=page)
            if not stored:
                return tuple(found)
            found.extend(complaint_from_record(record.document) for record in stored)
            after = (stored[-1].owner, stored[-1].id)

    def complaint_report(
        self,
        *,
        at: datetime,
        since: datetime | None = None,
        until: datetime | None = None,
        top: int = 3,
    ) -> ComplaintReport:
        """Complaint analytics over the complaints received in ``[since, until)``: volume
        by category and channel, SLA compliance, median time to resolve, reopen rate,
        goodwill granted, satisfaction and the top categories of each month."""
        when = aware("at", at)
        return complaint_report(
            self.all_complaints(),
            when,
            policy=self.complaint_policy(at=when),
            zone=self.kernel.versions.at(when).zone,
            since=since,
            until=until,
            top=top,
        )

    def complaints_at_risk(self, *, at: datetime) -> tuple[ClockStatus, ...]:
        """Every running clock of an open complaint that is about to breach or has
        breached at ``at``, least time left first (a dashboard; nothing is changed)."""
        when = aware("at", at)
        policy = self.complaint_policy(at=when)
        found = [
            status
            for complaint in self.all_complaints()
            if complaint.state.is_open
            for status in complaint.statuses(when, policy)
            if complaint.clock(status.clock).running
            and complaint.clock(status.clock).paused_since is None
            and (status.breached or status.about_to_breach)
        ]
        return tuple(sorted(found, key=lambda s: (s.remaining, s.complaint_id, s.clock)))

    # --- the SLA batch ----------------------------------------------------------------

    def escalate_overdue_complaints(self, *, at: datetime, batch_size: int = 100) -> SlaAlerts:
        """Report the clocks about to breach and those that breached by ``at``, and
        escalate each breach to a supervisor (raising the priority), once.

        Each complaint is handled in a unit of work of its own; running again at the
        same ``at`` finds nothing new, so a crashed run can simply be repeated.
        """
        self.kernel.outside_batch("escalate_overdue_complaints")
        when = aware("at", at)
        count("batch_size", batch_size)
        warnings: list[ClockStatus] = []
        breaches: list[ClockStatus] = []
        escalated: list[str] = []
        seen: set[tuple[str, str]] = set()
        while True:
            with self.kernel.reading() as uow:
                due = uow.records.due(COMPLAINT, when, limit=batch_size)
            fresh = [
                (record.owner, record.id) for record in due if (record.owner, record.id) not in seen
            ]
            if not fresh:
                break
            for owner, complaint_id in fresh:
                seen.add((owner, complaint_id))
                found = self._sla_one(owner, complaint_id, when)
                warnings.extend(found.warnings)
                breaches.extend(found.breaches)
                escalated.extend(found.escalated)
        return SlaAlerts(
            at=when, warnings=tuple(warnings), breaches=tuple(breaches), escalated=tuple(escalated)
        )

    def _sla_one(self, owner: str, complaint_id: str, at: datetime) -> SlaAlerts:
        for attempt in range(self.kernel.retries + 1):
            try:
                with self.kernel.unit() as uow:
                    if owner != ANONYMOUS:  # the record lock suffices for anonymous ones
                        uow.customers.get(owner, for_update=True)
                    stored = uow.records.get(owner, COMPLAINT, complaint_id, for_update=True)
                    if stored is None:  # pragma: no cover - records are never deleted
                        return SlaAlerts(at=at)
                    complaint = complaint_from_record(stored.document)
                    policy = self.complaint_policy(at=at)
                    checked, alerts = complaint.check_sla(at, policy, actor=SLA_ACTOR)
                    if checked != complaint:
                        self._save_complaint(uow, checked, policy)
                    uow.commit()
                    return alerts
            except ConcurrencyConflict:
                if attempt == self.kernel.retries:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    # --- the machinery ----------------------------------------------------------------

    def _simple(
        self,
        transition: str,
        complaint_id: str,
        at: datetime,
        idempotency_key: str,
        actor: str,
        role: Role | str,
        note: str,
        *,
        with_policy: bool = False,
    ) -> Complaint:
        def step(complaint: Complaint, policy: ComplaintPolicy, when: datetime) -> Complaint:
            method: Callable[..., Complaint] = getattr(complaint, transition)
            extra = {"policy": policy} if with_policy else {}
            return method(actor=actor, role=role, at=when, note=note, **extra)

        return self._complaint_step(
            transition,
            complaint_id,
            at,
            idempotency_key,
            {"actor": actor, "role": _value(role), "note": note},
            step,
        )

    def _complaint_step(
        self,
        transition: str,
        complaint_id: str,
        at: datetime,
        idempotency_key: str,
        arguments: dict[str, Any],
        step: Step | None,
        *,
        full: Callable[
            [UnitOfWork, dict[CustomerId, Customer], Complaint, ComplaintPolicy, datetime],
            Complaint,
        ]
        | None = None,
        then: Callable[[Work, Complaint], None] | None = None,
    ) -> Complaint:
        value = ComplaintStep(
            complaint_id=identifier("complaint_id", complaint_id),
            transition=transition,
            at=at,
            idempotency_key=idempotency_key,
            **arguments,
        )
        when, complaint_id = value.at, value.complaint_id
        # every step names its actor and role: the embedding service's authorizer decides
        check_authorized(self.authorizer, value.actor, value.role, transition)
        policy = self.complaint_policy(at=when)
        case: dict[str, str] = {}

        def locate(uow: UnitOfWork) -> tuple[str, tuple[CustomerId, ...]]:
            # a case's owner and customer never change: an unlocked read finds them
            found = uow.records.find(COMPLAINT, complaint_id)
            if found is None:
                raise UnknownComplaint(complaint_id)
            case["owner"] = found.owner
            customer_id = found.document["customer_id"]
            return found.owner, () if customer_id is None else (customer_id,)

        def action(work: Work) -> Complaint:
            uow = work.uow
            stored = uow.records.get(case["owner"], COMPLAINT, complaint_id, for_update=True)
            if stored is None:  # pragma: no cover - records are never deleted
                raise UnknownComplaint(complaint_id)
            complaint = complaint_from_record(stored.document)
            if full is not None:
                changed = full(uow, work.customers, complaint, policy, when)
            else:
                assert step is not None
                changed = step(complaint, policy, when)
            self._save_complaint(uow, changed, policy)
            if then is not None:
                then(work, changed)
            return changed

        return self.kernel.execute(
            value,
            action,
            Codec(
                complaint_to_record,
                lambda uow, record: _decoded(uow, case["owner"], complaint_id, record),
            ),
            locate=locate,
        )

    def _grant_goodwill(
        self,
        uow: UnitOfWork,
        customers: dict[CustomerId, Customer],
        complaint: Complaint,
        policy: ComplaintPolicy,
        points: int,
        at: datetime,
        key: str,
        actor: str,
    ) -> str:
        """Credit ``points`` as an ``adjust`` entry linked to the complaint, taken from
        the goodwill budget of the period; returns the entry's id."""
        budget = policy.goodwill
        customer_id = complaint.customer_id
        # propose() refused goodwill without a budget or for an anonymous complaint
        assert budget is not None
        assert customer_id is not None
        customers[customer_id].require("receive goodwill", allowed=EARNING_STATUSES)
        program = self.kernel.versions.at(at)
        counter = budget.counter(at.astimezone(program.zone))
        if uow.counters.take(counter, points, limit=budget.points) == 0:
            raise GoodwillBudgetExceeded(
                counter, points, budget.points, uow.counters.value(counter)
            )
        kind = program.point_type(budget.point_type)
        command = Command(
            at=at,
            idempotency_key=key,
            reason=f"goodwill for complaint {complaint.id}",
            actor=actor,
            metadata=frozen_metadata({"complaint": complaint.id, "goodwill": True}),
        )
        expiry = postings.expiry(kind, at, None)
        receipt = postings.post(
            uow,
            "adjust",
            command,
            customer_id,
            kind.code,
            lambda account: ledger.credit(
                account, points, command, kind=EntryKind.ADJUST, expires_at=expiry
            ),
        )
        return receipt.entries[-1].id

    def give_back_goodwill(self, uow: UnitOfWork, entry: Entry) -> None:
        """A reversal of goodwill (an entry whose metadata names its complaint) returns
        the clawed-back points to the goodwill budget of the period they were granted in
        and takes them off the complaint's granted goodwill, in the reversal's unit of
        work (the complaint belongs to the customer, whose lock the reversal holds)."""
        metadata = dict(entry.metadata)
        complaint_id = metadata.get("complaint")
        if metadata.get("goodwill") is not True or not isinstance(complaint_id, str):
            return
        clawed = postings.clawed_back(uow, entry)
        if clawed <= 0:
            return
        policy = self.complaint_policy(at=entry.occurred_at)
        budget = policy.goodwill
        if budget is not None:
            zone = self.kernel.versions.at(entry.occurred_at).zone
            uow.counters.restore(budget.counter(entry.occurred_at.astimezone(zone)), clawed)
        stored = uow.records.get(entry.customer_id, COMPLAINT, complaint_id, for_update=True)
        if stored is not None:
            complaint = complaint_from_record(stored.document)
            taken = min(clawed, complaint.goodwill_points)
            if taken:
                self._save_complaint(uow, complaint.goodwill_taken_back(taken), policy)

    @staticmethod
    def _save_complaint(uow: UnitOfWork, complaint: Complaint, policy: ComplaintPolicy) -> None:
        uow.records.put(
            complaint.owner,
            COMPLAINT,
            complaint.id,
            checked_complaint_record(complaint, complaint.history[-1].transition),
            due_at=complaint.next_due(policy),
            lookup=complaint.id,
        )


def _decoded(
    uow: UnitOfWork, owner: str, complaint_id: str, record: Mapping[str, Any]
) -> Complaint:
    """A replayed outcome; once erased, the complaint as it is now."""
    if record.get("redacted"):
        stored = uow.records.get(owner, COMPLAINT, complaint_id)
        if stored is None:  # pragma: no cover - records are never deleted
            raise UnknownComplaint(complaint_id)
        return complaint_from_record(stored.document)
    return complaint_from_record(record)


def _value(choice: Enum | str) -> str:
    """An enum member or its value, as the value: a replay may pass either."""
    return str(choice.value) if isinstance(choice, Enum) else str(choice)
