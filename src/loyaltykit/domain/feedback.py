"""Satisfaction surveys (满意度调查): questions, responses, and the usual scores.

A :class:`Survey` asks :class:`Question` s of four kinds: a rating ``scale`` (1-5 by
default), an ``nps`` question (0-10, "how likely are you to recommend us"), a ``choice``
among options and free ``text``. A question may *measure* one of the scores:

* **CSAT**: the share of ratings in the top two boxes of the scale (4 and 5 of 1-5),
  as a percentage;
* **NPS**: the percentage of promoters (9-10) minus the percentage of detractors (0-6);
* **CES**: the mean customer-effort rating (lower is easier, on the scale asked).

:func:`scores` computes them over responses; :func:`breakdown` groups responses by
tier, tag (segment), channel or month first. Responses keep the respondent's tier and
tags as they were when they answered, so a breakdown shows how each segment felt then.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import datetime, tzinfo
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import attrs

from loyaltykit.errors import InvalidArgument
from loyaltykit.values import (
    MAX_TEXT_LENGTH,
    CustomerId,
    aware,
    codes,
    count,
    identifier,
    instance_of,
    sequence_of,
    text,
    utc,
)

__all__ = [
    "BREAKDOWNS",
    "MEASURES",
    "Question",
    "QuestionKind",
    "Scores",
    "Survey",
    "SurveyResponse",
    "breakdown",
    "scores",
]

MEASURES = ("csat", "nps", "ces")
BREAKDOWNS = ("tier", "tag", "channel", "month")
Answer = int | str


class QuestionKind(enum.Enum):
    """What a question asks for."""

    SCALE = "scale"
    NPS = "nps"
    CHOICE = "choice"
    TEXT = "text"


def _id(what: str) -> Any:
    return lambda _i, _a, value: identifier(what, value)


def _options(value: Iterable[str]) -> tuple[str, ...]:
    return sequence_of("question options", value, str)


@attrs.frozen(kw_only=True)
class Question:
    """One question of a survey. Build with :meth:`scale`, :meth:`nps`, :meth:`choice`
    or :meth:`free_text`."""

    id: str = attrs.field(validator=_id("question id"))
    text: str = attrs.field(
        validator=lambda _i, _a, value: text("question text", value, max_len=MAX_TEXT_LENGTH)
    )
    kind: QuestionKind = attrs.field(
        validator=lambda _i, _a, value: instance_of("question kind", value, QuestionKind)
    )
    low: int = attrs.field(
        default=1, validator=lambda _i, _a, value: count("low", value, minimum=-1000, maximum=1000)
    )
    high: int = attrs.field(
        default=5, validator=lambda _i, _a, value: count("high", value, minimum=-1000, maximum=1000)
    )
    options: tuple[str, ...] = attrs.field(default=(), converter=_options)
    measures: str | None = None
    required: bool = True

    def __attrs_post_init__(self) -> None:
        if self.kind is QuestionKind.NPS and (self.low, self.high) != (0, 10):
            raise InvalidArgument(f"question {self.id!r}: an NPS question is rated 0 to 10")
        if self.kind in (QuestionKind.SCALE, QuestionKind.NPS) and not self.low < self.high:
            raise InvalidArgument(f"question {self.id!r}: low {self.low} must be below {self.high}")
        if self.kind is QuestionKind.CHOICE and not self.options:
            raise InvalidArgument(f"question {self.id!r}: a choice question needs options")
        if self.measures is not None:
            if self.measures not in MEASURES:
                raise InvalidArgument(
                    f"question {self.id!r}: measures {self.measures!r} is not one of {MEASURES}"
                )
            wanted = QuestionKind.NPS if self.measures == "nps" else QuestionKind.SCALE
            if self.kind is not wanted:
                raise InvalidArgument(
                    f"question {self.id!r}: {self.measures} needs a {wanted.value} question"
                )

    @classmethod
    def scale(
        cls,
        id: str,
        text: str,
        *,
        low: int = 1,
        high: int = 5,
        measures: str | None = None,
        required: bool = True,
    ) -> Question:
        """A rating from ``low`` to ``high``; ``measures="csat"`` or ``"ces"`` to score it."""
        return cls(
            id=id,
            text=text,
            kind=QuestionKind.SCALE,
            low=low,
            high=high,
            measures=measures,
            required=required,
        )

    @classmethod
    def nps(cls, id: str, text: str, *, required: bool = True) -> Question:
        """The 0-10 "would you recommend us" question; it measures NPS."""
        return cls(
            id=id,
            text=text,
            kind=QuestionKind.NPS,
            low=0,
            high=10,
            measures="nps",
            required=required,
        )

    @classmethod
    def choice(
        cls,
        id: str,
        text: str,
        options: Iterable[str],
        *,
        required: bool = True,
    ) -> Question:
        """One of ``options``."""
        return cls(
            id=id, text=text, kind=QuestionKind.CHOICE, options=_options(options), required=required
        )

    @classmethod
    def free_text(cls, id: str, text: str, *, required: bool = False) -> Question:
        """Free text (optional unless said otherwise)."""
        return cls(id=id, text=text, kind=QuestionKind.TEXT, required=required)

    def check(self, value: object) -> Answer:
        """``value`` if it answers this question, else :class:`InvalidArgument`."""
        if self.kind in (QuestionKind.SCALE, QuestionKind.NPS):
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidArgument(f"answer {self.id!r}: {value!r} is not an int rating")
            if not self.low <= value <= self.high:
                raise InvalidArgument(
                    f"answer {self.id!r}: {value} is not from {self.low} to {self.high}"
                )
            return value
        if not isinstance(value, str):
            raise InvalidArgument(f"answer {self.id!r}: {value!r} is not a string")
        if self.kind is QuestionKind.CHOICE and value not in self.options:
            raise InvalidArgument(
                f"answer {self.id!r}: {value!r} is not one of {list(self.options)}"
            )
        if len(value) > 5000:
            raise InvalidArgument(f"answer {self.id!r}: more than 5000 characters")
        return value


def _questions(value: Iterable[Question]) -> tuple[Question, ...]:
    questions = sequence_of("questions", value, Question)
    for question in questions:
        if not isinstance(question, Question):
            raise InvalidArgument(f"questions: {question!r} is not a loyaltykit Question")
    return questions


def _tags(value: Iterable[str]) -> frozenset[str]:
    return codes("response tags", value)


@attrs.frozen(kw_only=True)
class Survey:
    """A questionnaire. ``event`` is the custom event type recorded for the programme's
    rules when a customer answers it (``None``: answering earns nothing)."""

    id: str = attrs.field(validator=_id("survey id"))
    title: str
    questions: tuple[Question, ...] = attrs.field(converter=_questions)
    event: str | None = "survey_completed"

    def __attrs_post_init__(self) -> None:
        if not self.questions:
            raise InvalidArgument(f"survey {self.id!r}: a survey needs at least one question")
        ids = [q.id for q in self.questions]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise InvalidArgument(f"survey {self.id!r}: question ids {duplicates} are repeated")
        for measure in MEASURES:
            if sum(1 for q in self.questions if q.measures == measure) > 1:
                raise InvalidArgument(f"survey {self.id!r}: {measure} is measured twice")
        if self.event is not None:
            identifier("survey event", self.event)

    def question(self, question_id: str) -> Question:
        """The question with this id."""
        for question in self.questions:
            if question.id == question_id:
                return question
        raise InvalidArgument(f"survey {self.id!r} has no question {question_id!r}")

    def answers(self, given: Mapping[str, object]) -> tuple[tuple[str, Answer], ...]:
        """The answers checked against the questions, in question order."""
        known = {q.id for q in self.questions}
        unknown = sorted(set(given) - known)
        if unknown:
            raise InvalidArgument(f"survey {self.id!r} has no questions {unknown}")
        checked: list[tuple[str, Answer]] = []
        for question in self.questions:
            if question.id not in given:
                if question.required:
                    raise InvalidArgument(f"answer {question.id!r}: is required")
                continue
            checked.append((question.id, question.check(given[question.id])))
        return tuple(checked)

    def measured_by(self, measure: str) -> Question | None:
        """The question measuring ``measure`` (csat, nps, ces), if any."""
        return next((q for q in self.questions if q.measures == measure), None)


@attrs.frozen(kw_only=True)
class SurveyResponse:
    """A customer's answers, linked to what they answered about (a complaint, a
    purchase by its idempotency key, a campaign), with their tier and tags then."""

    id: str
    survey_id: str
    customer_id: CustomerId
    at: datetime = attrs.field(converter=utc, validator=lambda _i, _a, v: aware("at", v))
    answers: tuple[tuple[str, Answer], ...]
    channel: str = ""
    complaint_id: str | None = None
    purchase_key: str | None = None
    campaign: str | None = None
    tier: str | None = None
    tags: frozenset[str] = attrs.field(default=frozenset(), converter=_tags)

    def answer(self, question_id: str) -> Answer | None:
        """The answer to ``question_id``, or ``None`` if it was skipped."""
        return dict(self.answers).get(question_id)


@attrs.frozen(kw_only=True)
class Scores:
    """Scores over some responses; a score is ``None`` when nobody answered its
    question. Percentages and means have one decimal place."""

    responses: int
    csat: Decimal | None = None
    nps: Decimal | None = None
    ces: Decimal | None = None
    promoters: int = 0
    passives: int = 0
    detractors: int = 0


_TENTH = Decimal("0.1")


def _ratio(part: int, whole: int) -> Decimal:
    return (Decimal(part) * 100 / Decimal(whole)).quantize(_TENTH, ROUND_HALF_EVEN)


def scores(survey: Survey, responses: Iterable[SurveyResponse]) -> Scores:
    """CSAT, NPS and CES of ``responses`` to ``survey`` (see the module docs)."""
    chosen = [r for r in responses if r.survey_id == survey.id]
    values: dict[str, list[int]] = {}
    for measure in MEASURES:
        question = survey.measured_by(measure)
        if question is None:
            continue
        values[measure] = [
            answer for r in chosen if isinstance(answer := r.answer(question.id), int)
        ]
    csat = ces = nps = None
    promoters = passives = detractors = 0
    rated = values.get("csat")
    if rated:
        question = survey.measured_by("csat")
        assert question is not None
        satisfied = sum(1 for v in rated if v >= question.high - 1)
        csat = _ratio(satisfied, len(rated))
    effort = values.get("ces")
    if effort:
        ces = (Decimal(sum(effort)) / len(effort)).quantize(_TENTH, ROUND_HALF_EVEN)
    recommend = values.get("nps")
    if recommend:
        promoters = sum(1 for v in recommend if v >= 9)
        detractors = sum(1 for v in recommend if v <= 6)
        passives = len(recommend) - promoters - detractors
        nps = _ratio(promoters, len(recommend)) - _ratio(detractors, len(recommend))
    return Scores(
        responses=len(chosen),
        csat=csat,
        nps=nps,
        ces=ces,
        promoters=promoters,
        passives=passives,
        detractors=detractors,
    )


def _groups(response: SurveyResponse, by: str, zone: tzinfo) -> Iterable[str]:
    if by == "tier":
        return (response.tier or "none",)
    if by == "tag":
        return sorted(response.tags) or ("untagged",)
    if by == "channel":
        return (response.channel or "unknown",)
    return (response.at.astimezone(zone).strftime("%Y-%m"),)


def breakdown(
    survey: Survey, responses: Iterable[SurveyResponse], *, by: str, zone: tzinfo
) -> dict[str, Scores]:
    """:func:`scores` per tier, tag (a response counts under each of its tags),
    channel or month (in ``zone``), sorted by group."""
    if by not in BREAKDOWNS:
        raise InvalidArgument(f"breakdown by {by!r}: expected one of {list(BREAKDOWNS)}")
    grouped: dict[str, list[SurveyResponse]] = {}
    for response in responses:
        for group in _groups(response, by, zone):
            grouped.setdefault(group, []).append(response)
    return {group: scores(survey, grouped[group]) for group in sorted(grouped)}
