"""Consent: members opt in to channels, opt out, unsubscribe; every notice honours it.

The area registers a check with the notices relay: a notice for a channel the member
has not opted in to (or has left) is withheld, with the reason recorded on it, and so is
any notice to a closed or erased member.
"""

from __future__ import annotations

from datetime import datetime

from loyaltykit.domain.consent import Consent, ConsentState, refusal
from loyaltykit.domain.customer import CustomerStatus
from loyaltykit.domain.notices import Notice
from loyaltykit.formats.consent import (
    CONSENT,
    consent_from_record,
    consent_to_record,
    consents_document,
    consents_from_document,
)
from loyaltykit.service.codecs import existing
from loyaltykit.service.commands import ChangeConsent
from loyaltykit.service.kernel import Codec, Kernel, Work
from loyaltykit.service.notices import NoticeWork
from loyaltykit.storage.base import UnitOfWork
from loyaltykit.values import CustomerId

__all__ = ["ConsentWork", "withheld_for"]

_CODEC: Codec[Consent] = Codec(consent_to_record, lambda _uow, record: consent_from_record(record))


class ConsentWork:
    """Per-channel consent: opt in, opt out, unsubscribe, read it back."""

    def __init__(self, kernel: Kernel, notices: NoticeWork) -> None:
        self.kernel = kernel
        notices.withhold.append(withheld_for)

    def opt_in(
        self,
        customer_id: CustomerId,
        channel: str,
        *,
        at: datetime,
        idempotency_key: str,
        source: str = "",
    ) -> Consent:
        """The member agrees to be reached on ``channel`` (``"push"``, ``"sms"``,
        ``"mail"``, ``"social"``...). ``source`` says where they agreed (a form, a
        reply)."""
        return self._change(customer_id, channel, ConsentState.OPT_IN, at, idempotency_key, source)

    def opt_out(
        self,
        customer_id: CustomerId,
        channel: str,
        *,
        at: datetime,
        idempotency_key: str,
        source: str = "",
    ) -> Consent:
        """The member no longer wants to be reached on ``channel``."""
        return self._change(customer_id, channel, ConsentState.OPT_OUT, at, idempotency_key, source)

    def unsubscribe(
        self,
        customer_id: CustomerId,
        channel: str,
        *,
        at: datetime,
        idempotency_key: str,
        source: str = "",
    ) -> Consent:
        """The member used an unsubscribe link or reply on ``channel`` (``source``: the
        message's id); nothing more goes out on it until they opt in again."""
        return self._change(
            customer_id, channel, ConsentState.UNSUBSCRIBED, at, idempotency_key, source
        )

    def _change(
        self,
        customer_id: CustomerId,
        channel: str,
        state: ConsentState,
        at: datetime,
        key: str,
        source: str,
    ) -> Consent:
        command = ChangeConsent(
            customer_id=customer_id,
            channel=channel,
            state=state,
            source=source,
            at=at,
            idempotency_key=key,
        )
        return self.kernel.execute(command, self._record, _CODEC)

    def _record(self, work: Work) -> Consent:
        command = work.command
        assert isinstance(command, ChangeConsent)
        work.customer(command.customer_id)
        consent = Consent(
            channel=command.channel, state=command.state, at=command.at, source=command.source
        )
        uow = work.uow
        consents = consents_from_document(uow.state.get(command.customer_id, CONSENT))
        uow.state.put(command.customer_id, CONSENT, consents_document(consents.changed(consent)))
        return consent

    def consents(self, customer_id: CustomerId) -> tuple[Consent, ...]:
        """The member's current consent per channel (the latest change of each), by
        channel."""
        with self.kernel.reading() as uow:
            existing(uow, customer_id)
            consents = consents_from_document(uow.state.get(customer_id, CONSENT))
        current = consents.current()
        return tuple(current[channel] for channel in sorted(current))


def withheld_for(uow: UnitOfWork, notice: Notice) -> str | None:
    """Why ``notice`` must not go out (no consent for its channel, the member closed or
    erased), or ``None``."""
    customer = uow.customers.get(notice.customer_id)
    if customer is None or customer.is_erased:
        return "member erased"
    if customer.status is CustomerStatus.CLOSED:
        return "membership closed"
    return refusal(
        consents_from_document(uow.state.get(notice.customer_id, CONSENT)), notice.channel
    )
