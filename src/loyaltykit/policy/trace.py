"""The engine's trace: a line per rule it considered, recorded compactly, written out when read.

A traced evaluation notes why each rule did or did not contribute, but most callers read
only the effects (a what-if, a replay, a benchmark), and the words of a line (a rate and
an amount formatted, a condition's source quoted) cost more than deciding the rule. So
the engine records a :data:`Note` per line: a :class:`TraceLine` already written, or a
tuple ``(words, rule, matched, lines, *values)``: the line's rule id, whether it matched
and its basket lines, and one of this module's ``*_words`` functions, which writes the
line's detail from the note's immutable values (the rule, the event, the points).
:func:`rendered` turns notes into the lines and :func:`text` into the text of
:meth:`~loyaltykit.policy.engine.Decision.explain`, which a
:class:`~loyaltykit.policy.engine.Decision` does when its ``trace`` or ``explain()`` is
first read: the lines are the ones an eager trace would have held::

    notes = [(unearned_words, rule.id, False, ())]  # a rule that earned nothing
    assert rendered(notes) == (
        TraceLine(rule=rule.id, matched=False, detail=f"{rule.id}: earns nothing here"),
    )
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import attrs

from loyaltykit.policy.trusted import trusted

__all__ = [
    "Note",
    "TraceLine",
    "capped_words",
    "earned_words",
    "earned_words_with",
    "excluded_words",
    "refused_words",
    "rendered",
    "scaled_words",
    "text",
    "unearned_words",
    "unmultiplied_words",
]


@attrs.frozen(kw_only=True)
class TraceLine:
    """Why a rule did or did not contribute; for a rule scoped to lines of the basket,
    ``lines`` names the lines that counted (their SKUs, ``sku#n`` for a SKU on several)."""

    rule: str
    matched: bool
    detail: str
    lines: tuple[str, ...] = ()


Note = TraceLine | tuple[Any, ...]
"""A line of a trace as the engine records it: written, or a tuple ``(words, rule,
matched, lines, *values)`` whose ``words`` (a function of the tuple) writes its detail."""

_line: Callable[[str, bool, str, tuple[str, ...]], TraceLine] = trusted(TraceLine)


def rendered(notes: Iterable[Note]) -> tuple[TraceLine, ...]:
    """The trace lines ``notes`` stand for, in order."""
    return tuple(
        [
            _line(note[1], note[2], note[0](note), note[3]) if type(note) is tuple else note  # type: ignore[misc]
            for note in notes
        ]
    )


def text(notes: Iterable[Note]) -> str:
    """The text of the lines ``notes`` stand for, one a line, ``+`` or ``-`` first (whether
    the rule matched), without writing the lines."""
    return "\n".join(
        [
            ("+ " if note[2] else "- ") + note[0](note)
            if type(note) is tuple
            else ("+ " if note.matched else "- ") + note.detail  # type: ignore[union-attr]
            for note in notes
        ]
    )


# each takes its own note; every value in it is immutable, so a line written late is the
# line an eager trace would have written


def excluded_words(note: tuple[Any, ...]) -> str:
    """``(excluded_words, rule, False, (), by)``: an exclusive rule ``by`` stopped ``rule``."""
    return f"{note[1]}: excluded by {note[4]}"


def refused_words(note: tuple[Any, ...]) -> str:
    """``(refused_words, rule, False, (), the_rule)``: the rule's condition is not met."""
    return f"{note[1]}: condition not met: {note[4].condition.source}"


def unearned_words(note: tuple[Any, ...]) -> str:
    """``(unearned_words, rule, False, ())``: an additive rule earns nothing on the event."""
    return f"{note[1]}: earns nothing here"


def earned_words(note: tuple[Any, ...]) -> str:
    """``(earned_words, rule, True, (), the_rule, event, points)``: an additive rule
    earned ``points`` (its own words, :meth:`EarningRule.explain`)."""
    words: str = note[4].explain(note[5], note[6])
    return words


def earned_words_with(note: tuple[Any, ...]) -> str:
    """``(earned_words_with, rule, True, lines, the_rule, event, points, more)``:
    :func:`earned_words` with ``more`` words after the rule's (a referrer's reward) and
    the basket ``lines`` that counted."""
    detail: str = note[4].explain(note[5], note[6]) + note[7]
    lines = note[3]
    if lines:
        detail += f" [lines {', '.join(lines)}]"
    return detail


def unmultiplied_words(note: tuple[Any, ...]) -> str:
    """``(unmultiplied_words, rule, False, ())``: a multiplier found no points before it."""
    return f"{note[1]}: nothing to multiply"


def scaled_words(note: tuple[Any, ...]) -> str:
    """``(scaled_words, rule, True, (), factor, total)``: a multiplier (on the whole
    event) of ``factor`` made ``total``."""
    return f"{note[1]}: x{note[4].normalize():f} -> {note[5]:f}"


def capped_words(note: tuple[Any, ...]) -> str:
    """``(capped_words, cap, True, (), the_cap, used, room)``: a cap on the whole event's
    points, ``used`` of it spent in its period, clipped them to ``room``."""
    cap = note[4]
    return f"{note[1]}: {cap.period} cap {cap.limit}, {note[5]} used -> {note[6]}"
