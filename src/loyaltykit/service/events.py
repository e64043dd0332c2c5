"""Events through the policy engine: purchases, custom events, quotes, refunds."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs

from loyaltykit.domain import ledger, tiers
from loyaltykit.domain.activity import CustomEvent, Purchase
from loyaltykit.domain.customer import (
    EARNING_STATUSES,
    Customer,
)
from loyaltykit.domain.ledger import Account, Command, Entry, EntryKind
from loyaltykit.domain.records import (
    metrics_from_record,
    metrics_to_record,
)
from loyaltykit.errors import (
    InvalidAmount,
    InvalidArgument,
    OverReversal,
    UnknownCustomer,
    UnknownEntry,
)
from loyaltykit.outcomes import Receipt
from loyaltykit.policy.engine import (
    CounterIncrement,
    CustomerState,
    Decision,
    Earn,
    MetricSample,
    measure_with,
    with_samples,
)
from loyaltykit.policy.program import Program
from loyaltykit.policy.rules import Referral
from loyaltykit.service.campaigns import fund_awards, give_back
from loyaltykit.service.pipeline import (
    ACTIVITY,
    METRICS,
    _tier_status,
    _with,
    existing,
)
from loyaltykit.service.points import PointCommands
from loyaltykit.storage.base import UnitOfWork
from loyaltykit.values import (
    CustomerId,
    Money,
    aware,
    identifier,
    instance_of,
)

__all__ = ["EventCommands"]

_KEPT_PERIODS = 62  # two months of daily counters: events may arrive that late

UNEARNED = "unearned_purchase"


def _unearned(purchase: Purchase, command: Command) -> dict[str, Any]:
    return {
        "purchase_amount": str(purchase.amount.amount),
        "currency": purchase.amount.currency,
        "at": command.at.isoformat(),
        "refunded": "0",
    }


class EventCommands(PointCommands):
    """Events through the policy engine: purchases, custom events, quotes, refunds."""

    # --- events through the policy engine -------------------------------------------

    def record_purchase(
        self,
        customer_id: CustomerId,
        purchase: Purchase,
        *,
        at: datetime,
        idempotency_key: str,
        actor: str | None = None,
    ) -> Receipt:
        """Record a purchase: the program's rules decide the points, caps clip them, and
        a referred member's first qualifying purchase rewards the referrer too.

        The receipt's ``explanation`` says why each rule did or did not apply.
        """
        if not isinstance(purchase, Purchase):
            raise InvalidArgument(f"purchase: {purchase!r} is not a loyaltykit Purchase")
        metadata = {
            "event": "purchase",
            "purchase_amount": str(purchase.amount.amount),
            "currency": purchase.amount.currency,
        }
        arguments = {
            "customer": customer_id,
            "amount": str(purchase.amount),
            "items": [(i.sku, i.category, i.quantity, str(i.unit_price)) for i in purchase.items],
            "channel": purchase.channel,
            "attributes": purchase.attributes,
        }
        return self._record(
            "record_purchase",
            customer_id,
            purchase,
            arguments,
            metadata,
            at=at,
            idempotency_key=idempotency_key,
            actor=actor,
        )

    def record_event(
        self,
        customer_id: CustomerId,
        event: CustomEvent,
        *,
        at: datetime,
        idempotency_key: str,
        actor: str | None = None,
    ) -> Receipt:
        """Record a custom event (survey completed, review, check-in) for the rules to reward."""
        if not isinstance(event, CustomEvent):
            raise InvalidArgument(f"event: {event!r} is not a loyaltykit CustomEvent")
        arguments = {"customer": customer_id, "type": event.type, "attributes": event.attributes}
        return self._record(
            "record_event",
            customer_id,
            event,
            arguments,
            {"event": event.type},
            at=at,
            idempotency_key=idempotency_key,
            actor=actor,
        )

    def quote(
        self, customer_id: CustomerId, purchase: Purchase | CustomEvent, *, at: datetime
    ) -> Decision:
        """What an event would earn now, with the trace; nothing is stored."""
        when = aware("at", at)
        instance_of("purchase", purchase, (Purchase, CustomEvent))  # hostile-input fix, issue 12
        with self._unit() as uow:
            customer = existing(uow, customer_id)
            program = self.versions.at(when)
            state = self._customer_state(uow, customer, program, when)
        return self.engine.evaluate(program, state, purchase, when)

    def refund(
        self,
        customer_id: CustomerId,
        purchase_key: str,
        *,
        at: datetime,
        idempotency_key: str,
        amount: Money | None = None,
        reason: str = "",
        actor: str | None = None,
    ) -> Receipt:
        """Refund a recorded purchase, whole or in part (``amount`` of money refunded).

        The points the purchase earned are clawed back in proportion, lot by lot, under
        the program's refund policy; the refunded shares add up and never exceed the whole.
        """
        share: Fraction | None = None
        purchase_key = identifier("purchase_key", purchase_key)
        with self._unit() as uow:
            entries = [
                entry
                for entry in uow.ledger.entries_by_key(customer_id, purchase_key)
                if entry.kind not in (EntryKind.EXPIRE, EntryKind.RELEASE)
            ]
            unearned = None if entries else uow.records.get(customer_id, UNEARNED, purchase_key)
        spent = next(
            (dict(e.metadata) for e in entries if dict(e.metadata).get("event") == "purchase"),
            None if unearned is None else unearned.document,
        )
        if amount is not None:
            if spent is None:
                raise UnknownEntry(customer_id, purchase_key)
            total = Money.of(str(spent["purchase_amount"]), str(spent["currency"]))
            if not isinstance(amount, Money) or not Money.zero(total.currency) < amount <= total:
                raise InvalidAmount(
                    "refund amount", amount, f"Money above zero and at most {total}"
                )
            share = amount.ratio(total)
        if unearned is not None:
            return self._refund_unearned(
                customer_id, purchase_key, share, self._command(at, idempotency_key, reason, actor)
            )
        return self._reverse(
            "refund",
            customer_id,
            purchase_key,
            at=at,
            idempotency_key=idempotency_key,
            portion=share,
            reason=reason,
            actor=actor,
            undone=self._unspend,
        )

    def _refund_unearned(
        self, customer_id: CustomerId, purchase_key: str, share: Fraction | None, command: Command
    ) -> Receipt:
        """Refund a purchase that earned its customer no points: nothing to claw back, but
        the refunded share leaves the spend metric, and shares never add up past the whole."""

        def action(uow: UnitOfWork, customers: dict[CustomerId, Customer]) -> Receipt:
            stored = uow.records.get(customer_id, UNEARNED, purchase_key)
            assert stored is not None  # records are never deleted
            purchase = stored.document
            before = Fraction(str(purchase["refunded"]))
            part = 1 - before if share is None else share
            if part == 0 or before + part > 1:
                raise OverReversal(
                    f"refunding {part} more of purchase {purchase_key!r}, already refunded by "
                    f"{before}, would exceed the whole"
                )
            program = self.versions.at(datetime.fromisoformat(purchase["at"]))
            day = datetime.fromisoformat(purchase["at"]).astimezone(program.zone).date()
            spent = Decimal(str(purchase["purchase_amount"]))
            history = metrics_from_record(uow.state.get(customer_id, METRICS))
            history = history.add("spend", day, -(spent * part.numerator / part.denominator))
            uow.state.put(customer_id, METRICS, metrics_to_record(history))
            uow.records.put(
                customer_id, UNEARNED, purchase_key, {**purchase, "refunded": str(before + part)}
            )
            accounts = uow.ledger.accounts(customer_id)
            return self._receipt("refund", command, customer_id, [], accounts)

        arguments = {
            "customer": customer_id,
            "original": purchase_key,
            "portion": None if share is None else str(share),
        }
        return self._ledger_command("refund", command, customer_id, arguments, action)

    def _unspend(
        self,
        uow: UnitOfWork,
        customer: Customer,
        entry: Entry,
        before: Fraction,
        part: Fraction,
        at: datetime,
    ) -> None:
        """Take a refunded share of a purchase out of the metrics tiers qualify on, on the
        day of the purchase: a refunded purchase never counted."""
        give_back(uow, entry)  # a campaign's clawed-back points return to its budget
        program = self.versions.at(entry.occurred_at)
        metadata = dict(entry.metadata)
        day = entry.occurred_at.astimezone(program.zone).date()
        samples: list[tuple[str, Decimal]] = []
        if entry.point_type == program.qualifying_points:
            undone = ledger.reversal_target(entry.amount + entry.pending_delta, before, part)
            samples.append(("qualifying_points", -Decimal(undone)))
        primary = uow.ledger.entries_by_key(customer.id, entry.idempotency_key or "")
        if metadata.get("event") == "purchase" and primary and primary[0].id == entry.id:
            spent = Decimal(str(metadata["purchase_amount"]))
            samples.append(("spend", -(spent * part.numerator / part.denominator)))
        if not samples:
            return
        history = metrics_from_record(uow.state.get(customer.id, METRICS))
        for metric, value in samples:
            history = history.add(metric, day, value)
        uow.state.put(customer.id, METRICS, metrics_to_record(history))

    def _record(
        self,
        name: str,
        customer_id: CustomerId,
        event: Purchase | CustomEvent,
        arguments: Mapping[str, Any],
        metadata: Mapping[str, Any],
        *,
        at: datetime,
        idempotency_key: str,
        actor: str | None,
    ) -> Receipt:
        command = self._command(at, idempotency_key, "", actor, metadata)
        program = self.versions.at(command.at)
        lock = [customer_id]
        if any(isinstance(rule, Referral) for rule in program.rules_for(event.type)):
            referrer = self._stored_customer(customer_id).referred_by  # fixed at enrolment
            if referrer is not None:
                lock.append(referrer)

        def action(uow: UnitOfWork, customers: dict[CustomerId, Customer]) -> Receipt:
            customer = customers[customer_id]
            customer.require(name, allowed=EARNING_STATUSES)
            state = self._customer_state(uow, customer, program, command.at)
            referrer = customer.referred_by
            if referrer is not None and referrer in customers:
                activity = uow.state.get(referrer, ACTIVITY) or {}
                state = attrs.evolve(state, referrer_counters=activity.get("counters", {}))
            decision = self.engine.evaluate(program, state, event, command.at)
            decision = fund_awards(
                uow, decision, customer_id, command.at, program=program, state=state
            )
            written: list[Entry] = []
            touched: dict[tuple[CustomerId, str], Account] = {}
            for effect in decision.effects:
                if isinstance(effect, Earn):
                    rules = ",".join(effect.rules)
                    earn_command = attrs.evolve(
                        command, metadata=_with(command.metadata, "rules", rules)
                    )
                    account = self._settled(
                        uow, effect.customer_id, effect.point_type, earn_command, written
                    )
                    posting = ledger.credit(
                        account,
                        effect.points,
                        earn_command,
                        expires_at=effect.expires_at,
                        available_from=effect.available_from,
                    )
                    touched[(effect.customer_id, effect.point_type)] = self._save(
                        uow, posting, written
                    )
            self._save_activity(uow, customer_id, event, decision, command.at)
            self._save_metrics(uow, program, decision, command.at, acting=customer_id)
            update = decision.tier_update
            if update is not None:
                self._save_tier(uow, customer_id, update.status, update.changes)
            if isinstance(event, Purchase) and not any(
                e.customer_id == customer_id and e.kind is EntryKind.EARN for e in written
            ):
                # nothing in the ledger finds this purchase again: keep it, so a refund
                # can still take its spend out of the tier metrics
                uow.records.put(
                    customer_id, UNEARNED, command.idempotency_key or "", _unearned(event, command)
                )
            own = [a for key, a in touched.items() if key[0] == customer_id]
            others = [a for key, a in touched.items() if key[0] != customer_id]
            receipt = self._receipt(name, command, customer_id, written, own + others)
            return attrs.evolve(receipt, explanation=decision.explain())

        return self._ledger_command(name, command, customer_id, arguments, action, lock=lock)

    @staticmethod
    def _customer_state(
        uow: UnitOfWork, customer: Customer, program: Program, at: datetime
    ) -> CustomerState:
        activity = uow.state.get(customer.id, ACTIVITY) or {}
        status = _tier_status(uow, customer.id)
        effective = None
        if program.tiers is not None:
            status = status or program.tiers.start(customer.enrolled_at)
            effective = status.effective(at, program.tiers)
        return CustomerState(
            customer=customer,
            tier=effective,
            counters=activity.get("counters", {}),
            purchases=activity.get("purchases", 0),
            tier_status=status,
            metrics=metrics_from_record(uow.state.get(customer.id, METRICS)),
        )

    def _save_metrics(
        self,
        uow: UnitOfWork,
        program: Program,
        decision: Decision,
        at: datetime,
        *,
        acting: CustomerId,
    ) -> None:
        """Add the decision's metric samples. The engine already decided the acting
        customer's tier; another customer (a referrer) whose new referral qualifies them
        for a higher tier is upgraded here, in the same unit of work."""
        day = at.astimezone(program.zone).date()
        by_customer: dict[CustomerId, list[MetricSample]] = {}
        for effect in decision.effects:
            if isinstance(effect, MetricSample):
                by_customer.setdefault(effect.customer_id, []).append(effect)
        for owner, samples in by_customer.items():
            history = with_samples(metrics_from_record(uow.state.get(owner, METRICS)), samples, day)
            uow.state.put(owner, METRICS, metrics_to_record(history))
            if program.tiers is None or owner == acting:
                continue
            customer = uow.customers.get(owner)
            if customer is None:  # pragma: no cover - effects only name locked customers
                raise UnknownCustomer(owner)
            status = _tier_status(uow, owner) or program.tiers.start(customer.enrolled_at)
            raised, change = tiers.upgrade(
                program.tiers, status, measure_with(history, customer, at, program.zone), at
            )
            if change is not None:
                self._save_tier(uow, owner, raised, (change,))

    @staticmethod
    def _save_activity(
        uow: UnitOfWork,
        customer_id: CustomerId,
        event: Purchase | CustomEvent,
        decision: Decision,
        at: datetime,
    ) -> None:
        owners = {customer_id} | {
            e.customer_id
            for e in decision.effects
            if isinstance(e, CounterIncrement) and e.customer_id is not None
        }
        for owner in sorted(owners):
            activity = uow.state.get(owner, ACTIVITY) or {}
            counters: dict[str, int] = dict(activity.get("counters", {}))
            for effect in decision.effects:
                if not isinstance(effect, CounterIncrement):
                    continue
                if (effect.customer_id or customer_id) != owner:
                    continue
                counters[effect.key] = counters.get(effect.key, 0) + effect.amount
                # a cap or limit reads the period of its event: keep the latest periods
                # (period keys sort by time), so a late event still finds its own
                prefix = effect.key.rsplit(":", 1)[0] + ":"
                periods = sorted(k for k in counters if k.startswith(prefix))
                for key in periods[:-_KEPT_PERIODS]:
                    del counters[key]
            activity["counters"] = counters
            if owner == customer_id and isinstance(event, Purchase):
                activity["purchases"] = activity.get("purchases", 0) + 1
                # care's "we miss you" counts days from the last purchase
                activity["last_purchase_at"] = at.isoformat()
            uow.state.put(owner, ACTIVITY, activity)
