"""Survey invitations: asked for by an event, answered within a window.

A :class:`SurveyTrigger` says which events invite a member to a survey (``"stay"``
after a hotel stay, ``"visit"``, ``"complaint_closed"``) and how long the invitation
stays open (the source: the survey is sent right after the stay or visit). Each
invitation (:class:`SurveyInvitation`) is one per member, survey and occasion (the
``reference``: the stay's key, the complaint's id), so the same event never invites
twice; it is answered once, before it expires.

>>> from datetime import datetime, timedelta, timezone
>>> trigger = SurveyTrigger(survey_id="stay", on={"stay"}, respond_within=timedelta(days=3))
>>> sent = datetime(2026, 5, 1, 12, tzinfo=timezone.utc)
>>> invitation = invite(trigger, "m-1", "stay", reference="booking-7", at=sent)
>>> invitation.id, invitation.expires_at.isoformat()
('stay:booking-7', '2026-05-04T12:00:00+00:00')
>>> invitation.state(sent + timedelta(days=4))
'expired'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import attrs

from loyaltykit.errors import InvalidArgument
from loyaltykit.values import CustomerId, aware, derived_identifier, frozen_texts, identifier

__all__ = [
    "SurveyInvitation",
    "SurveyTrigger",
    "invitation_from_record",
    "invitation_to_record",
    "invite",
    "trigger_from_record",
    "trigger_to_record",
]


def _window(_instance: Any, _attribute: Any, value: Any) -> None:
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise InvalidArgument(f"respond_within: {value!r} must be a positive timedelta")


def _on(value: Iterable[str]) -> frozenset[str]:
    found = frozen_texts(value)
    if not found:
        raise InvalidArgument("survey trigger on: name at least one event, e.g. {'stay'}")
    for event in found:
        identifier("survey trigger event", event)
    return found


@attrs.frozen(kw_only=True)
class SurveyTrigger:
    """The events (``on``) that invite a member to ``survey_id``, and how long an
    invitation stays open."""

    survey_id: str = attrs.field(validator=lambda _i, _a, v: identifier("survey id", v))
    on: frozenset[str] = attrs.field(converter=_on)
    respond_within: timedelta = attrs.field(default=timedelta(days=7), validator=_window)


@attrs.frozen(kw_only=True)
class SurveyInvitation:
    """A member's invitation to a survey, sent at ``sent_at`` because of ``trigger``
    (its occasion: ``reference``), open until ``expires_at``; ``response_id`` once
    answered."""

    id: str
    customer_id: CustomerId
    survey_id: str
    trigger: str
    reference: str
    sent_at: datetime
    expires_at: datetime
    response_id: str | None = None

    def state(self, at: datetime) -> str:
        """``answered``, ``expired`` (not answered in time) or ``open`` at ``at``."""
        if self.response_id is not None:
            return "answered"
        return "expired" if aware("at", at) >= self.expires_at else "open"


def invite(
    trigger: SurveyTrigger, customer_id: CustomerId, event: str, *, reference: str, at: datetime
) -> SurveyInvitation:
    """The invitation ``event`` (one of ``trigger.on``) sends ``customer_id`` at ``at``."""
    if event not in trigger.on:
        raise InvalidArgument(f"survey {trigger.survey_id!r} is not sent on {event!r}")
    when = aware("at", at)
    return SurveyInvitation(
        id=derived_identifier(trigger.survey_id, identifier("reference", reference)),
        customer_id=customer_id,
        survey_id=trigger.survey_id,
        trigger=event,
        reference=reference,
        sent_at=when,
        expires_at=when + trigger.respond_within,
    )


def trigger_to_record(trigger: SurveyTrigger) -> dict[str, Any]:
    """A trigger as plain data."""
    return {
        "survey_id": trigger.survey_id,
        "on": sorted(trigger.on),
        "respond_within_seconds": int(trigger.respond_within.total_seconds()),
    }


def trigger_from_record(record: Mapping[str, Any]) -> SurveyTrigger:
    """The trigger :func:`trigger_to_record` wrote."""
    return SurveyTrigger(
        survey_id=record["survey_id"],
        on=frozenset(record["on"]),
        respond_within=timedelta(seconds=record["respond_within_seconds"]),
    )


def invitation_to_record(invitation: SurveyInvitation) -> dict[str, Any]:
    """An invitation as plain data."""
    return {
        "id": invitation.id,
        "customer_id": invitation.customer_id,
        "survey_id": invitation.survey_id,
        "trigger": invitation.trigger,
        "reference": invitation.reference,
        "sent_at": invitation.sent_at.isoformat(),
        "expires_at": invitation.expires_at.isoformat(),
        "response_id": invitation.response_id,
    }


def invitation_from_record(record: Mapping[str, Any]) -> SurveyInvitation:
    """The invitation :func:`invitation_to_record` wrote."""
    return SurveyInvitation(
        id=record["id"],
        customer_id=record["customer_id"],
        survey_id=record["survey_id"],
        trigger=record["trigger"],
        reference=record["reference"],
        sent_at=datetime.fromisoformat(record["sent_at"]),
        expires_at=datetime.fromisoformat(record["expires_at"]),
        response_id=record["response_id"],
    )
