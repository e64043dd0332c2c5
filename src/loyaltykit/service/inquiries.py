"""Inquiries and suggestions through the facade: their own intake, counted apart.

An inquiry or a suggestion is a record of kind ``inquiry`` owned by the member who sent
it (or by the ``inquiries`` space when nobody is known), found again by its id (the
record's lookup). :meth:`InquiryCommands.intake_counts` counts a period's complaints,
inquiries and suggestions side by side, from their own records.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime

import attrs

from loyaltykit.domain.inquiries import (
    Inquiry,
    IntakeCounts,
    inquiry_from_record,
    inquiry_to_record,
)
from loyaltykit.errors import InvalidArgument, NotFound
from loyaltykit.service.commands import INQUIRIES, AnswerInquiry, TakeInquiry
from loyaltykit.service.kernel import Codec, Kernel, Work
from loyaltykit.storage.base import StoredRecord, UnitOfWork
from loyaltykit.values import CustomerId, aware, identifier

__all__ = ["INQUIRY", "InquiryCommands"]

INQUIRY = "inquiry"
_COMPLAINT = "complaint"  # the complaints area's record kind, counted beside ours
_CODEC = Codec(inquiry_to_record, lambda _uow, stored: inquiry_from_record(stored))


class InquiryCommands:
    """Inquiries and suggestions (apart from complaints), and the intake counts."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel

    def take_inquiry(
        self,
        inquiry_id: str,
        *,
        kind: str,
        channel: str,
        topic: str,
        content: str,
        at: datetime,
        idempotency_key: str,
        customer_id: CustomerId | None = None,
    ) -> Inquiry:
        """Register an inquiry (``kind="inquiry"``, a question to answer) or a
        suggestion (``kind="suggestion"``) with its channel, topic, content and time."""
        value = TakeInquiry(
            inquiry_id=inquiry_id,
            inquiry_kind=kind,
            channel=channel,
            topic=topic,
            content=content,
            customer_id=customer_id,
            at=at,
            idempotency_key=idempotency_key,
        )
        inquiry = Inquiry(
            id=value.inquiry_id,
            kind=value.inquiry_kind,
            channel=value.channel,
            topic=value.topic,
            content=value.content,
            at=value.at,
            customer_id=value.customer_id,
        )

        def action(work: Work) -> Inquiry:
            if value.customer_id is not None:
                work.customer(value.customer_id)
            if work.uow.records.find(INQUIRY, inquiry.id) is not None:
                raise InvalidArgument(f"inquiry id {inquiry.id!r} is taken already")
            work.uow.records.put(
                value.owner, INQUIRY, inquiry.id, inquiry_to_record(inquiry), lookup=inquiry.id
            )
            return inquiry

        return self.kernel.execute(value, action, _CODEC)

    def answer_inquiry(
        self, inquiry_id: str, answer: str, *, at: datetime, idempotency_key: str
    ) -> Inquiry:
        """Answer an inquiry or a suggestion (once: a second answer is refused)."""
        value = AnswerInquiry(
            inquiry_id=inquiry_id, answer=answer, at=at, idempotency_key=idempotency_key
        )
        where: dict[str, str] = {}

        def locate(uow: UnitOfWork) -> tuple[str, tuple[CustomerId, ...]]:
            # an inquiry's owner never changes: an unlocked read finds it
            found = uow.records.find(INQUIRY, value.inquiry_id)
            if found is None:
                raise NotFound(f"no inquiry {value.inquiry_id!r}")
            where["owner"] = found.owner
            return found.owner, () if found.owner == INQUIRIES else (found.owner,)

        def action(work: Work) -> Inquiry:
            stored = work.uow.records.get(
                where["owner"], INQUIRY, value.inquiry_id, for_update=True
            )
            if stored is None:  # pragma: no cover - records are never deleted
                raise NotFound(f"no inquiry {value.inquiry_id!r}")
            inquiry = inquiry_from_record(stored.document)
            if inquiry.answered_at is not None:
                raise InvalidArgument(f"inquiry {inquiry.id!r} is answered already")
            answered = attrs.evolve(inquiry, answer=value.answer, answered_at=value.at)
            work.uow.records.put(
                where["owner"],
                INQUIRY,
                answered.id,
                inquiry_to_record(answered),
                lookup=answered.id,
            )
            return answered

        return self.kernel.execute(value, action, _CODEC, locate=locate)

    def inquiry(self, inquiry_id: str) -> Inquiry:
        """An inquiry or suggestion by its id; raises :class:`~loyaltykit.errors.NotFound`."""
        with self.kernel.reading() as uow:
            found = uow.records.find(INQUIRY, identifier("inquiry id", inquiry_id))
        if found is None:
            raise NotFound(f"no inquiry {inquiry_id!r}")
        return inquiry_from_record(found.document)

    def inquiries(
        self, *, since: datetime, until: datetime, kind: str | None = None
    ) -> tuple[Inquiry, ...]:
        """The inquiries and suggestions taken in ``[since, until)`` (of ``kind`` only,
        when given), oldest first."""
        start, end = aware("since", since), aware("until", until)
        found = [
            inquiry
            for record in self._scan(INQUIRY)
            if start <= (inquiry := inquiry_from_record(record.document)).at < end
            and (kind is None or inquiry.kind == kind)
        ]
        return tuple(sorted(found, key=lambda i: (i.at, i.id)))

    def intake_counts(self, *, since: datetime, until: datetime) -> IntakeCounts:
        """How many complaints, inquiries and suggestions came in over ``[since,
        until)``, counted apart, in total and per channel."""
        start, end = aware("since", since), aware("until", until)
        tally: Counter[tuple[str, str]] = Counter()
        for record in self._scan(_COMPLAINT):
            received = datetime.fromisoformat(record.document["received_at"])
            if start <= received < end:
                tally[(record.document["channel"], "complaint")] += 1
        for inquiry in self.inquiries(since=start, until=end):
            tally[(inquiry.channel, inquiry.kind)] += 1
        channels = sorted({channel for channel, _ in tally})
        return IntakeCounts(
            complaints=sum(n for (_, what), n in tally.items() if what == "complaint"),
            inquiries=sum(n for (_, what), n in tally.items() if what == "inquiry"),
            suggestions=sum(n for (_, what), n in tally.items() if what == "suggestion"),
            by_channel=tuple(
                (c, tally[(c, "complaint")], tally[(c, "inquiry")], tally[(c, "suggestion")])
                for c in channels
            ),
        )

    def _scan(self, kind: str, page: int = 500) -> Iterator[StoredRecord]:
        after: tuple[str, str] | None = None
        while True:
            with self.kernel.reading() as uow:
                batch = uow.records.scan(kind, after=after, limit=page)
            if not batch:
                return
            yield from batch
            after = (batch[-1].owner, batch[-1].id)
