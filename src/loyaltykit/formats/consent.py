"""The stored form of a member's consents: the customer-state document ``consent``
(every change, oldest first). This module is the only code that reads or writes it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from loyaltykit.domain.consent import Consent, Consents, ConsentState

__all__ = ["CONSENT", "consent_from_record", "consent_to_record", "consents_document",
           "consents_from_document"]  # fmt: skip

CONSENT = "consent"


def consent_to_record(consent: Consent) -> dict[str, Any]:
    """One consent change as plain data."""
    return {
        "channel": consent.channel,
        "state": consent.state.value,
        "at": consent.at.isoformat(),
        "source": consent.source,
    }


def consent_from_record(record: Mapping[str, Any]) -> Consent:
    """The change :func:`consent_to_record` wrote."""
    return Consent(
        channel=record["channel"],
        state=ConsentState(record["state"]),
        at=datetime.fromisoformat(record["at"]),
        source=record.get("source", ""),
    )


def consents_from_document(document: Mapping[str, Any] | None) -> Consents:
    """A member's consents (none for ``None``)."""
    if document is None:
        return Consents()
    return Consents(tuple(consent_from_record(r) for r in document.get("history", ())))


def consents_document(consents: Consents) -> dict[str, Any]:
    """A member's consents as plain data."""
    return {"history": [consent_to_record(c) for c in consents.history]}
