"""Care actions: computed for every member, recorded once, worked through in order.

``run_due`` calls :meth:`CareWork.run_care`: for each member the pure
:func:`~loyaltykit.domain.care.due_care` lists what is due; each action not recorded yet
is recorded (kind ``care``, with its due date) and its points credited, in one unit of
work under the member's lock, so a second run at the same or a later instant never
produces the same action again, even when two runs overlap. Sending the greeting or the
gift is the caller's job: :meth:`CareWork.care_actions` is the service managers'
worklist, :meth:`CareWork.complete_care` ticks an action off.
"""

from __future__ import annotations

from datetime import datetime

from loyaltykit.domain import ledger
from loyaltykit.domain.care import (
    CareAction,
    CareConfig,
    care_from_record,
    care_to_record,
    due_care,
)
from loyaltykit.domain.ledger import Command, Entry
from loyaltykit.domain.records import instant_from_text, tier_change_from_record
from loyaltykit.errors import ConcurrencyConflict, NotFound
from loyaltykit.policy.program import Program
from loyaltykit.service import postings
from loyaltykit.service.codecs import ACTIVITY, POINTS, TIER
from loyaltykit.service.commands import CompleteCare
from loyaltykit.service.kernel import Codec, Kernel
from loyaltykit.storage.base import UnitOfWork
from loyaltykit.values import CustomerId, aware, points_amount

__all__ = ["CARE", "CareWork"]

CARE = "care"


class CareWork:
    """Care actions (birthdays, churn warnings, anniversaries, welcomes) as data."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel

    def run_care(self, at: datetime, *, batch_size: int = 500) -> tuple[CareAction, ...]:
        """Record the care actions due at ``at`` that were not recorded before, credit
        their points, and return them in care order (birthdays, churn warnings, routine
        follow-ups). Idempotent: a second run returns only what is new."""
        self.kernel.outside_batch("run_care")
        when = aware("at", at)
        points_amount("batch_size", batch_size)
        program = self.kernel.versions.at(when)
        config = program.care
        if config is None:
            return ()
        found: list[CareAction] = []
        after: CustomerId | None = None
        while True:
            with self.kernel.unit() as uow:
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
        activity = uow.state.get(customer_id, ACTIVITY) or {}
        history = (uow.state.get(customer_id, TIER) or {}).get("history", [])
        due = due_care(
            config,
            customer,
            at=at,
            zone=program.zone,
            last_purchase=instant_from_text(activity.get("last_purchase_at")),
            tier_history=[tier_change_from_record(change) for change in history],
        )
        return [a for a in due if uow.records.get(customer_id, CARE, a.id) is None]

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
                        payload = {"actions": [care_to_record(action) for action in actions]}
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

    def care_actions(self, at: datetime, *, limit: int = 1000) -> tuple[CareAction, ...]:
        """The open care actions due by ``at`` (not completed yet), in care order:
        birthdays first, then churn warnings, then routine follow-ups."""
        when = aware("at", at)
        points_amount("limit", limit)
        with self.kernel.unit() as uow:
            found = uow.records.due(CARE, when, limit=limit)
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
        """Mark a care action done (called, sent, handed over); it leaves the worklist."""
        value = CompleteCare(
            customer_id=customer_id,
            action_id=action_id,
            at=at,
            idempotency_key=idempotency_key,
            note=note,
        )
        when = value.at

        def action(uow: UnitOfWork) -> CareAction:
            found = uow.records.get(customer_id, CARE, action_id, for_update=True)
            if found is None:
                raise NotFound(f"customer {customer_id!r} has no care action {action_id!r}")
            document = {**found.document, "done_at": when.isoformat(), "note": note}
            uow.records.put(customer_id, CARE, action_id, document, due_at=None)
            return care_from_record(document)

        return self.kernel.execute(
            value,
            lambda work: action(work.uow),
            Codec(care_to_record, lambda _uow, record: care_from_record(record)),
        )
