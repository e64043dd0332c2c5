"""Approvals: a manual adjustment above the programme's threshold is requested, and
posts only when a second person approves it (once: the request is decided in the unit
of work that posts it, under the member's lock)."""

from __future__ import annotations

from datetime import UTC, datetime

import attrs

from loyaltykit.domain.approvals import AdjustmentRequest, ApprovalState
from loyaltykit.errors import ApprovalRequired, InvalidArgument, UnknownApproval
from loyaltykit.formats.member_life import (
    ADJUSTMENT_REQUEST,
    request_from_record,
    request_to_record,
)
from loyaltykit.outcomes import Receipt
from loyaltykit.policy.program import Program
from loyaltykit.service import postings
from loyaltykit.service.codecs import POINTS, existing, receipt_codec
from loyaltykit.service.commands import AdjustPoints, DecideAdjustment, RequestAdjustment
from loyaltykit.service.kernel import Codec, Kernel, Work
from loyaltykit.values import CustomerId, Points, count

__all__ = ["ApprovalWork"]

_END_OF_TIME = datetime(9999, 12, 31, tzinfo=UTC)
_REQUEST: Codec[AdjustmentRequest] = Codec(
    request_to_record, lambda _uow, record: request_from_record(record)
)


class ApprovalWork:
    """Four-eyes adjustments: request, approve (posts), reject; and the guard that
    refuses ``adjust`` above the threshold."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        kernel.guards.append(self)

    # --- the guard on adjust ------------------------------------------------------------

    def guards(self, program: Program) -> bool:
        """Whether ``program`` asks for approvals."""
        return program.approvals.adjust_above is not None

    def check(self, work: Work) -> None:
        """Refuse an ``adjust`` above the threshold: it must be requested."""
        command = work.command
        if isinstance(command, AdjustPoints) and work.program.approvals.needs(command.points):
            threshold = work.program.approvals.adjust_above
            assert threshold is not None
            raise ApprovalRequired(command.customer_id, command.points, threshold)

    # --- requests -----------------------------------------------------------------------

    def request_adjustment(
        self,
        customer_id: CustomerId,
        request_id: str,
        points: Points,
        *,
        at: datetime,
        idempotency_key: str,
        reason: str,
        actor: str,
        point_type: str = POINTS,
    ) -> AdjustmentRequest:
        """Ask for a manual adjustment of ``points`` (negative to take points) that a
        second person must approve before it posts. ``reason`` and ``actor`` (the
        requester) are required. Any adjustment may be requested, above the programme's
        threshold or not."""
        command = RequestAdjustment(
            customer_id=customer_id,
            request_id=request_id,
            points=points,
            point_type=point_type,
            reason=reason,
            actor=actor,
            at=at,
            idempotency_key=idempotency_key,
        )
        return self.kernel.execute(command, self._request, _REQUEST)

    def _request(self, work: Work) -> AdjustmentRequest:
        command = work.command
        assert isinstance(command, RequestAdjustment)
        work.customer(command.customer_id)
        code = postings.point_type(work.program, command.point_type).code
        if work.uow.records.get(command.customer_id, ADJUSTMENT_REQUEST, command.request_id):
            raise InvalidArgument(
                f"request_id: {command.request_id!r} is already used for {command.customer_id!r}"
            )
        assert command.actor is not None
        request = AdjustmentRequest(
            customer_id=command.customer_id,
            id=command.request_id,
            points=command.points,
            point_type=code,
            reason=command.reason,
            requested_by=command.actor,
            requested_at=command.at,
        )
        work.uow.records.put(
            command.customer_id,
            ADJUSTMENT_REQUEST,
            request.id,
            request_to_record(request),
            due_at=command.at,
        )
        return request

    def approve_adjustment(
        self,
        customer_id: CustomerId,
        request_id: str,
        *,
        at: datetime,
        idempotency_key: str,
        actor: str,
        note: str = "",
    ) -> Receipt:
        """Approve a pending request and post its adjustment, in one unit of work. The
        approver must not be the requester; a request already decided is refused
        (:class:`~loyaltykit.errors.ApprovalRefused`), so an approval never posts twice.
        The entries carry the requester as actor and the approver in their metadata."""
        command = _decision(customer_id, request_id, True, actor, note, at, idempotency_key)
        return self.kernel.execute(command, self._approve, receipt_codec())

    def _approve(self, work: Work) -> Receipt:
        command = work.command
        assert isinstance(command, DecideAdjustment)
        request = self._decide(work, command)
        kind = postings.point_type(work.program, request.point_type)
        context = attrs.evolve(
            work.context(approved_by=command.actor, request=request.id),
            reason=request.reason,
            actor=request.requested_by,
        )
        post = postings.adjustment(work.uow, kind, context, request.customer_id, request.points)
        return postings.post(work.uow, command.name, context, request.customer_id, kind.code, post)

    def reject_adjustment(
        self,
        customer_id: CustomerId,
        request_id: str,
        *,
        at: datetime,
        idempotency_key: str,
        actor: str,
        note: str = "",
    ) -> AdjustmentRequest:
        """Reject a pending request (by someone other than the requester); nothing
        posts."""
        command = _decision(customer_id, request_id, False, actor, note, at, idempotency_key)
        return self.kernel.execute(command, self._reject, _REQUEST)

    def _reject(self, work: Work) -> AdjustmentRequest:
        command = work.command
        assert isinstance(command, DecideAdjustment)
        return self._decide(work, command)

    def _decide(self, work: Work, command: DecideAdjustment) -> AdjustmentRequest:
        work.customer(command.customer_id)
        stored = work.uow.records.get(
            command.customer_id, ADJUSTMENT_REQUEST, command.request_id, for_update=True
        )
        if stored is None:
            raise UnknownApproval(command.customer_id, command.request_id)
        decided = request_from_record(stored.document).decided(
            command.approve, command.actor, command.at, command.note, command.idempotency_key
        )
        work.uow.records.put(
            command.customer_id, ADJUSTMENT_REQUEST, decided.id, request_to_record(decided)
        )
        return decided

    def adjustment_requests(
        self, customer_id: CustomerId, *, state: ApprovalState | None = None
    ) -> tuple[AdjustmentRequest, ...]:
        """The member's adjustment requests, by id, optionally only those in ``state``."""
        with self.kernel.reading() as uow:
            existing(uow, customer_id)
            stored = uow.records.of_owner(customer_id, ADJUSTMENT_REQUEST)
        found = (request_from_record(record.document) for record in stored)
        return tuple(r for r in found if state is None or r.state is state)

    def pending_adjustment_requests(self, *, limit: int = 100) -> tuple[AdjustmentRequest, ...]:
        """Up to ``limit`` requests waiting for a decision, oldest first, across members
        (the approvers' queue)."""
        count("limit", limit)
        with self.kernel.reading() as uow:
            stored = uow.records.due(ADJUSTMENT_REQUEST, _END_OF_TIME, limit=limit)
        return tuple(request_from_record(record.document) for record in stored)


def _decision(
    customer_id: CustomerId,
    request_id: str,
    approve: bool,
    actor: str,
    note: str,
    at: datetime,
    key: str,
) -> DecideAdjustment:
    return DecideAdjustment(
        customer_id=customer_id,
        request_id=request_id,
        approve=approve,
        actor=actor,
        note=note,
        at=at,
        idempotency_key=key,
    )
