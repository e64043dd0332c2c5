"""Feedback beyond complaints (issue 17): survey invitations with a response window,
per-question scores and satisfaction drivers, inquiries and suggestions counted apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from loyaltykit import Loyalty, Profile, SurveyTrigger
from loyaltykit.domain.feedback import Question, Survey, SurveyResponse
from loyaltykit.domain.satisfaction import drivers, question_scores
from loyaltykit.errors import InvalidArgument, InvitationClosed, NotFound
from loyaltykit.storage.base import Storage
from loyaltykit.storage.memory import MemoryStorage

T0 = datetime(2026, 5, 1, 9, tzinfo=UTC)
STAY = Survey(
    id="after-stay",
    title="Your stay",
    questions=(
        Question.scale("overall", "Overall?"),
        Question.scale("room", "Room?"),
        Question.scale("staff", "Staff?"),
        Question.free_text("comment", "Anything else?"),
    ),
    event=None,
)


@pytest.fixture(params=["memory", "sqlite"])
def storage(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Storage:
    if request.param == "memory":
        return MemoryStorage()
    from tests.databases import storage_factory

    path = tmp_path_factory.mktemp("feedback") / "loyalty.db"
    return storage_factory(f"sqlite:///{path}")()


def response(n: int, **answers: int) -> SurveyResponse:
    return SurveyResponse(
        id=f"r{n}", survey_id=STAY.id, customer_id=f"m{n}", at=T0, answers=tuple(answers.items())
    )


# --- the pure analysis ----------------------------------------------------------


def test_the_question_that_moves_with_overall_satisfaction_comes_first() -> None:
    answers = [
        response(1, overall=5, room=2, staff=5),
        response(2, overall=1, room=3, staff=1),
        response(3, overall=4, room=2, staff=4),
        response(4, overall=2, room=3, staff=2),
    ]
    found = drivers(STAY, answers, overall="overall")
    assert [(d.question_id, d.correlation, d.pairs) for d in found] == [
        ("staff", Decimal("1.00"), 4),
        ("room", Decimal("-0.95"), 4),  # -3 / sqrt(10 * 1), by hand
    ]
    means = {s.question_id: (s.mean, s.answered) for s in question_scores(STAY, answers)}
    assert means == {
        "overall": (Decimal("3.0"), 4),
        "room": (Decimal("2.5"), 4),
        "staff": (Decimal("3.0"), 4),
    }


def test_too_few_pairs_or_a_rating_that_never_varies_gives_no_correlation() -> None:
    two = [response(1, overall=5, room=2, staff=4), response(2, overall=1, room=3, staff=2)]
    assert all(d.correlation is None for d in drivers(STAY, two, overall="overall"))
    flat = [response(n, overall=n + 1, room=3, staff=n + 1) for n in range(4)]
    found = {d.question_id: d.correlation for d in drivers(STAY, flat, overall="overall")}
    assert found == {"staff": Decimal("1.00"), "room": None}
    with pytest.raises(InvalidArgument, match="not a rating question"):
        drivers(STAY, flat, overall="comment")


# --- invitations, through the facade ------------------------------------------------


def loyalty(storage: Storage) -> Loyalty:
    service = Loyalty(storage=storage)
    for name in ("ann", "bo"):
        service.enroll(name, at=T0, idempotency_key=f"e-{name}", profile=Profile())
    service.publish_survey(STAY, at=T0, idempotency_key="publish")
    service.set_survey_trigger(
        SurveyTrigger(
            survey_id=STAY.id, on={"stay", "complaint_closed"}, respond_within=timedelta(days=2)
        ),
        at=T0,
        idempotency_key="trigger",
    )
    return service


def test_an_event_invites_once_and_the_answer_closes_the_invitation(storage: Storage) -> None:
    service = loyalty(storage)
    (sent,) = service.invite_to_surveys(
        "ann", "stay", reference="b-1", at=T0, idempotency_key="stay-1"
    )
    assert (sent.id, sent.expires_at) == ("after-stay:b-1", T0 + timedelta(days=2))
    assert (
        service.invite_to_surveys("ann", "visit", reference="v-1", at=T0, idempotency_key="v") == ()
    )
    again = service.invite_to_surveys("ann", "stay", reference="b-1", at=T0, idempotency_key="s2")
    assert again == ()
    answer = {"overall": 4, "room": 4, "staff": 5}
    given = service.answer_survey_invitation(
        "ann", sent.id, answer, at=T0 + timedelta(days=1), idempotency_key="a-1"
    )
    assert given.survey_id == STAY.id and given.answer("staff") == 5
    replay = service.answer_survey_invitation(
        "ann", sent.id, answer, at=T0 + timedelta(days=1), idempotency_key="a-1"
    )
    assert replay == given
    with pytest.raises(InvitationClosed, match="answered"):
        service.answer_survey_invitation(
            "ann", sent.id, answer, at=T0 + timedelta(days=1), idempotency_key="a-2"
        )
    assert len(service.survey_responses(STAY.id)) == 1


def test_a_late_or_bad_answer_changes_nothing(storage: Storage) -> None:
    service = loyalty(storage)
    (sent,) = service.invite_to_surveys(
        "bo", "complaint_closed", reference="CMP-7", at=T0, idempotency_key="closed-7"
    )
    with pytest.raises(InvalidArgument, match="overall"):
        service.answer_survey_invitation(
            "bo", sent.id, {"overall": 9, "room": 1, "staff": 1}, at=T0, idempotency_key="bad"
        )
    assert service.survey_invitations("bo")[0].state(T0) == "open"  # rolled back together
    given = service.answer_survey_invitation(
        "bo", sent.id, {"overall": 2, "room": 1, "staff": 1}, at=T0, idempotency_key="ok"
    )
    assert given.complaint_id == "CMP-7"
    (late,) = service.invite_to_surveys("bo", "stay", reference="b-9", at=T0, idempotency_key="s9")
    with pytest.raises(InvitationClosed, match="expired"):
        service.answer_survey_invitation(
            "bo",
            late.id,
            {"overall": 2, "room": 1, "staff": 1},
            at=T0 + timedelta(days=2),
            idempotency_key="late",
        )
    assert len(service.survey_responses(STAY.id)) == 1
    with pytest.raises(NotFound):
        service.answer_survey_invitation("bo", "nope", {}, at=T0, idempotency_key="nope")


# --- inquiries and suggestions -----------------------------------------------------------


def test_inquiries_and_suggestions_are_counted_apart_from_complaints(storage: Storage) -> None:
    service = loyalty(storage)
    service.file_complaint(
        "K-1",
        customer_id="ann",
        channel="hotline",
        content="The lift was broken",
        category="service",
        at=T0,
        idempotency_key="k1",
        actor="agent-7",
    )
    service.take_inquiry(
        "Q-1",
        kind="inquiry",
        channel="hotline",
        topic="points",
        content="Do points expire?",
        customer_id="ann",
        at=T0,
        idempotency_key="q1",
    )
    for n in (1, 2):
        service.take_inquiry(
            f"S-{n}",
            kind="suggestion",
            channel="box",
            topic="menu",
            content="More tea",
            at=T0 + timedelta(hours=n),
            idempotency_key=f"s{n}",
        )
    counts = service.intake_counts(since=T0, until=T0 + timedelta(days=1))
    assert (counts.complaints, counts.inquiries, counts.suggestions) == (1, 1, 2)
    assert counts.by_channel == (("box", 0, 0, 2), ("hotline", 1, 1, 0))
    later = service.intake_counts(since=T0 + timedelta(minutes=90), until=T0 + timedelta(days=1))
    assert (later.complaints, later.inquiries, later.suggestions) == (0, 0, 1)
    answered = service.answer_inquiry(
        "Q-1", "After two years.", at=T0 + timedelta(hours=1), idempotency_key="q1a"
    )
    assert service.inquiry("Q-1") == answered and answered.state == "answered"
    assert (
        service.answer_inquiry(
            "Q-1", "After two years.", at=T0 + timedelta(hours=1), idempotency_key="q1a"
        )
        == answered
    )  # a replay
    with pytest.raises(InvalidArgument, match="answered already"):
        service.answer_inquiry("Q-1", "Again", at=T0, idempotency_key="q1b")
    with pytest.raises(InvalidArgument, match="taken already"):
        service.take_inquiry(
            "Q-1",
            kind="inquiry",
            channel="app",
            topic="x",
            content="?",
            at=T0,
            idempotency_key="dup",
        )
    with pytest.raises(InvalidArgument, match="kind"):
        service.take_inquiry(
            "Q-2",
            kind="complaint",
            channel="app",
            topic="x",
            content="?",
            at=T0,
            idempotency_key="k",
        )
    assert [
        i.id for i in service.inquiries(since=T0, until=T0 + timedelta(days=1), kind="suggestion")
    ] == [
        "S-1",
        "S-2",
    ]


def test_erasure_removes_what_a_member_wrote_but_keeps_the_counts(storage: Storage) -> None:
    service = loyalty(storage)
    service.take_inquiry(
        "Q-9",
        kind="inquiry",
        channel="app",
        topic="account",
        content="My phone is 138 0000 0000",
        customer_id="bo",
        at=T0,
        idempotency_key="q9",
    )
    service.erase("bo", at=T0 + timedelta(days=1), idempotency_key="erase-bo")
    kept = service.inquiry("Q-9")
    assert "138" not in kept.content and (kept.kind, kept.topic) == ("inquiry", "account")
    assert service.intake_counts(since=T0, until=T0 + timedelta(days=2)).inquiries == 1


# --- invitations that follow events by themselves --------------------------------


def test_a_stay_recorded_as_an_event_invites_by_itself_once(storage: Storage) -> None:
    from loyaltykit import CustomEvent

    service = loyalty(storage)
    stay = CustomEvent(type="stay", attributes={"nights": 2})
    service.record_event("ann", stay, at=T0, idempotency_key="stay-b-1")
    service.record_event("ann", stay, at=T0, idempotency_key="stay-b-1")  # a replay
    service.record_event("ann", CustomEvent(type="visit"), at=T0, idempotency_key="visit-1")
    (invitation,) = service.survey_invitations("ann")
    assert (invitation.id, invitation.trigger, invitation.reference) == (
        "after-stay:stay-b-1",
        "stay",
        "stay-b-1",
    )


def test_a_closed_complaint_invites_its_member_by_itself(storage: Storage) -> None:
    service = loyalty(storage)
    service.file_complaint(
        "K-2",
        customer_id="bo",
        channel="hotline",
        content="Room was cold",
        category="service",
        at=T0,
        idempotency_key="k2",
        actor="op",
    )
    H = timedelta(hours=1)
    service.acknowledge_complaint("K-2", at=T0 + H, idempotency_key="a", actor="op")
    service.assess_complaint(
        "K-2", severity="minor", priority="low", at=T0 + H, idempotency_key="s", actor="op"
    )
    service.investigate_complaint("K-2", at=T0 + H, idempotency_key="i", actor="bd")
    service.propose_resolution("K-2", resolution="r", at=T0 + H, idempotency_key="p", actor="bd")
    service.respond_to_complaint("K-2", at=T0 + 2 * H, idempotency_key="r", actor="op")
    assert service.survey_invitations("bo") == ()
    service.close_complaint("K-2", at=T0 + 3 * H, idempotency_key="c", actor="op")
    (invitation,) = service.survey_invitations("bo")
    assert (invitation.trigger, invitation.reference) == ("complaint_closed", "K-2")
    given = service.answer_survey_invitation(
        "bo",
        invitation.id,
        {"overall": 3, "room": 2, "staff": 4},
        at=T0 + 4 * H,
        idempotency_key="answer",
    )
    assert given.complaint_id == "K-2"


def test_long_keys_and_references_still_give_identifiers_that_fit(storage: Storage) -> None:
    from loyaltykit import CustomEvent

    service = loyalty(storage)
    key = "stay-" + "x" * 123  # 128 characters: the longest key there is
    service.record_event("ann", CustomEvent(type="stay"), at=T0, idempotency_key=key)
    (invitation,) = service.survey_invitations("ann")
    assert len(invitation.id) <= 128 and invitation.reference == key
    given = service.answer_survey_invitation(
        "ann",
        invitation.id,
        {"overall": 4, "room": 4, "staff": 4},
        at=T0,
        idempotency_key="answer-" + "y" * 121,
    )
    assert len(given.id) <= 128
