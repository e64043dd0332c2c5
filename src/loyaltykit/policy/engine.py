"""The policy engine: ``Program + CustomerState + Event + at -> Decision``.

:meth:`PolicyEngine.evaluate` is pure: no I/O, no clock, no randomness. The
:class:`Decision` lists the effects the service applies in one unit of work (points to
earn, counters to increment) and a trace that explains every rule it considered::

    decision = PolicyEngine().evaluate(program, state, purchase, at)
    print(decision.explain())
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import date, datetime, tzinfo
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import attrs

from loyaltykit.domain import tiers
from loyaltykit.domain.activity import CustomEvent, Purchase
from loyaltykit.domain.basket import line_labels
from loyaltykit.domain.customer import Customer
from loyaltykit.domain.exchange import ExchangeRates, converted_purchase
from loyaltykit.domain.metrics import MetricHistory
from loyaltykit.domain.tiers import Requirement, TierChange, TierStatus
from loyaltykit.domain.variables import variables
from loyaltykit.domain.windows import Window
from loyaltykit.errors import OutOfOrder, UnknownPointType
from loyaltykit.policy.campaigns import Award, campaign_awards
from loyaltykit.policy.plan import Plan, Reads, plan_of
from loyaltykit.policy.program import Program
from loyaltykit.policy.rules import Cap, Multiplier, Referral, RuleState, Shares
from loyaltykit.policy.trace import (
    Note,
    TraceLine,
    capped_words,
    earned_words,
    earned_words_with,
    excluded_words,
    refused_words,
    rendered,
    scaled_words,
    text,
    unearned_words,
    unmultiplied_words,
)
from loyaltykit.policy.trusted import trusted
from loyaltykit.values import CustomerId, aware

if TYPE_CHECKING:  # funding builds the effects below; the engine only passes it on
    from loyaltykit.policy.funding import BudgetState

__all__ = [
    "BudgetConsumption",
    "CampaignAward",
    "CampaignEntry",
    "CounterIncrement",
    "CustomerState",
    "Decision",
    "Earn",
    "MetricSample",
    "PolicyEngine",
    "ReferralReward",
    "TierUpdate",
    "TraceLine",
]

Event = Purchase | CustomEvent
_ZERO = Decimal(0)
_ONE = Decimal(1)
_NO_FRACTION = Fraction(0)
_NO_HISTORY = MetricHistory()  # immutable: every state without a history shares it


@attrs.frozen(kw_only=True)
class CustomerState:
    """What the engine may know about a customer when an event arrives."""

    customer: Customer
    tier: str | None = None
    counters: Mapping[str, int] = attrs.field(factory=dict)
    purchases: int = 0
    tier_status: TierStatus | None = None
    metrics: MetricHistory = _NO_HISTORY
    referrer_counters: Mapping[str, int] = attrs.field(factory=dict)


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
    """A stored counter (a cap's usage in a period) to increase: the acting customer's,
    or ``customer_id``'s (a referrer's count of rewarded referrals)."""

    key: str
    amount: int
    customer_id: CustomerId | None = None


@attrs.frozen(kw_only=True)
class MetricSample:
    """An amount to add to a customer's metric on the event's local day."""

    customer_id: CustomerId
    metric: str
    value: Decimal


@attrs.frozen(kw_only=True)
class TierUpdate:
    """A new tier status for the customer, and the history lines that explain it."""

    status: TierStatus
    changes: tuple[TierChange, ...]


@attrs.frozen(kw_only=True)
class CampaignAward:
    """What a campaign gives for the event, before its budget is taken: a decision
    evaluated with ``budgets`` holds the funded effects instead
    (:func:`loyaltykit.policy.funding.fund` cuts the ``earns`` to what the budget has
    left and says so in the trace)."""

    award: Award
    earns: tuple[Earn, ...]


@attrs.frozen(kw_only=True)
class ReferralReward:
    """A referred member's first qualifying purchase: the referrer's reward
    (``points``, 0 when the referrer's cap is reached), for the leaderboard."""

    referrer: CustomerId
    referred: CustomerId
    rule: str
    points: int


@attrs.frozen(kw_only=True)
class BudgetConsumption:
    """Points a funded award takes from a campaign budget's shared counter (which may
    not pass ``limit``; ``None`` for a budget that only counts)."""

    counter: str
    points: int
    limit: int | None


@attrs.frozen(kw_only=True)
class CampaignEntry:
    """A member's participation in a campaign through a funded award: the points granted,
    the draw entries and the rewards given, for the campaign's report and its draw."""

    campaign: str
    customer_id: CustomerId
    points: int
    entries: int = 0
    rewards: tuple[tuple[str, int], ...] = ()


Effect = (
    Earn
    | CounterIncrement
    | MetricSample
    | TierUpdate
    | CampaignAward
    | ReferralReward
    | BudgetConsumption
    | CampaignEntry
)


@attrs.frozen(kw_only=True, eq=False, repr=False)
class Decision:
    """The effects of an event and the trace that explains them.

    The engine records the trace compactly (``notes``, see :mod:`loyaltykit.policy.trace`,
    with ``trace=None``) and its lines are written the first time ``trace`` is read
    (:meth:`explain` writes its text from the notes alone); a decision is equal to, hashed,
    shown and pickled as the one built with those lines (``Decision(effects=..., trace=...)``).
    """

    effects: tuple[Effect, ...]
    _trace: tuple[TraceLine, ...] | None = attrs.field(alias="trace")
    _notes: tuple[Note, ...] = attrs.field(default=(), alias="notes")

    @property
    def trace(self) -> tuple[TraceLine, ...]:
        """Why each rule did or did not contribute, a line per rule considered (caps,
        campaigns and tiers too), in the order the engine considered them."""
        lines = self._trace
        if lines is None:
            lines = rendered(self._notes)
            # written once: the notes are immutable, so every reader gets the same lines
            object.__setattr__(self, "_trace", lines)
            object.__setattr__(self, "_notes", ())
        return lines

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Decision)
        return self.effects == other.effects and self.trace == other.trace

    def __hash__(self) -> int:
        return hash((Decision, self.effects, self.trace))

    def __repr__(self) -> str:
        return f"Decision(effects={self.effects!r}, trace={self.trace!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # pickled with its lines written: the notes hold rules, whose conditions may not pickle
        return _written, (self.effects, self.trace)

    def points(self, point_type: str = "points", customer_id: CustomerId | None = None) -> int:
        """Points the decision grants of ``point_type`` (to ``customer_id`` if given),
        campaign points included (as funded when the decision was evaluated with
        ``budgets``, as wanted otherwise)."""
        return _granted(self.effects, point_type, customer_id)

    @property
    def earns(self) -> tuple[Earn, ...]:
        """The points this decision grants, as effects (campaigns' included)."""
        found: list[Earn] = []
        for effect in self.effects:
            if isinstance(effect, Earn):
                found.append(effect)
            elif isinstance(effect, CampaignAward):
                found.extend(effect.earns)
        return tuple(found)

    @property
    def awards(self) -> tuple[CampaignAward, ...]:
        """The campaigns that apply, with what each gives."""
        return tuple(e for e in self.effects if isinstance(e, CampaignAward))

    @property
    def tier_update(self) -> TierUpdate | None:
        """The tier change, if the event caused one."""
        return next((e for e in self.effects if isinstance(e, TierUpdate)), None)

    def explain(self) -> str:
        """The trace as readable text, one rule per line."""
        if self._trace is None:  # written from the notes, without their lines
            return text(self._notes)
        lines = []
        for line in self.trace:
            mark = "+" if line.matched else "-"
            lines.append(f"{mark} {line.detail}")
        return "\n".join(lines)


