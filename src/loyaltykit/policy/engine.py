"""The policy engine: ``Program + CustomerState + Event + at -> Decision``.

:meth:`PolicyEngine.evaluate` is pure: no I/O, no clock, no randomness. The
:class:`Decision` lists the effects the service applies in one unit of work (points to
earn, counters to increment) and a trace that explains every rule it considered::

    decision = PolicyEngine().evaluate(program, state, purchase, at)
    print(decision.explain())
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from loyaltykit.domain.activity import CustomEvent, Purchase
from loyaltykit.domain.customer import Customer
from loyaltykit.policy.program import Program
from loyaltykit.policy.rules import EarningRule, Multiplier, Referral, RuleState
from loyaltykit.values import CustomerId, aware

__all__ = ["CounterIncrement", "CustomerState", "Decision", "Earn", "PolicyEngine", "TraceLine"]

Event = Purchase | CustomEvent


@attrs.frozen(kw_only=True)
class CustomerState:
    """What the engine may know about a customer when an event arrives."""

    customer: Customer
    tier: str | None = None
    counters: Mapping[str, int] = attrs.field(factory=dict)
    purchases: int = 0


@attrs.frozen(kw_only=True)
class Earn:
    """Points to grant: a new lot on ``customer_id``'s ``point_type`` account."""

    customer_id: CustomerId
    point_type: str
    points: int
    expires_at: datetime | None = None
    available_from: datetime | None = None
    rules: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class CounterIncrement:
    """A stored counter (a cap's usage in a period) to increase."""

    key: str
    amount: int


Effect = Earn | CounterIncrement


@attrs.frozen(kw_only=True)
class TraceLine:
    """Why a rule did or did not contribute."""

    rule: str
    matched: bool
    detail: str


@attrs.frozen(kw_only=True)
class Decision:
    """The effects of an event and the trace that explains them."""

    effects: tuple[Effect, ...]
    trace: tuple[TraceLine, ...]

    def points(self, point_type: str = "points", customer_id: CustomerId | None = None) -> int:
        """Points the decision grants of ``point_type`` (to ``customer_id`` if given)."""
        return sum(
            effect.points
            for effect in self.effects
            if isinstance(effect, Earn)
            and effect.point_type == point_type
            and (customer_id is None or effect.customer_id == customer_id)
        )

    def explain(self) -> str:
        """The trace as readable text, one rule per line."""
        lines = []
        for line in self.trace:
            mark = "+" if line.matched else "-"
            lines.append(f"{mark} {line.detail}")
        return "\n".join(lines)


def condition_context(
    program: Program, state: CustomerState, event: Event, at: datetime
) -> dict[str, Any]:
    """The variables a condition sees: ``event``, ``customer``, ``counters`` and ``at``."""
    customer = state.customer
    profile = customer.profile
    local = at.astimezone(program.zone)
    return {
        "event": event.context(),
        "customer": {
            **dict(profile.attributes),
            "id": customer.id,
            "tier": state.tier,
            "tags": profile.tags,
            "birthday": profile.birthday,
            "channel": profile.preferred_channel,
            "status": customer.status.value,
            "enrolled_at": customer.enrolled_at,
            "purchases": state.purchases,
        },
        "counters": dict(state.counters),
        "at": local,
    }


