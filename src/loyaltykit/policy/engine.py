"""The policy engine: ``Program + CustomerState + Event + at -> Decision``.

:meth:`PolicyEngine.evaluate` is pure: no I/O, no clock, no randomness. The
:class:`Decision` lists the effects the service applies in one unit of work (points to
earn, counters to increment) and a trace that explains every rule it considered::

    decision = PolicyEngine().evaluate(program, state, purchase, at)
    print(decision.explain())
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from loyaltykit.domain import tiers
from loyaltykit.domain.activity import CustomEvent, Purchase
from loyaltykit.domain.customer import Customer
from loyaltykit.domain.metrics import MetricHistory
from loyaltykit.domain.tiers import Requirement, TierChange, TierStatus
from loyaltykit.errors import OutOfOrder
from loyaltykit.policy.campaigns import Award, campaign_awards
from loyaltykit.policy.plan import Plan, plan_of
from loyaltykit.policy.program import Program
from loyaltykit.policy.rules import Multiplier, Referral, RuleState
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


@attrs.frozen(kw_only=True)
class CustomerState:
    """What the engine may know about a customer when an event arrives."""

    customer: Customer
    tier: str | None = None
    counters: Mapping[str, int] = attrs.field(factory=dict)
    purchases: int = 0
    tier_status: TierStatus | None = None
    metrics: MetricHistory = attrs.field(factory=MetricHistory)
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
        """Points the decision grants of ``point_type`` (to ``customer_id`` if given),
        campaign points included (as funded when the decision was evaluated with
        ``budgets``, as wanted otherwise)."""
        return sum(
            effect.points
            for effect in self.earns
            if effect.point_type == point_type
            and (customer_id is None or effect.customer_id == customer_id)
        )

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
        decision = self._decide(program, state, event, at, budgets, explain)
        ladder = program.tiers
        update = decision.tier_update
        if ladder is None or ladder.upgrade_applies != "this_event" or update is None:
            return decision
        reached = update.status.effective(at, ladder)
        if reached == state.tier:  # an override already lifts the member above it
            return decision
        # one repricing step: the tier reached with the old tier's prices prices the
        # event; the upgrade is then decided again from what it earns at that tier
        repriced = self._decide(
            program, attrs.evolve(state, tier=reached), event, at, budgets, explain
        )
        if not explain:
            return repriced
        note = TraceLine(
            rule="tiers",
            matched=True,
            detail=f"tiers: the upgrade to {reached} applies to this event "
            "(upgrade_applies = this_event)",
        )
        return Decision(effects=repriced.effects, trace=(note, *repriced.trace))

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
        context = condition_context(program, state, event, at)
        facts = RuleState(
            purchases_before=state.purchases,
            tier=state.tier,
            referred_by=state.customer.referred_by,
        )
        running: dict[str, Decimal] = {}
        additive: dict[str, Decimal] = {}
        fired: dict[str, list[str]] = {}
        trace: list[TraceLine] | None = [] if explain else None
        referrer_points = 0
        referral_rules: list[str] = []
        referrals: list[tuple[str, int, str | None]] = []
        excluded_by: str | None = None
        for step in plan.steps_for(event.type):
            rule = step.rule
            if excluded_by is not None:
                if trace is not None:
                    detail = f"{rule.id}: excluded by {excluded_by}"
                    trace.append(TraceLine(rule=rule.id, matched=False, detail=detail))
                continue
            if step.test is not None and not step.test(context):
                if trace is not None:
                    refusal = f"condition not met: {rule.condition.source}"  # type: ignore[union-attr]
                    trace.append(
                        TraceLine(rule=rule.id, matched=False, detail=f"{rule.id}: {refusal}")
                    )
                continue
            total = running.get(rule.point_type, Decimal(0))
            detail = ""
            if step.multiplier:
                assert isinstance(rule, Multiplier)
                if total == 0:
                    if trace is not None:
                        detail = f"{rule.id}: nothing to multiply"
                        trace.append(TraceLine(rule=rule.id, matched=False, detail=detail))
                    continue
                scaled = (total * rule.factor).quantize(Decimal(1), rounding=program.rounding)
                running[rule.point_type] = scaled
                if trace is not None:
                    detail = f"{rule.id}: x{rule.factor.normalize():f} -> {scaled:f}"
            else:
                earned = rule.points(event, facts)
                if earned <= 0:
                    if trace is not None:
                        detail = f"{rule.id}: earns nothing here"
                        trace.append(TraceLine(rule=rule.id, matched=False, detail=detail))
                    continue
                running[rule.point_type] = total + earned
                additive[rule.point_type] = additive.get(rule.point_type, Decimal(0)) + earned
                if trace is not None:
                    detail = rule.explain(event, earned)
                if step.referral:
                    assert isinstance(rule, Referral)
                    if rule.qualifies(event, facts):
                        given, note, key = _referrer_reward(rule, state, context["at"])
                        referrer_points += given
                        referral_rules.append(rule.id)
                        detail += note
                        referrals.append((rule.id, given, key))
            fired.setdefault(rule.point_type, []).append(rule.id)
            if trace is not None:
                trace.append(TraceLine(rule=rule.id, matched=True, detail=detail))
            if rule.exclusive:
                excluded_by = rule.id
        effects: list[Effect] = []
        local = context["at"]
        kept: dict[str, int] = {}
        for point_type, total in running.items():
            points = int(total)
            points = self._capped(plan, state, point_type, points, local, trace, effects)
            kept[point_type] = points
            if points > 0:
                effects.append(
                    self._earn(
                        program, state.customer.id, point_type, points, at, event, fired[point_type]
                    )
                )
        if program.campaigns:
            awards = self._campaigns(program, state, event, at, context, kept, additive, trace)
            if budgets is None:
                effects.extend(awards)
            else:
                funded = budgets.fund(awards)
                effects.extend(funded.effects)
                if trace is not None:
                    trace.extend(funded.trace)
        referrer = state.customer.referred_by
        for rule_id, given, key in referrals:
            assert referrer is not None
            effects.append(
                ReferralReward(
                    referrer=referrer, referred=state.customer.id, rule=rule_id, points=given
                )
            )
            if key is not None and given:
                effects.append(CounterIncrement(key=key, amount=1, customer_id=referrer))
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
            effects.append(
                MetricSample(
                    customer_id=state.customer.referred_by, metric="referrals", value=Decimal(1)
                )
            )
        samples = _samples(program, state.customer.id, event, effects)
        effects.extend(samples)
        update, lines = traced_upgrade(program, state, samples, at)
        if update is not None:
            effects.append(update)
        if trace is not None:
            trace.extend(lines)  # an upgrade, or why the member is not rated
        return Decision(effects=tuple(effects), trace=() if trace is None else tuple(trace))

    def _campaigns(
        self,
        program: Program,
        state: CustomerState,
        event: Event,
        at: datetime,
        context: Mapping[str, Any],
        earned: Mapping[str, int],
        additive: Mapping[str, Decimal],
        trace: list[TraceLine] | None,
    ) -> list[CampaignAward]:
        """The campaigns' awards after the base rules, and a trace line per campaign."""
        base = {
            point_type: int(total.quantize(Decimal(1), rounding=program.rounding))
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
                    self._earn(
                        program,
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
        trace: list[TraceLine] | None,
        effects: list[Effect],
    ) -> int:
        caps = [(cap, cap.counter(local)) for cap in plan.caps_for(point_type)]
        for cap, key in caps:
            used = 0 if key is None else state.counters.get(key, 0)
            room = max(0, cap.limit - used)
            if points > room:
                if trace is not None:
                    detail = f"{cap.id}: {cap.period} cap {cap.limit}, {used} used -> {room}"
                    trace.append(TraceLine(rule=cap.id, matched=True, detail=detail))
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


def _samples(
    program: Program, customer_id: CustomerId, event: Event, effects: list[Effect]
) -> list[MetricSample]:
    """The metrics an event adds to: spend and purchases, qualifying points, custom
    events (a count per type, and sums of their numeric attributes as ``type.name``)."""
    found: list[tuple[str, Decimal]] = []
    if isinstance(event, Purchase):
        found += [("spend", event.amount.amount), ("purchases", Decimal(1))]
    else:
        found.append((event.type, Decimal(1)))
        found += [
            (f"{event.type}.{name}", Decimal(value))
            for name, value in event.attributes
            if isinstance(value, int) and not isinstance(value, bool)
        ]
    earns = [e for e in effects if isinstance(e, Earn)]
    earns += [earn for e in effects if isinstance(e, CampaignAward) for earn in e.earns]
    qualifying = sum(
        effect.points
        for effect in earns
        if effect.customer_id == customer_id and effect.point_type == program.qualifying_points
    )
    if qualifying:
        found.append(("qualifying_points", Decimal(qualifying)))
    return [MetricSample(customer_id=customer_id, metric=m, value=v) for m, v in found]


def measure_with(
    history: MetricHistory, customer: Customer, at: datetime, zone: tzinfo
) -> Callable[[Requirement], Decimal]:
    """A measuring function for tier requirements over ``history`` at ``at``."""

    def measure(requirement: Requirement) -> Decimal:
        return history.measure(
            requirement.metric,
            requirement.window,
            at,
            enrolled_at=customer.enrolled_at,
            zone=zone,
            per_month=requirement.per_month,
        )

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
