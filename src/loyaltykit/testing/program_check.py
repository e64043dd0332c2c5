"""``check_program``: a battery of named properties run against your programme.

Each property draws member histories from strategies derived from the programme
(:func:`loyaltykit.testing.strategies.for_program`), runs them through the
:class:`~loyaltykit.Loyalty` facade on fresh storage, and checks one promise. A failure
is shrunk by hypothesis to a small history and reported for a programme manager: the
history as a table, what was expected, what happened, and the engine's trace::

    report = check_program(Program.from_toml("programme.toml"))
    print(report)            # one line per property, counterexamples below
    assert report.ok, report

Runs are reproducible: hypothesis is derandomised and keeps no example database, and
deadlines and slow-data health checks are off, so a loaded machine never fails a check.
"""

from __future__ import annotations

import itertools
import json
import tomllib
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import strategies as st

from loyaltykit.bootstrap import Loyalty
from loyaltykit.domain.activity import CustomEvent, Item, Purchase
from loyaltykit.domain.customer import Customer
from loyaltykit.domain.ledger import Entry, EntryKind
from loyaltykit.domain.periods import period_key
from loyaltykit.errors import InvalidArgument, LoyaltyError
from loyaltykit.formats.programs import Program
from loyaltykit.outcomes import Receipt
from loyaltykit.policy.engine import CustomerState, condition_context
from loyaltykit.storage.base import Storage
from loyaltykit.storage.memory import MemoryStorage
from loyaltykit.testing.history import (
    MEMBER,
    History,
    Outcome,
    Refund,
    Step,
    perform,
    replay,
)
from loyaltykit.testing.strategies import ProgramStrategies, for_program
from loyaltykit.values import Money

__all__ = [
    "Broken",
    "Counterexample",
    "ExtraProperty",
    "ProgramReport",
    "PropertyResult",
    "check_program",
]

ExtraProperty = Callable[[History, Sequence[Outcome]], object]
"""A property of your own: receives a history and the facade's outcome of each step,
raises ``AssertionError`` (or :class:`Broken`) when the programme misbehaves."""


class Broken(AssertionError):
    """A property does not hold: what was expected, what happened, the trace lines."""

    def __init__(
        self,
        expected: str,
        actual: str,
        trace: Iterable[str] = (),
        *,
        history: History | None = None,
    ) -> None:
        super().__init__(f"expected {expected}; got {actual}")
        self.expected = expected
        self.actual = actual
        self.trace = tuple(line for line in trace if line)
        self.history = history


@attrs.frozen(kw_only=True)
class Counterexample:
    """The smallest failing case hypothesis found, readable without Python."""

    history: History | None
    expected: str
    actual: str
    trace: tuple[str, ...] = ()
    zone: Any = None

    def __str__(self) -> str:
        parts = []
        if self.history is not None:
            parts.append(self.history.table(self.zone))
        parts.append(f"expected: {self.expected}")
        parts.append(f"actual:   {self.actual}")
        if self.trace:
            parts.append("trace:")
            parts += [f"  {line}" for line in self.trace]
        return "\n".join(parts)


@attrs.frozen(kw_only=True)
class PropertyResult:
    """One property of the battery: passed, failed (with a counterexample) or skipped
    (with the reason, e.g. the programme does not promise it)."""

    name: str
    description: str
    passed: bool
    skipped: str | None = None
    counterexample: Counterexample | None = None

    def __str__(self) -> str:
        if self.skipped is not None:
            return f"SKIP {self.name}: {self.skipped}"
        return f"{'PASS' if self.passed else 'FAIL'} {self.name}: {self.description}"