class PolicyEngine:
    """Evaluates a program's earning rules and caps for one event. Stateless and pure."""

    def evaluate(
        self, program: Program, state: CustomerState, event: Event, at: datetime
    ) -> Decision:
        """The decision for ``event`` happening at ``at`` to ``state.customer``."""
        at = aware("at", at)
        context = condition_context(program, state, event, at)
        facts = RuleState(
            purchases_before=state.purchases,
            tier=state.tier,
            referred_by=state.customer.referred_by,
        )
        running: dict[str, Decimal] = {}
        fired: dict[str, list[str]] = {}
        trace: list[TraceLine] = []
        referrer_points = 0
        referral_rules: list[str] = []
        excluded_by: str | None = None
        for rule in program.rules_for(event.type):
            if excluded_by is not None:
                trace.append(
                    TraceLine(
                        rule=rule.id, matched=False, detail=f"{rule.id}: excluded by {excluded_by}"
                    )
                )
                continue
            refusal = _refusal(rule, context)
            if refusal is not None:
                trace.append(TraceLine(rule=rule.id, matched=False, detail=f"{rule.id}: {refusal}"))
                continue
            total = running.get(rule.point_type, Decimal(0))
            if isinstance(rule, Multiplier):
                if total == 0:
                    trace.append(
                        TraceLine(
                            rule=rule.id, matched=False, detail=f"{rule.id}: nothing to multiply"
                        )
                    )
                    continue
                scaled = (total * rule.factor).quantize(Decimal(1), rounding=program.rounding)
                running[rule.point_type] = scaled
                detail = f"{rule.id}: x{rule.factor.normalize():f} -> {scaled:f}"
            else:
                earned = rule.points(event, facts)
                if earned <= 0:
                    trace.append(
                        TraceLine(
                            rule=rule.id, matched=False, detail=f"{rule.id}: earns nothing here"
                        )
                    )
                    continue
                running[rule.point_type] = total + earned
                detail = rule.explain(event, earned)
                if isinstance(rule, Referral) and rule.qualifies(event, facts):
                    referrer_points += rule.referrer_amount
                    referral_rules.append(rule.id)
                    detail += f"; referrer {state.customer.referred_by} +{rule.referrer_amount}"
            fired.setdefault(rule.point_type, []).append(rule.id)
            trace.append(TraceLine(rule=rule.id, matched=True, detail=detail))
            if rule.exclusive:
                excluded_by = rule.id
        effects: list[Effect] = []
        local = context["at"]
        for point_type, total in running.items():
            points = int(total)
            points = self._capped(program, state, point_type, points, local, trace, effects)
            if points > 0:
                effects.append(
                    self._earn(
                        program, state.customer.id, point_type, points, at, event, fired[point_type]
                    )
                )
        if referrer_points and state.customer.referred_by is not None:
            effects.append(
                self._earn(
                    program,
                    state.customer.referred_by,
                    "points",
                    referrer_points,
                    at,
                    event,
                    referral_rules,
                )
            )
        return Decision(effects=tuple(effects), trace=tuple(trace))

    @staticmethod
    def _capped(
        program: Program,
        state: CustomerState,
        point_type: str,
        points: int,
        local: datetime,
        trace: list[TraceLine],
        effects: list[Effect],
    ) -> int:
        caps = [(cap, cap.counter(local)) for cap in program.caps if cap.point_type == point_type]
        for cap, key in caps:
            used = 0 if key is None else state.counters.get(key, 0)
            room = max(0, cap.limit - used)
            if points > room:
                trace.append(
                    TraceLine(
                        rule=cap.id,
                        matched=True,
                        detail=f"{cap.id}: {cap.period} cap {cap.limit}, {used} used -> {room}",
                    )
                )
                points = room
        for _, key in caps:
            if key is not None and points > 0:
                effects.append(CounterIncrement(key=key, amount=points))
        return points

    @staticmethod
    def _earn(
        program: Program,
        customer_id: CustomerId,
        point_type: str,
        points: int,
        at: datetime,
        event: Event,
        rules: list[str],
    ) -> Earn:
        kind = program.point_type(point_type)
        expires_at = None if kind.expire_after is None else at + kind.expire_after
        pending = program.pending_for if isinstance(event, Purchase) else None
        available_from = None if pending is None else at + pending
        if expires_at is not None and available_from is not None and expires_at <= available_from:
            expires_at = None if kind.expire_after is None else available_from + kind.expire_after
        return Earn(
            customer_id=customer_id,
            point_type=point_type,
            points=points,
            expires_at=expires_at,
            available_from=available_from,
            rules=tuple(rules),
        )


def _refusal(rule: EarningRule, context: Mapping[str, Any]) -> str | None:
    """Why ``rule`` does not apply, or ``None`` when it does."""
    if rule.condition is None:
        return None
    if rule.condition.evaluate(context):
        return None
    return f"condition not met: {rule.condition.source}"
