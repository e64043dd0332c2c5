"""The :class:`Loyalty` facade: one flat surface over the service's areas.

Each area (customers, the ledger, events through the engine, tiers, rewards, campaigns,
care, complaints, surveys, queries, analytics, the outbox, batch jobs) is a plain class
given the command kernel and the areas it needs. :class:`Loyalty` builds them once and
exposes every public method of every area as its own, with the area's signature and
docstring, so ``loyalty.earn(...)`` is ``PointCommands.earn`` on the facade's ledger
area, checked by mypy like any method.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, ClassVar, Concatenate, Generic, ParamSpec, Self, TypeVar, overload

from loyaltykit.domain.cards import CardFormat
from loyaltykit.domain.complaints import Authorizer, Role, as_authorizer
from loyaltykit.domain.exchange import ExchangeRates
from loyaltykit.errors import InvalidArgument
from loyaltykit.policy.engine import PolicyEngine
from loyaltykit.policy.program import Program, ProgramVersion, ProgramVersions
from loyaltykit.service.approvals import ApprovalWork
from loyaltykit.service.batch import BatchWork
from loyaltykit.service.budgets import Budgets
from loyaltykit.service.campaigns import CampaignWork
from loyaltykit.service.cards import CardCommands
from loyaltykit.service.care import CareWork
from loyaltykit.service.care_messages import CareMessages
from loyaltykit.service.checkout import CheckoutCommands
from loyaltykit.service.complaints import ComplaintCommands
from loyaltykit.service.consent import ConsentWork
from loyaltykit.service.customers import CustomerCommands
from loyaltykit.service.events import EventCommands
from loyaltykit.service.exports import Exports
from loyaltykit.service.feedback import FeedbackCommands
from loyaltykit.service.households import HouseholdWork
from loyaltykit.service.inquiries import InquiryCommands
from loyaltykit.service.insights import Insights
from loyaltykit.service.kernel import Kernel
from loyaltykit.service.member_events import EventWork
from loyaltykit.service.notices import NoticeWork
from loyaltykit.service.outbox import Outbox
from loyaltykit.service.partners import PartnerWork
from loyaltykit.service.points import PointCommands
from loyaltykit.service.points_sales import PointSales
from loyaltykit.service.queries import Queries
from loyaltykit.service.referrals import ReferralWork
from loyaltykit.service.rewards import RewardCommands
from loyaltykit.service.stored_value import StoredValueCommands
from loyaltykit.service.tiers import TierCommands
from loyaltykit.service.velocity import VelocityGuard
from loyaltykit.storage.base import Storage, tenant_of, tenant_storage
from loyaltykit.values import tenant_key

__all__ = ["Loyalty", "StorageOpener"]

A = TypeVar("A")
P = ParamSpec("P")
R = TypeVar("R")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

StorageOpener = Callable[["Storage | str | None"], Storage]
"""Turns what the caller passed as ``storage=`` into a backend (the composition root in
:mod:`loyaltykit.bootstrap` installs the one that knows URLs and plugins)."""


class _Area(Generic[A, P, R]):
    """A method of an area, seen as a method of the facade."""

    def __init__(self, function: Callable[Concatenate[A, P], R]) -> None:
        self._function = function
        self._area = function.__qualname__.split(".")[0]
        self.__doc__ = function.__doc__
        self.__wrapped__ = function

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self._name = name

    @overload
    def __get__(self, instance: None, owner: type[Any]) -> Self: ...

    @overload
    def __get__(self, instance: Loyalty, owner: type[Any]) -> Callable[P, R]: ...

    def __get__(self, instance: Loyalty | None, owner: type[Any]) -> Self | Callable[P, R]:
        if instance is None:
            return self
        area = instance._areas[self._area]
        bound: Callable[P, R] = self._function.__get__(area, type(area))
        # kept on the instance, which shadows this (non-data) descriptor from then on:
        # the facade's methods are looked up on every command
        instance.__dict__[self._name] = bound
        return bound


def _area(function: Callable[Concatenate[A, P], R]) -> _Area[A, P, R]:
    return _Area(function)


class Loyalty:
    """The loyalty programme as a service other applications call.

    >>> from datetime import datetime, timezone
    >>> loyalty = Loyalty()  # the default program, in memory
    >>> at = datetime(2026, 5, 1, 12, tzinfo=timezone.utc)
    >>> _ = loyalty.enroll("c-1", at=at, idempotency_key="enroll-c-1")
    >>> loyalty.earn("c-1", 120, at=at, idempotency_key="order-1").balance.available
    120

    ``program`` is a :class:`~loyaltykit.Program` or effective-dated
    :class:`~loyaltykit.ProgramVersions`; ``storage`` is a
    :class:`~loyaltykit.storage.base.Storage`, a URL such as ``"memory://"`` or
    ``"sqlite:///loyalty.db"``, or ``None`` for a new in-memory store. ``retries`` is how
    often a command that lost a race is tried again; ``outbox`` records domain events;
    ``authorize`` says who may act in which complaint role (an
    :class:`~loyaltykit.Authorizer` or an ``(actor, role, action) -> bool`` callable;
    without one every caller's word is taken). ``rates`` (an
    :class:`~loyaltykit.ExchangeRates` table) converts purchases in another currency than
    the programme's at the rate in force at their instant. ``tenant`` names the programme
    (a key such as ``"brand-a"``) whose members, points and records this facade sees in a
    store that holds several (docs/concepts/tenants.md); without it, the storage's own
    (the default programme, unless ``storage`` is a ``for_tenant`` view).

    One ``Loyalty`` may be shared by any number of threads: every command runs in a unit
    of work of its own, and the storage serialises commands on the same member.
    """

    opener: ClassVar[StorageOpener | None] = None

    def __init__(
        self,
        program: Program | ProgramVersions | None = None,
        *,
        storage: Storage | str | None = None,
        retries: int = 5,
        outbox: bool = False,
        authorize: Authorizer | Callable[[str, Role, str], bool] | None = None,
        rates: ExchangeRates | None = None,
        tenant: str | None = None,
    ) -> None:
        if program is None:
            program = Program()
        if isinstance(program, Program):
            program = ProgramVersions((ProgramVersion(valid_from=_EPOCH, program=program),))
        if not isinstance(program, ProgramVersions):
            raise InvalidArgument(
                f"program: {program!r} is not a Program or ProgramVersions "
                "(load one with Program.from_toml or Program.from_dict)"
            )
        if not isinstance(outbox, bool):
            raise InvalidArgument(f"outbox: {outbox!r} is not True or False")
        self.versions: ProgramVersions = program
        # checked before the storage is opened: a bad key opens no connection
        key = None if tenant is None else tenant_key(tenant)
        opened = self._open(storage)
        self.storage: Storage = opened if key is None else tenant_storage(opened, key)
        self.kernel = Kernel(program, self.storage, retries=retries, outbox=outbox)
        if rates is not None and not isinstance(rates, ExchangeRates):
            raise InvalidArgument(f"rates: {rates!r} is not an ExchangeRates table")
        engine = PolicyEngine(rates)
        kernel = self.kernel
        complaints = ComplaintCommands(kernel, as_authorizer(authorize))
        budgets = Budgets(complaints)
        events = EventCommands(kernel, engine, budgets)
        tiers = TierCommands(kernel)
        care = CareWork(kernel)
        self._rewards = rewards = RewardCommands(kernel, budgets)
        self._campaigns = CampaignWork(kernel)
        notices = NoticeWork(kernel)
        areas: list[object] = [
            CustomerCommands(kernel),
            ReferralWork(kernel),
            PointCommands(kernel, budgets),
            events,
            tiers,
            rewards,
            self._campaigns,
            care,
            complaints,
            feedback := FeedbackCommands(kernel, events),
            Queries(kernel),
            Insights(kernel),
            Outbox(kernel),
            notices,
            ConsentWork(kernel, notices),
            CareMessages(kernel, notices),
            Exports(kernel),
            VelocityGuard(kernel),
            ApprovalWork(kernel),
            HouseholdWork(kernel),
            BatchWork(kernel, tiers=tiers, care=care, complaints=complaints, rewards=rewards),
            PointSales(kernel),
            PartnerWork(kernel),
        ]
        # stored value and member cards
        self._stored_value = StoredValueCommands(kernel)
        self._cards = CardCommands(kernel)
        areas += [self._stored_value, self._cards]
        areas.append(InquiryCommands(kernel))
        areas.append(EventWork(kernel))
        # survey invitations follow the events that ask for them (issue 17)
        events.after_event = feedback.invite_after_event
        complaints.after_close = feedback.invite_after_close
        areas.append(CheckoutCommands(kernel, events, budgets, self._stored_value))
        self._areas: dict[str, object] = {type(area).__name__: area for area in areas}

    @classmethod
    def _open(cls, storage: Storage | str | None) -> Storage:
        if cls.opener is None:  # pragma: no cover - loyaltykit.bootstrap installs it
            raise InvalidArgument(
                "storage: no storage opener; import Loyalty from loyaltykit (its composition "
                "root, loyaltykit.bootstrap, opens URLs), or pass a Storage"
            )
        return cls.opener(storage)

    @property
    def seed_source(self) -> Callable[[], str]:
        """Where draw seeds come from when ``draw`` is given none (a fresh random one)."""
        return self._campaigns.seed_source

    @seed_source.setter
    def seed_source(self, source: Callable[[], str]) -> None:
        self._campaigns.seed_source = source

    @property
    def voucher_source(self) -> Callable[[Sequence[str]], str]:
        """Picks each character of a new voucher code (``secrets.choice``; a seeded
        ``random.Random(7).choice`` in tests)."""
        return self._rewards.voucher_source

    @voucher_source.setter
    def voucher_source(self, source: Callable[[Sequence[str]], str]) -> None:
        self._rewards.voucher_source = source

    @property
    def code_source(self) -> Callable[[Sequence[str]], str]:
        """Picks each character of a new gift card or wallet code and each digit of a new
        member card number (``secrets.choice``; a seeded ``random.Random(7).choice`` in
        tests)."""
        return self._stored_value.code_source

    @code_source.setter
    def code_source(self, source: Callable[[Sequence[str]], str]) -> None:
        self._stored_value.code_source = source
        self._cards.code_source = source

    @property
    def card_format(self) -> CardFormat:
        """How new member card numbers look (``CardFormat(prefix="", length=16)``)."""
        return self._cards.card_format

    @card_format.setter
    def card_format(self, card_format: CardFormat) -> None:
        if not isinstance(card_format, CardFormat):
            raise InvalidArgument(f"card_format: {card_format!r} is not a CardFormat")
        self._cards.card_format = card_format

    @property
    def tenant(self) -> str:
        """The programme (tenant) whose data this facade sees (``"default"`` unless
        another was asked for)."""
        return tenant_of(self.storage)

    @property
    def outbox(self) -> bool:
        """Whether domain events are recorded in the outbox."""
        return self.kernel.outbox

    def close(self) -> None:
        """Release the storage's connections."""
        self.storage.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def batch(self) -> Iterator[Self]:
        """Run several commands in one transaction: all of them are kept, or none.

        Inside the block every command works as usual (locks, idempotency, typed
        errors); a command that raises is undone alone (a savepoint), so the caller may
        catch its error and go on. The block commits when it ends and rolls everything
        back if an exception leaves it. Locks are held until then: keep batches short.
        Batch jobs (``expire_due``, ``run_due``...) run outside a batch.

        >>> from datetime import datetime, timezone
        >>> loyalty = Loyalty()
        >>> at = datetime(2026, 5, 1, tzinfo=timezone.utc)
        >>> with loyalty.batch():
        ...     _ = loyalty.enroll("c-1", at=at, idempotency_key="e-1")
        ...     _ = loyalty.earn("c-1", 10, at=at, idempotency_key="o-1")
        >>> loyalty.balance("c-1").available
        10
        """
        with self.kernel.batch():
            yield self

    # --- customers and their profiles -----------------------------------------
    enroll = _area(CustomerCommands.enroll)
    customer = _area(CustomerCommands.customer)
    update_profile = _area(CustomerCommands.update_profile)
    suspend = _area(CustomerCommands.suspend)
    reactivate = _area(CustomerCommands.reactivate)
    close_account = _area(CustomerCommands.close_account)
    erase = _area(CustomerCommands.erase)

    # --- referrals ------------------------------------------------------------
    link_referrer = _area(ReferralWork.link_referrer)
    referral_leaderboard = _area(ReferralWork.referral_leaderboard)
    referrals_of = _area(ReferralWork.referrals_of)

    # --- the points ledger ----------------------------------------------------
    earn = _area(PointCommands.earn)
    redeem_points = _area(PointCommands.redeem_points)
    adjust = _area(PointCommands.adjust)
    transfer = _area(PointCommands.transfer)
    reverse = _area(PointCommands.reverse)

    # --- events through the policy engine -------------------------------------
    record_purchase = _area(EventCommands.record_purchase)
    record_event = _area(EventCommands.record_event)
    quote = _area(EventCommands.quote)
    refund = _area(EventCommands.refund)

    # --- tiers ----------------------------------------------------------------
    requalify_tiers = _area(TierCommands.requalify_tiers)
    tier = _area(TierCommands.tier)
    forecast = _area(TierCommands.forecast)
    grant_tier = _area(TierCommands.grant_tier)
    set_metric = _area(TierCommands.set_metric)
    rank_relative_tiers = _area(TierCommands.rank_relative_tiers)

    # --- the reward catalogue -------------------------------------------------
    redeem = _area(RewardCommands.redeem)
    grant_reward = _area(RewardCommands.grant_reward)
    pay_with_points = _area(RewardCommands.pay_with_points)
    fulfil_redemption = _area(RewardCommands.fulfil_redemption)
    cancel_redemption = _area(RewardCommands.cancel_redemption)
    use_voucher = _area(RewardCommands.use_voucher)
    release_unclaimed = _area(RewardCommands.release_unclaimed)
    validate_voucher = _area(RewardCommands.validate_voucher)
    redemption = _area(RewardCommands.redemption)
    redemptions = _area(RewardCommands.redemptions)
    vouchers = _area(RewardCommands.vouchers)
    stock_left = _area(RewardCommands.stock_left)
    offers = _area(RewardCommands.offers)
    redemption_summary = _area(RewardCommands.redemption_summary)

    # --- checkout -------------------------------------------------------------
    checkout = _area(CheckoutCommands.checkout)
    refund_order = _area(CheckoutCommands.refund_order)

    # --- points sold for money --------------------------------------------------
    buy_points = _area(PointSales.buy_points)
    refund_bought_points = _area(PointSales.refund_bought_points)

    # --- coalition partners -----------------------------------------------------
    award_partner_points = _area(PartnerWork.award_partner_points)
    partner_settlement = _area(PartnerWork.partner_settlement)
    partner_progress = _area(PartnerWork.partner_progress)
    partner_evaluation = _area(PartnerWork.partner_evaluation)

    # --- campaigns ------------------------------------------------------------
    campaign = _area(CampaignWork.campaign)
    campaign_budget = _area(CampaignWork.campaign_budget)
    participants = _area(CampaignWork.participants)
    draw_entries = _area(CampaignWork.draw_entries)
    draw = _area(CampaignWork.draw)
    draws = _area(CampaignWork.draws)
    campaign_report = _area(CampaignWork.campaign_report)

    # --- care and retention ---------------------------------------------------
    run_care = _area(CareWork.run_care)
    care_actions = _area(CareWork.care_actions)
    complete_care = _area(CareWork.complete_care)
    record_care_call = _area(CareWork.record_care_call)
    care_action = _area(CareWork.care_action)
    care_history = _area(CareWork.care_history)
    sample_care_calls = _area(CareWork.sample_care_calls)
    check_care_call = _area(CareWork.check_care_call)
    care_sample = _area(CareWork.care_sample)

    # --- complaints -----------------------------------------------------------
    complaint_policy = _area(ComplaintCommands.complaint_policy)
    file_complaint = _area(ComplaintCommands.file_complaint)
    acknowledge_complaint = _area(ComplaintCommands.acknowledge_complaint)
    assess_complaint = _area(ComplaintCommands.assess_complaint)
    investigate_complaint = _area(ComplaintCommands.investigate_complaint)
    propose_resolution = _area(ComplaintCommands.propose_resolution)
    submit_for_review = _area(ComplaintCommands.submit_for_review)
    approve_resolution = _area(ComplaintCommands.approve_resolution)
    reject_resolution = _area(ComplaintCommands.reject_resolution)
    respond_to_complaint = _area(ComplaintCommands.respond_to_complaint)
    reinvestigate_complaint = _area(ComplaintCommands.reinvestigate_complaint)
    close_complaint = _area(ComplaintCommands.close_complaint)
    request_customer_info = _area(ComplaintCommands.request_customer_info)
    customer_replied = _area(ComplaintCommands.customer_replied)
    escalate_complaint = _area(ComplaintCommands.escalate_complaint)
    resume_complaint = _area(ComplaintCommands.resume_complaint)
    reopen_complaint = _area(ComplaintCommands.reopen_complaint)
    withdraw_complaint = _area(ComplaintCommands.withdraw_complaint)
    complaint = _area(ComplaintCommands.complaint)
    complaints_of = _area(ComplaintCommands.complaints_of)
    all_complaints = _area(ComplaintCommands.all_complaints)
    complaint_report = _area(ComplaintCommands.complaint_report)
    complaints_at_risk = _area(ComplaintCommands.complaints_at_risk)
    escalate_overdue_complaints = _area(ComplaintCommands.escalate_overdue_complaints)

    # --- surveys --------------------------------------------------------------
    publish_survey = _area(FeedbackCommands.publish_survey)
    survey = _area(FeedbackCommands.survey)
    submit_survey_response = _area(FeedbackCommands.submit_survey_response)
    survey_responses = _area(FeedbackCommands.survey_responses)
    survey_scores = _area(FeedbackCommands.survey_scores)
    question_scores = _area(FeedbackCommands.question_scores)
    satisfaction_drivers = _area(FeedbackCommands.satisfaction_drivers)
    set_survey_trigger = _area(FeedbackCommands.set_survey_trigger)
    invite_to_surveys = _area(FeedbackCommands.invite_to_surveys)
    survey_invitations = _area(FeedbackCommands.survey_invitations)
    answer_survey_invitation = _area(FeedbackCommands.answer_survey_invitation)

    # --- inquiries and suggestions (apart from complaints) -----------------------------
    take_inquiry = _area(InquiryCommands.take_inquiry)
    answer_inquiry = _area(InquiryCommands.answer_inquiry)
    inquiry = _area(InquiryCommands.inquiry)
    inquiries = _area(InquiryCommands.inquiries)
    intake_counts = _area(InquiryCommands.intake_counts)

    # --- clubs and member events ------------------------------------------------------
    create_club = _area(EventWork.create_club)
    join_club = _area(EventWork.join_club)
    leave_club = _area(EventWork.leave_club)
    club_members = _area(EventWork.club_members)
    create_member_event = _area(EventWork.create_member_event)
    event_roster = _area(EventWork.event_roster)
    book_event = _area(EventWork.book_event)
    cancel_booking = _area(EventWork.cancel_booking)
    check_in = _area(EventWork.check_in)

    # --- balances and statements ----------------------------------------------
    balance = _area(Queries.balance)
    statement = _area(Queries.statement)

    # --- analytics ------------------------------------------------------------
    segments = _area(Insights.segments)
    churn_warnings = _area(Insights.churn_warnings)
    points_liability = _area(Insights.points_liability)

    # --- the outbox -----------------------------------------------------------
    pending_events = _area(Outbox.pending_events)
    mark_published = _area(Outbox.mark_published)
    relay = _area(Outbox.relay)

    # --- notices --------------------------------------------------------------
    notices = _area(NoticeWork.notices)
    deliver_notices = _area(NoticeWork.deliver_notices)
    remind_expiring_points = _area(NoticeWork.remind_expiring_points)
    remind_tiers_at_risk = _area(NoticeWork.remind_tiers_at_risk)

    # --- consent and care messages --------------------------------------------
    opt_in = _area(ConsentWork.opt_in)
    opt_out = _area(ConsentWork.opt_out)
    unsubscribe = _area(ConsentWork.unsubscribe)
    consents = _area(ConsentWork.consents)
    send_care_message = _area(CareMessages.send_care_message)

    # --- the subject-access export --------------------------------------------
    export_member = _area(Exports.export_member)

    # --- abuse limits and approvals -------------------------------------------
    flags = _area(VelocityGuard.flags)
    request_adjustment = _area(ApprovalWork.request_adjustment)
    approve_adjustment = _area(ApprovalWork.approve_adjustment)
    reject_adjustment = _area(ApprovalWork.reject_adjustment)
    adjustment_requests = _area(ApprovalWork.adjustment_requests)
    pending_adjustment_requests = _area(ApprovalWork.pending_adjustment_requests)

    # --- households -----------------------------------------------------------
    create_household = _area(HouseholdWork.create_household)
    join_household = _area(HouseholdWork.join_household)
    pool_points = _area(HouseholdWork.pool_points)
    redeem_household_points = _area(HouseholdWork.redeem_household_points)
    leave_household = _area(HouseholdWork.leave_household)
    household = _area(HouseholdWork.household)

    # --- batch jobs -----------------------------------------------------------
    run_due = _area(BatchWork.run_due)
    expire_due = _area(BatchWork.expire_due)
    release_pending = _area(BatchWork.release_pending)

    # --- stored value: gift cards and e-wallets -------------------------------
    issue_stored_value = _area(StoredValueCommands.issue_stored_value)
    top_up = _area(StoredValueCommands.top_up)
    pay_with_stored_value = _area(StoredValueCommands.pay_with_stored_value)
    refund_to_stored_value = _area(StoredValueCommands.refund_to_stored_value)
    expire_stored_value = _area(StoredValueCommands.expire_stored_value)
    stored_value = _area(StoredValueCommands.stored_value)
    stored_value_balance = _area(StoredValueCommands.stored_value_balance)
    stored_value_entries = _area(StoredValueCommands.stored_value_entries)
    stored_value_of = _area(StoredValueCommands.stored_value_of)

    # --- member cards ---------------------------------------------------------
    issue_card = _area(CardCommands.issue_card)
    block_card = _area(CardCommands.block_card)
    replace_card = _area(CardCommands.replace_card)
    card = _area(CardCommands.card)
    member_by_card = _area(CardCommands.member_by_card)
    cards_of = _area(CardCommands.cards_of)
