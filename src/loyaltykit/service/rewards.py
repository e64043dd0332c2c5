"""Redeeming the catalogue: redemptions, their lifecycle, vouchers and cash offsets.

``redeem`` runs every check in one unit of work under the member's lock (the reward
is offered and open, the member may spend and is eligible, the member's and the
global limits of the period, the stock, the balance), then debits the points through
the ledger's ordinary debit (lots in expiry order), takes the stock and the global
limits from shared counters (``uow.counters``: never oversold, on any backend) and
stores the :class:`~loyaltykit.domain.redemptions.Redemption`. Any refusal raises a
typed error and rolls everything back. ``cancel_redemption`` gives back exactly what
the redemption took, through the ledger's reversal path.

``grant_reward`` gives a reward for free (campaigns, care gifts), ``pay_with_points``
pays part of a bill with points, vouchers are issued by coupon redemptions and used
with ``use_voucher``; ``release_unclaimed`` is the batch job that cancels redemptions
not handed over in time. ``offers`` and ``redemption_summary`` are read-only views for
members and for finance.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from loyaltykit.domain import ledger
from loyaltykit.domain.customer import SPENDING_STATUSES, Customer
from loyaltykit.domain.ledger import Command, EntryKind
from loyaltykit.domain.redemption_records import (
    redemption_from_record,
    redemption_to_record,
    voucher_from_record,
    voucher_to_record,
)
from loyaltykit.domain.redemptions import (
    Redemption,
    RedemptionState,
    RedemptionSummary,
    Voucher,
    VoucherCheck,
    VoucherStatus,
    could_be_code,
    voucher_code,
)
from loyaltykit.domain.rewards import Offer, Price, Reward, RewardKind, period_key
from loyaltykit.errors import (
    ConcurrencyConflict,
    InvalidAmount,
    InvalidArgument,
    LimitReached,
    LoyaltyError,
    NotEligible,
    OutOfStock,
    RedemptionClosed,
    RewardUnavailable,
    UnknownCampaign,
    UnknownRedemption,
    VoucherNotValid,
)
from loyaltykit.outcomes import JobFailure
from loyaltykit.policy.eligibility import ineligibility
from loyaltykit.policy.engine import CustomerState
from loyaltykit.policy.program import Program
from loyaltykit.service import postings
from loyaltykit.service.budgets import Budgets
from loyaltykit.service.campaigns import campaign_redemptions
from loyaltykit.service.codecs import existing
from loyaltykit.service.commands import (
    CancelRedemption,
    CommandValue,
    FulfilRedemption,
    GrantReward,
    PayWithPoints,
    Redeem,
    UseVoucher,
)
from loyaltykit.service.events import EventCommands
from loyaltykit.service.kernel import Codec, Kernel, Work, job_failure
from loyaltykit.storage.base import UnitOfWork
from loyaltykit.values import CustomerId, Money, Points, aware, count, identifier, points_amount

__all__ = [
    "REDEMPTION",
    "REWARD_COUNTS",
    "VOUCHER",
    "RewardCommands",
    "count_limits",
    "return_voucher_use",
    "take_limits",
    "usable_voucher",
    "use_voucher_code",
]

REDEMPTION = "redemption"
VOUCHER = "voucher"
_REDEMPTION = Codec(redemption_to_record, lambda _uow, record: redemption_from_record(record))
REWARD_COUNTS = "reward_counts"  # the member's per-period counts, in uow.state
_CODE_ATTEMPTS = 8
KEPT_PERIODS = 16  # per reward and period kind, in a member's counts


class RewardCommands:
    """Redemptions of catalogue rewards, vouchers and cash offsets."""

    def __init__(self, kernel: Kernel, budgets: Budgets) -> None:
        self.kernel = kernel
        self.budgets = budgets

    # Where voucher characters come from: the operating system's CSPRNG. Tests replace
    # it on an instance (``loyalty.voucher_source = random.Random(7).choice``).
    voucher_source: Callable[[Sequence[str]], str] = secrets.choice

    # --- commands -------------------------------------------------------------------

    def redeem(
        self,
        customer_id: CustomerId,
        reward_id: str,
        quantity: int = 1,
        *,
        at: datetime,
        idempotency_key: str,
        reason: str = "",
        actor: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        campaign: str | None = None,
    ) -> Redemption:
        """Redeem ``quantity`` units of the catalogue reward ``reward_id``.

        Checks, in this order, each refusal naming its check: the reward is in the
        catalogue (:class:`~loyaltykit.errors.UnknownReward`), offered and open at
        ``at`` (:class:`~loyaltykit.errors.RewardUnavailable`), the member may spend
        (:class:`~loyaltykit.errors.AccountNotActive`) and is eligible
        (:class:`~loyaltykit.errors.NotEligible`), the member's and the global limits
        of the period (:class:`~loyaltykit.errors.LimitReached`), the stock
        (:class:`~loyaltykit.errors.OutOfStock`) and the balance
        (:class:`~loyaltykit.errors.InsufficientPoints`). A refusal changes nothing.

        The redemption is ``reserved``; its id is ``idempotency_key``. A coupon reward
        issues one voucher per unit (``Redemption.vouchers``). ``campaign`` attributes
        the redemption to a campaign of the program (its ``campaign_report`` counts it).
        """
        value = Redeem(
            customer_id=customer_id,
            reward_id=reward_id,
            quantity=quantity,
            at=at,
            idempotency_key=idempotency_key,
            reason=reason,
            actor=actor,
            metadata=metadata,
            campaign=campaign,
        )
        command = value.context(self.kernel.versions.at(value.at).clock_skew)
        reward_id = identifier("reward_id", reward_id)
        quantity = points_amount("quantity", quantity)
        campaign = self._declared_campaign(campaign)

        def action(uow: UnitOfWork, customers: dict[CustomerId, Customer]) -> Redemption:
            return self._redeem(
                uow, customers[customer_id], reward_id, quantity, command, campaign=campaign
            )

        return self._redemption_command(value, action)

    def grant_reward(
        self,
        customer_id: CustomerId,
        reward_id: str,
        quantity: int = 1,
        *,
        at: datetime,
        idempotency_key: str,
        reason: str,
        actor: str | None = None,
        campaign: str | None = None,
    ) -> Redemption:
        """Give ``quantity`` units of a catalogue reward for free: a campaign's reward
        (``RewardGrant``), a care action's gift, a goodwill gesture.

        No points are debited and the reward's eligibility is not asked (whoever grants
        chose the member), but the reward must be offered and open, and its limits and
        stock hold exactly as for :meth:`redeem`. The redemption is ``granted`` and
        follows the same lifecycle; ``reason`` is required (grants are audited).
        ``campaign`` attributes it to the granting campaign, as for :meth:`redeem`.
        """
        value = GrantReward(
            customer_id=customer_id,
            reward_id=reward_id,
            quantity=quantity,
            at=at,
            idempotency_key=idempotency_key,
            reason=reason,
            actor=actor,
            campaign=campaign,
        )
        command = value.context(self.kernel.versions.at(value.at).clock_skew)
        if not command.reason.strip():
            raise InvalidArgument(f"grant_reward needs a reason (got {reason!r})")
        reward_id = identifier("reward_id", reward_id)
        quantity = points_amount("quantity", quantity)
        campaign = self._declared_campaign(campaign)

        def action(uow: UnitOfWork, customers: dict[CustomerId, Customer]) -> Redemption:
            return self._redeem(
                uow,
                customers[customer_id],
                reward_id,
                quantity,
                command,
                granted=True,
                campaign=campaign,
            )

        return self._redemption_command(value, action)

    def pay_with_points(
        self,
        customer_id: CustomerId,
        reward_id: str,
        points: Points,
        *,
        bill: Money,
        at: datetime,
        idempotency_key: str,
        reason: str = "",
        actor: str | None = None,
    ) -> Redemption:
        """Pay part of ``bill`` with ``points`` through the cash-offset reward
        ``reward_id`` (积分抵扣现金); ``Redemption.offset`` is the exact money paid.

        Refused with :class:`~loyaltykit.errors.OffsetRefused` when the points are
        worth more than the bill or than the reward's maximum share of it; every check
        of :meth:`redeem` applies too.
        """
        if not isinstance(bill, Money) or bill.amount <= 0:
            raise InvalidAmount("bill", bill, "a positive Money amount")
        value = PayWithPoints(
            customer_id=customer_id,
            reward_id=reward_id,
            points=points,
            bill=bill,
            at=at,
            idempotency_key=idempotency_key,
            reason=reason,
            actor=actor,
        )
        command = value.context(self.kernel.versions.at(value.at).clock_skew)
        reward_id = identifier("reward_id", reward_id)
        points = points_amount("points", points)

        def action(uow: UnitOfWork, customers: dict[CustomerId, Customer]) -> Redemption:
            return self._redeem(
                uow, customers[customer_id], reward_id, 1, command, offset=(points, bill)
            )

        return self._redemption_command(value, action)

    def fulfil_redemption(
        self,
        customer_id: CustomerId,
        redemption_id: str,
        *,
        at: datetime,
        idempotency_key: str,
        how: str = "delivered",
    ) -> Redemption:
        """Mark a reserved redemption handed over (``how``: delivered, picked_up...)."""
        value = FulfilRedemption(
            customer_id=customer_id,
            redemption_id=redemption_id,
            at=at,
            idempotency_key=idempotency_key,
            how=how,
        )
        command = value.context(self.kernel.versions.at(value.at).clock_skew)

        def action(uow: UnitOfWork, customers: dict[CustomerId, Customer]) -> Redemption:
            redemption = _stored_redemption(uow, customer_id, redemption_id, lock=True)
            done = redemption.fulfilled(command.at, how)
            _put_redemption(uow, done)
            return done

        return self._redemption_command(value, action)

    def cancel_redemption(
        self,
        customer_id: CustomerId,
        redemption_id: str,
        *,
        at: datetime,
        idempotency_key: str,
        reason: str = "",
        actor: str | None = None,
    ) -> Redemption:
        """Cancel a reserved redemption: the points go back to the lots they came from
        with their original expiry, the stock and the global limits are returned, the
        member's period counts go down and its vouchers stop being valid.

        Refused with :class:`~loyaltykit.errors.RedemptionClosed` once the redemption
        is fulfilled or cancelled, or when one of its vouchers has been used.
        """
        value = CancelRedemption(
            customer_id=customer_id,
            redemption_id=redemption_id,
            at=at,
            idempotency_key=idempotency_key,
            reason=reason,
            actor=actor,
        )
        command = value.context(self.kernel.versions.at(value.at).clock_skew)

        def action(work: Work) -> Redemption:
            uow = work.uow
            redemption = _stored_redemption(uow, customer_id, redemption_id, lock=True)
            if redemption.state is not RedemptionState.RESERVED:
                raise RedemptionClosed(redemption.id, redemption.state.value, "cancel")
            vouchers = [_stored_voucher(uow, customer_id, code) for code in redemption.vouchers]
            if any(voucher.used for voucher in vouchers):
                raise RedemptionClosed(redemption.id, "partly used (a voucher was used)", "cancel")
            restored: tuple[ledger.Entry, ...] = ()
            if redemption.points:
                receipt = postings.reverse(
                    work, redemption.id, None, given_back=self.budgets.give_back
                )
                restored = receipt.entries_of(EntryKind.REVERSE)
            for name, amount in redemption.taken:
                uow.counters.restore(name, amount)
            _uncount(uow, customer_id, redemption)
            for voucher in vouchers:
                _put_voucher(uow, voucher.cancel(command.at))
            cancelled = redemption.cancelled(command.at, command.reason, restored)
            _put_redemption(uow, cancelled)
            return cancelled

        return self.kernel.execute(value, action, _REDEMPTION)

    def use_voucher(
        self,
        customer_id: CustomerId,
        code: str,
        *,
        at: datetime,
        idempotency_key: str,
    ) -> Voucher:
        """Use a voucher code once; refused with :class:`~loyaltykit.errors.VoucherNotValid`
        (its ``status`` says why). Replaying the key returns the first outcome without
        using the code again. When every voucher of a redemption has been used, the
        redemption is fulfilled (``how="voucher_used"``)."""
        value = UseVoucher(
            customer_id=customer_id, code=code, at=at, idempotency_key=idempotency_key
        )
        command = value.context(self.kernel.versions.at(value.at).clock_skew)
        code = _code(code)

        def action(uow: UnitOfWork, customers: dict[CustomerId, Customer]) -> Voucher:
            assert command.idempotency_key is not None
            return use_voucher_code(uow, customer_id, code, command.idempotency_key, command.at)

        return self.kernel.execute(
            value,
            lambda work: action(work.uow, work.customers),
            Codec(voucher_to_record, lambda _uow, record: voucher_from_record(record)),
        )

    def release_unclaimed(self, *, at: datetime, batch_size: int = 100) -> int:
        """Cancel every reserved redemption whose ``claim_by`` has passed by ``at`` (a
        gift never picked up): points, stock and limits go back as with
        :meth:`cancel_redemption`. A batch job, safe to run as often as you like (each
        cancellation has its own idempotency key); returns how many it cancelled. A
        redemption that cannot be cancelled is logged and left for the next run: one bad
        account never stops the job (``run_due`` reports it in ``failures``)."""
        return self._release_unclaimed(aware("at", at), batch_size)[0]

    def _release_unclaimed(
        self, when: datetime, batch_size: int
    ) -> tuple[int, tuple[JobFailure, ...]]:
        self.kernel.outside_batch("release_unclaimed")
        count("batch_size", batch_size)
        cancelled = 0
        failures: dict[tuple[str, str], JobFailure] = {}
        while True:
            with self.kernel.reading() as uow:
                due = uow.records.due(REDEMPTION, when, limit=batch_size)
            progress = 0
            for record in due:
                if (record.owner, record.id) in failures:
                    continue
                try:
                    self.cancel_redemption(
                        record.owner,
                        record.id,
                        at=when,
                        idempotency_key=_release_key(record.id),
                        reason=f"not claimed by {record.document['claim_by']}",
                    )
                except RedemptionClosed:
                    continue  # fulfilled or cancelled meanwhile
                except LoyaltyError as error:
                    failures[(record.owner, record.id)] = job_failure(
                        "release_unclaimed", record.owner, record.id, error
                    )
                    continue
                progress += 1
            cancelled += progress
            if len(due) < batch_size or progress == 0:
                return cancelled, tuple(failures.values())

    # --- queries --------------------------------------------------------------------

    def validate_voucher(self, customer_id: CustomerId, code: str, *, at: datetime) -> VoucherCheck:
        """Whether ``customer_id`` may use ``code`` at ``at``, and if not why: unknown,
        not yet valid, expired, used, not yours, cancelled. Changes nothing."""
        when = aware("at", at)
        code = _code(code)
        with self.kernel.reading() as uow:
            return _check_voucher(uow, code, customer_id, when)

    def redemption(self, customer_id: CustomerId, redemption_id: str) -> Redemption:
        """One redemption of the customer; raises :class:`~loyaltykit.errors.UnknownRedemption`."""
        with self.kernel.reading() as uow:
            existing(uow, customer_id)
            return _stored_redemption(uow, customer_id, redemption_id)

    def redemptions(self, customer_id: CustomerId) -> tuple[Redemption, ...]:
        """Every redemption of the customer, oldest first."""
        with self.kernel.reading() as uow:
            existing(uow, customer_id)
            stored = uow.records.of_owner(customer_id, REDEMPTION)
        found = [redemption_from_record(record.document) for record in stored]
        return tuple(sorted(found, key=lambda r: (r.created_at, r.id)))

    def vouchers(self, customer_id: CustomerId) -> tuple[Voucher, ...]:
        """Every voucher issued to the customer, by issue time."""
        with self.kernel.reading() as uow:
            existing(uow, customer_id)
            stored = uow.records.of_owner(customer_id, VOUCHER)
        found = [voucher_from_record(record.document) for record in stored]
        return tuple(sorted(found, key=lambda v: (v.issued_at, v.code)))

    def stock_left(self, reward_id: str, *, at: datetime) -> int | None:
        """Units of ``reward_id`` left at ``at`` (``None``: unlimited stock)."""
        reward = self.kernel.versions.at(aware("at", at)).catalog.get(reward_id, at)
        if reward.stock is None:
            return None
        with self.kernel.reading() as uow:
            return max(0, reward.stock - uow.counters.value(_stock(reward.id)))

    def offers(self, customer_id: CustomerId, *, at: datetime) -> tuple[Offer, ...]:
        """The catalogue as ``customer_id`` sees it at ``at``: each reward offered, its
        price for the member's tier, the stock left, and the first check one unit would
        fail now (availability, status, eligibility, limits, stock, balance), in the
        order :meth:`redeem` checks them. Changes nothing."""
        when = aware("at", at)
        program = self.kernel.versions.at(when)
        with self.kernel.reading() as uow:
            customer = existing(uow, customer_id)
            state = EventCommands._customer_state(uow, customer, program, when)
            return tuple(
                _offer(uow, program, state, reward, when)
                for reward in program.catalog.offered(when)
            )

    def redemption_summary(
        self, *, start: datetime | None = None, end: datetime | None = None, page: int = 500
    ) -> tuple[RedemptionSummary, ...]:
        """Per reward, the redemptions made in ``[start, end)`` (every one by default):
        units, points and cost of those not cancelled, the cost still owed for reserved
        ones, and the number cancelled. Reads every redemption, a page at a time."""
        count("page", page)
        low = None if start is None else aware("start", start)
        high = None if end is None else aware("end", end)
        totals: dict[str, RedemptionSummary] = {}
        after: tuple[str, str] | None = None
        while True:
            with self.kernel.reading() as uow:
                stored = uow.records.scan(REDEMPTION, after=after, limit=page)
            for record in stored:
                redemption = redemption_from_record(record.document)
                if (low is not None and redemption.created_at < low) or (
                    high is not None and redemption.created_at >= high
                ):
                    continue
                reward = redemption.reward_id
                totals[reward] = totals.get(reward, RedemptionSummary(reward_id=reward)).add(
                    redemption
                )
            if len(stored) < page:
                return tuple(totals[reward] for reward in sorted(totals))
            after = (stored[-1].owner, stored[-1].id)

    # --- the redemption -------------------------------------------------------------

    def _declared_campaign(self, campaign: str | None) -> str | None:
        """``campaign`` if some program version declares it; ``UnknownCampaign`` if not."""
        if campaign is None:
            return None
        known = {
            c.id for version in self.kernel.versions.versions for c in version.program.campaigns
        }
        if campaign not in known:
            raise UnknownCampaign(str(campaign), tuple(sorted(known)))
        return campaign

    def _redemption_command(
        self,
        value: CommandValue,
        action: Callable[[UnitOfWork, dict[CustomerId, Customer]], Redemption],
    ) -> Redemption:
        return self.kernel.execute(
            value, lambda work: action(work.uow, work.customers), _REDEMPTION
        )

    def _redeem(
        self,
        uow: UnitOfWork,
        customer: Customer,
        reward_id: str,
        quantity: int,
        command: Command,
        *,
        offset: tuple[Points, Money] | None = None,
        granted: bool = False,
        campaign: str | None = None,
    ) -> Redemption:
        at = command.at
        program = self.kernel.versions.at(at)
        reward = program.catalog.get(reward_id, at)
        closed = reward.unavailable(at)
        if closed is not None:
            raise RewardUnavailable(reward.id, closed)
        if (offset is None) != (reward.offset is None):
            use = "pay_with_points" if offset is None else "redeem"
            raise InvalidArgument(f"reward {reward.id!r} is a {reward.kind.value}: use {use}()")
        customer.require("redeem", allowed=SPENDING_STATUSES)
        tier = None
        # the member's tier and history cost three reads: only when the reward needs them
        if not granted and (reward.tier_prices or not reward.eligibility.is_open):
            state = EventCommands._customer_state(uow, customer, program, at)
            why = ineligibility(program, reward, state, quantity, at)
            if why is not None:
                raise NotEligible(customer.id, reward.id, why)
            tier = state.tier
        price = Price(points=0) if granted else reward.price_for(tier).times(quantity)
        points, paid = price.points, None
        if offset is not None and reward.offset is not None:
            points = offset[0]
            paid = reward.offset.quote(points, offset[1])
        code = program.point_type(reward.point_type).code
        if points and not program.point_type(code).redeemable:
            raise InvalidArgument(f"reward {reward.id!r}: {code!r} points cannot be redeemed")
        counted = count_limits(uow, customer.id, reward, quantity, program, at)
        taken = take_limits(uow, reward, quantity, program, at)
        if campaign is not None:  # counted for campaign_report, given back on cancel
            uow.counters.take(campaign_redemptions(campaign), 1)
            taken = (*taken, (campaign_redemptions(campaign), 1))
        entries: tuple[ledger.Entry, ...] = ()
        if points:
            lots = uow.ledger.spendable_lots  # read after settlement, inside _post
            receipt = postings.post(
                uow,
                "redeem",
                command,
                customer.id,
                code,
                lambda account: ledger.debit(account, points, lots(customer.id, code, at), command),
            )
            entries = receipt.entries_of(EntryKind.REDEEM)
        assert command.idempotency_key is not None
        redemption = Redemption(
            id=command.idempotency_key,
            customer_id=customer.id,
            reward_id=reward.id,
            kind=reward.kind,
            quantity=quantity,
            points=points,
            point_type=reward.point_type,
            created_at=at,
            claim_by=None if reward.claim_within is None else at + reward.claim_within,
            money=price.money,
            offset=paid,
            cost=paid if reward.cost is None else reward.cost * quantity,
            partner=reward.partner,
            granted=granted,
            campaign=campaign,
            reason=command.reason,
            entries=entries,
            taken=taken,
            counted=counted,
        )
        if reward.kind is RewardKind.COUPON:
            redemption = self._issue_vouchers(uow, reward, redemption)
        _put_redemption(uow, redemption)
        return redemption

    def _issue_vouchers(
        self, uow: UnitOfWork, reward: Reward, redemption: Redemption
    ) -> Redemption:
        terms = reward.voucher
        assert terms is not None
        codes = []
        for _ in range(redemption.quantity):
            for _attempt in range(_CODE_ATTEMPTS):
                code = voucher_code(terms.code(self.voucher_source))
                if code not in codes and uow.records.find(VOUCHER, code) is None:
                    break
            else:  # a good source of randomness never gets here
                raise ConcurrencyConflict(
                    f"voucher codes: {_CODE_ATTEMPTS} draws in a row were taken; "
                    "the code space is too small or the source is not random"
                )
            codes.append(code)
            _put_voucher(
                uow,
                Voucher(
                    code=code,
                    customer_id=redemption.customer_id,
                    reward_id=reward.id,
                    redemption_id=redemption.id,
                    issued_at=redemption.created_at,
                    expires_at=terms.expiry(redemption.created_at),
                    uses=terms.uses,
                    value=terms.value,
                ),
            )
        return attrs.evolve(redemption, vouchers=tuple(codes))


def usable_voucher(uow: UnitOfWork, customer_id: CustomerId, code: str, at: datetime) -> Voucher:
    """The member's voucher ``code``, valid at ``at``; else :class:`VoucherNotValid`."""
    check = _check_voucher(uow, _code(code), customer_id, at)
    if check.voucher is None or not check.valid:
        raise VoucherNotValid(check.code, check.status.value)
    return check.voucher


