"""Checkout: a basket priced with the member's vouchers and points, in one unit of work.

:meth:`CheckoutCommands.checkout` takes a basket (a purchase with priced lines), the
voucher codes the member uses and the points they pay with. In one command it takes off
what the programme's money-off campaigns give the basket (from their money budgets, a
counter each, locked until the unit of work ends), checks and uses the vouchers, takes
their money off the lines they apply to
(:func:`~loyaltykit.policy.pricing.price_basket`), takes the points through a cash-offset
reward, records what is left to pay as the purchase the programme's rules earn on, and
returns the :class:`Order`: the priced basket and one receipt of every ledger entry. All
of it is under the command's idempotency key: a replay returns the same order.

:meth:`CheckoutCommands.refund_order` refunds an order, whole or some of its lines: the
points earned are clawed back and the points paid given back in the share of the order
the refunded lines were (by what they cost after discounts), and when the last line is
refunded the vouchers are given back (a voucher used on an order refunded in part stays
used); each money-off campaign's budget gets back what it took off the refunded lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from fractions import Fraction
from typing import Any

import attrs

from loyaltykit.domain import ledger
from loyaltykit.domain.activity import Purchase
from loyaltykit.domain.basket import MoneyOff
from loyaltykit.domain.campaigns import Budget, minor_units
from loyaltykit.domain.customer import EARNING_STATUSES, SPENDING_STATUSES, Customer
from loyaltykit.domain.ledger import Entry, EntryKind
from loyaltykit.domain.rewards import Reward, RewardKind
from loyaltykit.errors import (
    ConcurrencyConflict,
    DiscountRefused,
    InvalidArgument,
    NotEligible,
    OverReversal,
    RewardUnavailable,
    UnknownEntry,
)
from loyaltykit.formats.baskets import basket_from_document, basket_to_document
from loyaltykit.outcomes import Balance, Receipt, receipt_from_record, receipt_to_record
from loyaltykit.policy.campaigns import campaign_discounts
from loyaltykit.policy.eligibility import ineligibility
from loyaltykit.policy.engine import CampaignEntry, condition_context
from loyaltykit.policy.pricing import MONEY_ROUNDING, CampaignDiscount, PricedBasket, price_basket
from loyaltykit.service import postings
from loyaltykit.service.budgets import Budgets
from loyaltykit.service.campaigns import participate
from loyaltykit.service.codecs import receipt_codec
from loyaltykit.service.commands import Checkout, RefundOrder
from loyaltykit.service.events import UNEARNED, EventCommands
from loyaltykit.service.kernel import Codec, Kernel, Work
from loyaltykit.service.members import load_member, save_member
from loyaltykit.service.rewards import (
    count_limits,
    return_voucher_use,
    take_limits,
    usable_voucher,
    use_voucher_code,
)
from loyaltykit.service.stored_value import StoredValueCommands
from loyaltykit.storage.base import UnitOfWork
from loyaltykit.values import CustomerId, Money, Points

__all__ = ["ORDER", "CheckoutCommands", "Order"]

ORDER = "order"
"""The record kind of a checkout's order (its priced basket, vouchers, refunded lines)."""
CAMPAIGN = "campaign:"
"""How a campaign's money off is named among a basket's discounts (``campaign:<id>``)."""


@attrs.frozen(kw_only=True)
class Order:
    """What a checkout did: the priced basket (``basket.to_pay`` is what the member pays
    in money), the vouchers used, the points paid, and one receipt of every entry."""

    key: str
    customer_id: CustomerId
    basket: PricedBasket
    vouchers: tuple[str, ...]
    points: Points
    receipt: Receipt
    rewards: tuple[str, ...] = ()
    tenders: tuple[tuple[str, Money], ...] = ()
    """What each stored-value card paid, by code."""

    @property
    def cash(self) -> Money:
        """What is left to pay in money at the till, after points and cards."""
        paid = sum((amount for _, amount in self.tenders), Money.zero(self.basket.currency))
        return self.basket.to_pay - paid


def _order_to_record(order: Order) -> dict[str, Any]:
    return {
        "key": order.key,
        "customer_id": order.customer_id,
        "basket": basket_to_document(order.basket),
        "vouchers": list(order.vouchers),
        "rewards": list(order.rewards),
        "tenders": [[card, str(amount.amount), amount.currency] for card, amount in order.tenders],
        "points": order.points,
        "receipt": receipt_to_record(order.receipt),
    }


