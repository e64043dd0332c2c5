"""The care API as the holiday-greetings recipe uses it passes mypy strict."""

from __future__ import annotations

from datetime import UTC, date, datetime

from loyaltykit import (
    CareAction,
    CareAssignment,
    CareConfig,
    CareRoute,
    CareSample,
    CareTrigger,
    Holiday,
    Loyalty,
    Profile,
    Program,
    SampledCall,
)


def test_the_care_day_is_typed() -> None:
    config = CareConfig(
        triggers=(
            CareTrigger(
                kind="holiday",
                points=8,
                holidays=(
                    Holiday(
                        id="spring", name="Spring Festival", dates=frozenset({date(2026, 2, 17)})
                    ),
                    Holiday(id="new-year", name="New Year", every_year="01-01"),
                ),
            ),
        ),
        assignment=CareAssignment(
            routes=(CareRoute(team="call-centre", tiers=frozenset({"diamond"})),),
            associates={"pudong": "wang-li"},
        ),
    )
    loyalty = Loyalty(Program(care=config))
    at = datetime(2026, 2, 17, 9, tzinfo=UTC)
    loyalty.enroll(
        "m-1", at=at, idempotency_key="e", profile=Profile(attributes={"region": "pudong"})
    )
    actions: tuple[CareAction, ...] = loyalty.run_due(at=at).care
    call: CareAction = loyalty.record_care_call(
        "m-1", actions[0].id, outcome="reached", note="", at=at, idempotency_key="c"
    )
    assert call.assignee == "wang-li"
    sample: CareSample = loyalty.sample_care_calls(
        "2026-02", size=1, seed="qc", at=at, idempotency_key="qc"
    )
    first: SampledCall = sample.calls[0]
    summary = loyalty.check_care_call(
        "2026-02", first.customer_id, first.action_id, passed=True, at=at, idempotency_key="k"
    )
    result: str = summary.result
    assert result == "passed"


def test_feedback_and_events_are_typed() -> None:
    from datetime import timedelta

    from loyaltykit import (
        Club,
        Driver,
        EventRoster,
        Inquiry,
        IntakeCounts,
        MemberEvent,
        QuestionScore,
        SurveyInvitation,
        SurveyTrigger,
    )
    from loyaltykit.domain.feedback import Question, Survey

    loyalty = Loyalty()
    at = datetime(2026, 5, 1, tzinfo=UTC)
    loyalty.enroll("m-1", at=at, idempotency_key="e")
    survey = Survey(id="s", title="S", questions=(Question.scale("q", "Q?"),), event=None)
    loyalty.publish_survey(survey, at=at, idempotency_key="p")
    loyalty.set_survey_trigger(
        SurveyTrigger(survey_id="s", on={"stay"}, respond_within=timedelta(days=2)),
        at=at,
        idempotency_key="t",
    )
    sent: tuple[SurveyInvitation, ...] = loyalty.invite_to_surveys(
        "m-1", "stay", reference="b-1", at=at, idempotency_key="i"
    )
    loyalty.answer_survey_invitation("m-1", sent[0].id, {"q": 4}, at=at, idempotency_key="a")
    scores: tuple[QuestionScore, ...] = loyalty.question_scores("s")
    ranked: tuple[Driver, ...] = loyalty.satisfaction_drivers("s", overall="q")
    taken: Inquiry = loyalty.take_inquiry(
        "Q-1", kind="inquiry", channel="app", topic="t", content="?", at=at, idempotency_key="q"
    )
    counts: IntakeCounts = loyalty.intake_counts(since=at, until=at + timedelta(days=1))
    loyalty.create_club(Club(id="c", name="C"), at=at, idempotency_key="c")
    event = MemberEvent(id="ev", name="Ev", starts_at=at, capacity=1)
    loyalty.create_member_event(event, at=at, idempotency_key="ev")
    roster, place = loyalty.book_event("m-1", "ev", at=at, idempotency_key="b")
    checked: EventRoster = loyalty.check_in("m-1", "ev", at=at, idempotency_key="in")
    assert scores and ranked == () and taken.state == "open" and counts.inquiries == 1
    assert place == "booked" and roster.booked == checked.booked
