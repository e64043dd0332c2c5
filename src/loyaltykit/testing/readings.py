"""What a programme reads: the currency, categories, brands and tags of lines, event
types, attributes and days its rules, conditions, tiers, campaigns and rewards look at.

:func:`readings` walks a :class:`~loyaltykit.policy.program.Program` once and collects
them, with the literal values its conditions compare against, so that the strategies
derived from a programme (:func:`loyaltykit.testing.strategies.for_program`) produce
the events and members that programme actually reacts to::

    >>> from loyaltykit import Program
    >>> program = Program.from_dict({"rules": [{"id": "latte", "kind": "per_unit",
    ...     "rate": 1, "category": "coffee"}]})
    >>> readings(program).categories
    ('coffee',)
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from loyaltykit.domain.basket import MoneyOff, Scope
from loyaltykit.formats.programs import Program
from loyaltykit.policy.conditions import Condition
from loyaltykit.policy.rules import AttributeRate, BaseRate, PerUnit, SpendThreshold

__all__ = ["Reading", "Readings", "readings"]

# what the engine puts in a condition's context itself (policy/engine.py, domain/activity.py)
PURCHASE_FIELDS = frozenset(
    {"type", "amount", "currency", "channel", "quantity", "categories", "skus"}
)
CUSTOMER_FIELDS = frozenset(
    {"id", "tier", "tags", "birthday", "channel", "status", "enrolled_at", "purchases"}
)
_TEXT_FUNCTIONS = frozenset({"len", "lower", "upper", "startswith"})
_TIME_FUNCTIONS = frozenset(
    {"day_of_week", "day", "month", "year", "hour", "date", "days_between", "is_birthday_month"}
)


@attrs.frozen(kw_only=True)
class Reading:
    """One variable a condition reads, what kind of value it expects (``text``,
    ``number``, ``tags``, ``flag``) and the literals it is compared with."""

    kind: str
    literals: tuple[Any, ...] = ()


@attrs.frozen(kw_only=True)
class Readings:
    """Everything :func:`readings` found in a programme."""

    currency: str
    categories: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    skus: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    """Brands of lines the scopes read."""
    line_tags: tuple[str, ...] = ()
    """Tags of lines the scopes read (``tags`` are the members' tags)."""
    tags: tuple[str, ...] = ()
    event_types: tuple[str, ...] = ()
    # event type ("purchase" included) -> attribute -> reading
    event_attributes: dict[str, dict[str, Reading]] = attrs.field(factory=dict)
    customer_attributes: dict[str, Reading] = attrs.field(factory=dict)
    amounts: tuple[Decimal, ...] = ()
    days_of_month: tuple[int, ...] = ()
    days_of_week: tuple[int, ...] = ()
    moments: tuple[datetime, ...] = ()


def _path(node: ast.AST) -> tuple[str, ...] | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return tuple(reversed(parts))
    return None


def _literals(node: ast.AST) -> list[Any]:
    if isinstance(node, ast.Constant):
        return [node.value]
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return [item.value for item in node.elts if isinstance(item, ast.Constant)]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return [-value for value in _literals(node.operand) if isinstance(value, int | float)]
    return []


def _kind_of(values: Iterable[Any]) -> str | None:
    for value in values:
        if isinstance(value, bool):
            return "flag"
        if isinstance(value, int | float):
            return "number"
        if isinstance(value, str):
            return "text"
    return None


def _uses(tree: ast.AST) -> Iterator[tuple[tuple[str, ...], str, tuple[Any, ...]]]:
    """Every dotted variable with the kind of value its use implies and its literals."""
    parents: dict[ast.AST, ast.AST] = {}
    for above in ast.walk(tree):
        for child in ast.iter_child_nodes(above):
            parents[child] = above
    for node in ast.walk(tree):
        path = _path(node) if isinstance(node, ast.Attribute) else None
        if path is None or isinstance(parents.get(node), ast.Attribute):
            continue
        parent = parents.get(node)
        kind, literals = "text", list[Any]()
        if isinstance(parent, ast.Call) and isinstance(parent.func, ast.Name):
            name = parent.func.id
            if name in _TEXT_FUNCTIONS:
                kind = "text"
            elif name in _TIME_FUNCTIONS:
                kind = "time"
            elif name in ("contains_any", "contains_all"):
                kind = "tags"
                literals = [v for arg in parent.args[1:] for v in _literals(arg)]
            else:
                kind = "number"
        elif isinstance(parent, ast.Compare):
            operands: list[ast.AST] = [parent.left, *parent.comparators]
            where = operands.index(node)
            ops = parent.ops
            # ``x in [..]``: x is one of them; ``'a' in x``: x is a collection holding 'a'
            if where > 0 and isinstance(ops[where - 1], ast.In | ast.NotIn):
                kind = "tags"
                literals = _literals(operands[where - 1])
            elif where < len(ops) and isinstance(ops[where], ast.In | ast.NotIn):
                literals = _literals(operands[where + 1])
                kind = _kind_of(literals) or "text"
            else:
                literals = [v for other in operands if other is not node for v in _literals(other)]
                kind = _kind_of(literals) or "text"
        elif isinstance(parent, ast.BinOp | ast.UnaryOp):
            kind = "number"
        elif isinstance(parent, ast.BoolOp) or parent is None or isinstance(parent, ast.Expression):
            kind = "flag"
        yield path, kind, tuple(literals)


def _time_literals(tree: ast.AST, function: str) -> list[int]:
    found: list[int] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        calls = [
            o
            for o in operands
            if isinstance(o, ast.Call) and isinstance(o.func, ast.Name) and o.func.id == function
        ]
        if calls:
            found += [v for o in operands for v in _literals(o) if isinstance(v, int)]
    return found


def _merge(found: dict[str, Reading], name: str, kind: str, literals: tuple[Any, ...]) -> None:
    old = found.get(name)
    if old is None:
        found[name] = Reading(kind=kind, literals=literals)
        return
    # a more specific use wins over "text", the guess for a bare comparison
    chosen = old.kind if kind == "text" else kind
    merged = tuple(dict.fromkeys((*old.literals, *literals)))
    found[name] = Reading(kind=chosen, literals=merged)


def _conditions(program: Program) -> Iterator[tuple[str, tuple[str, ...]]]:
    """(condition source, the event types it is evaluated on) for rules and campaigns
    whose condition is in the condition language (a Python callable cannot be read)."""
    for rule in program.rules:
        if isinstance(rule.condition, Condition):
            yield rule.condition.source, (rule.event,)
    for campaign in program.campaigns:
        if isinstance(campaign.audience.condition, Condition):
            yield campaign.audience.condition.source, campaign.events


@attrs.define
class _Lines:
    """The names of lines the programme's scopes read, as they are collected."""

    categories: list[str] = attrs.field(factory=list)
    skus: list[str] = attrs.field(factory=list)
    brands: list[str] = attrs.field(factory=list)
    tags: list[str] = attrs.field(factory=list)

    def read(self, scope: Scope | None) -> None:
        """The names ``scope`` reads, and those it leaves out: baskets need both."""
        while scope is not None:
            self.categories += sorted(scope.categories)
            self.skus += sorted(scope.skus)
            self.brands += sorted(scope.brands)
            self.tags += sorted(scope.tags)
            scope = scope.exclude


def _money_off_scopes(program: Program) -> Iterator[Scope | None]:
    """The scopes of what takes money off a basket: campaigns, discount rewards and the
    vouchers of coupons."""
    for campaign in program.campaigns:
        for effect in campaign.effects:
            if isinstance(effect, MoneyOff):
                yield effect.scope
    for entry in program.catalog.entries:
        reward = entry.reward
        if reward is None:  # a withdrawal
            continue
        for off in (reward.money_off, None if reward.voucher is None else reward.voucher.money_off):
            if off is not None:
                yield off.scope


def readings(program: Program) -> Readings:
    """What ``program`` reads (see the module docstring)."""
    lines = _Lines()
    categories, skus = lines.categories, lines.skus
    channels: list[str] = []
    tags: list[str] = []
    amounts: list[Decimal] = []
    event_types: list[str] = []
    events: dict[str, dict[str, Reading]] = {}
    customer: dict[str, Reading] = {}
    days: list[int] = []
    weekdays: list[int] = []
    for rule in program.rules:
        if rule.event != "purchase":
            event_types.append(rule.event)
        if isinstance(rule, PerUnit) and rule.category:
            categories.append(rule.category)
        lines.read(rule.rule_scope)
        if isinstance(rule, AttributeRate):
            _merge(events.setdefault(rule.event, {}), rule.attribute, "count", ())
        if isinstance(rule, BaseRate):
            amounts.append(rule.per.amount)
        if isinstance(rule, SpendThreshold):
            amounts.append(rule.threshold.amount)
    for cap in program.caps:
        lines.read(cap.scope)
    for scope in _money_off_scopes(program):
        lines.read(scope)
    for campaign in program.campaigns:
        event_types += [event for event in campaign.events if event != "purchase"]
        tags += sorted(campaign.audience.tags)
        for segment in sorted(campaign.audience.segments):
            _merge(customer, "segment", "text", (segment,))
    if program.tiers is not None:
        # a tier metric is an event type only when something records such events (a
        # bank's "assets" arrive through set_metric, not as events)
        known = set(event_types)
        for tier in program.tiers.tiers:
            for requirement in tier.requirements:
                event_type, _, attribute = requirement.metric.partition(".")
                if event_type not in known:
                    continue
                if attribute:
                    _merge(events.setdefault(event_type, {}), attribute, "count", ())
    for source, types in _conditions(program):
        tree = ast.parse(source, mode="eval")
        days += _time_literals(tree, "day")
        weekdays += _time_literals(tree, "day_of_week")
        for path, kind, literals in _uses(tree):
            root, field = path[0], ".".join(path[1:])
            if not field:
                continue
            if root == "event":
                for event_type in types:
                    builtin = event_type == "purchase" and field in PURCHASE_FIELDS
                    if not builtin:
                        if field != "type":  # an attribute the event must carry
                            _merge(events.setdefault(event_type, {}), field, kind, literals)
                        continue
                    if field == "categories":
                        categories += [v for v in literals if isinstance(v, str)]
                    elif field == "channel":
                        channels += [v for v in literals if isinstance(v, str)]
                    elif field == "skus":
                        skus += [v for v in literals if isinstance(v, str)]
                    elif field == "amount":
                        amounts += [Decimal(str(v)) for v in literals if _kind_of([v]) == "number"]
            elif root == "customer":
                if field == "tags":
                    tags += [v for v in literals if isinstance(v, str)]
                elif field not in CUSTOMER_FIELDS:
                    _merge(customer, field, kind, literals)
    moments = tuple(campaign.schedule.start for campaign in program.campaigns)
    return Readings(
        currency=program.currency,
        categories=tuple(dict.fromkeys(categories)),
        channels=tuple(dict.fromkeys(channels)),
        skus=tuple(dict.fromkeys(skus)),
        brands=tuple(dict.fromkeys(lines.brands)),
        line_tags=tuple(dict.fromkeys(lines.tags)),
        tags=tuple(dict.fromkeys(tags)),
        event_types=tuple(dict.fromkeys(t for t in event_types if t != "purchase")),
        event_attributes=events,
        customer_attributes=customer,
        amounts=tuple(sorted(set(amounts))),
        days_of_month=tuple(sorted({d for d in days if 1 <= d <= 31})),
        days_of_week=tuple(sorted({d for d in weekdays if 1 <= d <= 7})),
        moments=moments,
    )
