"""Tiers (会员等级): the ladder, how members qualify, and how a status changes.

A :class:`TierLadder` orders :class:`Tier` s by rank. A tier's qualification is a set of
:class:`Requirement` s on metrics measured over windows, combined with ``all`` or
``any``; relative tiers (top N percent of members) are assigned by a batch ranking.

A member's :class:`TierStatus` holds the *earned* tier, valid until a date, and an
optional time-limited :class:`Override` (a status match, a gift). The rules:

* **upgrade** as soon as a higher tier qualifies, valid for the ladder's ``status_length``;
* **re-qualify** when the status runs out: keep it if it still qualifies, otherwise enter
  the ``grace`` period, then **downgrade** to the tier that qualifies (``qualify``) or one
  rank at a time (``one_step``, a soft landing);
* an override lifts the effective tier until it ends, then the earned tier shows again:
  it is never a floor;
* **grandfathering**: a status granted under an older ladder version keeps its tier until
  its own ``valid_until``, and is re-rated under the current ladder only then.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs
from dateutil.relativedelta import relativedelta

from loyaltykit.domain.windows import Window
from loyaltykit.errors import InvalidArgument
from loyaltykit.values import aware, identifier, label, sequence_of, utc

__all__ = [
    "Forecast",
    "Override",
    "Requirement",
    "Tier",
    "TierChange",
    "TierLadder",
    "TierStatus",
]

Measure = Callable[["Requirement"], Decimal]


def _decimal(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise InvalidArgument(f"tier threshold: {value!r} is not a number (use a string or int)")
    try:
        result = Decimal(str(value))
    except ArithmeticError:
        raise InvalidArgument(f"tier threshold: {value!r} is not a number") from None
    if not result.is_finite() or result < 0:
        raise InvalidArgument(f"tier threshold: {value!r} must be >= 0")
    return result


def _optional_decimal(value: object) -> Decimal | None:
    return None if value is None else _decimal(value)


@attrs.frozen(kw_only=True)
class Requirement:
    """``at_least <= metric < below`` over ``window`` (``per_month`` averages: ARPU)."""

    metric: str = attrs.field(validator=lambda _i, _a, v: identifier("metric", v))
    at_least: Decimal = attrs.field(converter=_decimal)
    below: Decimal | None = attrs.field(default=None, converter=_optional_decimal)
    window: Window = attrs.field(factory=Window.rolling)
    per_month: bool = False

    def __attrs_post_init__(self) -> None:
        if self.below is not None and self.below <= self.at_least:
            raise InvalidArgument(
                f"requirement on {self.metric}: below={self.below} "
                f"must exceed at_least={self.at_least}"
            )

    def holds(self, value: Decimal) -> bool:
        """Whether ``value`` satisfies the requirement."""
        return value >= self.at_least and (self.below is None or value < self.below)

    def describe(self, value: Decimal) -> str:
        """``"spend 10500 >= 10000 (rolling 12 months)"``."""
        measured = f"{self.metric}{' per month' if self.per_month else ''} {_show(value)}"
        if value < self.at_least:
            relation = f"< {_show(self.at_least)}"
        elif self.below is not None and value >= self.below:
            relation = f">= {_show(self.below)} (the upper bound)"
        else:
            upper = "" if self.below is None else f" and < {_show(self.below)}"
            relation = f">= {_show(self.at_least)}{upper}"
        return f"{measured} {relation} ({self.window.label()})"


def _show(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')).normalize():f}"


def _rank(_instance: Any, _attribute: Any, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidArgument(f"tier rank: {value!r} must be an int >= 0")


def _mode(_instance: Any, _attribute: Any, value: Any) -> None:
    if value not in ("all", "any"):
        raise InvalidArgument(f"tier mode: {value!r} must be 'all' or 'any'")


def _requirements(value: object) -> tuple[Requirement, ...]:
    return sequence_of("requirements", value, Requirement)


def _perks(value: object) -> frozenset[str]:
    return frozenset(label("perk", perk) for perk in sequence_of("perks", value, str))


@attrs.frozen(kw_only=True)
class Tier:
    """A rung of the ladder.

    The base tier (lowest rank) has no requirements. ``top_percent`` makes a relative
    tier: the top N percent of members by ``rank_by`` (assigned by the batch ranking).
    ``perks`` name the benefits (lounge, priority service, a dedicated manager).
    """

    code: str = attrs.field(validator=lambda _i, _a, v: identifier("tier code", v))
    rank: int = attrs.field(validator=_rank)
    name: str = ""
    requirements: tuple[Requirement, ...] = attrs.field(default=(), converter=_requirements)
    mode: str = attrs.field(default="all", validator=_mode)
    top_percent: Decimal | None = attrs.field(default=None, converter=_optional_decimal)
    rank_by: str | None = None
    perks: frozenset[str] = attrs.field(default=frozenset(), converter=_perks)

    def __attrs_post_init__(self) -> None:
        if self.top_percent is not None and (
            self.rank_by is None or not 0 < self.top_percent <= 100
        ):
            raise InvalidArgument(
                f"tier {self.code}: top_percent needs rank_by and a value in (0, 100]"
            )

    def qualifies(self, measure: Measure) -> tuple[bool, str]:
        """Whether the metrics ``measure`` gives meet the requirements, and why."""
        if not self.requirements:
            return self.top_percent is None, "no requirements"
        measured = [(r, measure(r)) for r in self.requirements]
        results = [(r.holds(value), r.describe(value)) for r, value in measured]
        met = all(ok for ok, _ in results) if self.mode == "all" else any(ok for ok, _ in results)
        joiner = " and " if self.mode == "all" else " or "
        return met, joiner.join(text for _, text in results)


def _tiers(value: Any) -> tuple[Tier, ...]:
    tiers = tuple(sorted(sequence_of("tiers", value, Tier), key=lambda tier: tier.rank))
    if not tiers:
        raise InvalidArgument("tiers: a ladder needs at least one tier")
    codes = [tier.code for tier in tiers]
    ranks = [tier.rank for tier in tiers]
    if len(set(codes)) != len(codes):
        raise InvalidArgument(
            f"tiers: codes {sorted(c for c in set(codes) if codes.count(c) > 1)} repeat"
        )
    if len(set(ranks)) != len(ranks):
        raise InvalidArgument(
            f"tiers: ranks {sorted(r for r in set(ranks) if ranks.count(r) > 1)} repeat"
        )
    if tiers[0].requirements or tiers[0].top_percent is not None:
        raise InvalidArgument(f"tiers: the lowest tier {tiers[0].code!r} must have no requirements")
    ranked_by = {tier.rank_by for tier in tiers if tier.top_percent is not None}
    if len(ranked_by) > 1:
        raise InvalidArgument(
            f"tiers: relative tiers must rank by one metric, not {sorted(ranked_by, key=str)}"
        )
    for lower, higher in itertools.combinations(tiers[1:], 2):
        easier = _easier_everywhere(higher, lower)
        if easier:
            raise InvalidArgument(
                f"tiers: {higher.code!r} (rank {higher.rank}) is easier than "
                f"{lower.code!r} (rank {lower.rank}) on every requirement ({easier}): "
                f"every member who reaches {lower.code!r} is already {higher.code!r}"
            )
    return tiers


def _easier_everywhere(higher: Tier, lower: Tier) -> str:
    """How ``higher`` is strictly easier than ``lower`` on every requirement, or ``""``
    when the two are not comparable that way (other metrics, modes, upper bounds)."""
    if higher.mode != "all" or lower.mode != "all" or not higher.requirements:
        return ""
    if higher.top_percent is not None or lower.top_percent is not None:
        return ""

    def keyed(tier: Tier) -> dict[tuple[str, Window, bool], Requirement]:
        return {(r.metric, r.window, r.per_month): r for r in tier.requirements}

    ours, theirs = keyed(higher), keyed(lower)
    if ours.keys() != theirs.keys() or len(ours) != len(higher.requirements):
        return ""
    shown = []
    for key, requirement in ours.items():
        other = theirs[key]
        if requirement.below is not None or other.below is not None:
            return ""
        if not requirement.at_least < other.at_least:
            return ""
        shown.append(f"{key[0]} >= {_show(requirement.at_least)} < {_show(other.at_least)}")
    return ", ".join(shown)


def _downgrade(_instance: Any, _attribute: Any, value: Any) -> None:
    if value not in ("qualify", "one_step"):
        raise InvalidArgument(f"downgrade: {value!r} must be 'qualify' or 'one_step'")


UPGRADE_APPLIES = ("next_event", "this_event")


def _upgrade_applies(_instance: Any, _attribute: Any, value: Any) -> None:
    if value not in UPGRADE_APPLIES:
        raise InvalidArgument(f"upgrade_applies: {value!r} must be one of {list(UPGRADE_APPLIES)}")


@attrs.frozen(kw_only=True)
class TierLadder:
    """The tiers of a programme and how statuses change between them.

    ``upgrade_applies`` says which tier prices the event that crosses a threshold:
    ``"next_event"`` (the default) earns it at the tier the member had, the new tier
    counting from the next event; ``"this_event"`` (ERPNext's way) earns it at the tier
    it reaches.
    """

    tiers: tuple[Tier, ...] = attrs.field(converter=_tiers)
    version: str = "1"
    status_length: relativedelta = attrs.field(factory=lambda: relativedelta(months=12))
    grace: relativedelta | None = None
    downgrade: str = attrs.field(default="qualify", validator=_downgrade)
    upgrade_applies: str = attrs.field(default="next_event", validator=_upgrade_applies)

    @property
    def base(self) -> Tier:
        """The lowest tier, where every member starts."""
        return self.tiers[0]

    def tier(self, code: str) -> Tier | None:
        """The tier with this code, or ``None`` (e.g. a tier of an older version)."""
        return next((tier for tier in self.tiers if tier.code == code), None)

    def rank_of(self, code: str) -> int:
        """The rank of ``code`` on this ladder (-1 if the ladder has no such tier)."""
        found = self.tier(code)
        return -1 if found is None else found.rank

    def qualifying(self, measure: Measure, *, relative: str | None = None) -> tuple[Tier, str]:
        """The highest tier whose requirements hold (or the relative tier given)."""
        best, why = self.base, "no higher tier qualifies"
        for tier in self.tiers[1:]:
            if tier.top_percent is not None:
                if relative == tier.code:
                    best, why = tier, f"top {tier.top_percent.normalize():f}% by {tier.rank_by}"
                continue
            met, reason = tier.qualifies(measure)
            if met:
                best, why = tier, reason
        return best, why

    def start(self, at: datetime) -> TierStatus:
        """A new member's status: the base tier, with no end."""
        return TierStatus(tier=self.base.code, since=at, granted_under=self.version)


@attrs.frozen(kw_only=True)
class Override:
    """A time-limited tier above the earned one (status match, a gift of gold)."""

    tier: str
    until: datetime = attrs.field(converter=utc, validator=lambda _i, _a, v: aware("until", v))
    reason: str
    actor: str


@attrs.frozen(kw_only=True)
class TierChange:
    """One line of a member's tier history, with the reason."""

    at: datetime
    from_tier: str | None
    to_tier: str
    kind: str  # upgrade, renewal, downgrade, grace, override, override_ended, ranked
    reason: str


@attrs.frozen(kw_only=True)
class TierStatus:
    """A member's earned tier, how long it holds, and any override on top."""

    tier: str
    since: datetime
    valid_until: datetime | None = None
    granted_under: str = "1"
    grace_until: datetime | None = None
    override: Override | None = None

    def effective(self, at: datetime, ladder: TierLadder) -> str:
        """The tier that counts at ``at``: the override while it lasts, if it is higher."""
        override = self.override
        if override is None or at >= override.until:
            return self.tier
        if ladder.rank_of(override.tier) > ladder.rank_of(self.tier):
            return override.tier
        return self.tier

    def due(self) -> datetime | None:
        """When batch work is next needed: the end of the status, grace or override."""
        # in grace, the status is next looked at when the grace ends
        end = self.grace_until if self.grace_until is not None else self.valid_until
        moments = [] if end is None else [end]
        if self.override is not None:
            moments.append(self.override.until)
        return min(moments) if moments else None


def upgrade(
    ladder: TierLadder,
    status: TierStatus,
    measure: Measure,
    at: datetime,
    *,
    relative: str | None = None,
) -> tuple[TierStatus, TierChange | None]:
    """Raise the earned tier if a higher one qualifies now; never lowers it."""
    target, why = ladder.qualifying(measure, relative=relative)
    current_rank = ladder.rank_of(status.tier)
    # a tier this ladder does not know was granted under an older version: it holds until
    # its own end, when requalify re-rates it (grandfathering)
    if current_rank < 0 or target.rank <= current_rank:
        return status, None
    raised = TierStatus(
        tier=target.code,
        since=at,
        valid_until=at + ladder.status_length,
        granted_under=ladder.version,
        override=status.override,
    )
    change = TierChange(
        at=at, from_tier=status.tier, to_tier=target.code, kind="upgrade", reason=why
    )
    return raised, change


def requalify(
    ladder: TierLadder,
    status: TierStatus,
    measure: Measure,
    at: datetime,
    *,
    relative: str | None = None,
) -> tuple[TierStatus, list[TierChange]]:
    """Work that is due at ``at``: end an override, renew, start grace or downgrade."""
    changes: list[TierChange] = []
    if status.override is not None and status.override.until <= at:
        ended = status.override
        status = attrs.evolve(status, override=None)
        changes.append(
            TierChange(
                at=ended.until,
                from_tier=ended.tier,
                to_tier=status.tier,
                kind="override_ended",
                reason=f"override ({ended.reason}) ended; earned tier {status.tier} applies",
            )
        )
    if status.valid_until is None or at < status.valid_until:
        return status, changes
    target, why = ladder.qualifying(measure, relative=relative)
    current_rank = ladder.rank_of(status.tier)
    if current_rank >= 0 and target.rank >= current_rank:
        renewed_until = status.valid_until
        while renewed_until <= at:
            renewed_until = renewed_until + ladder.status_length
        kind = "renewal" if target.rank == current_rank else "upgrade"
        renewed = TierStatus(
            tier=target.code,
            since=status.since if kind == "renewal" else at,
            valid_until=renewed_until,
            granted_under=ladder.version,
            override=status.override,
        )
        changes.append(
            TierChange(at=at, from_tier=status.tier, to_tier=target.code, kind=kind, reason=why)
        )
        return renewed, changes
    if ladder.grace is not None and current_rank > 0:
        if status.grace_until is None:
            grace_until = status.valid_until + ladder.grace
            if at < grace_until:
                changes.append(
                    TierChange(
                        at=at,
                        from_tier=status.tier,
                        to_tier=status.tier,
                        kind="grace",
                        reason=f"no longer qualifies ({why}); "
                        f"grace until {grace_until.isoformat()}",
                    )
                )
                return attrs.evolve(status, grace_until=grace_until), changes
        elif at < status.grace_until:
            return status, changes
    if ladder.downgrade == "one_step" and current_rank > 0:
        below = [tier for tier in ladder.tiers if tier.rank < current_rank]
        landing = max(below[-1], target, key=lambda tier: tier.rank)
    else:
        landing = target
    reason = f"re-qualification: {why}"
    if current_rank < 0:
        reason = f"status granted under version {status.granted_under} ended; re-rated: {why}"
    lowered = TierStatus(
        tier=landing.code,
        since=at,
        valid_until=None if landing.rank == 0 else at + ladder.status_length,
        granted_under=ladder.version,
        override=status.override,
    )
    changes.append(
        TierChange(
            at=at, from_tier=status.tier, to_tier=landing.code, kind="downgrade", reason=reason
        )
    )
    return lowered, changes


def grant_override(
    status: TierStatus, override: Override, at: datetime
) -> tuple[TierStatus, TierChange]:
    """Put a time-limited override on top of the earned tier."""
    change = TierChange(
        at=at,
        from_tier=status.tier,
        to_tier=override.tier,
        kind="override",
        reason=f"{override.reason} by {override.actor} until {override.until.isoformat()}",
    )
    return attrs.evolve(status, override=override), change


def relative_ranking(ladder: TierLadder, values: Mapping[str, Decimal]) -> dict[str, str]:
    """Customer id -> relative tier code, for the top N percent of members.

    Each relative tier takes ``ceil(N% of members)`` (at least one when there are
    members) of the highest values not already placed in a higher relative tier; ties
    are broken by customer id so the result is deterministic.
    """
    ordered = sorted(values.items(), key=lambda item: (-item[1], item[0]))
    placed: dict[str, str] = {}
    for tier in sorted(ladder.tiers, key=lambda t: -t.rank):
        if tier.top_percent is None or not ordered:
            continue
        count = max(1, math.ceil(len(ordered) * tier.top_percent / 100))
        for customer_id, _ in ordered[:count]:
            placed.setdefault(customer_id, tier.code)
    return placed


@attrs.frozen(kw_only=True)
class Forecast:
    """What a member needs: to reach ``next_tier`` and to keep ``current`` tier."""

    current: str
    next_tier: str | None
    to_reach: Mapping[str, Decimal]
    to_keep: Mapping[str, Decimal]
    valid_until: datetime | None


def forecast(ladder: TierLadder, status: TierStatus, measure: Measure) -> Forecast:
    """The shortfall per metric for the next tier and for keeping the current one."""
    rank = ladder.rank_of(status.tier)
    higher = [tier for tier in ladder.tiers if tier.rank > rank and tier.top_percent is None]
    next_tier = higher[0] if higher else None
    current = ladder.tier(status.tier)
    return Forecast(
        current=status.tier,
        next_tier=None if next_tier is None else next_tier.code,
        to_reach={} if next_tier is None else _shortfall(next_tier, measure),
        to_keep={} if current is None else _shortfall(current, measure),
        valid_until=status.valid_until,
    )


def _shortfall(tier: Tier, measure: Measure) -> dict[str, Decimal]:
    gaps = {r.metric: max(Decimal(0), r.at_least - measure(r)) for r in tier.requirements}
    if tier.mode == "any" and gaps and min(gaps.values()) == 0:
        return {}
    if tier.mode == "any" and gaps:
        metric = min(gaps, key=lambda name: gaps[name])
        return {metric: gaps[metric]}
    return {metric: gap for metric, gap in gaps.items() if gap > 0}
