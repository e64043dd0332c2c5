"""Tier commands and queries: status, forecast, overrides, metrics, re-qualification."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from loyaltykit.domain import tiers
from loyaltykit.domain.customer import (
    CustomerStatus,
)
from loyaltykit.domain.records import (
    tier_change_to_record,
    tier_status_from_record,
    tier_status_to_record,
)
from loyaltykit.domain.shards import Shard
from loyaltykit.domain.tiers import TierLadder, TierStatus
from loyaltykit.domain.windows import Window
from loyaltykit.errors import (
    InvalidArgument,
)
from loyaltykit.outcomes import TierView
from loyaltykit.policy.engine import measure_with
from loyaltykit.policy.program import Program
from loyaltykit.service.codecs import (
    TIER,
    existing,
)
from loyaltykit.service.commands import GrantTier, SetMetric
from loyaltykit.service.kernel import Aftermath, Codec, Kernel, Work
from loyaltykit.service.members import (
    load_member,
    member_metrics,
    member_tier,
    save_member,
    tier_history,
)
from loyaltykit.service.shards import shard_arguments
from loyaltykit.values import (
    CustomerId,
    aware,
    bounded_decimal,
    count,
)

__all__ = ["TierCommands"]


class TierCommands:
    """Tier commands and queries: status, forecast, overrides, metrics, re-qualification."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel

    # --- tiers ----------------------------------------------------------------------

    def _ladder(self, at: datetime) -> tuple[Program, TierLadder]:
        """The program in force at ``at`` and its tier ladder (refused if it has none)."""
        program = self.kernel.versions.at(at)
        if program.tiers is None:
            raise InvalidArgument(f"program {program.name!r} has no tiers")
        return program, program.tiers

    def requalify_tiers(
        self, *, at: datetime, batch_size: int = 500, shard: Shard | None = None
    ) -> int:
        """Re-qualify every status that ends (or whose grace or override ends) by ``at``:
        renew, start grace, downgrade, end overrides. Returns the number of changes.
        ``shard``: only the shard's customers (see ``run_due``)."""
        self.kernel.outside_batch("requalify_tiers")
        when = aware("at", at)
        count("batch_size", batch_size)
        sharded = shard_arguments(self.kernel, shard)
        done: set[CustomerId] = set()
        changes = 0
        while True:
            with self.kernel.reading() as uow:
                found = uow.state.due(TIER, when, limit=batch_size, **sharded)
                due = [c for c in found if c not in done]
            if not due:
                return changes
            for customer_id in due:
                done.add(customer_id)  # once per run, whatever happens
                changes += self._requalify_one(customer_id, when)

    def _requalify_one(self, customer_id: CustomerId, at: datetime) -> int:
        program, ladder = self._ladder(at)
        with self.kernel.unit() as uow:
            customer = uow.customers.get(customer_id, for_update=True)
            if customer is None:
                return 0
            member = load_member(uow, customer)
            if member.tier is None:
                return 0
            measure = measure_with(member.metrics, customer, at, program.zone)
            status, changes = tiers.requalify(ladder, member.tier, measure, at)
            save_member(uow, member, member.rated(status, changes))
            if changes:
                payload = {"changes": [tier_change_to_record(c) for c in changes]}
                self.kernel.emit(uow, customer_id, "requalify", at, None, payload)
                if self.kernel.watches(program):
                    aftermath = Aftermath(
                        command="requalify", at=at, idempotency_key=None, customers=(customer_id,)
                    )
                    self.kernel.follow(uow, program, aftermath)
            uow.commit()
        return len(changes)

    def tier(self, customer_id: CustomerId, *, at: datetime) -> TierView:
        """The member's tier at ``at``: effective (with overrides), earned, and history."""
        when = aware("at", at)
        _, ladder = self._ladder(when)
        with self.kernel.reading() as uow:
            customer = existing(uow, customer_id)
            status = member_tier(uow, customer_id) or ladder.start(customer.enrolled_at)
            history = tier_history(uow, customer_id)
        return TierView(
            customer_id=customer_id,
            effective=status.effective(when, ladder),
            status=status,
            history=history,
        )

    def forecast(self, customer_id: CustomerId, *, at: datetime) -> tiers.Forecast:
        """What the member needs for the next tier, and to keep the current one."""
        when = aware("at", at)
        program, ladder = self._ladder(when)
        with self.kernel.reading() as uow:
            member = load_member(uow, existing(uow, customer_id))
        status = member.tier or ladder.start(member.customer.enrolled_at)
        measure = measure_with(member.metrics, member.customer, when, program.zone)
        return tiers.forecast(ladder, status, measure)

    def grant_tier(
        self,
        customer_id: CustomerId,
        tier: str,
        *,
        until: datetime,
        at: datetime,
        idempotency_key: str,
        reason: str,
        actor: str,
    ) -> TierStatus:
        """A time-limited override (status match, a gift of gold for 3 months). When it
        ends the earned tier applies again: an override is never a floor."""
        command = GrantTier(
            customer_id=customer_id,
            tier=tier,
            until=until,
            at=at,
            idempotency_key=idempotency_key,
            reason=reason,
            actor=actor,
        )
        return self.kernel.execute(
            command,
            self._grant_tier,
            Codec(tier_status_to_record, lambda _uow, record: tier_status_from_record(record)),
        )

    def _grant_tier(self, work: Work) -> TierStatus:
        command = work.command
        assert isinstance(command, GrantTier)
        ladder = work.program.tiers
        if ladder is None:
            raise InvalidArgument(f"program {work.program.name!r} has no tiers")
        if ladder.tier(command.tier) is None:
            raise InvalidArgument(
                f"tier: {command.tier!r} is not on the ladder {[t.code for t in ladder.tiers]}"
            )
        if not command.reason.strip() or not command.actor.strip():
            raise InvalidArgument("grant_tier needs a reason and an actor")
        end = aware("until", command.until)
        if end <= command.at:
            raise InvalidArgument(
                f"until: {end.isoformat()} is not after at={command.at.isoformat()}"
            )
        override = tiers.Override(
            tier=command.tier, until=end, reason=command.reason, actor=command.actor
        )
        member = load_member(work.uow, work.customer(command.customer_id))
        status = member.tier or ladder.start(member.customer.enrolled_at)
        status, change = tiers.grant_override(status, override, command.at)
        save_member(work.uow, member, member.rated(status, (change,)))
        return status

    def set_metric(
        self,
        customer_id: CustomerId,
        metric: str,
        value: Decimal | int | str,
        *,
        at: datetime,
        idempotency_key: str,
    ) -> TierStatus | None:
        """Record a value the caller measures (an asset balance for a bank's tiers). The
        member is upgraded at once if it qualifies them; returns the tier status."""
        command = SetMetric(
            customer_id=customer_id,
            metric=metric,
            value=value,
            at=at,
            idempotency_key=idempotency_key,
        )
        return self.kernel.execute(
            command,
            self._set_metric,
            Codec(
                lambda status: {
                    "status": None if status is None else tier_status_to_record(status)
                },
                lambda _uow, record: (
                    None if record["status"] is None else tier_status_from_record(record["status"])
                ),
            ),
        )

    def _set_metric(self, work: Work) -> TierStatus | None:
        command = work.command
        assert isinstance(command, SetMetric)
        name = command.metric
        amount = bounded_decimal("metric value", command.value)  # checked as the command was built
        uow, program = work.uow, work.program
        customer = work.customer(command.customer_id)
        member = load_member(uow, customer)
        after = member.gauged(name, amount)
        ladder = program.tiers
        if ladder is None:
            save_member(uow, member, after)
            return None
        if program.rating_exclusions.excludes(customer) is not None:
            save_member(uow, member, after)  # measured, never rated
            return member.tier
        status = member.tier or ladder.start(customer.enrolled_at)
        measure = measure_with(after.metrics, customer, command.at, program.zone)
        raised, change = tiers.upgrade(ladder, status, measure, command.at)
        if change is not None:
            after = after.rated(raised, (change,))
        save_member(uow, member, after)
        return raised

    def rank_relative_tiers(self, *, at: datetime, batch_size: int = 1000) -> int:
        """Place the top N percent of members into relative tiers (the batch ranking).

        Members ranked into a relative tier are upgraded at once; members who fall out
        keep their status until it ends, then re-qualify like everyone else.
        """
        self.kernel.outside_batch("rank_relative_tiers")
        when = aware("at", at)
        program, ladder = self._ladder(when)
        relative = [t for t in ladder.tiers if t.top_percent is not None and t.rank_by]
        if not relative:
            return 0
        values: dict[CustomerId, Decimal] = {}
        after: CustomerId | None = None
        window = Window.rolling()
        while True:
            with self.kernel.reading() as uow:
                page = uow.customers.ids(after=after, limit=batch_size)
                for customer_id in page:
                    customer = uow.customers.get(customer_id)
                    if customer is None or customer.status is not CustomerStatus.ACTIVE:
                        continue
                    if program.rating_exclusions.excludes(customer) is not None:
                        continue  # takes no place in the top percent
                    history = member_metrics(uow, customer_id)
                    metric = relative[0].rank_by or ""
                    values[customer_id] = history.measure(
                        metric, window, when, enrolled_at=customer.enrolled_at, zone=program.zone
                    )
            if len(page) < batch_size:
                break
            after = page[-1]
        placed = tiers.relative_ranking(ladder, values)
        changes = 0
        for customer_id, code in sorted(placed.items()):
            with self.kernel.unit() as uow:
                customer = uow.customers.get(customer_id, for_update=True)
                assert customer is not None
                member = load_member(uow, customer)
                status = member.tier or ladder.start(customer.enrolled_at)
                measure = measure_with(member.metrics, customer, when, program.zone)
                raised, change = tiers.upgrade(ladder, status, measure, when, relative=code)
                if change is not None:
                    save_member(uow, member, member.rated(raised, (change,)))
                    changes += 1
                uow.commit()
        return changes