def use_voucher_code(
    uow: UnitOfWork, customer_id: CustomerId, code: str, key: str, at: datetime
) -> Voucher:
    """Use the member's voucher ``code`` once under ``key``, in the caller's unit of work;
    its redemption is fulfilled once every voucher of it has been used."""
    used = usable_voucher(uow, customer_id, code, at).use(key, at)
    _put_voucher(uow, used)
    redemption = _stored_redemption(uow, customer_id, used.redemption_id, lock=True)
    if redemption.state is RedemptionState.RESERVED and all(
        _stored_voucher(uow, customer_id, other).used for other in redemption.vouchers
    ):
        _put_redemption(uow, redemption.fulfilled(at, "voucher_used"))
    return used


def return_voucher_use(uow: UnitOfWork, customer_id: CustomerId, code: str, key: str) -> Voucher:
    """Take back the use of voucher ``code`` made under ``key`` (its order was refunded
    in full); the voucher's redemption stays as it is."""
    voucher = _stored_voucher(uow, customer_id, code)
    kept = tuple(use for use in voucher.used if use[0] != key)
    returned = attrs.evolve(voucher, used=kept)
    _put_voucher(uow, returned)
    return returned


def _release_key(redemption_id: str) -> str:
    key = f"unclaimed:{redemption_id}"
    if len(key) <= 128:
        return key
    return "unclaimed:" + hashlib.sha256(redemption_id.encode()).hexdigest()