@attrs.frozen(kw_only=True)
class ProgramReport:
    """Every property's result, by name."""

    program: str
    results: tuple[PropertyResult, ...]

    @property
    def ok(self) -> bool:
        """True when no property failed."""
        return all(result.passed for result in self.results)

    @property
    def failures(self) -> tuple[PropertyResult, ...]:
        """The properties that failed."""
        return tuple(result for result in self.results if not result.passed)

    def __getitem__(self, name: str) -> PropertyResult:
        for result in self.results:
            if result.name == name:
                return result
        raise KeyError(f"no property {name!r} (properties: {[r.name for r in self.results]})")

    def __str__(self) -> str:
        lines = [f"check_program({self.program!r}):"]
        lines += [f"  {result}" for result in self.results]
        for result in self.failures:
            assert result.counterexample is not None
            lines.append("")
            lines.append(f"{result.name} fails:")
            lines += [f"  {line}" for line in str(result.counterexample).splitlines()]
        return "\n".join(lines)


# --- what the properties share ---------------------------------------------------------


@attrs.frozen
class _Context:
    program: Program
    strategies: ProgramStrategies
    make_storage: Callable[[], Storage]

    def loyalty(self) -> Loyalty:
        return Loyalty(self.program, storage=self.make_storage())

    @property
    def point_types(self) -> tuple[str, ...]:
        return tuple(point_type.code for point_type in self.program.point_types)

    def run(self, history: History) -> tuple[Loyalty, list[Outcome]]:
        loyalty = self.loyalty()
        return loyalty, replay(loyalty, history)

    def balances(self, loyalty: Loyalty, at: datetime) -> dict[str, tuple[int, int]]:
        found = {}
        for code in self.point_types:
            balance = loyalty.balance(MEMBER, point_type=code, at=at)
            found[code] = (balance.available, balance.pending)
        return found


def _trace(*receipts: Receipt | None) -> list[str]:
    return [line for r in receipts if r is not None for line in r.explanation.splitlines()]


def _earned(receipts: Iterable[Receipt | None], point_type: str) -> int:
    """Points of ``point_type`` the member earned in ``receipts`` (pending included)."""
    return sum(
        entry.amount + entry.pending_delta
        for receipt in receipts
        if receipt is not None
        for entry in receipt.entries
        if entry.customer_id == MEMBER
        and entry.point_type == point_type
        and entry.kind is EntryKind.EARN
    )


def _from_campaign(entry: Entry) -> bool:
    return str(dict(entry.metadata).get("rules", "")).startswith("campaign:")


def _fired(receipt: Receipt) -> set[str]:
    """The rule ids the receipt's trace says contributed."""
    return {
        line[2:].split(":", 1)[0] for line in receipt.explanation.splitlines() if line[:2] == "+ "
    }


def _events(outcomes: Sequence[Outcome]) -> list[tuple[Outcome, Receipt]]:
    return [
        (o, o.receipt)
        for o in outcomes
        if o.receipt is not None and not isinstance(o.step.action, Refund)
    ]


def _unexpected(outcomes: Sequence[Outcome]) -> None:
    """A step that failed with something other than a typed loyaltykit error is a bug."""
    for number, outcome in enumerate(outcomes, start=1):
        if outcome.error is not None and not isinstance(outcome.error, LoyaltyError):
            raise Broken(
                f"step {number} to be accepted or refused with a loyaltykit error",
                f"{type(outcome.error).__name__}: {outcome.error}",
            )


# --- the properties --------------------------------------------------------------------


def _no_negative_earn(ctx: _Context, history: History) -> None:
    _, outcomes = ctx.run(history)
    _unexpected(outcomes)
    for outcome, receipt in _events(outcomes):
        for entry in receipt.entries:
            if entry.kind is not EntryKind.EARN:
                continue  # the command also settles lots that fell due
            moved = entry.amount + entry.pending_delta
            if moved < 0:
                raise Broken(
                    f"{outcome.key} ({outcome.step.what}) to earn zero points or more",
                    f"{moved} {entry.point_type} for {entry.customer_id}",
                    _trace(receipt),
                )


