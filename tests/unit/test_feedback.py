"""Surveys: questions, answers checked, CSAT / NPS / CES, breakdowns, points for answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from loyaltykit import Loyalty, Profile, Program
from loyaltykit.domain.feedback import (
    Question,
    QuestionKind,
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
from loyaltykit.errors import IdempotencyConflict, InvalidArgument, NotFound
from loyaltykit.policy.rules import FixedPoints

T0 = datetime(2026, 5, 4, 9, tzinfo=UTC)

SURVEY = Survey(
    id="after-complaint",
    title="How did we handle your complaint?",
    questions=(
        Question.scale("satisfied", "How satisfied are you?", measures="csat"),
        Question.scale("effort", "How easy was it?", low=1, high=7, measures="ces"),
        Question.nps("recommend", "Would you recommend us?"),
        Question.choice("channel", "How did you reach us?", ["hotline", "app"], required=False),
        Question.free_text("comment", "Anything else?"),
    ),
)


def response(
    n: int, satisfied: int, effort: int, recommend: int, **extra: object
) -> SurveyResponse:
    arguments: dict[str, object] = {
        "id": f"r-{n}",
        "survey_id": SURVEY.id,
        "customer_id": f"c-{n}",
        "at": T0,
        "answers": SURVEY.answers(
            {"satisfied": satisfied, "effort": effort, "recommend": recommend}
        ),
    }
    arguments.update(extra)
    return SurveyResponse(**arguments)  # type: ignore[arg-type]


def test_scores_follow_their_definitions() -> None:
    answers = [(5, 2, 10), (4, 3, 9), (3, 5, 8), (2, 6, 6), (1, 7, 0)]
    found = scores(SURVEY, [response(n, *a) for n, a in enumerate(answers)])
    assert found.responses == 5
    assert found.csat == Decimal("40.0")  # 2 of 5 in the top two boxes
    assert found.ces == Decimal("4.6")  # (2+3+5+6+7)/5
    assert (found.promoters, found.passives, found.detractors) == (2, 1, 2)
    assert found.nps == Decimal("0.0")  # 40% promoters - 40% detractors
    assert scores(SURVEY, []).csat is None


def test_breakdowns_group_by_tier_tag_channel_and_month() -> None:
    responses = [
        response(1, 5, 1, 10, tier="gold", tags={"family"}, channel="app"),
        response(2, 1, 7, 0, tier="silver", tags={"family", "vip"}, channel="hotline"),
        response(3, 4, 2, 9, tags=set(), at=T0 + timedelta(days=31)),
    ]
    by_tier = breakdown(SURVEY, responses, by="tier", zone=UTC)
    assert list(by_tier) == ["gold", "none", "silver"]
    assert by_tier["gold"].nps == Decimal("100.0")
    assert by_tier["silver"].nps == Decimal("-100.0")
    by_tag = breakdown(SURVEY, responses, by="tag", zone=UTC)
    assert {tag: s.responses for tag, s in by_tag.items()} == {
        "family": 2,
        "untagged": 1,
        "vip": 1,
    }
    assert list(breakdown(SURVEY, responses, by="channel", zone=UTC)) == [
        "app",
        "hotline",
        "unknown",
    ]
    months = breakdown(SURVEY, responses, by="month", zone=UTC)
    assert {m: s.responses for m, s in months.items()} == {"2026-05": 2, "2026-06": 1}
    with pytest.raises(InvalidArgument, match="breakdown by 'colour'"):
        breakdown(SURVEY, responses, by="colour", zone=UTC)


def test_answers_are_checked_against_the_questions() -> None:
    with pytest.raises(InvalidArgument, match="'satisfied': 6 is not from 1 to 5"):
        SURVEY.answers({"satisfied": 6, "effort": 1, "recommend": 1})
    with pytest.raises(InvalidArgument, match="'recommend': is required"):
        SURVEY.answers({"satisfied": 5, "effort": 1})
    with pytest.raises(InvalidArgument, match="no questions \\['mood'\\]"):
        SURVEY.answers({"satisfied": 5, "effort": 1, "recommend": 1, "mood": "ok"})
    with pytest.raises(InvalidArgument, match="'email' is not one of"):
        SURVEY.answers({"satisfied": 5, "effort": 1, "recommend": 1, "channel": "email"})
    with pytest.raises(InvalidArgument, match="not an int rating"):
        SURVEY.answers({"satisfied": True, "effort": 1, "recommend": 1})
    with pytest.raises(InvalidArgument, match="not a string"):
        SURVEY.answers({"satisfied": 5, "effort": 1, "recommend": 1, "comment": 3})
    checked = SURVEY.answers({"recommend": 9, "satisfied": 4, "effort": 2, "comment": "ok"})
    assert [q for q, _ in checked] == ["satisfied", "effort", "recommend", "comment"]


def test_surveys_and_questions_are_validated() -> None:
    with pytest.raises(InvalidArgument, match="needs at least one question"):
        Survey(id="s", title="t", questions=())
    with pytest.raises(InvalidArgument, match="repeated"):
        Survey(id="s", title="t", questions=(Question.nps("q", "a"), Question.nps("q", "b")))
    with pytest.raises(InvalidArgument, match="nps is measured twice"):
        Survey(id="s", title="t", questions=(Question.nps("a", "a"), Question.nps("b", "b")))
    with pytest.raises(InvalidArgument, match="needs options"):
        Question.choice("q", "pick", [])
    with pytest.raises(InvalidArgument, match="csat needs a scale question"):
        Question(id="q", text="t", kind=QuestionKind.TEXT, measures="csat")
    with pytest.raises(InvalidArgument, match="is not one of"):
        Question.scale("q", "t", measures="happiness")
    with pytest.raises(InvalidArgument, match="low 5 must be below 5"):
        Question.scale("q", "t", low=5, high=5)
    with pytest.raises(InvalidArgument, match="has no question 'x'"):
        SURVEY.question("x")


def test_surveys_and_responses_survive_their_plain_data_form() -> None:
    assert survey_from_record(survey_to_record(SURVEY)) == SURVEY
    one = response(1, 5, 1, 10, tier="gold", tags={"vip"}, complaint_id="C-1")
    assert response_from_record(response_to_record(one)) == one


def facade() -> Loyalty:
    program = Program(rules=(FixedPoints(id="survey", event="survey_completed", amount=30),))
    loyalty = Loyalty(program)
    loyalty.enroll("ann", at=T0, idempotency_key="e-ann", profile=Profile(tags={"family"}))
    loyalty.enroll("ben", at=T0, idempotency_key="e-ben")
    loyalty.publish_survey(SURVEY, at=T0, idempotency_key="publish-1")
    return loyalty


def test_a_response_earns_points_by_the_programme_rules_once() -> None:
    loyalty = facade()
    answers = {"satisfied": 5, "effort": 2, "recommend": 10}
    first = loyalty.submit_survey_response(
        "ann", SURVEY.id, answers, at=T0, idempotency_key="s-1", complaint_id="C-1"
    )
    again = loyalty.submit_survey_response(
        "ann", SURVEY.id, answers, at=T0, idempotency_key="s-1", complaint_id="C-1"
    )
    assert again == first
    assert first.tags == {"family"}
    assert first.complaint_id == "C-1"
    assert loyalty.balance("ann").available == 30
    with pytest.raises(IdempotencyConflict):
        loyalty.submit_survey_response(
            "ann", SURVEY.id, {**answers, "satisfied": 1}, at=T0, idempotency_key="s-1"
        )
    assert loyalty.balance("ann").available == 30


def test_a_refused_response_stores_nothing_and_earns_nothing() -> None:
    loyalty = facade()
    with pytest.raises(InvalidArgument, match="'recommend'"):
        loyalty.submit_survey_response(
            "ann", SURVEY.id, {"satisfied": 5, "effort": 2}, at=T0, idempotency_key="s-1"
        )
    with pytest.raises(NotFound, match="no survey with id 'nope'"):
        loyalty.submit_survey_response("ann", "nope", {}, at=T0, idempotency_key="s-2")
    assert loyalty.survey_responses(SURVEY.id) == ()
    assert loyalty.balance("ann").available == 0


def test_survey_scores_through_the_facade_with_a_period_and_breakdown() -> None:
    loyalty = facade()
    for n, (customer, rating, at) in enumerate(
        [("ann", 5, T0), ("ben", 1, T0), ("ann", 4, T0 + timedelta(days=40))]
    ):
        loyalty.submit_survey_response(
            customer,
            SURVEY.id,
            {"satisfied": rating, "effort": 3, "recommend": 2 * rating},
            at=at,
            idempotency_key=f"s-{n}",
            channel="app",
        )
    overall = loyalty.survey_scores(SURVEY.id)
    assert not isinstance(overall, dict)
    assert (overall.responses, overall.csat) == (3, Decimal("66.7"))
    may = loyalty.survey_scores(SURVEY.id, until=T0 + timedelta(days=30))
    assert not isinstance(may, dict)
    assert may.csat == Decimal("50.0")
    by_tag = loyalty.survey_scores(SURVEY.id, by="tag")
    assert isinstance(by_tag, dict)
    assert by_tag["family"].csat == Decimal("100.0")
    assert by_tag["untagged"].csat == Decimal("0.0")
    assert loyalty.survey(SURVEY.id) == SURVEY


def test_erasing_a_customer_drops_their_free_text_answers() -> None:
    loyalty = facade()
    given = {"satisfied": 5, "effort": 2, "recommend": 10, "channel": "app", "comment": "I'm Ann"}
    loyalty.submit_survey_response("ann", SURVEY.id, given, at=T0, idempotency_key="s-1")
    loyalty.erase("ann", at=T0, idempotency_key="erase-ann")
    (kept,) = loyalty.survey_responses(SURVEY.id)
    assert kept.answer("comment") is None
    assert kept.answer("channel") == "app"
    assert kept.answer("satisfied") == 5
    replay = loyalty.submit_survey_response("ann", SURVEY.id, given, at=T0, idempotency_key="s-1")
    assert replay == kept
    assert loyalty.balance("ann").available == 30