def _stock(reward_id: str) -> str:
    return f"stock:{reward_id}"


def _global(reward_id: str, period: str, local: datetime) -> str:
    return f"reward:{reward_id}:{period}:{period_key(period, local)}"


def _offer(
    uow: UnitOfWork, program: Program, state: CustomerState, reward: Reward, at: datetime
) -> Offer:
    """``reward`` as the member in ``state`` sees it: the first check of :meth:`redeem`
    that one unit would fail now, read without taking anything."""
    customer = state.customer
    local = at.astimezone(program.zone)
    price = reward.price_for(state.tier)
    left = None
    if reward.stock is not None:
        left = max(0, reward.stock - uow.counters.value(_stock(reward.id)))
    counts = (uow.state.get(customer.id, REWARD_COUNTS) or {}).get("counts", {})

    def refusal() -> str | None:
        closed = reward.unavailable(at)
        if closed is not None:
            return closed
        if customer.status not in SPENDING_STATUSES:
            return f"customer is {customer.status.value}"
        why = ineligibility(program, reward, state, 1, at)
        if why is not None:
            return why
        for limit in reward.member_limits:
            periods = counts.get(reward.id, {}).get(limit.period, {})
            if periods.get(period_key(limit.period, local), 0) + 1 > limit.count:
                return f"member limit of {limit.count} per {limit.period} reached"
        for limit in reward.global_limits:
            if uow.counters.value(_global(reward.id, limit.period, local)) + 1 > limit.count:
                return f"global limit of {limit.count} per {limit.period} reached"
        if left == 0:
            return "out of stock"
        if reward.offset is None and price.points:
            account = uow.ledger.account(customer.id, reward.point_type)
            available = 0 if account is None else account.available
            if available < price.points:
                return f"needs {price.points} {reward.point_type}, has {available}"
        return None

    return Offer(reward=reward, price=price, stock_left=left, refusal=refusal())