def _caps_and_budgets(ctx: _Context, history: History) -> None:
    loyalty, outcomes = ctx.run(history)
    zone = ctx.program.zone
    for cap in ctx.program.caps:
        if cap.scope is not None:
            continue  # it limits only what its lines earn, which no receipt shows apart
        used: dict[str, int] = {}
        for outcome, receipt in _events(outcomes):
            local = outcome.step.at.astimezone(zone)
            key = "event" if cap.period == "event" else period_key(cap.period, local)
            if cap.period == "event":
                used = {}
            earned = sum(
                e.amount + e.pending_delta
                for e in receipt.entries
                if e.customer_id == MEMBER
                and e.kind is EntryKind.EARN
                and e.point_type == cap.point_type
                and not _from_campaign(e)
            )
            used[key] = used.get(key, 0) + earned
            if used[key] > cap.limit:
                raise Broken(
                    f"cap {cap.id} to keep {cap.point_type} at most {cap.limit} per {cap.period}",
                    f"{used[key]} earned in {key} by {outcome.key}",
                    _trace(receipt),
                )
    for campaign in ctx.program.campaigns:
        if campaign.budget is not None:
            view = loyalty.campaign_budget(campaign.id)
            if view.limit is not None and view.spent > view.limit:
                raise Broken(
                    f"campaign {campaign.id} to spend at most its budget {view.limit}",
                    f"{view.spent} spent",
                )
        limit = campaign.member_limit
        if limit is None or limit.points is None:
            continue
        taken: dict[str, int] = {}
        for outcome, receipt in _events(outcomes):
            key = period_key(limit.period, outcome.step.at.astimezone(zone))
            taken[key] = taken.get(key, 0) + sum(
                e.amount + e.pending_delta
                for e in receipt.entries
                if e.customer_id == MEMBER
                and e.kind is EntryKind.EARN
                and str(dict(e.metadata).get("rules", "")) == f"campaign:{campaign.id}"
            )
            if taken[key] > limit.points:
                raise Broken(
                    f"campaign {campaign.id} to give a member at most {limit.points} points "
                    f"per {limit.period}",
                    f"{taken[key]} in {key} by {outcome.key}",
                    _trace(receipt),
                )


def _exclusive(ctx: _Context, history: History) -> None:
    _, outcomes = ctx.run(history)
    for outcome, receipt in _events(outcomes):
        fired = _fired(receipt)
        for group in ctx.program.promises.exclusive:
            both = [rule for rule in group if rule in fired]
            if len(both) > 1:
                raise Broken(
                    f"at most one of {list(group)} on {outcome.key} ({outcome.step.what})",
                    f"{both} all applied",
                    _trace(receipt),
                )


def _bigger(purchase: Purchase, extra: Item) -> Purchase:
    assert extra.total is not None
    return attrs.evolve(
        purchase, amount=purchase.amount + extra.total, items=(*purchase.items, extra)
    )


def _monotone(ctx: _Context, case: tuple[History, Purchase, Item, int | None]) -> None:
    history, purchase, extra, cross = case
    if cross is not None:
        extra = _crossing(ctx, purchase, extra, cross)
    loyalty, _ = ctx.run(history)
    at = history.end + timedelta(hours=1)
    more = _bigger(purchase, extra)
    small, big = loyalty.quote(MEMBER, purchase, at=at), loyalty.quote(MEMBER, more, at=at)
    for code in ctx.point_types:
        if big.points(code, MEMBER) < small.points(code, MEMBER):
            raise Broken(
                f"spending {more.amount} to earn at least the {small.points(code, MEMBER)} "
                f"{code} that {purchase.amount} earns",
                f"{big.points(code, MEMBER)} {code}",
                [
                    f"for {purchase.amount}:",
                    *small.explain().splitlines(),
                    f"for {more.amount}:",
                    *big.explain().splitlines(),
                ],
            )