def _order_from_record(_uow: UnitOfWork, record: Mapping[str, Any]) -> Order:
    return Order(
        key=str(record["key"]),
        customer_id=str(record["customer_id"]),
        basket=basket_from_document(record["basket"]),
        vouchers=tuple(record["vouchers"]),
        rewards=tuple(record.get("rewards", ())),
        tenders=tuple(
            (str(card), Money.of(str(amount), str(currency)))
            for card, amount, currency in record.get("tenders", ())
        ),
        points=int(record["points"]),
        receipt=attrs.evolve(receipt_from_record(record["receipt"]), replayed=True),
    )


_ORDER_CODEC = Codec(_order_to_record, _order_from_record)


class CheckoutCommands:
    """Checkout and the refund of an order."""

    def __init__(
        self,
        kernel: Kernel,
        events: EventCommands,
        budgets: Budgets,
        stored_value: StoredValueCommands,
    ) -> None:
        self.kernel = kernel
        self.events = events
        self.budgets = budgets
        self.stored_value = stored_value

    def checkout(
        self,
        customer_id: CustomerId,
        purchase: Purchase,
        *,
        at: datetime,
        idempotency_key: str,
        vouchers: Iterable[str] = (),
        rewards: Iterable[str] = (),
        points: Points = 0,
        offset_reward: str | None = None,
        stored_value: Iterable[str] = (),
        rounding: str = MONEY_ROUNDING,
        reason: str = "",
        actor: str | None = None,
    ) -> Order:
        """Price ``purchase`` with the programme's money-off campaigns (in priority order,
        from their budgets: ``Order.basket.discounts`` says what each took off which lines,
        or why it did not apply), the discount ``rewards`` the member redeems now (their
        points are taken in this command), then the member's ``vouchers``, in the order
        given, and ``points`` (paid through the cash-offset reward ``offset_reward``), and
        record what is left to pay as the purchase the programme earns on.

        Money is allocated to lines in the currency's minor units with ``rounding`` (a
        :mod:`decimal` rounding mode's name). A voucher that takes nothing off the basket
        is refused with :class:`~loyaltykit.errors.DiscountRefused`, one that is not
        valid with :class:`~loyaltykit.errors.VoucherNotValid`, points worth more than
        the reward allows with :class:`~loyaltykit.errors.OffsetRefused`; any refusal
        changes nothing. ``stored_value`` cards (gift cards, wallets) then pay what is left,
        in code order, each as much as it holds (``Order.tenders``); the rest is
        ``Order.cash``. Money paid by card is money paid: it earns.
        """
        command = Checkout(
            customer_id=customer_id,
            purchase=purchase,
            vouchers=vouchers,
            rewards=rewards,
            points=points,
            offset_reward=offset_reward,
            stored_value=stored_value,
            rounding=rounding,
            at=at,
            idempotency_key=idempotency_key,
            reason=reason,
            actor=actor,
        )
        return self.kernel.execute(command, self._checkout, _ORDER_CODEC)

    def refund_order(
        self,
        customer_id: CustomerId,
        order_key: str,
        *,
        at: datetime,
        idempotency_key: str,
        lines: Iterable[int] | None = None,
        reason: str = "",
        actor: str | None = None,
    ) -> Receipt:
        """Refund the order checked out under ``order_key``: every line not yet refunded,
        or the ``lines`` given (their places in the basket, from 0).

        The points earned and the points paid are undone in the share of the order's
        total the refunded lines were; refunding the last lines undoes what is left, and
        gives the vouchers back. A line refunded twice is an
        :class:`~loyaltykit.errors.OverReversal`.
        """
        command = RefundOrder(
            customer_id=customer_id,
            order_key=order_key,
            lines=lines,
            at=at,
            idempotency_key=idempotency_key,
            reason=reason,
            actor=actor,
        )
        return self.kernel.execute(command, self._refund_order, receipt_codec())

    # --- handlers ---------------------------------------------------------------------

    def _checkout(self, work: Work) -> Order:
        command = work.command
        assert isinstance(command, Checkout)
        uow, at, key = work.uow, command.at, command.idempotency_key
        customer = work.customer(command.customer_id)
        customer.require(command.name, allowed=EARNING_STATUSES)
        offers = self._campaign_discounts(work, customer)
        discounts = [self._discount(work, customer, reward_id) for reward_id in command.rewards]
        offs = [(f"reward:{reward.id}", off) for reward, off, _ in discounts]
        for code in command.vouchers:
            voucher = usable_voucher(uow, customer.id, code, at)
            # a voucher takes off what its terms said when it was issued
            issued = self.kernel.versions.at(voucher.issued_at)
            reward = issued.catalog.get(voucher.reward_id, voucher.issued_at)
            off = None if reward.voucher is None else reward.voucher.discount()
            if off is None:
                raise DiscountRefused(
                    f"voucher {code}", f"its reward {reward.id!r} takes no money off a basket"
                )
            offs.append((f"voucher:{code}", off))
        basket = price_basket(command.purchase, offs, rounding=command.rounding, campaigns=offers)
        for applied in basket.discounts:
            # a campaign that does not apply only says why; a voucher or reward is refused
            if applied.refusal is not None and not applied.source.startswith(CAMPAIGN):
                raise DiscountRefused(applied.source, applied.refusal)
        budgets = self._take_campaign_discounts(work, customer, basket, offers)
        for code in command.vouchers:
            use_voucher_code(uow, customer.id, code, key, at)
        paid: list[Entry] = []
        accounts: dict[str, ledger.Account] = {}
        for reward, _, cost in discounts:
            self._redeem_discount(work, customer, reward, cost, paid, accounts)
        if command.points:
            basket = self._pay_with_points(work, customer, basket, paid, accounts)
        tenders = []
        left = basket.to_pay
        for card in command.stored_value:
            if left.amount <= 0:
                break
            taken = self.stored_value.pay_in(work, card, left, reference=key, partial=True)
            spent = Money.zero(left.currency) - taken.entry.amount
            if spent.amount > 0:
                tenders.append((card, spent))
                left = left - spent
        receipt = self.events.recorded(work, basket.paid_purchase(command.purchase))
        shown = {balance.point_type for balance in receipt.balances}
        extra = [Balance.of(account) for code, account in accounts.items() if code not in shown]
        priced = [applied.explain() for applied in basket.discounts]
        receipt = attrs.evolve(
            receipt,
            entries=(*paid, *receipt.entries),
            balances=(*receipt.balances, *extra),
            explanation="\n".join(line for line in (*priced, receipt.explanation) if line),
        )
        order = Order(
            key=key,
            customer_id=customer.id,
            basket=basket,
            vouchers=command.vouchers,
            rewards=command.rewards,
            points=command.points,
            receipt=receipt,
            tenders=tuple(tenders),
        )
        uow.records.put(
            customer.id,
            ORDER,
            key,
            {
                "basket": basket_to_document(basket),
                "vouchers": list(command.vouchers),
                "refunded": [],
                "tenders": [
                    [card, str(spent.amount), "0", spent.currency] for card, spent in tenders
                ],
                "budgets": budgets,
            },
        )
        return order

    def _campaign_discounts(self, work: Work, customer: Customer) -> tuple[CampaignDiscount, ...]:
        """What the programme's money-off campaigns offer the command's basket, with what
        their money budgets have spent read in this unit of work."""
        command = work.command
        assert isinstance(command, Checkout)
        uow, program, at = work.uow, work.program, command.at
        chosen = [campaign for campaign in program.campaigns if campaign.takes_money_off]
        if not chosen:
            return ()
        state = EventCommands._customer_state(uow, customer, program, at)
        spent = {
            Budget.money_counter(campaign.id): uow.counters.value(Budget.money_counter(campaign.id))
            for campaign in chosen
            if campaign.budget is not None
        }
        return campaign_discounts(
            chosen,
            currency=command.purchase.amount.currency,
            context=condition_context(program, state, command.purchase, at),
            counters=state.counters,
            spent=spent,
        )

    def _take_campaign_discounts(
        self,
        work: Work,
        customer: Customer,
        basket: PricedBasket,
        offers: Iterable[CampaignDiscount],
    ) -> list[str]:
        """For each campaign that took money off: take it from its money budget (a budget
        another command spent meanwhile is a lost race: the command runs again), count a
        use on the member's limit, record the participation. The campaigns whose budgets
        were taken from (the order keeps them, for its refunds)."""
        uow, at = work.uow, work.command.at
        taken: list[str] = []
        uses: dict[str, int] = {}
        for offer in offers:
            off = _campaign_discount(basket, offer.campaign)
            if off.amount <= 0:
                continue
            if offer.budget_counter is not None:
                units = minor_units(off)
                got = uow.counters.take(offer.budget_counter, units, limit=offer.budget_limit)
                if got < units:
                    raise ConcurrencyConflict(
                        f"{offer.budget_counter}: spent by another command since it was read"
                    )
                taken.append(offer.campaign)
            if offer.times_key is not None:
                uses[offer.times_key] = 1
            entry = CampaignEntry(campaign=offer.campaign, customer_id=customer.id, points=0)
            participate(uow, entry, at)
        if uses:
            member = load_member(uow, customer)
            save_member(uow, member, member.counted(uses))
        return taken

    def _discount(
        self, work: Work, customer: Customer, reward_id: str
    ) -> tuple[Reward, MoneyOff, Points]:
        """A discount reward the member may redeem now, what it takes off, its points."""
        uow, program, at = work.uow, work.program, work.command.at
        reward = program.catalog.get(reward_id, at)
        closed = reward.unavailable(at)
        if closed is not None:
            raise RewardUnavailable(reward.id, closed)
        off = reward.money_off
        if reward.kind is not RewardKind.DISCOUNT or off is None:
            raise DiscountRefused(f"reward:{reward.id}", "it is not a discount with money off")
        customer.require("redeem", allowed=SPENDING_STATUSES)
        state = EventCommands._customer_state(uow, customer, program, at)
        why = ineligibility(program, reward, state, 1, at)
        if why is not None:
            raise NotEligible(customer.id, reward.id, why)
        price = reward.price_for(state.tier)
        if price.money is not None:
            raise InvalidArgument(
                f"rewards: {reward.id!r} costs money as well as points; redeem it apart"
            )
        return reward, off, price.points

    def _redeem_discount(
        self,
        work: Work,
        customer: Customer,
        reward: Reward,
        points: Points,
        written: list[Entry],
        accounts: dict[str, ledger.Account],
    ) -> None:
        """Count the discount's limits and stock, and take its points, under the order."""
        uow, program, at = work.uow, work.program, work.command.at
        count_limits(uow, customer.id, reward, 1, program, at)
        take_limits(uow, reward, 1, program, at)
        if not points:
            return
        code = program.point_type(reward.point_type).code
        if not program.point_type(code).redeemable:
            raise InvalidArgument(f"reward {reward.id!r}: {code!r} points cannot be redeemed")
        context = work.context(reward=reward.id)
        account = postings.settled(uow, customer.id, code, context, written)
        lots = uow.ledger.spendable_lots(customer.id, code, at)
        accounts[code] = postings.save(uow, ledger.debit(account, points, lots, context), written)

    def _pay_with_points(
        self,
        work: Work,
        customer: Customer,
        basket: PricedBasket,
        written: list[Entry],
        accounts: dict[str, ledger.Account],
    ) -> PricedBasket:
        """Take the command's points through its cash-offset reward; the basket with
        the money they pay shared among its lines."""
        command = work.command
        assert isinstance(command, Checkout)
        assert command.offset_reward is not None
        uow, program, at = work.uow, work.program, command.at
        customer.require("redeem", allowed=SPENDING_STATUSES)
        reward = program.catalog.get(command.offset_reward, at)
        closed = reward.unavailable(at)
        if closed is not None:
            raise RewardUnavailable(reward.id, closed)
        if reward.offset is None:
            raise InvalidArgument(
                f"offset_reward: {reward.id!r} is a {reward.kind.value}, not a cash offset"
            )
        code = program.point_type(reward.point_type).code
        if not program.point_type(code).redeemable:
            raise InvalidArgument(f"reward {reward.id!r}: {code!r} points cannot be redeemed")
        if basket.total.amount <= 0:
            raise InvalidArgument("checkout: points cannot pay a basket that costs nothing")
        value = reward.offset.quote(command.points, basket.total)
        context = work.context(offset_reward=reward.id)
        lots = uow.ledger.spendable_lots
        account = postings.settled(uow, customer.id, code, context, written)
        posting = ledger.debit(account, command.points, lots(customer.id, code, at), context)
        accounts[code] = postings.save(uow, posting, written)
        return basket.paying(value.quantize(basket.rounding))

    def _refund_order(self, work: Work) -> Receipt:
        command = work.command
        assert isinstance(command, RefundOrder)
        uow, customer_id, key = work.uow, command.customer_id, command.order_key
        customer = work.customer(customer_id)
        found = uow.records.get(customer_id, ORDER, key, for_update=True)
        if found is None:
            raise UnknownEntry(customer_id, key)
        order = dict(found.document)
        basket = basket_from_document(order["basket"])
        refunded = set(order["refunded"])
        left = [n for n in range(len(basket.lines)) if n not in refunded]
        lines = left if command.lines is None else list(command.lines)
        beyond = [n for n in lines if n >= len(basket.lines)]
        if beyond:
            raise InvalidArgument(
                f"lines: order {key!r} has {len(basket.lines)} lines, no line {beyond[0]}"
            )
        again = sorted(set(lines) & refunded)
        if again or not lines:
            raise OverReversal(f"order {key!r}: line {again[0] if again else 'none'} is refunded")
        last = set(lines) == set(left)
        share = None if last else _share(basket, lines)
        receipt = self._undo(work, customer, key, share)
        order["tenders"] = self._refund_cards(work, key, order.get("tenders", []), share)
        for campaign in order.get("budgets", []):
            back = _campaign_discount(basket, campaign, lines)
            if back.amount > 0:
                uow.counters.restore(Budget.money_counter(campaign), minor_units(back))
        if last:
            for code in order["vouchers"]:
                return_voucher_use(uow, customer_id, code, key)
        order["refunded"] = sorted(refunded | set(lines))
        uow.records.put(customer_id, ORDER, key, order)
        return receipt

    def _refund_cards(
        self, work: Work, key: str, tenders: list[list[str]], share: Fraction | None
    ) -> list[list[str]]:
        """Give each card that paid the order its ``share`` of what it paid, rounded down
        to the minor unit (what is left of it when ``share`` is ``None``: the last refund
        gives back exactly the rest). The tenders, with what each has had back."""
        kept = []
        for card, paid_text, back_text, currency in tenders:
            paid, back = Money.of(paid_text, currency), Money.of(back_text, currency)
            amount = paid - back
            if share is not None:
                exact = paid.amount * share.numerator / share.denominator
                places = Decimal(1).scaleb(-paid.minor_units)
                part = Money.of(exact.quantize(places, rounding=ROUND_DOWN), currency)
                amount = min(amount, part)
            if amount.amount > 0:
                self.stored_value.refund_in(work, card, amount, payment=key)
            kept.append([card, paid_text, str((back + amount).amount), currency])
        return kept

    def _undo(self, work: Work, customer: Customer, key: str, share: Fraction | None) -> Receipt:
        """The ledger side of a refund: ``share`` of every entry under the order's key."""
        uow, command = work.uow, work.command
        entries = [
            entry
            for entry in uow.ledger.entries_by_key(customer.id, key)
            if entry.kind not in (EntryKind.EXPIRE, EntryKind.RELEASE)
        ]
        if entries and share != 0:

            def unspend(
                work: Work, customer: Customer, entry: Entry, before: Fraction, part: Fraction
            ) -> None:
                if entry.kind is EntryKind.EARN:
                    self.events._unspend(work, customer, entry, before, part)

            return postings.reverse(work, key, share, unspend, given_back=self.budgets.give_back)
        unearned = uow.records.get(customer.id, UNEARNED, key)
        if unearned is not None and share != 0:
            return self.events._refund_unearned(work, key, unearned.document, share)
        accounts = postings.reported(
            uow, work.program, customer.id, uow.ledger.accounts(customer.id)
        )
        return postings.receipt(command.name, work.context(), customer.id, [], accounts)


def _campaign_discount(
    basket: PricedBasket, campaign: str, lines: Iterable[int] | None = None
) -> Money:
    """What ``campaign`` took off the basket (off the ``lines`` given: their places)."""
    source = f"{CAMPAIGN}{campaign}"
    chosen = range(len(basket.lines)) if lines is None else lines
    return sum(
        (amount for n in chosen for found, amount in basket.lines[n].discounts if found == source),
        Money.zero(basket.currency),
    )


def _share(basket: PricedBasket, lines: Iterable[int]) -> Fraction:
    """The share of the order ``lines`` are: what they cost after discounts, of the total
    (by count of lines when the whole basket was free)."""
    chosen = list(lines)
    total = basket.total
    if total.amount == 0:
        return Fraction(len(chosen), len(basket.lines))
    part = sum((basket.lines[n].net for n in chosen), Money.zero(basket.currency))
    return part.ratio(total)
