"""Budget funding: campaign awards paid from their budgets, as a pure step of the engine.

A campaign with a budget gives only what its budget has left. The service reads how much
each budget has spent (:class:`BudgetState`, a plain value read in the event's unit of
work) and passes it to :meth:`~loyaltykit.policy.engine.PolicyEngine.evaluate`; the
engine funds the awards with :func:`fund` before it counts qualifying points, so the
tier is decided once, on what was really granted. The funded decision says what to take
from each budget (:class:`BudgetConsumption`) and whom to record as a participant
(:class:`CampaignEntry`); the service applies those like every other effect::

    funded = fund(awards, BudgetState(spent={"budget:double": 45}))
    # an award wanting 9 of a 50-point budget gets 5, and the trace says so
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import attrs

from loyaltykit.policy.engine import (
    BudgetConsumption,
    CampaignAward,
    CampaignEntry,
    CounterIncrement,
    Earn,
    Effect,
    TraceLine,
)
from loyaltykit.values import mapping_of

__all__ = ["BudgetState", "Funded", "fund"]


def _spent(value: Mapping[str, int]) -> Mapping[str, int]:
    return mapping_of("budget state", value, int, max_items=100_000)


@attrs.frozen(kw_only=True)
class BudgetState:
    """What each campaign budget has spent (its counter's value), as read when the event
    arrives: every budget counter an award of the event may draw on."""

    spent: Mapping[str, int] = attrs.field(factory=dict, converter=_spent)

    def used(self, counter: str) -> int:
        """What the budget behind ``counter`` has spent; a budget that was not read is a
        bug in the caller, never a budget taken as untouched."""
        try:
            return self.spent[counter]
        except KeyError:
            raise LookupError(f"the budget counter {counter!r} was not read") from None

    def fund(self, awards: Sequence[CampaignAward]) -> Funded:
        """:func:`fund` of ``awards`` from these budgets."""
        return fund(awards, self)


@attrs.frozen(kw_only=True)
class Funded:
    """The awards paid for: plain effects in place of each award (its earns cut to what
    the budget allowed, the member's counters, the budget consumption, the participation)
    and the trace lines that say where a budget cut an award."""

    effects: tuple[Effect, ...]
    trace: tuple[TraceLine, ...]

    @property
    def consumptions(self) -> tuple[BudgetConsumption, ...]:
        """What to take from each budget."""
        return tuple(e for e in self.effects if isinstance(e, BudgetConsumption))

    @property
    def earns(self) -> tuple[Earn, ...]:
        """The points granted."""
        return tuple(e for e in self.effects if isinstance(e, Earn))


def _cut(earns: Iterable[Earn], granted: int) -> list[Earn]:
    """``earns`` in order, cut so that they add up to at most ``granted``."""
    kept: list[Earn] = []
    for earn in earns:
        points = min(earn.points, granted)
        granted -= points
        if points:
            kept.append(attrs.evolve(earn, points=points))
    return kept


def fund(awards: Sequence[CampaignAward], budgets: BudgetState) -> Funded:
    """Every award paid from its budget, in order: an award gets what it wants while its
    budget has that much left, then what is left, then nothing. Pure: ``budgets`` is not
    changed; what the awards take is in the result's consumptions."""
    spent: dict[str, int] = {}
    effects: list[Effect] = []
    trace: list[TraceLine] = []
    for effect in awards:
        award = effect.award
        wanted = award.wanted
        granted = wanted
        counter, limit = award.budget_counter, award.budget_limit
        if counter is not None and wanted > 0:
            used = spent.setdefault(counter, budgets.used(counter))
            # a budget without a points limit (one of money alone) counts, never cuts
            granted = wanted if limit is None else max(0, min(wanted, limit - used))
            spent[counter] = used + granted
            if granted < wanted:
                left = "spent" if granted == 0 else f"has {granted} left"
                trace.append(
                    TraceLine(
                        rule=f"campaign:{award.campaign}",
                        matched=granted > 0,
                        detail=f"{award.campaign}: budget of {limit} {left} -> "
                        f"cut from {wanted} to {granted}",
                    )
                )
            if granted:
                effects.append(BudgetConsumption(counter=counter, points=granted, limit=limit))
        earns = _cut(effect.earns, granted)
        if not earns and not award.rewards and not award.entries:
            continue
        effects.extend(earns)
        if award.times_key is not None:
            effects.append(CounterIncrement(key=award.times_key, amount=1))
        if award.points_key is not None and granted:
            effects.append(CounterIncrement(key=award.points_key, amount=granted))
        effects.append(
            CampaignEntry(
                campaign=award.campaign,
                customer_id=award.customer_id,
                points=granted,
                entries=award.entries,
                rewards=award.rewards,
            )
        )
    return Funded(effects=tuple(effects), trace=tuple(trace))
