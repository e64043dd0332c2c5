"""What a programme promises about itself, as data the test battery checks.

A :class:`Promises` value sits in the program (the ``[promises]`` table of its TOML)::

    [promises]
    monotone = true                         # spending more never earns fewer points
    split_safe = true                       # two purchases never earn more than one of both
    exclusive = [["welcome", "member-day"]] # at most one rule of each group per event

:func:`loyaltykit.testing.check_program` checks these promises instead of guessing what
the programme meant; a programme that gives a fixed bonus per visit, say, is honestly
not ``split_safe`` and says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from loyaltykit.errors import InvalidArgument

__all__ = ["Promises"]


def _groups(value: Iterable[Iterable[str]]) -> tuple[tuple[str, ...], ...]:
    if isinstance(value, str):
        raise InvalidArgument(f"promises.exclusive: {value!r} is not a list of groups of rule ids")
    groups = []
    for index, group in enumerate(value):
        if isinstance(group, str):
            raise InvalidArgument(
                f"promises.exclusive[{index}]: {group!r} is not a list of rule ids"
            )
        ids = tuple(group)
        if len(ids) < 2 or len(set(ids)) != len(ids):
            raise InvalidArgument(
                f"promises.exclusive[{index}]: {list(ids)!r} needs two or more distinct rule ids"
            )
        for rule_id in ids:
            if not isinstance(rule_id, str):
                raise InvalidArgument(f"promises.exclusive[{index}]: {rule_id!r} is not a rule id")
        groups.append(ids)
    return tuple(groups)


def _flag(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, bool):
        raise InvalidArgument(f"promises.{attribute.name}: {value!r} is not true or false")


@attrs.frozen(kw_only=True)
class Promises:
    """The properties a programme declares it keeps.

    ``monotone``: for the same member and moment, a purchase of more money (or more
    units) never earns fewer points of any point type. ``split_safe``: recording a
    basket as two purchases never earns more than recording it once (rounding cannot
    mint points). Both hold for most programmes and default to true; a programme with a
    fixed bonus per purchase, a one-off spend threshold or a "small basket" bonus sets
    them false. ``exclusive``: groups of rule ids of which at most one may fire for any
    one event (the rule ids must exist in the program).

    >>> Promises(exclusive=[["welcome", "member-day"]]).exclusive
    (('welcome', 'member-day'),)
    """

    monotone: bool = attrs.field(default=True, validator=_flag)
    split_safe: bool = attrs.field(default=True, validator=_flag)
    exclusive: tuple[tuple[str, ...], ...] = attrs.field(default=(), converter=_groups)

    def unknown_rules(self, rule_ids: Iterable[str]) -> list[str]:
        """The rule ids the exclusive groups name that are not among ``rule_ids``."""
        known = set(rule_ids)
        return sorted({i for group in self.exclusive for i in group if i not in known})


PROMISE_KEYS = ("monotone", "split_safe", "exclusive")
