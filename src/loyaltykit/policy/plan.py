"""A programme compiled once for evaluation: what the engine would otherwise work out again
on every event.

:func:`plan_of` builds a :class:`Plan` the first time a programme (one version) is
evaluated and keeps it as long as the programme lives: for each event type, the rules
that react to it in evaluation order, each with its condition and its kind resolved
(:class:`Step`), for each point type the caps that limit it, and the condition variables
the rules' conditions read (:data:`Reads`: the engine builds only those per event). The
engine walks the
plan; a new rule feature (a scope on basket lines, a new kind) is resolved here, in
:func:`_step`, once, rather than tested on every event.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, tzinfo
from typing import Any

import attrs
from dateutil.relativedelta import relativedelta

from loyaltykit.policy.conditions import Condition
from loyaltykit.policy.program import PointType, Program
from loyaltykit.policy.rules import Cap, EarningRule, Multiplier, Referral

__all__ = ["Plan", "Reads", "Step", "plan_of"]

Reads = Mapping[str, frozenset[str] | None]
"""The condition variables a plan's conditions read: for each root (``event``,
``customer``...), the fields read, or ``None`` when the root itself is read whole."""


@attrs.frozen(kw_only=True)
class Step:
    """One rule as the engine applies it: the rule, its condition's test (``None`` when it
    has none) and its kind, resolved once."""

    rule: EarningRule
    test: Callable[[Mapping[str, Any]], bool] | None
    multiplier: bool
    referral: bool
    scoped: bool = False
    """The rule sees only some lines of a basket (it has a scope)."""


@attrs.frozen(kw_only=True)
class Plan:
    """A programme resolved for evaluation (see the module's text)."""

    steps: Mapping[str, tuple[Step, ...]]
    caps: Mapping[str, tuple[Cap, ...]]
    reads_shares: bool = False
    """A multiplier or a cap is scoped to lines: the engine keeps what each line earned."""
    reads: Reads | None = None
    """The variables the conditions read, ``None`` for all of them (a condition written as
    a Python callable, which may read anything; a programme with campaigns, whose
    audiences read the customer)."""
    scoped_caps: bool = False
    """A cap is scoped to lines."""
    daily_keys: frozenset[str] = frozenset()
    """The point types whose caps all key their counters by :meth:`Cap.counter` (by a
    period of a day or longer; a subclass may key by the hour)."""
    zone: tzinfo = UTC
    """The programme's time zone, resolved once."""
    point_types: Mapping[str, PointType] = attrs.field(factory=dict)
    """The programme's point types by code."""
    pending_for: relativedelta | None = None
    """How long a purchase's points stay pending (:attr:`Program.pending_for`)."""
    _keys: dict[str, tuple[date, tuple[str | None, ...]]] = attrs.field(
        init=False, factory=dict, eq=False, repr=False
    )

    def steps_for(self, event_type: str) -> tuple[Step, ...]:
        """The steps of the rules reacting to ``event_type``, in evaluation order (none
        for an event type no rule names)."""
        return self.steps.get(event_type, ())

    def caps_for(self, point_type: str) -> tuple[Cap, ...]:
        """The caps on ``point_type``, in declaration order."""
        return self.caps.get(point_type, ())

    def cap_keys(self, point_type: str, local: datetime) -> tuple[str | None, ...]:
        """The counter key of each cap on ``point_type`` for the periods containing
        ``local`` (:meth:`Cap.counter`), in :meth:`caps_for`'s order. Keys of periods of
        a day or longer (:attr:`daily_keys`) are kept for the last local day seen."""
        if point_type not in self.daily_keys:
            return tuple(cap.counter(local) for cap in self.caps_for(point_type))
        day = local.date()
        found = self._keys.get(point_type)
        if found is not None and found[0] == day:
            return found[1]
        keys = tuple(cap.counter(local) for cap in self.caps_for(point_type))
        self._keys[point_type] = (day, keys)
        return keys


def _step(rule: EarningRule) -> Step:
    condition = rule.condition
    test = None
    if condition is not None:
        # a Condition's compiled test; a subclass or another Check, its evaluate
        test = condition.test if type(condition) is Condition else condition.evaluate
    return Step(
        rule=rule,
        test=test,
        multiplier=isinstance(rule, Multiplier),
        referral=isinstance(rule, Referral),
        scoped=rule.rule_scope is not None,
    )


def _compile(program: Program) -> Plan:
    types = {rule.event for rule in program.rules}
    caps: dict[str, tuple[Cap, ...]] = {}
    for cap in program.caps:
        caps[cap.point_type] = (*caps.get(cap.point_type, ()), cap)
    reads_shares = any(cap.scope is not None for cap in program.caps) or any(
        isinstance(rule, Multiplier) and rule.scope is not None for rule in program.rules
    )
    return Plan(
        steps={event: tuple(_step(rule) for rule in program.rules_for(event)) for event in types},
        caps=caps,
        reads_shares=reads_shares,
        reads=_reads(program),
        scoped_caps=any(cap.scope is not None for cap in program.caps),
        daily_keys=frozenset(
            point_type
            for point_type, found in caps.items()
            if all(type(cap).counter is Cap.counter for cap in found)
        ),
        zone=program.zone,
        point_types={kind.code: kind for kind in program.point_types},
        pending_for=program.pending_for,
    )


def _reads(program: Program) -> Reads | None:
    """The variables ``program``'s rule conditions read (see :attr:`Plan.reads`)."""
    if program.campaigns:
        return None
    fields: dict[str, set[str] | None] = {}
    for rule in program.rules:
        condition = rule.condition
        if condition is None:
            continue
        if type(condition) is not Condition:  # a subclass may read what it likes
            return None
        for name in condition.names:
            root, _, rest = name.partition(".")
            read = fields.setdefault(root, set())
            if not rest:
                fields[root] = None
            elif read is not None:
                read.add(rest.split(".")[0])
    return {root: None if read is None else frozenset(read) for root, read in fields.items()}


# by the programme's identity (a programme's hash would walk all of it): the plan and a
# weak reference that tells a programme from a later one given the same id
_PLANS: dict[int, tuple[weakref.ref[Program], Plan]] = {}


def plan_of(program: Program) -> Plan:
    """The plan of ``program``, compiled on first use and kept while the programme lives
    (programmes are immutable values, so the plan never goes stale)."""
    found = _PLANS.get(id(program))
    if found is not None and found[0]() is program:
        return found[1]
    plan = _compile(program)
    key = id(program)
    _PLANS[key] = (weakref.ref(program, lambda gone: _forget(key, gone)), plan)
    return plan


def _forget(key: int, gone: weakref.ref[Program]) -> None:
    # only the dead programme's own entry: a later programme may have its id already
    found = _PLANS.get(key)
    if found is not None and found[0] is gone:
        del _PLANS[key]