def count_limits(
    uow: UnitOfWork,
    customer_id: CustomerId,
    reward: Reward,
    quantity: int,
    program: Program,
    at: datetime,
) -> tuple[str, ...]:
    """Check and count the member's limits of the period; the ``period:key`` counted.

    The member's document keeps, per reward and period kind, the counts of the latest
    :data:`KEPT_PERIODS` periods and the oldest period it still counts (the horizon),
    so it stays small; a command dated before the horizon cannot be counted and is
    refused rather than checked against a forgotten period.
    """
    if not reward.member_limits:
        return ()
    local = at.astimezone(program.zone)
    document = uow.state.get(customer_id, REWARD_COUNTS) or {}
    counts: dict[str, dict[str, dict[str, int]]] = document.get("counts", {})
    horizons: dict[str, dict[str, str]] = document.get("horizons", {})
    mine = counts.setdefault(reward.id, {})
    counted = []
    for limit in reward.member_limits:
        key = period_key(limit.period, local)
        horizon = horizons.get(reward.id, {}).get(limit.period)
        if horizon is not None and key < horizon:
            raise InvalidArgument(
                f"at: {at.isoformat()} falls in {limit.period} {key}, before the oldest "
                f"period of {reward.id!r} still counted for {customer_id!r} ({horizon})"
            )
        periods = mine.setdefault(limit.period, {})
        taken = periods.get(key, 0)
        if taken + quantity > limit.count:
            raise LimitReached(reward.id, "member", limit.count, limit.period, taken, quantity)
        periods[key] = taken + quantity
        kept = sorted(periods, reverse=True)[:KEPT_PERIODS]
        if len(kept) < len(periods):
            mine[limit.period] = {k: periods[k] for k in kept}
            horizons.setdefault(reward.id, {})[limit.period] = kept[-1]
        counted.append(f"{limit.period}:{key}")
    uow.state.put(customer_id, REWARD_COUNTS, {**document, "counts": counts, "horizons": horizons})
    return tuple(counted)