# built several times per event, without their __init__: they have nothing to validate
_facts: Callable[[int, str | None, str | None], RuleState] = trusted(RuleState)
_new_earn: Callable[
    [CustomerId, str, int, datetime | None, datetime | None, tuple[str, ...]], Earn
] = trusted(Earn)
_increment: Callable[[str, int, CustomerId | None], CounterIncrement] = trusted(CounterIncrement)
_sample: Callable[[CustomerId, str, Decimal], MetricSample] = trusted(MetricSample)
_line: Callable[[str, bool, str, tuple[str, ...]], TraceLine] = trusted(TraceLine)
_decision: Callable[
    [tuple[Effect, ...], tuple[TraceLine, ...] | None, tuple[Note, ...]], Decision
] = trusted(Decision)


def _written(effects: tuple[Effect, ...], trace: tuple[TraceLine, ...]) -> Decision:
    """A decision with its trace's lines (how a decision is unpickled)."""
    return _decision(effects, trace, ())


def _noted_first(decision: Decision, line: TraceLine) -> Decision:
    """``decision`` with ``line`` before its trace (its trace still unwritten if it was)."""
    if decision._trace is None:
        return _decision(decision.effects, None, (line, *decision._notes))
    return _decision(decision.effects, (line, *decision._trace), ())


