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

import attrs

from loyaltykit.domain.activity import CustomEvent
from loyaltykit.domain.customer import Customer
from loyaltykit.domain.feedback import (
    QuestionKind,
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
from loyaltykit.errors import InvalidArgument, NotFound
from loyaltykit.service.events import EventCommands
from loyaltykit.service.pipeline import _tier_status
from loyaltykit.storage.base import UnitOfWork
from loyaltykit.values import CustomerId, aware, identifier, points_amount

__all__ = ["SURVEY", "SURVEYS", "SURVEY_RESPONSE", "FeedbackCommands"]

SURVEY = "survey"
SURVEY_RESPONSE = "survey_response"
SURVEYS = "survey:catalog"
"""The partition that owns the published surveys."""


class FeedbackCommands(EventCommands):
    """Surveys and their scores (CSAT, NPS, CES)."""

    def publish_survey(self, survey: Survey, *, at: datetime, idempotency_key: str) -> Survey:
        """Store ``survey`` so that responses can be checked and scored against it.
        Publishing another survey under the same id replaces it (a new version)."""
        if not isinstance(survey, Survey):
            raise InvalidArgument(f"survey: {survey!r} is not a loyaltykit Survey")
        when = aware("at", at)
        record = survey_to_record(survey)

        def action(uow: UnitOfWork, _customers: dict[CustomerId, Customer]) -> Survey:
            uow.records.put(SURVEYS, SURVEY, survey.id, record)
            return survey

        return self._run(
            "publish_survey",
            SURVEYS,
            identifier("idempotency_key", idempotency_key),
            record,
            action,
            survey_to_record,
            lambda _uow, stored: survey_from_record(stored),
            at=when,
        )

    def survey(self, survey_id: str) -> Survey:
        """A published survey; raises :class:`~loyaltykit.errors.NotFound`."""
        with self._unit() as uow:
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
        when = aware("at", at)
        key = identifier("idempotency_key", idempotency_key)
        survey = self.survey(survey_id)
        checked = survey.answers(answers)
        for what, value in (
            ("complaint_id", complaint_id),
            ("purchase_key", purchase_key),
            ("campaign", campaign),
        ):
            if value is not None:
                identifier(what, value)
        if channel:
            identifier("channel", channel)
        program = self.versions.at(when)

        def action(uow: UnitOfWork, customers: dict[CustomerId, Customer]) -> SurveyResponse:
            customer = customers[customer_id]
            status = _tier_status(uow, customer_id)
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

        arguments: dict[str, Any] = {
            "survey": survey.id,
            "answers": [list(pair) for pair in checked],
            "channel": channel,
            "complaint": complaint_id,
            "purchase": purchase_key,
            "campaign": campaign,
        }

        def submit() -> SurveyResponse:
            response = self._run(
                "submit_survey_response",
                customer_id,
                key,
                arguments,
                action,
                response_to_record,
                lambda uow, stored: _decoded(uow, customer_id, key, stored),
                at=when,
                lock=(customer_id,),
            )
            if survey.event is not None and program.rules_for(survey.event):
                event = CustomEvent(
                    type=survey.event, attributes={"survey": survey.id, "channel": channel}
                )
                self.record_event(customer_id, event, at=when, idempotency_key=f"{key}:event")
            return response

        if self._batch.get() is not None:
            return submit()
        with self.batch():  # the answers and the points they earn: both, or neither
            return submit()

    def _event_payload(self, command: str, outcome: Mapping[str, Any]) -> Mapping[str, Any]:
        """A survey response event names the response, never its answers."""
        if command != "submit_survey_response":
            return super()._event_payload(command, outcome)
        keep = ("id", "survey_id", "customer_id", "at", "channel", "complaint_id", "campaign")
        return {name: outcome.get(name) for name in keep}

    def _erase_records(self, uow: UnitOfWork, customer_id: CustomerId) -> None:
        """Drop the free-text answers of the customer's survey responses, and the profile
        tags copied into them (the responses then count as untagged)."""
        for stored in uow.records.of_owner(customer_id, SURVEY_RESPONSE):
            response = response_from_record(stored.document)
            choices = _choices(uow, response.survey_id)
            kept = tuple(
                (q, a) for q, a in response.answers if not isinstance(a, str) or q in choices
            )
            uow.records.put(
                customer_id,
                SURVEY_RESPONSE,
                stored.id,
                response_to_record(attrs.evolve(response, answers=kept, tags=frozenset())),
            )
        uow.idempotency.redact(customer_id, {"submit_survey_response"})
        super()._erase_records(uow, customer_id)

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
            with self._unit() as uow:
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
        return breakdown(survey, responses, by=by, zone=self.program.zone)


def _choices(uow: UnitOfWork, survey_id: str) -> set[str]:
    """The ids of a survey's choice questions (their answers are not free text)."""
    stored = uow.records.get(SURVEYS, SURVEY, survey_id)
    if stored is None:
        return set()
    survey = survey_from_record(stored.document)
    return {q.id for q in survey.questions if q.kind is QuestionKind.CHOICE}


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