def _uncount(uow: UnitOfWork, customer_id: CustomerId, redemption: Redemption) -> None:
    if not redemption.counted:
        return
    document = uow.state.get(customer_id, REWARD_COUNTS) or {}
    counts: dict[str, dict[str, dict[str, int]]] = document.get("counts", {})
    mine = counts.get(redemption.reward_id, {})
    for counted in redemption.counted:
        period, key = counted.split(":", 1)
        periods = mine.get(period, {})
        if key in periods:  # a period past the horizon is no longer counted
            periods[key] = max(0, periods[key] - redemption.quantity)
    uow.state.put(customer_id, REWARD_COUNTS, {**document, "counts": counts})


def take_limits(
    uow: UnitOfWork, reward: Reward, quantity: int, program: Program, at: datetime
) -> tuple[tuple[str, int], ...]:
    """Take the global limits of the period, then the stock; the counters taken."""
    local = at.astimezone(program.zone)
    taken = []
    for limit in reward.global_limits:
        name = _global(reward.id, limit.period, local)
        if not uow.counters.take(name, quantity, limit=limit.count):
            used = uow.counters.value(name)
            raise LimitReached(reward.id, "global", limit.count, limit.period, used, quantity)
        taken.append((name, quantity))
    if reward.stock is not None:
        name = _stock(reward.id)
        if not uow.counters.take(name, quantity, limit=reward.stock):
            left = max(0, reward.stock - uow.counters.value(name))
            raise OutOfStock(reward.id, quantity, left)
        taken.append((name, quantity))
    return tuple(taken)


