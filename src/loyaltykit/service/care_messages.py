"""Care messages: built from a care action and checked against the programme's content
rules where they are built, then recorded as a notice (so consent and the relay apply to
them like to every notice)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from loyaltykit.domain.care import care_from_record
from loyaltykit.domain.care_messages import care_message
from loyaltykit.domain.notices import CARE_MESSAGE, Notice
from loyaltykit.errors import NotFound
from loyaltykit.formats.notices import notice_from_record, notice_to_record
from loyaltykit.service.commands import SendCareMessage
from loyaltykit.service.kernel import Codec, Kernel, Work
from loyaltykit.service.notices import NoticeWork
from loyaltykit.values import CustomerId

__all__ = ["CareMessages"]

CARE = "care"
_CODEC: Codec[Notice] = Codec(notice_to_record, lambda _uow, record: notice_from_record(record))


class CareMessages:
    """Care messages an associate writes for care actions."""

    def __init__(self, kernel: Kernel, notices: NoticeWork) -> None:
        self.kernel = kernel
        self.notices = notices

    def send_care_message(
        self,
        customer_id: CustomerId,
        action_id: str,
        body: str,
        *,
        at: datetime,
        idempotency_key: str,
        store: str = "",
        associate: str = "",
        offers: Iterable[str] = (),
        channel: str | None = None,
    ) -> Notice:
        """Record the message an associate wrote for the care action ``action_id`` as a
        ``care.message`` notice, after checking it against the programme's content rules
        (``Program.notices.content``): a greeting (birthday, holiday, anniversary,
        welcome) carries no advertising and no offers, and is signed with the ``store``
        and the ``associate``'s name. A message that breaks a rule raises
        :class:`~loyaltykit.errors.ContentRuleBroken` and records nothing.
        ``channel`` defaults to the programme's channel for ``care.message``.
        """
        command = SendCareMessage(
            customer_id=customer_id,
            action_id=action_id,
            body=body,
            store=store,
            associate=associate,
            offers=offers,
            channel=channel,
            at=at,
            idempotency_key=idempotency_key,
        )
        return self.kernel.execute(command, self._send, _CODEC)

    def _send(self, work: Work) -> Notice:
        command = work.command
        assert isinstance(command, SendCareMessage)
        work.customer(command.customer_id)
        stored = work.uow.records.get(command.customer_id, CARE, command.action_id)
        if stored is None:
            raise NotFound(
                f"customer {command.customer_id!r} has no care action {command.action_id!r}"
            )
        message = care_message(
            care_from_record(stored.document),
            command.body,
            store=command.store,
            associate=command.associate,
            offers=command.offers,
            rules=work.program.notices.content,
        )
        return self.notices.record(
            work.uow,
            work.program,
            command.customer_id,
            CARE_MESSAGE,
            message.to_data(),
            command.at,
            command.idempotency_key,
            channel=command.channel,
        )
