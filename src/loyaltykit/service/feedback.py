"""Surveys through the facade: publish a survey, record answers, score them.

A response is a record of kind ``survey_response`` owned by the customer, keyed by
its idempotency key. When the survey names an ``event`` and the programme has rules
for it, the response also goes through :meth:`~loyaltykit.Loyalty.record_event` in the
same transaction, so answering a survey earns points by the programme's own rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

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
from loyaltykit.errors import NotFound
from loyaltykit.service import postings
from loyaltykit.service.commands import PublishSurvey, SubmitSurveyResponse
from loyaltykit.service.events import EventCommands
from loyaltykit.service.kernel import Codec, Kernel, Work
from loyaltykit.storage.base import UnitOfWork
from loyaltykit.values import CustomerId, aware, identifier, points_amount

__all__ = ["SURVEY", "SURVEYS", "SURVEY_RESPONSE", "FeedbackCommands"]

SURVEY = "survey"
SURVEY_RESPONSE = "survey_response"
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
        with self.kernel.unit() as uow:
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
            status = postings.tier_status(uow, customer_id)
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
    ) -> list[SurveyResponse]:
        """The responses to a survey received in ``[since, until)``, by customer."""
        identifier("survey_id", survey_id)
        start = None if since is None else aware("since", since)
        end = None if until is None else aware("until", until)
        points_amount("page", page)
        found: list[SurveyResponse] = []
        after: tuple[str, str] | None = None
        while True:
            with self.kernel.unit() as uow:
                stored = uow.records.scan(SURVEY_RESPONSE, after=after, limit=page)
            if not stored:
                return found
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