def _stored_redemption(
    uow: UnitOfWork, customer_id: CustomerId, redemption_id: str, *, lock: bool = False
) -> Redemption:
    identifier("redemption_id", redemption_id)
    found = uow.records.get(customer_id, REDEMPTION, redemption_id, for_update=lock)
    if found is None:
        raise UnknownRedemption(customer_id, redemption_id)
    return redemption_from_record(found.document)


def _put_redemption(uow: UnitOfWork, redemption: Redemption) -> None:
    # only a reserved redemption is ever due: release_unclaimed finds it by its claim_by
    due = redemption.claim_by if redemption.state is RedemptionState.RESERVED else None
    uow.records.put(
        redemption.customer_id,
        REDEMPTION,
        redemption.id,
        redemption_to_record(redemption),
        due_at=due,
    )


def _stored_voucher(uow: UnitOfWork, customer_id: CustomerId, code: str) -> Voucher:
    found = uow.records.get(customer_id, VOUCHER, code, for_update=True)
    assert found is not None, f"voucher {code} of {customer_id} is missing"
    return voucher_from_record(found.document)


def _put_voucher(uow: UnitOfWork, voucher: Voucher) -> None:
    uow.records.put(
        voucher.customer_id, VOUCHER, voucher.code, voucher_to_record(voucher), lookup=voucher.code
    )


def _code(value: object) -> str:
    """What was typed, normalised as codes are issued (a code typed in lower case, with
    dashes or spaces, is the same code)."""
    if not isinstance(value, str):
        raise InvalidArgument(f"voucher code: {value!r} is not text")
    return voucher_code(value)


def _check_voucher(
    uow: UnitOfWork, code: str, customer_id: CustomerId, at: datetime
) -> VoucherCheck:
    found = uow.records.find(VOUCHER, code) if could_be_code(code) else None
    if found is None:
        return VoucherCheck(code=code, status=VoucherStatus.UNKNOWN)
    voucher = voucher_from_record(found.document)
    status = voucher.status(customer_id, at)
    # a code that is not yours says nothing more about itself
    return VoucherCheck(
        code=code, status=status, voucher=None if status is VoucherStatus.NOT_YOURS else voucher
    )