def condition_context(
    program: Program,
    state: CustomerState,
    event: Event,
    at: datetime,
    reads: Reads | None = None,
) -> dict[str, Any]:
    """The variables a condition sees: ``event``, ``customer``, ``counters`` and ``at``;
    with ``reads`` (a plan's), only what its conditions read (and ``at`` always)."""
    return _context(state, event, at.astimezone(program.zone), reads)


def _context(
    state: CustomerState, event: Event, local: datetime, reads: Reads | None
) -> dict[str, Any]:
    """:func:`condition_context` at ``local``, the event's instant in the programme's zone."""
    if reads is None:
        return {
            "event": event.context(),
            "customer": _customer_variables(state),
            "counters": dict(state.counters),
            "at": local,
        }
    context: dict[str, Any] = {"at": local}
    for root, fields in reads.items():
        if root == "event":
            context[root] = event.context(fields)
        elif root == "customer":
            context[root] = _customer_variables(state, fields)
        elif root == "counters":
            counters = state.counters
            context[root] = (
                dict(counters)
                if fields is None
                else {name: counters[name] for name in fields if name in counters}
            )
    return context


def _customer_variables(
    state: CustomerState, fields: Collection[str] | None = None
) -> dict[str, Any]:
    return variables(state, _CUSTOMER_FIELDS, state.customer.profile.attributes, fields)


_CUSTOMER_FIELDS: dict[str, Callable[[CustomerState], Any]] = {
    "id": lambda state: state.customer.id,
    "tier": lambda state: state.tier,
    "tags": lambda state: state.customer.profile.tags,
    "birthday": lambda state: state.customer.profile.birthday,
    "channel": lambda state: state.customer.profile.preferred_channel,
    "status": lambda state: state.customer.status.value,
    "enrolled_at": lambda state: state.customer.enrolled_at,
    "purchases": lambda state: state.purchases,
}