def _halves(purchase: Purchase, cut: int) -> tuple[Purchase, Purchase]:
    """The basket as two purchases: units before ``cut`` and the rest."""
    units = [item for item in purchase.items for _ in range(item.quantity)]
    cut = max(1, min(cut, len(units) - 1))

    def basket(part: list[Item]) -> Purchase:
        # one unit of a line is the line itself (brand and tags kept) of quantity 1
        lines: dict[Item, int] = {}
        for item in part:
            key = attrs.evolve(item, quantity=1)
            lines[key] = lines.get(key, 0) + 1
        made = tuple(attrs.evolve(item, quantity=n) for item, n in lines.items())
        total = sum((i.total.amount for i in made if i.total is not None), Decimal(0))
        return attrs.evolve(purchase, amount=Money.of(total, purchase.amount.currency), items=made)

    return basket(units[:cut]), basket(units[cut:])


def _split(ctx: _Context, case: tuple[History, Purchase, int]) -> None:
    history, purchase, cut = case
    at = history.end + timedelta(hours=1)
    first, second = _halves(purchase, cut)
    whole_run, _ = ctx.run(history)
    whole = whole_run.record_purchase(MEMBER, purchase, at=at, idempotency_key="whole")
    split_run, _ = ctx.run(history)
    one = split_run.record_purchase(MEMBER, first, at=at, idempotency_key="split-1")
    two = split_run.record_purchase(MEMBER, second, at=at, idempotency_key="split-2")
    for code in ctx.point_types:
        together, apart = _earned([whole], code), _earned([one, two], code)
        if apart > together:
            raise Broken(
                f"{first.amount} + {second.amount} bought apart to earn at most the "
                f"{together} {code} that {purchase.amount} earns at once",
                f"{apart} {code}",
                [
                    "whole:",
                    *_trace(whole),
                    "first part:",
                    *_trace(one),
                    "second part:",
                    *_trace(two),
                ],
            )


def _rank(loyalty: Loyalty, at: datetime) -> tuple[int, str]:
    ladder = loyalty.versions.latest.tiers
    assert ladder is not None
    code = loyalty.tier(MEMBER, at=at).effective
    return next(t.rank for t in ladder.tiers if t.code == code), code


def _refund(ctx: _Context, case: tuple[History, Purchase, int]) -> None:
    history, purchase, days = case
    bought = history.end + timedelta(hours=1)
    back = bought + timedelta(days=days)
    with_it, _ = ctx.run(history)
    receipt = with_it.record_purchase(MEMBER, purchase, at=bought, idempotency_key="bought")
    before = _rank(with_it, back) if ctx.program.tiers is not None else None
    refund = with_it.refund(MEMBER, "bought", at=back, idempotency_key="refund")
    without, _ = ctx.run(history)
    seen, expected = ctx.balances(with_it, back), ctx.balances(without, back)
    trace = ["purchase:", *_trace(receipt), "refund:", *_trace(refund)]
    for code in ctx.point_types:
        if seen[code] != expected[code]:
            raise Broken(
                f"{code} (available, pending) {expected[code]} as without the purchase",
                f"{seen[code]} after refunding all of {purchase.amount}",
                trace,
            )
    if before is not None:
        # an upgrade happens at once and is only taken back at re-qualification, so the
        # tier may stay where the purchase put it, never above it or below the one the
        # member would hold without the purchase
        now, low = _rank(with_it, back), _rank(without, back)
        if not low[0] <= now[0] <= max(before[0], low[0]):
            raise Broken(
                f"tier {low[1]} (as without the purchase) or {before[1]} (kept until "
                "re-qualification)",
                f"tier {now[1]}",
                trace,
            )


