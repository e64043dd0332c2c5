"""Plain-data forms of surveys and survey responses, for the record store."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from loyaltykit.domain.feedback import Question, QuestionKind, Survey, SurveyResponse

__all__ = [
    "response_from_record",
    "response_to_record",
    "survey_from_record",
    "survey_to_record",
]


def survey_to_record(survey: Survey) -> dict[str, Any]:
    """A survey as plain data."""
    return {
        "id": survey.id,
        "title": survey.title,
        "event": survey.event,
        "questions": [
            {
                "id": q.id,
                "text": q.text,
                "kind": q.kind.value,
                "low": q.low,
                "high": q.high,
                "options": list(q.options),
                "measures": q.measures,
                "required": q.required,
            }
            for q in survey.questions
        ],
    }


def survey_from_record(record: Mapping[str, Any]) -> Survey:
    """The survey :func:`survey_to_record` wrote."""
    return Survey(
        id=record["id"],
        title=record["title"],
        event=record["event"],
        questions=tuple(
            Question(
                id=q["id"],
                text=q["text"],
                kind=QuestionKind(q["kind"]),
                low=q["low"],
                high=q["high"],
                options=tuple(q["options"]),
                measures=q["measures"],
                required=q["required"],
            )
            for q in record["questions"]
        ),
    )


def response_to_record(response: SurveyResponse) -> dict[str, Any]:
    """A survey response as plain data."""
    return {
        "id": response.id,
        "survey_id": response.survey_id,
        "customer_id": response.customer_id,
        "at": response.at.isoformat(),
        "answers": [[question, answer] for question, answer in response.answers],
        "channel": response.channel,
        "complaint_id": response.complaint_id,
        "purchase_key": response.purchase_key,
        "campaign": response.campaign,
        "tier": response.tier,
        "tags": sorted(response.tags),
    }


def response_from_record(record: Mapping[str, Any]) -> SurveyResponse:
    """The response :func:`response_to_record` wrote."""
    return SurveyResponse(
        id=record["id"],
        survey_id=record["survey_id"],
        customer_id=record["customer_id"],
        at=datetime.fromisoformat(record["at"]),
        answers=tuple((question, answer) for question, answer in record["answers"]),
        channel=record["channel"],
        complaint_id=record["complaint_id"],
        purchase_key=record["purchase_key"],
        campaign=record["campaign"],
        tier=record["tier"],
        tags=frozenset(record["tags"]),
    )