class PolicyEngine:
    """Evaluates a program's earning rules and caps for one event. Stateless and pure.

    ``rates`` (an :class:`~loyaltykit.domain.exchange.ExchangeRates`) converts a purchase
    in another currency than the programme's at the rate in force at its instant, and the
    trace says so; without it a purchase is evaluated in its own currency, as always.
    """

    def __init__(self, rates: ExchangeRates | None = None) -> None:
        self.rates = rates

    def converted(
        self, program: Program, event: Event, at: datetime
    ) -> tuple[Event, TraceLine | None]:
        """``event`` in the programme's currency (a purchase in another, with ``rates``),
        and the trace line that says at which rate; ``(event, None)`` when unchanged."""
        if self.rates is None or not isinstance(event, Purchase):
            return event, None
        found, rate = converted_purchase(event, program.currency, self.rates, at)
        if rate is None:
            return event, None
        detail = f"currency: {event.amount} at {rate.describe()} -> {found.amount}"
        return found, TraceLine(rule="currency", matched=True, detail=detail)

    def evaluate(
        self,
        program: Program,
        state: CustomerState,
        event: Event,
        at: datetime,
        *,
        budgets: BudgetState | None = None,
        explain: bool = True,
    ) -> Decision:
        """The decision for ``event`` happening at ``at`` to ``state.customer``.

        With ``budgets`` (what each campaign budget has spent), campaign awards are paid
        from their budgets (:func:`loyaltykit.policy.funding.fund`) before qualifying
        points are counted, so the tier is decided on what was granted; without, they
        stay :class:`CampaignAward` effects, as a what-if shows them.

        ``explain=False`` is the fast path for callers that only apply the effects (a
        what-if replay): the same effects, and an empty trace, none of its lines built.
        The rules are walked in the programme's :class:`~loyaltykit.policy.plan.Plan`,
        compiled once per programme.

        When the event raises the member's tier and the ladder says the upgrade applies
        to this event (``upgrade_applies = "this_event"``), the rules are evaluated again
        at the tier reached, and the trace says so: the crossing purchase earns at the
        new tier. By default (``"next_event"``) it earns at the tier the member had.

        An event dated before the customer's enrolment is refused with
        :class:`~loyaltykit.errors.OutOfOrder`: nobody earns as a member before joining.
        """
        at = aware("at", at)
        joined = state.customer.enrolled_at
        if at < joined:
            raise OutOfOrder(f"the enrolment of customer {state.customer.id!r}", at, joined)
        conversion = None
        if self.rates is not None:
            event, conversion = self.converted(program, event, at)
        decision = self._decide(program, state, event, at, budgets, explain)
        ladder = program.tiers
        if (
            ladder is not None
            and ladder.upgrade_applies == "this_event"
            and (update := decision.tier_update) is not None
        ):
            reached = update.status.effective(at, ladder)
            if reached != state.tier:  # else an override already lifts the member above it
                # one repricing step: the tier reached with the old tier's prices prices the
                # event; the upgrade is then decided again from what it earns at that tier
                decision = self._decide(
                    program, attrs.evolve(state, tier=reached), event, at, budgets, explain
                )
                if explain:
                    note = TraceLine(
                        rule="tiers",
                        matched=True,
                        detail=f"tiers: the upgrade to {reached} applies to this event "
                        "(upgrade_applies = this_event)",
                    )
                    decision = _noted_first(decision, note)
        if conversion is not None and explain:
            decision = _noted_first(decision, conversion)
        return decision

    def _decide(
        self,
        program: Program,
        state: CustomerState,
        event: Event,
        at: datetime,
        budgets: BudgetState | None = None,
        explain: bool = True,
    ) -> Decision:
        """The decision for ``event`` with the rules priced at ``state.tier`` (its trace
        only if ``explain``: else no line of it is built)."""
        plan = plan_of(program)
        local = at.astimezone(plan.zone)
        context = _context(state, event, local, plan.reads)
        customer = state.customer
        facts = _facts(state.purchases, state.tier, customer.referred_by)
        running: dict[str, Decimal] = {}
        additive: dict[str, Decimal] = {}
        fired: dict[str, list[str]] = {}
        # the trace as notes (see loyaltykit.policy.trace): its words are written if read
        trace: list[Note] | None = [] if explain else None
        referrer_points = 0
        referral_rules: list[str] = []
        referrals: list[tuple[str, int, str | None]] = []
        excluded_by: str | None = None
        # which lines earned the running totals: only kept for a basket with lines, under
        # a programme whose scoped multipliers or caps read them
        has_lines = isinstance(event, Purchase) and bool(event.items)
        lined = has_lines and plan.reads_shares
        shares: dict[str, Shares] = {}
        for step in plan.steps_for(event.type):
            rule = step.rule
            if excluded_by is not None:
                if trace is None:
                    break  # nothing to say about the rules an exclusive one stops
                trace.append((excluded_words, rule.id, False, (), excluded_by))
                continue
            test = step.test
            if test is not None and not test(context):
                if trace is not None:
                    trace.append((refused_words, rule.id, False, (), rule))
                continue
            point_type = rule.point_type
            note: Note | None = None
            if not step.multiplier:
                earned = rule.points(event, facts)
                if earned <= 0:
                    if trace is not None:
                        trace.append((unearned_words, rule.id, False, ()))
                    continue
                running[point_type] = running.get(point_type, _ZERO) + earned
                additive[point_type] = additive.get(point_type, _ZERO) + earned
                more = ""
                counted_lines: tuple[str, ...] = ()
                if lined or (has_lines and step.scoped and trace is not None):
                    assert isinstance(event, Purchase)
                    earned_by = rule.shares(event, earned)
                    if lined:
                        mine = shares.setdefault(point_type, {})
                        for place, share in earned_by.items():
                            mine[place] = mine.get(place, _NO_FRACTION) + share
                    if step.scoped:
                        counted_lines = _labels(earned_by, event)
                if step.referral:
                    assert isinstance(rule, Referral)
                    if rule.qualifies(event, facts):
                        given, more, key = _referrer_reward(rule, state, local)
                        referrer_points += given
                        referral_rules.append(rule.id)
                        referrals.append((rule.id, given, key))
                if trace is not None:
                    note = (
                        (earned_words_with, rule.id, True, counted_lines, rule, event, earned, more)
                        if more or counted_lines
                        else (earned_words, rule.id, True, (), rule, event, earned)
                    )
            elif step.scoped:
                assert isinstance(rule, Multiplier)
                found = _scoped_multiplier(
                    rule,
                    event,
                    running.get(point_type, _ZERO),
                    shares.setdefault(point_type, {}),
                    program.rounding,
                )
                if isinstance(found, str):
                    if trace is not None:
                        trace.append(_line(rule.id, False, found, ()))
                    continue
                running[point_type], detail, counted_lines = found
                if trace is not None:
                    if counted_lines:
                        detail += f" [lines {', '.join(counted_lines)}]"
                    note = _line(rule.id, True, detail, counted_lines)
            else:
                assert isinstance(rule, Multiplier)
                total = running.get(point_type)
                if not total:
                    if trace is not None:
                        trace.append((unmultiplied_words, rule.id, False, ()))
                    continue
                scaled = (total * rule.factor).quantize(_ONE, rounding=program.rounding)
                running[point_type] = scaled
                if lined:
                    mine = shares.setdefault(point_type, {})
                    factor = Fraction(rule.factor)
                    for place in mine:
                        mine[place] *= factor
                if trace is not None:
                    note = (scaled_words, rule.id, True, (), rule.factor, scaled)
            names = fired.get(point_type)
            if names is None:
                fired[point_type] = [rule.id]
            else:
                names.append(rule.id)
            if note is not None and trace is not None:
                trace.append(note)
            if rule.exclusive:
                excluded_by = rule.id
        effects: list[Effect] = []
        kept: dict[str, int] = {}
        customer_id = customer.id
        qualifying_type = program.qualifying_points
        qualifying = 0  # what the earns among the effects grant of it, the member's own
        for point_type, total in running.items():
            points = self._capped(
                plan,
                state,
                point_type,
                int(total),
                local,
                trace,
                effects,
                (event, shares.get(point_type, {}))
                if lined and isinstance(event, Purchase)
                else None,
            )
            kept[point_type] = points
            if points > 0:
                effects.append(
                    _earn(plan, customer_id, point_type, points, at, event, fired[point_type])
                )
                if point_type == qualifying_type:
                    qualifying = points
        if program.campaigns:
            awards = self._campaigns(program, state, event, at, context, kept, additive, trace)
            if budgets is None:
                effects.extend(awards)
            else:
                funded = budgets.fund(awards)
                effects.extend(funded.effects)
                if trace is not None:
                    trace.extend(funded.trace)
        referrer = customer.referred_by
        for rule_id, given, key in referrals:
            assert referrer is not None
            effects.append(
                ReferralReward(referrer=referrer, referred=customer_id, rule=rule_id, points=given)
            )
            if key is not None and given:
                effects.append(CounterIncrement(key=key, amount=1, customer_id=referrer))
        if referrer_points and referrer is not None:
            effects.append(
                _earn(plan, referrer, "points", referrer_points, at, event, referral_rules)
            )
            effects.append(MetricSample(customer_id=referrer, metric="referrals", value=_ONE))
        if program.campaigns or referrer_points:  # earns of campaigns, of a referrer
            qualifying = _granted(effects, qualifying_type, customer_id)
        samples = _samples(customer_id, event, qualifying)
        effects.extend(samples)
        if program.tiers is not None:
            update, lines = traced_upgrade(program, state, samples, at)
            if update is not None:
                effects.append(update)
            if trace is not None:
                trace.extend(lines)  # an upgrade, or why the member is not rated
        if trace is None:
            return _decision(tuple(effects), (), ())
        return _decision(tuple(effects), None, tuple(trace))

    def _campaigns(
        self,
        program: Program,
        state: CustomerState,
        event: Event,
        at: datetime,
        context: Mapping[str, Any],
        earned: Mapping[str, int],
        additive: Mapping[str, Decimal],
        trace: list[Note] | None,
    ) -> list[CampaignAward]:
        """The campaigns' awards after the base rules, and a trace line per campaign."""
        base = {
            point_type: int(total.quantize(_ONE, rounding=program.rounding))
            for point_type, total in additive.items()
        }
        awards, notes = campaign_awards(
            program.campaigns,
            customer_id=state.customer.id,
            event=event,
            context=context,
            counters=state.counters,
            earned=earned,
            base=base,
            rounding=program.rounding,
        )
        if trace is not None:
            trace.extend(
                TraceLine(rule=f"campaign:{name}", matched=matched, detail=detail)
                for name, matched, detail in notes
            )
        return [
            CampaignAward(
                award=award,
                earns=tuple(
                    _earn(
                        plan_of(program),
                        state.customer.id,
                        point_type,
                        points,
                        at,
                        event,
                        [f"campaign:{award.campaign}"],
                    )
                    for point_type, points in award.points
                ),
            )
            for award in awards
        ]

    @staticmethod
    def _capped(
        plan: Plan,
        state: CustomerState,
        point_type: str,
        points: int,
        local: datetime,
        trace: list[Note] | None,
        effects: list[Effect],
        basket: tuple[Purchase, Shares] | None = None,
    ) -> int:
        """``points`` clipped by the point type's caps, in the programme's order; a cap
        scoped to lines clips only the points those lines earned (and counts only them)."""
        found = plan.caps_for(point_type)
        if not found:
            return points
        keys = plan.cap_keys(point_type, local)
        counters = state.counters
        if not plan.scoped_caps:  # every cap clips the whole event's points
            for cap, key in zip(found, keys, strict=True):
                limit = cap.limit
                used = 0 if key is None else counters.get(key, 0)
                room = limit - used if used < limit else 0
                if points > room:
                    if trace is not None:
                        trace.append((capped_words, cap.id, True, (), cap, used, room))
                    points = room
            if points > 0:
                for key in keys:
                    if key is not None:
                        effects.append(_increment(key, points, None))
            return points
        caps = list(zip(found, keys, strict=True))
        counted: dict[str, int] = {}
        # a scoped cap takes off what its lines earned past its room in exact points, and
        # the points are rounded after it: a line joining the basket then never lowers
        # them (the whole basket's rounded points may stay while the capped lines' exact
        # share grows past an integer)
        shares: Shares = {}
        exact = _NO_FRACTION
        if plan.scoped_caps and basket is not None:
            shares = dict(basket[1])
            exact = sum(shares.values(), _NO_FRACTION)
        for cap, key in caps:
            used = 0 if key is None else counters.get(key, 0)
            room = cap.limit - used if used < cap.limit else 0
            if cap.scope is not None:
                earned, places, labels = _scoped_points(cap, basket, shares)
                # counted rounded up: the lines' exact points of the period never pass the
                # limit, so a basket bought in two purchases earns no more than at once
                scoped = math.ceil(earned)
                if earned > room:
                    if trace is not None:
                        trace.append(
                            TraceLine(
                                rule=cap.id,
                                matched=True,
                                detail=f"{cap.id}: {cap.period} cap {cap.limit} on "
                                f"{cap.scope.describe()}, {used} used -> {room} of "
                                f"{_shown(earned)} [lines {', '.join(labels)}]",
                                lines=labels,
                            )
                        )
                    exact -= earned - room
                    for n in places:  # a later cap on some of these lines sees them capped
                        shares[n] *= room / earned
                    points = min(points, math.floor(exact))
                    scoped = room
                if key is not None:
                    counted[key] = scoped
                continue
            if points > room:
                if trace is not None:
                    detail = f"{cap.id}: {cap.period} cap {cap.limit}, {used} used -> {room}"
                    trace.append(TraceLine(rule=cap.id, matched=True, detail=detail))
                points = room
        for cap, key in caps:
            if key is None:
                continue
            amount = points if cap.scope is None else counted.get(key, 0)
            if amount > 0:
                effects.append(CounterIncrement(key=key, amount=amount))
        return points