def _conditions(
    ctx: _Context, case: tuple[Any, Purchase | CustomEvent, datetime, str | None]
) -> None:
    profile, event, at, tier = case
    customer = Customer(id=MEMBER, enrolled_at=at, profile=profile)
    state = CustomerState(customer=customer, tier=tier)
    context = condition_context(ctx.program, state, event, at)
    checks = [(rule.id, rule.event, rule.condition) for rule in ctx.program.rules]
    checks += [
        (f"campaign {c.id}", e, c.audience.condition)
        for c in ctx.program.campaigns
        for e in c.events
    ]
    for name, event_type, condition in checks:
        if condition is None or event_type != event.type:
            continue
        try:
            condition.evaluate(context)
        except Exception as error:  # any failure of a condition is what we look for
            attributes = dict(profile.attributes)
            raise Broken(
                f"the condition of {name} ({condition.source}) to evaluate",
                f"{type(error).__name__}: {error}",
                [
                    f"member: tier={tier}, tags={sorted(profile.tags)}, attributes={attributes}",
                    f"event: {event.type} {dict(event.context())}",
                ],
            ) from None


def _deterministic(ctx: _Context, history: History) -> None:
    first, outcomes = ctx.run(history)
    _second, again = ctx.run(history)
    for number, (one, two) in enumerate(zip(outcomes, again, strict=True), start=1):
        left = (one.receipt and one.receipt.explanation, repr(one.error))
        right = (two.receipt and two.receipt.explanation, repr(two.error))
        if left != right or _balances_of(one) != _balances_of(two):
            raise Broken(
                f"step {number} to give the same outcome on every run",
                f"{left} then {right}",
                _trace(one.receipt, two.receipt),
            )
    snapshot = ctx.balances(first, history.end)
    for number, step in enumerate(history.steps, start=1):
        if outcomes[number - 1].receipt is None:
            continue
        replayed = perform(first, number, step)
        if not replayed.replayed or ctx.balances(first, history.end) != snapshot:
            raise Broken(
                f"replaying {outcomes[number - 1].key} to change nothing",
                f"balances {ctx.balances(first, history.end)} instead of {snapshot}",
                _trace(replayed),
            )


def _balances_of(outcome: Outcome) -> object:
    if outcome.receipt is None:
        return None
    return [(b.point_type, b.available, b.pending) for b in outcome.receipt.balances]


def _round_trip(program: Program) -> None:
    import tomli_w

    try:
        data = program.to_dict()
    except LoyaltyError as error:
        raise Broken("the programme to have a dict form", f"{error}") from None
    loaders: tuple[tuple[str, Callable[[], Program]], ...] = (
        ("dict", lambda: Program.from_dict(data)),
        ("JSON", lambda: Program.from_json(json.dumps(data, default=str))),
        ("TOML", lambda: Program.from_dict(tomllib.loads(tomli_w.dumps(data)))),
    )
    for form, load in loaders:
        if form == "JSON" and _has_instants(data):
            continue  # JSON has no instants; the TOML form carries them
        try:
            loaded = load()
        except Exception as error:  # a form that does not load back is the failure
            raise Broken(
                f"the {form} form to load back", f"{type(error).__name__}: {error}"
            ) from None
        if loaded != program:
            changed = sorted(
                key
                for key in {*data, *loaded.to_dict()}
                if data.get(key) != loaded.to_dict().get(key)
            )
            raise Broken(f"the {form} form to load back equal", f"these parts differ: {changed}")


