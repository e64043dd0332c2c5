"""Events through the policy engine: purchases, custom events, quotes, refunds."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any, assert_never

import attrs

from loyaltykit.domain import ledger, tiers
from loyaltykit.domain.activity import CustomEvent, Purchase
from loyaltykit.domain.customer import (
    EARNING_STATUSES,
    Customer,
)
from loyaltykit.domain.ledger import Account, Command, Entry, EntryKind
from loyaltykit.domain.member import MemberState
from loyaltykit.domain.records import instant_from_text
from loyaltykit.domain.referrals import referral_claw_back
from loyaltykit.errors import (
    InvalidAmount,
    InvalidArgument,
    OverReversal,
    UnknownEntry,
)
from loyaltykit.outcomes import Balance, Receipt
from loyaltykit.policy.engine import (
    BudgetConsumption,
    CampaignAward,
    CampaignEntry,
    CounterIncrement,
    CustomerState,
    Decision,
    Earn,
    MetricSample,
    PolicyEngine,
    ReferralReward,
    TierUpdate,
    measure_with,
)
from loyaltykit.policy.program import Program
from loyaltykit.policy.retention import metric_months_from
from loyaltykit.policy.rules import Referral
from loyaltykit.service import campaigns, postings
from loyaltykit.service.budgets import Budgets
from loyaltykit.service.codecs import (
    existing,
    receipt_codec,
)
from loyaltykit.service.commands import RecordEvent, RecordPurchase, Refund
from loyaltykit.service.kernel import Kernel, Work
from loyaltykit.service.members import load_member, save_member
from loyaltykit.service.postings import with_metadata
from loyaltykit.service.referrals import REFERRAL
from loyaltykit.storage.base import UnitOfWork
from loyaltykit.values import (
    CustomerId,
    Money,
    aware,
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


class EventCommands:
    """Events through the policy engine: purchases, custom events, quotes, refunds."""

    def __init__(self, kernel: Kernel, engine: PolicyEngine, budgets: Budgets) -> None:
        self.kernel = kernel
        self.engine = engine
        self.budgets = budgets
        # what follows a recorded custom event in its unit of work (the facade sends
        # survey invitations): called with the work, the member, the event type and key
        self.after_event: Callable[[Work, CustomerId, str, str], object] | None = None

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
        command = RecordPurchase(
            customer_id=customer_id,
            purchase=purchase,
            at=at,
            idempotency_key=idempotency_key,
            actor=actor,
        )
        return self.kernel.execute(command, self._record, receipt_codec())

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
        command = RecordEvent(
            customer_id=customer_id,
            event=event,
            at=at,
            idempotency_key=idempotency_key,
            actor=actor,
        )

        def record(work: Work) -> Receipt:
            receipt = self._record(work)
            if self.after_event is not None:
                self.after_event(work, command.customer_id, event.type, command.idempotency_key)
            return receipt

        return self.kernel.execute(command, record, receipt_codec())

    def quote(
        self, customer_id: CustomerId, purchase: Purchase | CustomEvent, *, at: datetime
    ) -> Decision:
        """What an event would earn now, with the trace; nothing is stored."""
        when = aware("at", at)
        if not isinstance(purchase, Purchase | CustomEvent):
            raise InvalidArgument(f"purchase: {purchase!r} is not a Purchase or a CustomEvent")
        with self.kernel.reading() as uow:
            customer = existing(uow, customer_id)
            program = self.kernel.versions.at(when)
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
        command = Refund(
            customer_id=customer_id,
            purchase_key=purchase_key,
            at=at,
            idempotency_key=idempotency_key,
            amount=amount,
            reason=reason,
            actor=actor,
        )
        return self.kernel.execute(command, self._refund, receipt_codec())

    def _refund(self, work: Work) -> Receipt:
        command = work.command
        assert isinstance(command, Refund)
        uow, customer_id, purchase_key = work.uow, command.customer_id, command.purchase_key
        work.customer(customer_id)
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
        share: Fraction | None = None
        if command.amount is not None:
            if spent is None:
                raise UnknownEntry(customer_id, purchase_key)
            total = Money.of(str(spent["purchase_amount"]), str(spent["currency"]))
            amount = command.amount
            if not isinstance(amount, Money) or not Money.zero(total.currency) < amount <= total:
                raise InvalidAmount(
                    "refund amount", amount, f"Money above zero and at most {total}"
                )
            share = amount.ratio(total)
        if unearned is not None:
            return self._refund_unearned(work, purchase_key, unearned.document, share)
        receipt = postings.reverse(
            work, purchase_key, share, self._unspend, given_back=self.budgets.give_back
        )
        referrer = work.customer(customer_id).referred_by  # fixed before the first purchase
        if referrer is None:
            return receipt
        return self._claw_back_referral(work, receipt, work.lock(referrer), purchase_key)

    def _refund_unearned(
        self, work: Work, purchase_key: str, purchase: Mapping[str, Any], share: Fraction | None
    ) -> Receipt:
        """Refund a purchase that earned its customer no points: nothing to claw back, but
        the refunded share leaves the spend metric, and shares never add up past the whole."""
        uow, command = work.uow, work.command
        customer_id = command.owner
        before = Fraction(str(purchase["refunded"]))
        part = 1 - before if share is None else share
        if part == 0 or before + part > 1:
            raise OverReversal(
                f"refunding {part} more of purchase {purchase_key!r}, already refunded by "
                f"{before}, would exceed the whole"
            )
        bought = datetime.fromisoformat(purchase["at"])
        day = bought.astimezone(self.kernel.versions.at(bought).zone).date()
        spent = Decimal(str(purchase["purchase_amount"]))
        member = load_member(uow, work.customer(customer_id))
        refunded = -(spent * part.numerator / part.denominator)
        keep = metric_months_from(self.kernel.versions, bought)
        save_member(uow, member, member.measured([("spend", refunded)], day, keep_months=keep))
        uow.records.put(
            customer_id, UNEARNED, purchase_key, {**purchase, "refunded": str(before + part)}
        )
        accounts = postings.reported(
            uow, work.program, customer_id, uow.ledger.accounts(customer_id)
        )
        return postings.receipt(command.name, work.context(), customer_id, [], accounts)

    def _claw_back_referral(
        self, work: Work, receipt: Receipt, referrer: Customer, purchase_key: str
    ) -> Receipt:
        """After a refund of a referred member's purchase, take the referrer's reward for
        it back (:func:`~loyaltykit.domain.referrals.referral_claw_back`: in proportion,
        whole once the referral no longer qualifies), in the refund's unit of work, under
        the referrer's lock. The reward is the referrer's earn recorded under the
        purchase's key, at the instant of the referral record, by referral rules only."""
        uow, command, customer_id = work.uow, work.command, receipt.customer_id
        found = uow.records.get(referrer.id, REFERRAL, customer_id, for_update=True)
        if found is None or found.document.get("revoked"):
            return receipt
        referral = dict(found.document)
        at = instant_from_text(referral["at"]) or command.at
        program = self.kernel.versions.at(at)
        referral_rules = {r.id: r for r in program.rules if isinstance(r, Referral)}
        rule = referral_rules.get(referral["rule"])
        own = uow.ledger.entries_by_key(customer_id, purchase_key)
        rewards = [
            entry
            for entry in uow.ledger.entries_by_key(referrer.id, purchase_key)
            if entry.kind is EntryKind.EARN
            and entry.occurred_at == at
            and set(str(dict(entry.metadata).get("rules", "")).split(",")) <= set(referral_rules)
        ]
        if rule is None or not own or not rewards:
            return receipt
        metadata = dict(own[0].metadata)
        purchase = Money.of(str(metadata["purchase_amount"]), str(metadata["currency"]))
        refunded = sum(
            (r.portion or Fraction(0) for r in uow.ledger.reversals_of(customer_id, own[0].id)),
            Fraction(0),
        )
        context = work.context()
        written: list[Entry] = []
        accounts: dict[str, Account] = {}
        taken = 0
        qualifies = True
        for entry in rewards:
            before = sum(
                (r.portion or Fraction(0) for r in uow.ledger.reversals_of(referrer.id, entry.id)),
                Fraction(0),
            )
            part, qualifies = referral_claw_back(
                purchase=purchase, refunded=refunded, clawed=before, minimum=rule.minimum
            )
            if part == 0:
                continue
            account = postings.settled(uow, referrer.id, entry.point_type, context, written)
            posting = postings.claw_back(
                uow, account, entry, context, part, before, work.program.refund_policy
            )
            postings.save(uow, posting, written)
            accounts[entry.point_type] = postings.settled(
                uow, referrer.id, entry.point_type, context, written
            )
            self.budgets.give_back(uow, entry)
            taken += postings.clawed_back(uow, entry)
        referral["points"] = max(0, int(referral["points"]) - taken)
        if not qualifies:
            referral["revoked"] = command.at.isoformat()
            # the referral leaves the referrer's metric (on the day it counted) and gives
            # back its slot under the rule's referrer cap
            local = at.astimezone(program.zone)
            member = load_member(uow, referrer)
            key = rule.cap_key(local)
            keep = metric_months_from(self.kernel.versions, at)
            after = member.measured([("referrals", Decimal(-1))], local.date(), keep_months=keep)
            if key is not None and member.counters.get(key, 0) > 0:
                after = after.counted({key: -1})
            save_member(uow, member, after)
        uow.records.put(referrer.id, REFERRAL, customer_id, referral)
        return attrs.evolve(
            receipt,
            entries=(*receipt.entries, *written),
            balances=(*receipt.balances, *(Balance.of(a) for a in accounts.values())),
        )

    def _unspend(
        self,
        work: Work,
        customer: Customer,
        entry: Entry,
        before: Fraction,
        part: Fraction,
    ) -> None:
        """Take a refunded share of a purchase out of the metrics tiers qualify on, on the
        day of the purchase: a refunded purchase never counted."""
        uow = work.uow
        # the metrics live on the purchase's day, as the programme then in force dated it
        program = self.kernel.versions.at(entry.occurred_at)
        metadata = dict(entry.metadata)
        day = entry.occurred_at.astimezone(program.zone).date()
        samples: list[tuple[str, Decimal]] = []
        if entry.point_type == program.qualifying_points:
            undone = ledger.reversal_target(entry.amount + entry.pending_delta, before, part)
            samples.append(("qualifying_points", -Decimal(undone)))
        # the purchase's first entry carries its spend (a checkout's points paid, under
        # the same key, carry none)
        primary = [
            found
            for found in uow.ledger.entries_by_key(customer.id, entry.idempotency_key or "")
            if dict(found.metadata).get("event") == "purchase"
        ]
        if metadata.get("event") == "purchase" and primary and primary[0].id == entry.id:
            spent = Decimal(str(metadata["purchase_amount"]))
            samples.append(("spend", -(spent * part.numerator / part.denominator)))
        if samples:
            member = load_member(uow, customer)
            keep = metric_months_from(self.kernel.versions, entry.occurred_at)
            save_member(uow, member, member.measured(samples, day, keep_months=keep))

    def _record(self, work: Work) -> Receipt:
        """A purchase or a custom event through the engine: load the member, evaluate,
        apply the decision's effects, save."""
        command = work.command
        assert isinstance(command, RecordPurchase | RecordEvent)
        event: Purchase | CustomEvent = (
            command.purchase if isinstance(command, RecordPurchase) else command.event
        )
        return self.recorded(work, event)

    def recorded(self, work: Work, event: Purchase | CustomEvent) -> Receipt:
        """``event`` through the engine for the command's member, in the command's unit of
        work (a checkout records the purchase it priced this way)."""
        command = work.command
        uow, program = work.uow, work.program
        customer = work.customer(command.owner)
        customer.require(command.name, allowed=EARNING_STATUSES)
        members = {customer.id: load_member(uow, customer)}
        state = self._engine_state(members[customer.id], program, command.at)
        referrer = customer.referred_by  # read under the member's lock
        if referrer is not None and any(
            isinstance(rule, Referral) for rule in program.rules_for(event.type)
        ):
            members[referrer] = load_member(uow, work.lock(referrer))
            state = attrs.evolve(state, referrer_counters=members[referrer].counters)
        budgets = campaigns.budget_state(uow, program, event.type, command.at)
        decision = self.engine.evaluate(program, state, event, command.at, budgets=budgets)
        # the entries carry the purchase as the programme counted it (in its currency)
        counted, conversion = self.engine.converted(program, event, command.at)
        metadata = _event_metadata(counted)
        if conversion is not None and isinstance(event, Purchase):
            metadata |= {
                "paid_amount": str(event.amount.amount),
                "paid_currency": event.amount.currency,
            }
        context = work.context(**metadata)
        loaded = dict(members)
        written, touched = self._apply(work, decision, counted, context, members)
        for member_id, member in members.items():
            save_member(uow, loaded[member_id], member)
        if isinstance(counted, Purchase) and not any(
            e.customer_id == customer.id and e.kind is EntryKind.EARN for e in written
        ):
            # nothing in the ledger finds this purchase again: keep it, so a refund
            # can still take its spend out of the tier metrics
            uow.records.put(
                customer.id, UNEARNED, command.idempotency_key, _unearned(counted, context)
            )
        own = [a for key, a in touched.items() if key[0] == customer.id]
        own = postings.reported(uow, program, customer.id, own)
        others = [a for key, a in touched.items() if key[0] != customer.id]
        return postings.receipt(
            command.name, context, customer.id, written, own + others, decision.explain()
        )

    def _apply(
        self,
        work: Work,
        decision: Decision,
        event: Purchase | CustomEvent,
        context: Command,
        members: dict[CustomerId, MemberState],
    ) -> tuple[list[Entry], dict[tuple[CustomerId, str], Account]]:
        """Apply every effect of a (funded) decision, in one place: ledger entries are
        saved, the members' new states are left in ``members`` for the caller to save.
        A new kind of effect fails the type check here until it is handled."""
        uow, program, acting = work.uow, work.program, work.command.owner
        day = work.at.astimezone(program.zone).date()
        written: list[Entry] = []
        touched: dict[tuple[CustomerId, str], Account] = {}
        counted: dict[CustomerId, dict[str, int]] = {}
        samples: dict[CustomerId, list[tuple[str, Decimal]]] = {}
        for effect in decision.effects:
            match effect:
                case Earn():
                    earn_context = ledger.with_metadata(
                        context, with_metadata(context.metadata, "rules", ",".join(effect.rules))
                    )
                    account = postings.settled(
                        uow, effect.customer_id, effect.point_type, earn_context, written
                    )
                    posting = ledger.credit(
                        account,
                        effect.points,
                        earn_context,
                        expires_at=effect.expires_at,
                        available_from=effect.available_from,
                    )
                    touched[(effect.customer_id, effect.point_type)] = postings.save(
                        uow, posting, written
                    )
                case CounterIncrement():
                    mine = counted.setdefault(effect.customer_id or acting, {})
                    mine[effect.key] = mine.get(effect.key, 0) + effect.amount
                case MetricSample():
                    samples.setdefault(effect.customer_id, []).append((effect.metric, effect.value))
                case TierUpdate():
                    members[acting] = members[acting].rated(effect.status, effect.changes)
                case ReferralReward():
                    uow.records.put(
                        effect.referrer,
                        REFERRAL,
                        effect.referred,
                        {"rule": effect.rule, "points": effect.points, "at": work.at.isoformat()},
                    )
                case BudgetConsumption():
                    campaigns.take_budget(uow, effect)
                case CampaignEntry():
                    campaigns.participate(uow, effect, work.at)
                case CampaignAward():  # pragma: no cover - the engine funded it (budgets=)
                    raise AssertionError("a campaign award must be funded before it is applied")
                case _:  # pragma: no cover
                    assert_never(effect)
        for owner in sorted({*counted, *samples}):
            if owner not in members:  # pragma: no cover - effects only name locked members
                members[owner] = load_member(uow, work.customer(owner))
        for owner, increments in counted.items():
            members[owner] = members[owner].counted(increments)
        if isinstance(event, Purchase):
            members[acting] = members[acting].bought(work.at)
        keep = metric_months_from(self.kernel.versions, work.at)
        for owner, values in samples.items():
            members[owner] = members[owner].measured(values, day, keep_months=keep)
            if (
                owner != acting
                and program.tiers is not None
                and program.rating_exclusions.excludes(members[owner].customer) is None
            ):
                # the engine decided the acting member's tier; another member (a referrer)
                # whose new referral qualifies them for a higher tier is upgraded here
                other = members[owner]
                status = other.tier or program.tiers.start(other.customer.enrolled_at)
                measure = measure_with(other.metrics, other.customer, work.at, program.zone)
                raised, change = tiers.upgrade(program.tiers, status, measure, work.at)
                if change is not None:
                    members[owner] = other.rated(raised, (change,))
        return written, touched

    @staticmethod
    def _engine_state(member: MemberState, program: Program, at: datetime) -> CustomerState:
        """What the engine may know of a member at ``at``."""
        status = member.tier
        effective = None
        if program.tiers is not None:
            status = status or program.tiers.start(member.customer.enrolled_at)
            effective = status.effective(at, program.tiers)
        return CustomerState(
            customer=member.customer,
            tier=effective,
            counters=member.counters,
            purchases=member.purchases,
            tier_status=status,
            metrics=member.metrics,
        )

    @classmethod
    def _customer_state(
        cls, uow: UnitOfWork, customer: Customer, program: Program, at: datetime
    ) -> CustomerState:
        return cls._engine_state(load_member(uow, customer), program, at)


def _event_metadata(event: Purchase | CustomEvent) -> dict[str, str]:
    """What a recorded event's entries carry about it (a refund finds the amount here)."""
    if isinstance(event, Purchase):
        return {
            "event": event.type,
            "purchase_amount": str(event.amount.amount),
            "currency": event.amount.currency,
        }
    return {"event": event.type}