def _earn(
    plan: Plan,
    customer_id: CustomerId,
    point_type: str,
    points: int,
    at: datetime,
    event: Event,
    rules: Iterable[str],
) -> Earn:
    kind = plan.point_types.get(point_type)
    if kind is None:
        raise UnknownPointType(point_type, tuple(plan.point_types))
    lifetime = kind.expire_after
    expires_at = None if lifetime is None else at + lifetime
    pending = plan.pending_for if isinstance(event, Purchase) else None
    available_from = None if pending is None else at + pending
    if expires_at is not None and available_from is not None and expires_at <= available_from:
        expires_at = None if lifetime is None else available_from + lifetime
    return _new_earn(customer_id, point_type, points, expires_at, available_from, tuple(rules))


def _samples(customer_id: CustomerId, event: Event, qualifying: int) -> list[MetricSample]:
    """The metrics an event adds to: spend and purchases, the ``qualifying`` points the
    member earned, custom events (a count per type, and sums of their numeric attributes
    as ``type.name``)."""
    if isinstance(event, Purchase):
        samples = [
            _sample(customer_id, "spend", event.amount.amount),
            _sample(customer_id, "purchases", _ONE),
        ]
    else:
        samples = [MetricSample(customer_id=customer_id, metric=event.type, value=_ONE)]
        samples += [
            MetricSample(
                customer_id=customer_id, metric=f"{event.type}.{name}", value=Decimal(value)
            )
            for name, value in event.attributes
            if isinstance(value, int) and not isinstance(value, bool)
        ]
    if qualifying:
        samples.append(_sample(customer_id, "qualifying_points", Decimal(qualifying)))
    return samples


