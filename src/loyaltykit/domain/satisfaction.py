"""What drives satisfaction: per-question scores, and which question moves the overall one.

:func:`question_scores` gives each rated question of a survey (a ``scale`` or ``nps``
question) its mean and the number who answered it. :func:`drivers` says which of them
goes with the overall satisfaction question (the source: find which dimensions,
environment, service, taste, drive satisfaction), by a simple, documented method:

* for each other rated question, the **Pearson correlation** of its rating with the
  overall rating, over the responses that answered both (``statistics.correlation``);
* the questions are listed highest correlation first (a negative one, a rating that
  goes against the overall one, comes after every positive one); a correlation is
  ``None`` when fewer than :data:`MIN_PAIRS` responses answered both, or when either
  rating never varied.

Its limits, to read the result by: a correlation is an association, not a cause; it
measures only a straight-line relation; questions that move together (service and
waiting time) share the credit between them; a small or one-sided sample (only the
unhappy answer) makes it unstable, so ``pairs`` is reported beside it; and ratings on
different scales are compared by correlation only, never by their raw means.

>>> from loyaltykit.domain.feedback import Question
>>> survey = Survey(id="stay", title="Your stay", questions=(
...     Question.scale("overall", "Overall?"), Question.scale("room", "Room?"),
...     Question.scale("staff", "Staff?")))
>>> from datetime import datetime, timezone
>>> def said(n, overall, room, staff):
...     return SurveyResponse(id=f"r{n}", survey_id="stay", customer_id=f"m{n}",
...         at=datetime(2026, 5, 1, tzinfo=timezone.utc),
...         answers=(("overall", overall), ("room", room), ("staff", staff)))
>>> answers = [said(1, 5, 3, 5), said(2, 2, 3, 1), said(3, 4, 4, 4), said(4, 3, 2, 3)]
>>> [(d.question_id, d.correlation) for d in drivers(survey, answers, overall="overall")]
[('staff', Decimal('0.98')), ('room', Decimal('0.32'))]
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Decimal

import attrs

from loyaltykit.domain.feedback import QuestionKind, Survey, SurveyResponse
from loyaltykit.errors import InvalidArgument

__all__ = ["MIN_PAIRS", "Driver", "QuestionScore", "drivers", "question_scores"]

MIN_PAIRS = 3
"""Fewer responses answering both questions give no correlation."""

_RATED = (QuestionKind.SCALE, QuestionKind.NPS)
_TENTH = Decimal("0.1")
_HUNDREDTH = Decimal("0.01")


@attrs.frozen(kw_only=True)
class QuestionScore:
    """A rated question's mean over those who answered it (``None`` when nobody did)."""

    question_id: str
    answered: int
    mean: Decimal | None
    low: int
    high: int


@attrs.frozen(kw_only=True)
class Driver:
    """How one question's rating goes with the overall rating: the correlation (-1 to 1,
    two places; ``None`` when it cannot be told) over ``pairs`` responses."""

    question_id: str
    correlation: Decimal | None
    pairs: int


def _ratings(survey: Survey, responses: Iterable[SurveyResponse]) -> list[dict[str, int]]:
    return [
        {qid: value for qid, value in r.answers if isinstance(value, int)}
        for r in responses
        if r.survey_id == survey.id
    ]


def question_scores(
    survey: Survey, responses: Iterable[SurveyResponse]
) -> tuple[QuestionScore, ...]:
    """Each rated question's mean (one place) and how many answered it, in survey order."""
    rows = _ratings(survey, responses)
    found: list[QuestionScore] = []
    for question in survey.questions:
        if question.kind not in _RATED:
            continue
        values = [row[question.id] for row in rows if question.id in row]
        mean = (
            (Decimal(sum(values)) / len(values)).quantize(_TENTH, ROUND_HALF_EVEN)
            if values
            else None
        )
        found.append(
            QuestionScore(
                question_id=question.id,
                answered=len(values),
                mean=mean,
                low=question.low,
                high=question.high,
            )
        )
    return tuple(found)


def drivers(
    survey: Survey, responses: Iterable[SurveyResponse], *, overall: str
) -> tuple[Driver, ...]:
    """The other rated questions by how strongly their rating goes with the ``overall``
    question's (see the module's text for the method and its limits); highest first,
    those without a correlation last."""
    question = survey.question(overall)
    if question.kind not in _RATED:
        raise InvalidArgument(f"overall: question {overall!r} is not a rating question")
    rows = _ratings(survey, responses)
    found: list[Driver] = []
    for other in survey.questions:
        if other.kind not in _RATED or other.id == overall:
            continue
        pairs = [
            (row[other.id], row[overall]) for row in rows if other.id in row and overall in row
        ]
        correlation: Decimal | None = None
        if len(pairs) >= MIN_PAIRS:
            xs, ys = [x for x, _ in pairs], [y for _, y in pairs]
            if len(set(xs)) > 1 and len(set(ys)) > 1:
                value = statistics.correlation(xs, ys)
                correlation = Decimal(str(value)).quantize(_HUNDREDTH, ROUND_HALF_EVEN)
        found.append(Driver(question_id=other.id, correlation=correlation, pairs=len(pairs)))
    return tuple(
        sorted(
            found,
            key=lambda d: (d.correlation is None, -(d.correlation or 0), d.question_id),
        )
    )
