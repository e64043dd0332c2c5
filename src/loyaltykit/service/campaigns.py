"""Campaigns in the service: budgets, participation, draws and effectiveness.

The engine decides what each campaign would give (:class:`CampaignAward`); here, in the
event's unit of work, :func:`fund_awards` takes those points from the campaign's shared
budget counter (``uow.counters``, locked until the unit of work ends, so no two
processes spend the same last points), cuts the award to what is left and says so in
the trace, then records the member's participation (owner ``campaign:<id>``, kind
``participant``) for the effectiveness report and the draw.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

import attrs

from loyaltykit.domain.campaigns import (
    Budget,
    BudgetView,
    CampaignReport,
    Participation,
    RepeatRate,
)
from loyaltykit.domain.draws import (
    ALGORITHM,
    DrawEntry,
    DrawResult,
    canonical_entries,
    draw,
    draw_from_record,
    draw_to_record,
    entries_digest,
)
from loyaltykit.domain.ledger import Entry
from loyaltykit.domain.records import metrics_from_record
from loyaltykit.errors import InvalidArgument, UnknownCampaign
from loyaltykit.policy.campaigns import Campaign
from loyaltykit.policy.engine import (
    CampaignAward,
    CounterIncrement,
    CustomerState,
    Decision,
    Earn,
    Effect,
    MetricSample,
    TierUpdate,
    TraceLine,
    traced_upgrade,
)
from loyaltykit.policy.program import Program
from loyaltykit.service.codecs import METRICS
from loyaltykit.service.commands import Draw
from loyaltykit.service.kernel import Codec, Kernel, Work
from loyaltykit.storage.base import UnitOfWork
from loyaltykit.values import CustomerId, Money, aware, points_amount

__all__ = [
    "PARTICIPANT",
    "CampaignWork",
    "campaign_owner",
    "campaign_redemptions",
    "fund_awards",
    "give_back",
]

PARTICIPANT = "participant"
DRAW = "draw"
_PAGE = 500


def campaign_owner(campaign_id: str) -> str:
    """The records partition of a campaign."""
    return f"campaign:{campaign_id}"


def campaign_redemptions(campaign_id: str) -> str:
    """The shared counter of catalogue redemptions attributed to ``campaign_id``
    (taken by ``redeem``/``grant_reward`` with ``campaign=``, given back on cancel)."""
    return f"redemptions:campaign:{campaign_id}"


def _cut(earns: Iterable[Earn], granted: int) -> list[Earn]:
    kept: list[Earn] = []
    for earn in earns:
        points = min(earn.points, granted)
        granted -= points
        if points:
            kept.append(attrs.evolve(earn, points=points))
    return kept


def fund_awards(
    uow: UnitOfWork,
    decision: Decision,
    customer_id: CustomerId,
    at: datetime,
    *,
    program: Program | None = None,
    state: CustomerState | None = None,
) -> Decision:
    """The decision with every campaign award paid from its budget: plain ``Earn`` and
    ``CounterIncrement`` effects, cut to what the budget has left (the trace says so),
    the participation recorded.

    With the ``program`` and the member's ``state``, tier credits a budget cut are taken
    out of the qualifying metric and the tier upgrade is decided again without them.
    """
    effects: list[Effect] = []
    trace = list(decision.trace)
    short = 0  # qualifying points the budgets cut
    for effect in decision.effects:
        if not isinstance(effect, CampaignAward):
            effects.append(effect)
            continue
        award = effect.award
        wanted = award.wanted
        granted = wanted
        if award.budget_counter is not None and wanted > 0:
            granted = uow.counters.take(
                award.budget_counter, wanted, limit=award.budget_limit, partial=True
            )
            if granted < wanted:
                left = "spent" if granted == 0 else f"has {granted} left"
                trace.append(
                    TraceLine(
                        rule=f"campaign:{award.campaign}",
                        matched=granted > 0,
                        detail=f"{award.campaign}: budget of {award.budget_limit} {left} -> "
                        f"cut from {wanted} to {granted}",
                    )
                )
        earns = _cut(effect.earns, granted)
        if program is not None:
            qualifying = program.qualifying_points
            short += sum(e.points for e in effect.earns if e.point_type == qualifying)
            short -= sum(e.points for e in earns if e.point_type == qualifying)
        if not earns and not award.rewards and not award.entries:
            continue
        effects.extend(earns)
        if award.times_key is not None:
            effects.append(CounterIncrement(key=award.times_key, amount=1))
        if award.points_key is not None and granted:
            effects.append(CounterIncrement(key=award.points_key, amount=granted))
        _participate(uow, award.campaign, customer_id, granted, award.entries, award.rewards, at)
    if short and program is not None and state is not None:
        effects, trace = _requalified(program, state, customer_id, at, effects, trace, short)
    return attrs.evolve(decision, effects=tuple(effects), trace=tuple(trace))


def _requalified(
    program: Program,
    state: CustomerState,
    customer_id: CustomerId,
    at: datetime,
    effects: list[Effect],
    trace: list[TraceLine],
    short: int,
) -> tuple[list[Effect], list[TraceLine]]:
    """The effects and trace with ``short`` qualifying points taken out of the metric
    sample, and the tier upgrade decided again on what was really granted."""
    kept: list[Effect] = []
    samples: list[MetricSample] = []
    for effect in effects:
        if isinstance(effect, TierUpdate):
            continue
        if isinstance(effect, MetricSample) and effect.customer_id == customer_id:
            if effect.metric == "qualifying_points":
                effect = attrs.evolve(effect, value=effect.value - short)
                if effect.value <= 0:
                    continue
            samples.append(effect)
        kept.append(effect)
    lines = [line for line in trace if line.rule != "tiers"]
    update, upgraded = traced_upgrade(program, state, samples, at)
    if update is not None:
        kept.append(update)
        lines.extend(upgraded)
    return kept, lines


def give_back(uow: UnitOfWork, entry: Entry) -> None:
    """After a refund clawed back (part of) a campaign's points (``entry`` is the
    campaign's earn entry), return what was clawed back to the campaign's budget and
    take it off the member's participation, so the budget and the report count only
    points the member kept."""
    rules = str(dict(entry.metadata).get("rules", ""))
    if not rules.startswith("campaign:") or "," in rules:
        return
    campaign = rules.removeprefix("campaign:")
    reversals = uow.ledger.reversals_of(entry.customer_id, entry.id)
    if not reversals:  # pragma: no cover - called right after a reversal
        return
    last = reversals[-1]
    clawed = -(last.amount + last.pending_delta)
    if clawed <= 0:
        return
    counter = Budget.counter(campaign)
    if uow.counters.value(counter) > 0:
        uow.counters.restore(counter, clawed)
    owner = campaign_owner(campaign)
    found = uow.records.get(owner, PARTICIPANT, entry.customer_id)
    if found is not None:
        document = dict(found.document)
        document["points"] = max(0, document["points"] - clawed)
        uow.records.put(owner, PARTICIPANT, entry.customer_id, document)


def _participate(
    uow: UnitOfWork,
    campaign: str,
    customer_id: CustomerId,
    points: int,
    entries: int,
    rewards: Iterable[tuple[str, int]],
    at: datetime,
) -> None:
    # one record per (campaign, member), written under the member's lock only
    owner = campaign_owner(campaign)
    found = uow.records.get(owner, PARTICIPANT, customer_id)
    document: dict[str, Any] = (
        dict(found.document)
        if found is not None
        else {"times": 0, "points": 0, "entries": 0, "rewards": {}, "first_at": at.isoformat()}
    )
    document["times"] += 1
    document["points"] += points
    document["entries"] += entries
    granted = dict(document["rewards"])
    for reward, quantity in rewards:
        granted[reward] = granted.get(reward, 0) + quantity
    document["rewards"] = granted
    document["last_at"] = at.isoformat()
    uow.records.put(owner, PARTICIPANT, customer_id, document)


def _window_days(start: datetime, end: datetime, zone: tzinfo) -> tuple[date, date]:
    """The local days of ``[start, end)``, first and last."""
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    return start.astimezone(zone).date(), last


class CampaignWork:
    """Campaign queries and commands: budgets, draws, effectiveness."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel

    #: where seeds come from when ``draw`` is not given one (the service edge; replace
    #: it in tests, or pass ``seed=`` to draw with a seed published in advance)
    seed_source: Callable[[], str] = staticmethod(lambda: secrets.token_hex(16))

    def campaign(self, campaign_id: str) -> Campaign:
        """The campaign ``campaign_id`` as the newest program version that has it
        declares it (a campaign dropped from the program can still be reported on)."""
        known: list[str] = []
        for version in reversed(self.kernel.versions.versions):
            for campaign in version.program.campaigns:
                if campaign.id == campaign_id:
                    return campaign
                known.append(campaign.id)
        raise UnknownCampaign(campaign_id, tuple(sorted(set(known))))

    def campaign_budget(self, campaign_id: str) -> BudgetView:
        """What the campaign's budget allows, what it has given, what is left (read
        from the shared counter the events take from)."""
        campaign = self.campaign(campaign_id)
        budget = campaign.budget
        if budget is None:  # nothing counted centrally: add up the participants
            spent = sum(p.points for p in self.participants(campaign.id).values())
            return BudgetView(campaign=campaign.id, limit=None, spent=spent, left=None)
        with self.kernel.unit() as uow:
            spent = uow.counters.value(Budget.counter(campaign.id))
        return BudgetView(
            campaign=campaign.id,
            limit=budget.limit,
            spent=spent,
            left=max(0, budget.limit - spent),
            cost=budget.cost(spent),
        )

    def participants(self, campaign_id: str) -> dict[CustomerId, Participation]:
        """Each participant's part in the campaign, by member id."""
        campaign = self.campaign(campaign_id)
        with self.kernel.unit() as uow:
            found = uow.records.of_owner(campaign_owner(campaign.id), PARTICIPANT)
        return {
            record.id: Participation.from_record(record.id, record.document) for record in found
        }

    def draw_entries(self, campaign_id: str) -> tuple[DrawEntry, ...]:
        """The campaign's draw entries earned so far, in canonical order."""
        return canonical_entries(
            DrawEntry(holder=holder, weight=part.entries)
            for holder, part in self.participants(campaign_id).items()
            if part.entries > 0
        )

    def draw(
        self,
        campaign_id: str,
        *,
        winners: int,
        at: datetime,
        idempotency_key: str,
        seed: str | None = None,
        entries: Iterable[DrawEntry] | None = None,
        exclude_previous_winners: bool = False,
    ) -> DrawResult:
        """Draw ``winners`` from the campaign's entries (or the ``entries`` given) with
        ``seed`` (a fresh random one from :attr:`seed_source` when ``None``), and record
        the draw, its seed, entries and winners under ``campaign:<id>``, kind ``draw``,
        id ``idempotency_key``. Anyone can re-run it: :meth:`DrawResult.reproduce`.

        ``exclude_previous_winners`` leaves out the winners of the campaign's earlier
        draws (a second prize round after the first); the recorded entries are the pool
        actually drawn from, so the draw still reproduces from its record alone."""
        value = Draw(
            campaign_id=campaign_id,
            winners=winners,
            at=at,
            idempotency_key=idempotency_key,
            seed=seed,
            entries=entries,
            exclude_previous_winners=exclude_previous_winners,
        )
        campaign = self.campaign(campaign_id)
        key, when = value.idempotency_key, value.at
        points_amount("winners", winners)
        given = None if entries is None else canonical_entries(entries)
        chosen_seed = seed if seed is not None else self.seed_source()
        if not isinstance(chosen_seed, str) or not chosen_seed:
            raise InvalidArgument(f"seed: {chosen_seed!r} must be a non-empty string")
        owner = campaign_owner(campaign.id)

        def action(work: Work) -> DrawResult:
            uow = work.uow
            pool = given
            if pool is None:
                pool = canonical_entries(
                    DrawEntry(holder=record.id, weight=record.document["entries"])
                    for record in uow.records.of_owner(owner, PARTICIPANT)
                    if record.document.get("entries", 0) > 0
                )
            if exclude_previous_winners:
                won = {
                    holder
                    for record in uow.records.of_owner(owner, DRAW)
                    for holder in record.document["winners"]
                }
                pool = tuple(entry for entry in pool if entry.holder not in won)
            result = DrawResult(
                campaign=campaign.id,
                draw_id=key,
                at=when,
                seed=chosen_seed,
                algorithm=ALGORITHM,
                entries=pool,
                entries_sha256=entries_digest(pool),
                winners=draw(pool, winners=winners, seed=chosen_seed) if pool else (),
            )
            uow.records.put(owner, DRAW, key, draw_to_record(result))
            return result

        return self.kernel.execute(
            value, action, Codec(draw_to_record, lambda _uow, record: draw_from_record(record))
        )

    def draws(self, campaign_id: str) -> tuple[DrawResult, ...]:
        """Every recorded draw of the campaign, by id."""
        campaign = self.campaign(campaign_id)
        with self.kernel.unit() as uow:
            found = uow.records.of_owner(campaign_owner(campaign.id), DRAW)
        return tuple(draw_from_record(record.document) for record in found)

    def campaign_report(self, campaign_id: str, *, at: datetime) -> CampaignReport:
        """Participants, points issued, cost, rewards, entries, and the repeat-purchase
        rate of participants against everyone else, before and during the campaign
        (the window up to ``at``; "before" is as long and ends where it starts)."""
        campaign = self.campaign(campaign_id)
        when = aware("at", at)
        start, end = campaign.schedule.window(when)
        end = min(end, when)
        if end <= start:
            raise InvalidArgument(
                f"at: {when.isoformat()} is before campaign {campaign.id!r} starts "
                f"({start.isoformat()})"
            )
        before = (start - (end - start), start)
        zone = self.kernel.versions.latest.zone
        during_days = _window_days(start, end, zone)
        before_days = _window_days(*before, zone)
        counts = {key: [0, 0, 0] for key in ("p-before", "p-during", "o-before", "o-during")}
        with self.kernel.unit() as uow:
            people = {
                record.id: record.document
                for record in uow.records.of_owner(campaign_owner(campaign.id), PARTICIPANT)
            }
            redeemed = uow.counters.value(campaign_redemptions(campaign.id))
            after: CustomerId | None = None
            while True:
                ids = uow.customers.ids(after=after, limit=_PAGE)
                if not ids:
                    break
                after = ids[-1]
                for customer_id in ids:
                    group = "p" if customer_id in people else "o"
                    history = metrics_from_record(uow.state.get(customer_id, METRICS))
                    for label, (first, last) in (("before", before_days), ("during", during_days)):
                        bought = history.total("purchases", first, last)
                        tally = counts[f"{group}-{label}"]
                        tally[0] += 1
                        tally[1] += bought >= 1
                        tally[2] += bought >= 2
        points = sum(document["points"] for document in people.values())
        rewards: dict[str, int] = {}
        for document in people.values():
            for reward, quantity in document.get("rewards", {}).items():
                rewards[reward] = rewards.get(reward, 0) + quantity
        budget = campaign.budget
        cost: Money | None = None if budget is None else budget.cost(points)

        def rate(key: str) -> RepeatRate:
            customers, buyers, repeaters = counts[key]
            return RepeatRate(customers=customers, buyers=buyers, repeaters=repeaters)

        return CampaignReport(
            campaign=campaign.id,
            before=before,
            during=(start, end),
            participants=len(people),
            points_issued=points,
            cost=cost,
            rewards_granted=tuple(sorted(rewards.items())),
            entries=sum(document.get("entries", 0) for document in people.values()),
            redemptions=redeemed,
            participants_before=rate("p-before"),
            participants_during=rate("p-during"),
            others_before=rate("o-before"),
            others_during=rate("o-during"),
        )