def _granted(effects: Iterable[Effect], point_type: str, customer_id: CustomerId | None) -> int:
    """The points of ``point_type`` the earns among ``effects`` grant (campaigns' too), to
    ``customer_id`` if given."""
    points = 0
    for effect in effects:
        if isinstance(effect, Earn):
            earns: Iterable[Earn] = (effect,)
        elif isinstance(effect, CampaignAward):
            earns = effect.earns
        else:
            continue
        for earn in earns:
            if earn.point_type == point_type and (
                customer_id is None or earn.customer_id == customer_id
            ):
                points += earn.points
    return points


def measure_with(
    history: MetricHistory, customer: Customer, at: datetime, zone: tzinfo
) -> Callable[[Requirement], Decimal]:
    """A measuring function for tier requirements over ``history`` at ``at`` (each metric
    and window measured once: the tiers of a ladder often ask for the same one)."""
    measured: dict[tuple[str, Window, bool], Decimal] = {}

    def measure(requirement: Requirement) -> Decimal:
        key = (requirement.metric, requirement.window, requirement.per_month)
        found = measured.get(key)
        if found is None:
            found = measured[key] = history.measure(
                requirement.metric,
                requirement.window,
                at,
                enrolled_at=customer.enrolled_at,
                zone=zone,
                per_month=requirement.per_month,
            )
        return found

    return measure