def _has_instants(value: Any) -> bool:
    if isinstance(value, datetime):
        return True
    if isinstance(value, dict):
        return any(_has_instants(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_instants(v) for v in value)
    return False


def _tier_problems(program: Program) -> list[str]:
    """Thresholds out of order, equal (the lower tier is never reached) or with a gap."""
    ladder = program.tiers
    if ladder is None:
        return []
    problems = []
    tiers = sorted(ladder.tiers, key=lambda tier: tier.rank)
    for lower, higher in itertools.pairwise(tiers):
        for need in higher.requirements:
            for had in lower.requirements:
                same = (had.metric, had.window, had.per_month) == (
                    need.metric,
                    need.window,
                    need.per_month,
                )
                if not same:
                    continue
                if had.below is not None and had.below != need.at_least:
                    gap = "a gap" if had.below < need.at_least else "an overlap"
                    problems.append(
                        f"{lower.code} ends below {had.below:f} {had.metric} but {higher.code} "
                        f"starts at {need.at_least:f}: {gap} between them"
                    )
                elif had.below is None and need.at_least <= had.at_least:
                    problems.append(
                        f"{higher.code} (rank {higher.rank}) needs {need.metric} >= "
                        f"{need.at_least:f}, not more than {lower.code} (rank {lower.rank}) "
                        f"needs ({had.at_least:f}): {lower.code} is never reached on its own"
                    )
    return problems


def _tiers(ctx: _Context, _: object) -> None:
    problems = _tier_problems(ctx.program)
    if problems:
        raise Broken(
            "tier thresholds that rise with the rank and leave no gap", problems[0], problems
        )
    _reach(ctx)


def _reach(ctx: _Context) -> None:
    """Every tier reached on spend alone is reached by spending just its threshold; then,
    as its status ends without more spend, a ``one_step`` ladder never drops two ranks
    at once."""
    ladder = ctx.program.tiers
    assert ladder is not None
    enrolled = datetime(2026, 3, 2, 10, tzinfo=ctx.program.zone)
    for tier in sorted(ladder.tiers, key=lambda t: t.rank):
        spend = [r for r in tier.requirements if r.metric == "spend" and not r.per_month]
        if not spend or (tier.mode == "all" and len(spend) != len(tier.requirements)):
            continue
        amount = max(r.at_least for r in spend)
        loyalty = ctx.loyalty()
        history = History(enrolled_at=enrolled).then(
            Step(
                at=enrolled + timedelta(hours=1),
                action=Purchase(amount=Money.of(amount, ctx.program.currency)),
            )
        )
        outcomes = replay(loyalty, history)
        reached = loyalty.tier(MEMBER, at=history.end).effective
        trace = _trace(*(o.receipt for o in outcomes))
        if reached != tier.code:
            raise Broken(
                f"spending {amount:f} (the threshold of {tier.code}) to reach {tier.code}",
                f"tier {reached}",
                trace,
                history=history,
            )
        if ladder.downgrade == "one_step":
            _step_down(loyalty, history, trace)


def _step_down(loyalty: Loyalty, history: History, trace: list[str]) -> None:
    """Let every status end (grace included) and check each downgrade is one rank."""
    ladder = loyalty.versions.latest.tiers
    assert ladder is not None
    for _ in range(2 * len(ladder.tiers) + 2):
        due = loyalty.tier(MEMBER, at=history.end).status.due()
        if due is None:
            break
        loyalty.requalify_tiers(at=due)
        if loyalty.tier(MEMBER, at=due).status.due() == due:
            break  # nothing more to do
    changes = loyalty.tier(MEMBER, at=history.end).history
    for change in changes:
        if change.from_tier is None:
            continue
        drop = ladder.rank_of(change.from_tier) - ladder.rank_of(change.to_tier)
        if drop > 1:
            raise Broken(
                "a one_step ladder to step down one tier at a time",
                f"{change.from_tier} -> {change.to_tier} at {change.at:%Y-%m-%d}: {change.reason}",
                [*trace, *(f"tier {c.from_tier} -> {c.to_tier}: {c.reason}" for c in changes)],
                history=history,
            )


# --- the battery -----------------------------------------------------------------------


@attrs.frozen
class _Property:
    name: str
    description: str
    check: Callable[[_Context, Any], None]
    cases: Callable[[_Context], st.SearchStrategy[Any]]
    promised: Callable[[Program], str | None] = lambda _program: None


def _histories(ctx: _Context) -> st.SearchStrategy[History]:
    return ctx.strategies.histories()


def _more(ctx: _Context) -> st.SearchStrategy[Any]:
    one_more = ctx.strategies.purchases(max_items=1).map(lambda p: p.items[0])
    return st.tuples(
        ctx.strategies.histories(max_steps=3),
        ctx.strategies.purchases(),
        one_more,
        st.none() | st.integers(0, 7),
    )


def _crossing(ctx: _Context, purchase: Purchase, extra: Item, which: int) -> Item:
    """``extra`` priced to lift the basket exactly onto one of the amounts above it that
    the programme compares with (a threshold, a condition's literal), where a promise
    breaks if it does; ``extra`` itself when no such amount lies above the basket."""
    above = [a for a in ctx.strategies.read.amounts if a > purchase.amount.amount]
    if not above:
        return extra
    target = above[which % len(above)]
    price = Money.of(target - purchase.amount.amount, purchase.amount.currency)
    return attrs.evolve(extra, quantity=1, unit_price=price)


def _split_cases(ctx: _Context) -> st.SearchStrategy[Any]:
    # two lines at least (a basket at a threshold's edge is one line: nothing to split)
    baskets = ctx.strategies.purchases(min_items=2)
    return st.tuples(ctx.strategies.histories(max_steps=3), baskets, st.integers(1, 20))


def _refund_cases(ctx: _Context) -> st.SearchStrategy[Any]:
    baskets = ctx.strategies.purchases().filter(lambda p: p.amount.amount > 0)
    return st.tuples(ctx.strategies.histories(max_steps=3), baskets, st.integers(0, 45))


def _condition_cases(ctx: _Context) -> st.SearchStrategy[Any]:
    events: st.SearchStrategy[Purchase | CustomEvent] = ctx.strategies.purchases()
    custom = ctx.strategies.custom_events()
    if custom is not None:
        events = events | custom
    ladder = ctx.program.tiers
    tiers = st.sampled_from([None, *(t.code for t in ladder.tiers)]) if ladder else st.none()
    moments = st.datetimes(
        min_value=datetime(2026, 1, 1),
        max_value=datetime(2027, 12, 31),
        timezones=st.just(ctx.program.zone),
    )
    return st.tuples(ctx.strategies.profiles(), events, moments, tiers)


def _just(_ctx: _Context) -> st.SearchStrategy[None]:
    return st.none()


def _flag(name: str) -> Callable[[Program], str | None]:
    def promised(program: Program) -> str | None:
        if getattr(program.promises, name):
            return None
        return f"the programme does not promise it ([promises] {name} = false)"

    return promised


PROPERTIES: tuple[_Property, ...] = (
    _Property(
        "no_negative_earn",
        "no purchase or event earns negative points, and no step fails untyped",
        _no_negative_earn,
        _histories,
    ),
    _Property(
        "caps_and_budgets_hold",
        "caps, campaign member limits and campaign budgets are never exceeded",
        _caps_and_budgets,
        _histories,
        lambda p: None if p.caps or p.campaigns else "the programme has no caps or campaigns",
    ),
    _Property(
        "monotone",
        "spending more on the same basket never earns fewer points",
        _monotone,
        _more,
        _flag("monotone"),
    ),
    _Property(
        "split_never_earns_more",
        "a basket bought as two purchases never earns more than bought at once",
        _split,
        _split_cases,
        _flag("split_safe"),
    ),
    _Property(
        "exclusive_rules",
        "at most one rule of each exclusive group applies to an event",
        _exclusive,
        _histories,
        lambda p: None if p.promises.exclusive else "the programme declares no exclusive groups",
    ),
    _Property(
        "full_refund_restores",
        "a full refund leaves the balance (and tier) as without the purchase",
        _refund,
        _refund_cases,
    ),
    _Property(
        "tiers_reachable_and_ordered",
        "tier thresholds rise with the rank, leave no gap, and each tier can be reached",
        _tiers,
        _just,
        lambda p: None if p.tiers is not None else "the programme has no tiers",
    ),
    _Property(
        "conditions_evaluate",
        "every condition evaluates without error on every member and event",
        _conditions,
        _condition_cases,
        lambda p: (
            None
            if any(r.condition for r in p.rules) or any(c.audience.condition for c in p.campaigns)
            else "the programme has no conditions"
        ),
    ),
    _Property(
        "deterministic_and_idempotent",
        "the same history gives the same outcomes; replaying a key changes nothing",
        _deterministic,
        _histories,
    ),
    _Property(
        "round_trips",
        "the programme loads back equal from its dict, JSON and TOML forms",
        lambda ctx, _: _round_trip(ctx.program),
        _just,
    ),
)
NAMES = tuple(prop.name for prop in PROPERTIES)


def _extra(function: ExtraProperty) -> _Property:
    def check(ctx: _Context, history: History) -> None:
        _, outcomes = ctx.run(history)
        function(history, outcomes)

    name = getattr(function, "__name__", repr(function))
    description = (function.__doc__ or "a property of your own").strip().splitlines()[0]
    return _Property(name, description, check, _histories)


def _run(prop: _Property, ctx: _Context, options: settings) -> PropertyResult:
    reason = prop.promised(ctx.program)
    if reason is not None:
        return PropertyResult(
            name=prop.name, description=prop.description, passed=True, skipped=reason
        )
    seen: list[Counterexample] = []

    @options
    @given(prop.cases(ctx))
    def test(case: Any) -> None:
        history = case if isinstance(case, History) else None
        if isinstance(case, tuple) and case and isinstance(case[0], History):
            history = _extended(case)
        try:
            prop.check(ctx, case)
        except Broken as broken:
            seen.append(
                Counterexample(
                    history=broken.history or history,
                    expected=broken.expected,
                    actual=broken.actual,
                    trace=broken.trace,
                    zone=ctx.program.zone,
                )
            )
            raise
        except Exception as error:  # a crash is reported like a broken promise
            seen.append(
                Counterexample(
                    history=history,
                    expected="the property to run to its end",
                    actual=f"{type(error).__name__}: {error}",
                    zone=ctx.program.zone,
                )
            )
            raise

    try:
        test()
    except Exception:  # hypothesis re-raises the shrunk example's failure last
        if not seen:
            raise
        return PropertyResult(
            name=prop.name, description=prop.description, passed=False, counterexample=seen[-1]
        )
    return PropertyResult(name=prop.name, description=prop.description, passed=True)


def _extended(case: tuple[Any, ...]) -> History:
    """The history a (history, purchase, ...) case stands for, for the report."""
    history: History = case[0]
    if len(case) > 1 and isinstance(case[1], Purchase):
        at = history.end + timedelta(hours=1)
        history = history.then(Step(at=at, action=case[1]))
    return history


def check_program(
    program: Program,
    *,
    storage: Callable[[], Storage] | None = None,
    max_examples: int = 40,
    extra: Sequence[ExtraProperty] = (),
    only: Sequence[str] | None = None,
) -> ProgramReport:
    """Run the battery against ``program`` and report every property by name.

    ``storage`` makes a fresh, empty :class:`~loyaltykit.storage.base.Storage` for each
    run (default: a new in-memory store); ``max_examples`` is how many cases each
    property tries; ``extra`` adds your own properties (``f(history, outcomes)``,
    reported under the function's name); ``only`` runs the named properties alone.
    """
    if not isinstance(program, Program):
        raise InvalidArgument(f"program: {program!r} is not a loyaltykit Program")
    if isinstance(max_examples, bool) or not isinstance(max_examples, int) or max_examples < 1:
        raise InvalidArgument(f"max_examples: {max_examples!r} must be a positive int")
    battery = [*PROPERTIES, *(_extra(function) for function in extra)]
    if only is not None:
        unknown = sorted(set(only) - {prop.name for prop in battery})
        if unknown:
            raise InvalidArgument(f"only: no properties {unknown} (known: {list(NAMES)})")
        battery = [prop for prop in battery if prop.name in only]
    ctx = _Context(program, for_program(program), storage or MemoryStorage)
    options = settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        verbosity=Verbosity.quiet,
        print_blob=False,
        # the explain phase re-runs the shrunk example hundreds of times to annotate it;
        # the report explains the example itself
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    results = tuple(_run(prop, ctx, options) for prop in battery)
    return ProgramReport(program=program.name, results=results)
