"""Campaigns in the service: budgets, participation, draws and effectiveness.

The engine funds each campaign's award from its budget, a pure step
(:mod:`loyaltykit.policy.funding`), given what the budgets have spent: here, in the
event's unit of work, :func:`budget_state` reads that, :func:`take_budget` takes what the
funded decision says from the campaign's shared budget counter (``uow.counters``, locked
until the unit of work ends, so no two processes spend the same last points; a budget
another process spent meanwhile is a lost race, and the command runs again on what is
left), and :func:`participate` records the member's participation (owner
``campaign:<id>``, kind ``participant``) for the effectiveness report and the draw.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from loyaltykit.domain.campaigns import (
    Budget,
    BudgetView,
    CampaignReport,
    Participation,
    RepeatRate,
    of_minor_units,
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
from loyaltykit.errors import ConcurrencyConflict, InvalidArgument, UnknownCampaign
from loyaltykit.policy.campaigns import Campaign
from loyaltykit.policy.engine import BudgetConsumption, CampaignEntry
from loyaltykit.policy.funding import BudgetState
from loyaltykit.policy.program import Program
from loyaltykit.service import postings
from loyaltykit.service.commands import Draw
from loyaltykit.service.kernel import Codec, Kernel, Work
from loyaltykit.service.members import member_metrics
from loyaltykit.storage.base import UnitOfWork
from loyaltykit.values import CustomerId, Money, aware, points_amount

__all__ = [
    "PARTICIPANT",
    "CampaignWork",
    "budget_state",
    "campaign_owner",
    "campaign_redemptions",
    "give_back",
    "participate",
    "take_budget",
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


def budget_state(uow: UnitOfWork, program: Program, event_type: str, at: datetime) -> BudgetState:
    """What the budgets of the campaigns that may give for an event of ``event_type`` at
    ``at`` have spent (a budget's counter counts the points it paid)."""
    spent = {
        Budget.counter(campaign.id): uow.counters.value(Budget.counter(campaign.id))
        for campaign in program.campaigns
        if campaign.budget is not None
        and not campaign.takes_money_off  # counted in money, at checkout
        and event_type in campaign.events
        and campaign.schedule.start <= at
        and (campaign.schedule.end is None or at < campaign.schedule.end)
    }
    return BudgetState(spent=spent)


def take_budget(uow: UnitOfWork, consumption: BudgetConsumption) -> None:
    """Take a funded award's points from its budget's counter, under the counter's lock.

    The award was funded on the budget as :func:`budget_state` read it; if another unit
    of work spent so much since that these points no longer fit, this one lost the race
    and is run again on what is left."""
    taken = uow.counters.take(consumption.counter, consumption.points, limit=consumption.limit)
    if taken < consumption.points:
        raise ConcurrencyConflict(
            f"{consumption.counter}: spent by another command since it was read"
        )


def participate(uow: UnitOfWork, entry: CampaignEntry, at: datetime) -> None:
    """Record (or add to) the member's participation in the campaign."""
    _participate(
        uow, entry.campaign, entry.customer_id, entry.points, entry.entries, entry.rewards, at
    )


def give_back(uow: UnitOfWork, entry: Entry) -> None:
    """After a refund clawed back (part of) a campaign's points (``entry`` is the
    campaign's earn entry), return what was clawed back to the campaign's budget and
    take it off the member's participation, so the budget and the report count only
    points the member kept."""
    rules = str(dict(entry.metadata).get("rules", ""))
    if not rules.startswith("campaign:") or "," in rules:
        return
    campaign = rules.removeprefix("campaign:")
    clawed = postings.clawed_back(uow, entry)
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
        if campaign.takes_money_off:  # counted in money, in minor units
            with self.kernel.reading() as uow:
                units = uow.counters.value(Budget.money_counter(campaign.id))
            assert budget.money is not None
            return BudgetView(
                campaign=campaign.id,
                limit=None,
                spent=0,
                left=None,
                cost=of_minor_units(units, budget.money.currency),
                money_left=budget.money_left(units),
            )
        with self.kernel.reading() as uow:
            spent = uow.counters.value(Budget.counter(campaign.id))
        limit = budget.limit
        cost = budget.cost(spent)
        return BudgetView(
            campaign=campaign.id,
            limit=limit,
            spent=spent,
            left=None if limit is None else max(0, limit - spent),
            cost=cost,
            money_left=None if budget.money is None or cost is None else budget.money - cost,
        )

    def participants(self, campaign_id: str) -> dict[CustomerId, Participation]:
        """Each participant's part in the campaign, by member id."""
        campaign = self.campaign(campaign_id)
        with self.kernel.reading() as uow:
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
        with self.kernel.reading() as uow:
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
        with self.kernel.reading() as uow:
            people = {
                record.id: record.document
                for record in uow.records.of_owner(campaign_owner(campaign.id), PARTICIPANT)
            }
            redeemed = uow.counters.value(campaign_redemptions(campaign.id))
            taken_off = uow.counters.value(Budget.money_counter(campaign.id))
            after: CustomerId | None = None
            while True:
                ids = uow.customers.ids(after=after, limit=_PAGE)
                if not ids:
                    break
                after = ids[-1]
                for customer_id in ids:
                    group = "p" if customer_id in people else "o"
                    history = member_metrics(uow, customer_id)
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
        if campaign.takes_money_off and budget is not None and budget.money is not None:
            cost = of_minor_units(taken_off, budget.money.currency)  # the money taken off

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