def with_samples(
    history: MetricHistory, samples: Iterable[MetricSample], day: date
) -> MetricHistory:
    """``history`` with the samples added on ``day``."""
    for sample in samples:
        history = history.add(sample.metric, day, sample.value)
    return history


def tier_upgrade(
    program: Program, state: CustomerState, samples: list[MetricSample], at: datetime
) -> TierUpdate | None:
    """The tier change an event causes, if any (upgrades happen at once)."""
    ladder = program.tiers
    assert ladder is not None
    local = at.astimezone(program.zone)
    history = with_samples(state.metrics, samples, local.date())
    status = state.tier_status or ladder.start(state.customer.enrolled_at)
    measure = measure_with(history, state.customer, at, program.zone)
    raised, change = tiers.upgrade(ladder, status, measure, at)
    if change is None:
        return None
    return TierUpdate(status=raised, changes=(change,))


def _referrer_reward(
    rule: Referral, state: CustomerState, local: datetime
) -> tuple[int, str, str | None]:
    """The referrer's points for a qualifying referral, the trace's words, and the
    referrer's counter key when the rule caps rewards per referrer."""
    referrer = state.customer.referred_by
    key = rule.cap_key(local)
    if key is None or rule.referrer_cap is None:
        return rule.referrer_amount, f"; referrer {referrer} +{rule.referrer_amount}", None
    used = state.referrer_counters.get(key, 0)
    if used >= rule.referrer_cap:
        cap = f"{rule.referrer_cap} per {rule.referrer_cap_period}"
        return 0, f"; referrer {referrer} +0 (referrer cap {cap} reached)", key
    return rule.referrer_amount, f"; referrer {referrer} +{rule.referrer_amount}", key


