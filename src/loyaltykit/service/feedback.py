"""Surveys through the facade: publish a survey, record answers, score them.

Invitations: :meth:`FeedbackCommands.set_survey_trigger` says which events invite
members to a survey (a ``survey_trigger`` record); the facade has every recorded custom
event and every closed complaint followed by :meth:`FeedbackCommands.invite_after_event`
and :meth:`FeedbackCommands.invite_after_close` in the same unit of work, and
:meth:`FeedbackCommands.invite_to_surveys` takes an event from elsewhere: each records
one invitation per survey the event asks for (kind ``survey_invitation``, due at its
expiry), once per occasion;
:meth:`FeedbackCommands.answer_survey_invitation` records the answers and closes the
invitation in one transaction, within its window. :meth:`FeedbackCommands.question_scores`
and :meth:`FeedbackCommands.satisfaction_drivers` read per-question scores and which
question drives the overall one (:mod:`loyaltykit.domain.satisfaction`).

A response is a record of kind ``survey_response`` owned by the customer, keyed by
its idempotency key. When the survey names an ``event`` and the programme has rules
for it, the response also goes through :meth:`~loyaltykit.Loyalty.record_event` in the
same transaction, so answering a survey earns points by the programme's own rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from loyaltykit.domain.activity import CustomEvent
from loyaltykit.domain.customer import Customer
from loyaltykit.domain.feedback import (
    Scores,
    Survey,
    SurveyResponse,
    breakdown,
    scores,
)
from loyaltykit.domain.feedback_records import (
    response_from_record,
    response_to_record,
    survey_from_record,
    survey_to_record,
)
from loyaltykit.domain.satisfaction import Driver, QuestionScore, drivers, question_scores
from loyaltykit.domain.survey_invitations import (
    SurveyInvitation,
    SurveyTrigger,
    invitation_from_record,
    invitation_to_record,
    invite,
    trigger_from_record,
    trigger_to_record,
)
from loyaltykit.errors import InvitationClosed, NotFound
from loyaltykit.service.commands import (
    AnswerSurveyInvitation,
    InviteToSurveys,
    PublishSurvey,
    SetSurveyTrigger,
    SubmitSurveyResponse,
)
from loyaltykit.service.events import EventCommands
from loyaltykit.service.kernel import Codec, Kernel, Work
from loyaltykit.service.members import member_tier
from loyaltykit.storage.base import UnitOfWork
from loyaltykit.values import CustomerId, aware, count, derived_identifier, identifier

__all__ = [
    "SURVEY",
    "SURVEYS",
    "SURVEY_INVITATION",
    "SURVEY_RESPONSE",
    "SURVEY_TRIGGER",
    "FeedbackCommands",
]

SURVEY = "survey"
SURVEY_RESPONSE = "survey_response"
SURVEY_TRIGGER = "survey_trigger"
SURVEY_INVITATION = "survey_invitation"
SURVEYS = "survey:catalog"
"""The partition that owns the published surveys."""


class FeedbackCommands:
    """Surveys and their scores (CSAT, NPS, CES)."""

    def __init__(self, kernel: Kernel, events: EventCommands) -> None:
        self.kernel = kernel
        self.events = events

    def publish_survey(self, survey: Survey, *, at: datetime, idempotency_key: str) -> Survey:
        """Store ``survey`` so that responses can be checked and scored against it.
        Publishing another survey under the same id replaces it (a new version)."""
        command = PublishSurvey(survey=survey, at=at, idempotency_key=idempotency_key)

        def action(work: Work) -> Survey:
            work.uow.records.put(SURVEYS, SURVEY, command.survey.id, survey_to_record(survey))
            return command.survey

        return self.kernel.execute(
            command,
            action,
            Codec(survey_to_record, lambda _uow, stored: survey_from_record(stored)),
        )

    def survey(self, survey_id: str) -> Survey:
        """A published survey; raises :class:`~loyaltykit.errors.NotFound`."""
        with self.kernel.reading() as uow:
            stored = uow.records.get(SURVEYS, SURVEY, identifier("survey_id", survey_id))
        if stored is None:
            raise NotFound(f"no survey with id {survey_id!r}")
        return survey_from_record(stored.document)

    def submit_survey_response(
        self,
        customer_id: CustomerId,
        survey_id: str,
        answers: Mapping[str, object],
        *,
        at: datetime,
        idempotency_key: str,
        channel: str = "",
        complaint_id: str | None = None,
        purchase_key: str | None = None,
        campaign: str | None = None,
    ) -> SurveyResponse:
        """Record a customer's answers (checked against the survey), with their tier and
        tags as they are now, and let the programme's rules reward the survey's event."""
        value = SubmitSurveyResponse(
            customer_id=customer_id,
            survey_id=survey_id,
            answers=answers,
            at=at,
            idempotency_key=idempotency_key,
            channel=channel,
            complaint_id=complaint_id,
            purchase_key=purchase_key,
            campaign=campaign,
        )
        when, key = value.at, value.idempotency_key
        survey = self.survey(survey_id)
        checked = survey.answers(answers)
        for what, reference in (
            ("complaint_id", complaint_id),
            ("purchase_key", purchase_key),
            ("campaign", campaign),
        ):
            if reference is not None:
                identifier(what, reference)
        if channel:
            identifier("channel", channel)
        program = self.kernel.versions.at(when)

        def action(uow: UnitOfWork, customers: dict[CustomerId, Customer]) -> SurveyResponse:
            customer = customers[customer_id]
            status = member_tier(uow, customer_id)
            tier = None
            if program.tiers is not None:
                status = status or program.tiers.start(customer.enrolled_at)
                tier = status.effective(when, program.tiers)
            response = SurveyResponse(
                id=key,
                survey_id=survey.id,
                customer_id=customer_id,
                at=when,
                answers=checked,
                channel=channel,
                complaint_id=complaint_id,
                purchase_key=purchase_key,
                campaign=campaign,
                tier=tier,
                tags=customer.profile.tags,
            )
            uow.records.put(customer_id, SURVEY_RESPONSE, key, response_to_record(response))
            return response

        def submit() -> SurveyResponse:
            response = self.kernel.execute(
                value,
                lambda work: action(work.uow, work.customers),
                Codec(
                    response_to_record,
                    lambda uow, stored: _decoded(uow, customer_id, key, stored),
                ),
            )
            if survey.event is not None and program.rules_for(survey.event):
                event = CustomEvent(
                    type=survey.event, attributes={"survey": survey.id, "channel": channel}
                )
                self.events.record_event(
                    customer_id, event, at=when, idempotency_key=f"{key}:event"
                )
            return response

        if self.kernel.in_batch:
            return submit()
        with self.kernel.batch():  # the answers and the points they earn: both, or neither
            return submit()

    def survey_responses(
        self,
        survey_id: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        page: int = 500,
    ) -> tuple[SurveyResponse, ...]:
        """The responses to a survey received in ``[since, until)``, by customer."""
        identifier("survey_id", survey_id)
        start = None if since is None else aware("since", since)
        end = None if until is None else aware("until", until)
        count("page", page)
        found: list[SurveyResponse] = []
        after: tuple[str, str] | None = None
        while True:
            with self.kernel.reading() as uow:
                stored = uow.records.scan(SURVEY_RESPONSE, after=after, limit=page)
            if not stored:
                return tuple(found)
            for record in stored:
                response = response_from_record(record.document)
                if response.survey_id != survey_id:
                    continue
                if (start is None or response.at >= start) and (end is None or response.at < end):
                    found.append(response)
            after = (stored[-1].owner, stored[-1].id)

    def survey_scores(
        self,
        survey_id: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        by: str | None = None,
    ) -> Scores | dict[str, Scores]:
        """CSAT, NPS and CES of a survey's responses in ``[since, until)``; with ``by``
        (``tier``, ``tag``, ``channel`` or ``month``), the scores of each group."""
        survey = self.survey(survey_id)
        responses = self.survey_responses(survey_id, since=since, until=until)
        if by is None:
            return scores(survey, responses)
        return breakdown(survey, responses, by=by, zone=self.kernel.versions.latest.zone)

    def question_scores(
        self, survey_id: str, *, since: datetime | None = None, until: datetime | None = None
    ) -> tuple[QuestionScore, ...]:
        """Each rated question's mean and how many answered it, over the responses in
        ``[since, until)``."""
        survey = self.survey(survey_id)
        return question_scores(survey, self.survey_responses(survey_id, since=since, until=until))

    def satisfaction_drivers(
        self,
        survey_id: str,
        *,
        overall: str,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> tuple[Driver, ...]:
        """Which rated questions go with the ``overall`` question's rating, highest
        first (Pearson correlation over the responses; see
        :mod:`loyaltykit.domain.satisfaction` for the method and its limits)."""
        survey = self.survey(survey_id)
        responses = self.survey_responses(survey_id, since=since, until=until)
        return drivers(survey, responses, overall=overall)

    # --- invitations -------------------------------------------------------------------

    def set_survey_trigger(
        self, trigger: SurveyTrigger, *, at: datetime, idempotency_key: str
    ) -> SurveyTrigger:
        """Declare which events invite members to a published survey, and how long an
        invitation stays open (setting it again replaces it)."""
        command = SetSurveyTrigger(trigger=trigger, at=at, idempotency_key=idempotency_key)

        def action(work: Work) -> SurveyTrigger:
            chosen = command.trigger
            if work.uow.records.get(SURVEYS, SURVEY, chosen.survey_id) is None:
                raise NotFound(f"no survey with id {chosen.survey_id!r}")
            work.uow.records.put(
                SURVEYS, SURVEY_TRIGGER, chosen.survey_id, trigger_to_record(chosen)
            )
            return chosen

        return self.kernel.execute(
            command,
            action,
            Codec(trigger_to_record, lambda _uow, stored: trigger_from_record(stored)),
        )

    def invite_to_surveys(
        self,
        customer_id: CustomerId,
        event: str,
        *,
        reference: str,
        at: datetime,
        idempotency_key: str,
    ) -> tuple[SurveyInvitation, ...]:
        """Invite the member to every survey ``event`` asks for (``"stay"`` with the
        stay's key as ``reference``, ``"complaint_closed"`` with the complaint's id).
        An occasion invites once: the same event and reference again add nothing."""
        value = InviteToSurveys(
            customer_id=customer_id,
            event=event,
            reference=reference,
            at=at,
            idempotency_key=idempotency_key,
        )

        def action(work: Work) -> tuple[SurveyInvitation, ...]:
            work.customer(customer_id)
            return self._invite(work, customer_id, value.event, value.reference)

        return self.kernel.execute(
            value,
            action,
            Codec(
                lambda found: {"invitations": [invitation_to_record(i) for i in found]},
                lambda _uow, stored: tuple(
                    invitation_from_record(i) for i in stored["invitations"]
                ),
            ),
        )

    def invite_after_event(
        self, work: Work, customer_id: CustomerId, event: str, event_key: str
    ) -> tuple[SurveyInvitation, ...]:
        """What follows a recorded custom event (``record_event``), inside its unit of
        work: the invitations its type asks for, the event's key as the occasion."""
        return self._invite(work, customer_id, event, event_key)

    def invite_after_close(
        self, work: Work, customer_id: CustomerId, complaint_id: str
    ) -> tuple[SurveyInvitation, ...]:
        """What follows a closed complaint, inside the closing step's unit of work: the
        ``complaint_closed`` invitations, the case as the occasion."""
        return self._invite(work, customer_id, "complaint_closed", complaint_id)

    def _invite(
        self, work: Work, customer_id: CustomerId, event: str, reference: str
    ) -> tuple[SurveyInvitation, ...]:
        # the member is locked by the command this runs in; an occasion invites once
        uow = work.uow
        sent: list[SurveyInvitation] = []
        after: tuple[str, str] | None = None
        while batch := uow.records.scan(SURVEY_TRIGGER, after=after, limit=200):
            after = (batch[-1].owner, batch[-1].id)
            for stored in batch:
                trigger = trigger_from_record(stored.document)
                if event not in trigger.on:
                    continue
                invitation = invite(trigger, customer_id, event, reference=reference, at=work.at)
                if uow.records.get(customer_id, SURVEY_INVITATION, invitation.id) is None:
                    uow.records.put(
                        customer_id,
                        SURVEY_INVITATION,
                        invitation.id,
                        invitation_to_record(invitation),
                        due_at=invitation.expires_at,
                    )
                    sent.append(invitation)
        return tuple(sent)

    def survey_invitations(self, customer_id: CustomerId) -> tuple[SurveyInvitation, ...]:
        """The member's survey invitations, by id (see :meth:`SurveyInvitation.state`)."""
        identifier("customer id", customer_id)
        with self.kernel.reading() as uow:
            found = uow.records.of_owner(customer_id, SURVEY_INVITATION)
        return tuple(invitation_from_record(record.document) for record in found)

    def answer_survey_invitation(
        self,
        customer_id: CustomerId,
        invitation_id: str,
        answers: Mapping[str, object],
        *,
        at: datetime,
        idempotency_key: str,
        channel: str = "",
    ) -> SurveyResponse:
        """Answer an open invitation: the response is recorded (as
        :meth:`submit_survey_response` does, linked to a closed complaint when that was
        the occasion) and the invitation closed, both or neither. An invitation answered
        already or past its window is :class:`~loyaltykit.errors.InvitationClosed`."""
        value = AnswerSurveyInvitation(
            customer_id=customer_id,
            invitation_id=invitation_id,
            answers=answers,
            channel=channel,
            at=at,
            idempotency_key=idempotency_key,
        )
        response_key = derived_identifier(value.idempotency_key, "response")

        def close(work: Work) -> SurveyInvitation:
            uow = work.uow
            stored = uow.records.get(
                customer_id, SURVEY_INVITATION, value.invitation_id, for_update=True
            )
            if stored is None:
                raise NotFound(f"customer {customer_id!r} has no invitation {invitation_id!r}")
            invitation = invitation_from_record(stored.document)
            state = invitation.state(value.at)
            if state != "open":
                raise InvitationClosed(invitation.id, state)
            answered = attrs.evolve(invitation, response_id=response_key)
            uow.records.put(
                customer_id, SURVEY_INVITATION, answered.id, invitation_to_record(answered)
            )
            return answered

        def answer() -> SurveyResponse:
            invitation = self.kernel.execute(
                value,
                close,
                Codec(invitation_to_record, lambda _uow, stored: invitation_from_record(stored)),
            )
            linked = invitation.reference if invitation.trigger == "complaint_closed" else None
            return self.submit_survey_response(
                customer_id,
                invitation.survey_id,
                answers,
                at=value.at,
                idempotency_key=response_key,
                channel=channel,
                complaint_id=linked,
            )

        if self.kernel.in_batch:
            return answer()
        with self.kernel.batch():  # the answers and the closed invitation: both, or neither
            return answer()


def _decoded(
    uow: UnitOfWork, customer_id: CustomerId, key: str, record: Mapping[str, Any]
) -> SurveyResponse:
    """A replayed outcome; once erased, the response as it is now."""
    if record.get("redacted"):
        stored = uow.records.get(customer_id, SURVEY_RESPONSE, key)
        if stored is None:  # pragma: no cover - records are never deleted
            raise NotFound(f"no survey response {key!r}")
        return response_from_record(stored.document)
    return response_from_record(record)