def traced_upgrade(
    program: Program, state: CustomerState, samples: list[MetricSample], at: datetime
) -> tuple[TierUpdate | None, list[TraceLine]]:
    """The tier change an event causes (none without a ladder) and its trace lines."""
    if program.tiers is None:
        return None, []
    excluded = program.rating_exclusions.excludes(state.customer)
    if excluded is not None:
        return None, [TraceLine(rule="tiers", matched=False, detail=f"no rating: {excluded}")]
    update = tier_upgrade(program, state, samples, at)
    if update is None:
        return None, []
    return update, [
        TraceLine(
            rule="tiers",
            matched=True,
            detail=f"tier {change.from_tier} -> {change.to_tier}: {change.reason}",
        )
        for change in update.changes
    ]


def _labels(shares: Shares, event: Purchase) -> tuple[str, ...]:
    return line_labels((n for n, share in shares.items() if n is not None and share), event.items)


def _scoped_multiplier(
    rule: Multiplier, event: Event, total: Decimal, shares: Shares, rounding: str
) -> tuple[Decimal, str, tuple[str, ...]] | str:
    """A multiplier scoped to lines: the running total with only the share of the lines in
    scope scaled, the trace's words and the lines; or why it changes nothing."""
    assert rule.scope is not None
    places = rule.scope.positions(event.items) if isinstance(event, Purchase) else ()
    share = sum((shares.get(n, Fraction(0)) for n in places), Fraction(0))
    if share == 0:
        return f"{rule.id}: no points earned on {rule.scope.describe()}"
    assert isinstance(event, Purchase)
    factor = Fraction(rule.factor)
    exact = Fraction(total) + share * (factor - 1)
    scaled = (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(
        Decimal(1), rounding=rounding
    )
    # the lines in scope now hold what the multiplier made of their (exact) share
    for n in places:
        if n in shares:
            shares[n] *= factor
    lines = line_labels((n for n in places if shares.get(n)), event.items)
    detail = (
        f"{rule.id}: x{rule.factor.normalize():f} on {rule.scope.describe()} "
        f"(their share {_shown(share)} of {total:f}) -> {scaled:f}"
    )
    return scaled, detail, lines


def _scoped_points(
    cap: Cap, basket: tuple[Purchase, Shares] | None, shares: Shares
) -> tuple[Fraction, list[int], tuple[str, ...]]:
    """The exact points the lines in a scoped cap's scope earned (``shares``: as earlier
    caps left them), those lines' positions and their labels."""
    if basket is None or cap.scope is None:
        return Fraction(0), [], ()
    event = basket[0]
    places = [n for n in cap.scope.positions(event.items) if shares.get(n)]
    points = sum((shares[n] for n in places), Fraction(0))
    return points, places, line_labels(places, event.items)


def _shown(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    return f"{Decimal(value.numerator) / Decimal(value.denominator):.2f}"
