"""``AsyncLoyalty``: the :class:`~loyaltykit.Loyalty` facade for ``async`` code.

Every public facade method has an awaitable counterpart with the same signature. Each
call runs the synchronous core in a worker thread (``anyio.to_thread.run_sync``), at
most ``max_threads`` at a time, so the event loop keeps serving other requests while a
command waits for a database row lock or a slow disk. Install it with
``pip install loyaltykit[async]``; it runs under asyncio and trio alike.

>>> import anyio
>>> from datetime import UTC, datetime
>>> async def main() -> int:
...     async with AsyncLoyalty() as loyalty:
...         at = datetime(2026, 5, 1, tzinfo=UTC)
...         await loyalty.enroll("c-1", at=at, idempotency_key="enroll-c-1")
...         receipt = await loyalty.earn("c-1", 120, at=at, idempotency_key="order-1")
...         return receipt.balance.available
>>> anyio.run(main)
120

Why threads and not an async database driver: see docs/guides/async.md.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, Protocol, Self, TypeVar

from loyaltykit.bootstrap import Loyalty
from loyaltykit.errors import InvalidAmount
from loyaltykit.policy.program import Program, ProgramVersions
from loyaltykit.storage.base import Storage

try:
    import anyio
    import anyio.to_thread
except ImportError as missing:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "loyaltykit.aio needs anyio: install loyaltykit[async] (pip install 'loyaltykit[async]')"
    ) from missing

__all__ = ["DEFAULT_MAX_THREADS", "NOT_AWAITABLE", "AsyncLoyalty"]

P = ParamSpec("P")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)

DEFAULT_MAX_THREADS = 16
"""Commands running at once by default: enough to keep a connection pool busy
(SQLAlchemy's default pool holds 5 connections plus 10 overflow) without letting a burst
of requests start hundreds of threads that would only queue on the database."""

NOT_AWAITABLE = frozenset({"batch", "close"})
"""Facade methods with no awaitable counterpart: ``batch()`` keeps one transaction open
on one thread across several commands; run such a block with :meth:`AsyncLoyalty.run`
(``await loyalty.run(transfer_all)``, where ``transfer_all`` opens the batch).
``close`` has its own ``async def close()`` (it is no area method)."""


class _FacadeMethod(Protocol[P, R_co]):
    """A method of the facade as its class holds it: read from a ``Loyalty`` it is a
    callable with the method's signature (the facade's area methods are descriptors)."""

    __wrapped__: Callable[..., Any]

    def __get__(self, instance: Loyalty, owner: type[Any]) -> Callable[P, R_co]: ...


def _awaitable(
    method: _FacadeMethod[P, R],
) -> Callable[Concatenate[AsyncLoyalty, P], Awaitable[R]]:
    """The awaitable counterpart of a facade method, with the method's own signature
    (mypy sees it: ``await loyalty.earn("c", "ten")`` is a type error)."""
    name = method.__wrapped__.__name__

    @functools.wraps(method.__wrapped__)
    async def call(self: AsyncLoyalty, /, *args: P.args, **kwargs: P.kwargs) -> R:
        # looked up on the instance, so a subclass's override is the one that runs
        bound: Callable[P, R] = getattr(self.loyalty, name)
        return await self.run(bound, *args, **kwargs)

    return call


class AsyncLoyalty:
    """The loyalty programme for ``async`` callers: every command and query awaitable.

    Built like :class:`~loyaltykit.Loyalty` (``AsyncLoyalty(program, storage=...)``)
    or around an existing one (``AsyncLoyalty.wrap(loyalty)``); ``loyalty`` is the
    synchronous facade underneath, shared safely with plain threads. ``max_threads``
    bounds the commands that run at once; the others wait their turn without blocking
    the event loop. A cancelled call does not interrupt its command: the worker thread
    finishes it (a command is one transaction, kept whole or not at all), and the
    result is dropped.
    """

    def __init__(
        self,
        program: Program | ProgramVersions | None = None,
        *,
        storage: Storage | str | None = None,
        retries: int = 5,
        outbox: bool = False,
        max_threads: int = DEFAULT_MAX_THREADS,
        tenant: str | None = None,
    ) -> None:
        loyalty = Loyalty(program, storage=storage, retries=retries, outbox=outbox, tenant=tenant)
        self._init(loyalty, max_threads)

    @classmethod
    def wrap(cls, loyalty: Loyalty, *, max_threads: int = DEFAULT_MAX_THREADS) -> AsyncLoyalty:
        """An async facade over ``loyalty`` (which stays usable from plain threads)."""
        facade = cls.__new__(cls)
        facade._init(loyalty, max_threads)
        return facade

    def _init(self, loyalty: Loyalty, max_threads: int) -> None:
        if isinstance(max_threads, bool) or not isinstance(max_threads, int) or max_threads < 1:
            raise InvalidAmount("max_threads", max_threads, "a positive int")
        self.loyalty = loyalty
        self.max_threads = max_threads
        # one limiter per facade: its commands share the bound, other code's threads do not
        self._limiter = anyio.CapacityLimiter(max_threads)

    @property
    def versions(self) -> ProgramVersions:
        """The programme's effective-dated versions (no I/O, so not awaited)."""
        return self.loyalty.versions

    @property
    def tenant(self) -> str:
        """The programme (tenant) of the store this facade sees (no I/O, so not awaited)."""
        return self.loyalty.tenant

    @property
    def storage(self) -> Storage:
        """The storage underneath."""
        return self.loyalty.storage

    async def run(self, function: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Run any synchronous ``function(*args, **kwargs)`` in a worker thread under this
        facade's bound: for a ``loyalty.batch()`` block or a method added since."""
        return await anyio.to_thread.run_sync(
            functools.partial(function, *args, **kwargs), limiter=self._limiter
        )

    if not TYPE_CHECKING:  # hidden from mypy, so that a misspelt method is a type error

        def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
            # a facade method added since the list below (tests/unit/test_aio.py asks
            # for a typed line) still works at run time, untyped
            method = getattr(type(self.loyalty), name, None)
            if name.startswith("_") or name in NOT_AWAITABLE or not callable(method):
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

            async def call(*args: Any, **kwargs: Any) -> Any:
                return await self.run(method, self.loyalty, *args, **kwargs)

            return call

    async def close(self) -> None:
        """Release the storage's connections."""
        await self.run(self.loyalty.close)

    aclose = close  # the name contextlib.aclosing and anyio expect

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    # --- the facade's methods, awaitable (one line each, in the facade's order) -----
    enroll = _awaitable(Loyalty.enroll)
    customer = _awaitable(Loyalty.customer)
    update_profile = _awaitable(Loyalty.update_profile)
    suspend = _awaitable(Loyalty.suspend)
    reactivate = _awaitable(Loyalty.reactivate)
    close_account = _awaitable(Loyalty.close_account)
    erase = _awaitable(Loyalty.erase)
    link_referrer = _awaitable(Loyalty.link_referrer)
    referral_leaderboard = _awaitable(Loyalty.referral_leaderboard)
    referrals_of = _awaitable(Loyalty.referrals_of)
    earn = _awaitable(Loyalty.earn)
    redeem_points = _awaitable(Loyalty.redeem_points)
    adjust = _awaitable(Loyalty.adjust)
    transfer = _awaitable(Loyalty.transfer)
    reverse = _awaitable(Loyalty.reverse)
    record_purchase = _awaitable(Loyalty.record_purchase)
    record_event = _awaitable(Loyalty.record_event)
    quote = _awaitable(Loyalty.quote)
    refund = _awaitable(Loyalty.refund)
    requalify_tiers = _awaitable(Loyalty.requalify_tiers)
    tier = _awaitable(Loyalty.tier)
    forecast = _awaitable(Loyalty.forecast)
    grant_tier = _awaitable(Loyalty.grant_tier)
    set_metric = _awaitable(Loyalty.set_metric)
    rank_relative_tiers = _awaitable(Loyalty.rank_relative_tiers)
    redeem = _awaitable(Loyalty.redeem)
    grant_reward = _awaitable(Loyalty.grant_reward)
    pay_with_points = _awaitable(Loyalty.pay_with_points)
    fulfil_redemption = _awaitable(Loyalty.fulfil_redemption)
    cancel_redemption = _awaitable(Loyalty.cancel_redemption)
    use_voucher = _awaitable(Loyalty.use_voucher)
    checkout = _awaitable(Loyalty.checkout)
    refund_order = _awaitable(Loyalty.refund_order)
    buy_points = _awaitable(Loyalty.buy_points)
    refund_bought_points = _awaitable(Loyalty.refund_bought_points)
    award_partner_points = _awaitable(Loyalty.award_partner_points)
    partner_settlement = _awaitable(Loyalty.partner_settlement)
    partner_progress = _awaitable(Loyalty.partner_progress)
    partner_evaluation = _awaitable(Loyalty.partner_evaluation)
    release_unclaimed = _awaitable(Loyalty.release_unclaimed)
    validate_voucher = _awaitable(Loyalty.validate_voucher)
    redemption = _awaitable(Loyalty.redemption)
    redemptions = _awaitable(Loyalty.redemptions)
    vouchers = _awaitable(Loyalty.vouchers)
    stock_left = _awaitable(Loyalty.stock_left)
    offers = _awaitable(Loyalty.offers)
    redemption_summary = _awaitable(Loyalty.redemption_summary)
    campaign = _awaitable(Loyalty.campaign)
    campaign_budget = _awaitable(Loyalty.campaign_budget)
    participants = _awaitable(Loyalty.participants)
    draw_entries = _awaitable(Loyalty.draw_entries)
    draw = _awaitable(Loyalty.draw)
    draws = _awaitable(Loyalty.draws)
    campaign_report = _awaitable(Loyalty.campaign_report)
    run_care = _awaitable(Loyalty.run_care)
    care_actions = _awaitable(Loyalty.care_actions)
    complete_care = _awaitable(Loyalty.complete_care)
    record_care_call = _awaitable(Loyalty.record_care_call)
    care_action = _awaitable(Loyalty.care_action)
    care_history = _awaitable(Loyalty.care_history)
    sample_care_calls = _awaitable(Loyalty.sample_care_calls)
    check_care_call = _awaitable(Loyalty.check_care_call)
    care_sample = _awaitable(Loyalty.care_sample)
    complaint_policy = _awaitable(Loyalty.complaint_policy)
    file_complaint = _awaitable(Loyalty.file_complaint)
    acknowledge_complaint = _awaitable(Loyalty.acknowledge_complaint)
    assess_complaint = _awaitable(Loyalty.assess_complaint)
    investigate_complaint = _awaitable(Loyalty.investigate_complaint)
    propose_resolution = _awaitable(Loyalty.propose_resolution)
    submit_for_review = _awaitable(Loyalty.submit_for_review)
    approve_resolution = _awaitable(Loyalty.approve_resolution)
    reject_resolution = _awaitable(Loyalty.reject_resolution)
    respond_to_complaint = _awaitable(Loyalty.respond_to_complaint)
    reinvestigate_complaint = _awaitable(Loyalty.reinvestigate_complaint)
    close_complaint = _awaitable(Loyalty.close_complaint)
    request_customer_info = _awaitable(Loyalty.request_customer_info)
    customer_replied = _awaitable(Loyalty.customer_replied)
    escalate_complaint = _awaitable(Loyalty.escalate_complaint)
    resume_complaint = _awaitable(Loyalty.resume_complaint)
    reopen_complaint = _awaitable(Loyalty.reopen_complaint)
    withdraw_complaint = _awaitable(Loyalty.withdraw_complaint)
    complaint = _awaitable(Loyalty.complaint)
    complaints_of = _awaitable(Loyalty.complaints_of)
    all_complaints = _awaitable(Loyalty.all_complaints)
    complaint_report = _awaitable(Loyalty.complaint_report)
    complaints_at_risk = _awaitable(Loyalty.complaints_at_risk)
    escalate_overdue_complaints = _awaitable(Loyalty.escalate_overdue_complaints)
    publish_survey = _awaitable(Loyalty.publish_survey)
    survey = _awaitable(Loyalty.survey)
    submit_survey_response = _awaitable(Loyalty.submit_survey_response)
    survey_responses = _awaitable(Loyalty.survey_responses)
    survey_scores = _awaitable(Loyalty.survey_scores)
    question_scores = _awaitable(Loyalty.question_scores)
    satisfaction_drivers = _awaitable(Loyalty.satisfaction_drivers)
    set_survey_trigger = _awaitable(Loyalty.set_survey_trigger)
    invite_to_surveys = _awaitable(Loyalty.invite_to_surveys)
    survey_invitations = _awaitable(Loyalty.survey_invitations)
    answer_survey_invitation = _awaitable(Loyalty.answer_survey_invitation)
    take_inquiry = _awaitable(Loyalty.take_inquiry)
    answer_inquiry = _awaitable(Loyalty.answer_inquiry)
    inquiry = _awaitable(Loyalty.inquiry)
    inquiries = _awaitable(Loyalty.inquiries)
    intake_counts = _awaitable(Loyalty.intake_counts)
    create_club = _awaitable(Loyalty.create_club)
    join_club = _awaitable(Loyalty.join_club)
    leave_club = _awaitable(Loyalty.leave_club)
    club_members = _awaitable(Loyalty.club_members)
    create_member_event = _awaitable(Loyalty.create_member_event)
    event_roster = _awaitable(Loyalty.event_roster)
    book_event = _awaitable(Loyalty.book_event)
    cancel_booking = _awaitable(Loyalty.cancel_booking)
    check_in = _awaitable(Loyalty.check_in)
    balance = _awaitable(Loyalty.balance)
    statement = _awaitable(Loyalty.statement)
    segments = _awaitable(Loyalty.segments)
    churn_warnings = _awaitable(Loyalty.churn_warnings)
    points_liability = _awaitable(Loyalty.points_liability)
    pending_events = _awaitable(Loyalty.pending_events)
    mark_published = _awaitable(Loyalty.mark_published)
    relay = _awaitable(Loyalty.relay)
    run_due = _awaitable(Loyalty.run_due)
    expire_due = _awaitable(Loyalty.expire_due)
    release_pending = _awaitable(Loyalty.release_pending)
    # notices (issue 17)
    notices = _awaitable(Loyalty.notices)
    deliver_notices = _awaitable(Loyalty.deliver_notices)
    remind_expiring_points = _awaitable(Loyalty.remind_expiring_points)
    remind_tiers_at_risk = _awaitable(Loyalty.remind_tiers_at_risk)
    # consent and care messages (issue 17)
    opt_in = _awaitable(Loyalty.opt_in)
    opt_out = _awaitable(Loyalty.opt_out)
    unsubscribe = _awaitable(Loyalty.unsubscribe)
    consents = _awaitable(Loyalty.consents)
    send_care_message = _awaitable(Loyalty.send_care_message)
    export_member = _awaitable(Loyalty.export_member)
    flags = _awaitable(Loyalty.flags)
    request_adjustment = _awaitable(Loyalty.request_adjustment)
    approve_adjustment = _awaitable(Loyalty.approve_adjustment)
    reject_adjustment = _awaitable(Loyalty.reject_adjustment)
    adjustment_requests = _awaitable(Loyalty.adjustment_requests)
    pending_adjustment_requests = _awaitable(Loyalty.pending_adjustment_requests)
    create_household = _awaitable(Loyalty.create_household)
    join_household = _awaitable(Loyalty.join_household)
    pool_points = _awaitable(Loyalty.pool_points)
    redeem_household_points = _awaitable(Loyalty.redeem_household_points)
    leave_household = _awaitable(Loyalty.leave_household)
    household = _awaitable(Loyalty.household)

    # stored value: gift cards and e-wallets
    issue_stored_value = _awaitable(Loyalty.issue_stored_value)
    top_up = _awaitable(Loyalty.top_up)
    pay_with_stored_value = _awaitable(Loyalty.pay_with_stored_value)
    refund_to_stored_value = _awaitable(Loyalty.refund_to_stored_value)
    expire_stored_value = _awaitable(Loyalty.expire_stored_value)
    stored_value = _awaitable(Loyalty.stored_value)
    stored_value_balance = _awaitable(Loyalty.stored_value_balance)
    stored_value_entries = _awaitable(Loyalty.stored_value_entries)
    stored_value_of = _awaitable(Loyalty.stored_value_of)

    # member cards
    issue_card = _awaitable(Loyalty.issue_card)
    block_card = _awaitable(Loyalty.block_card)
    replace_card = _awaitable(Loyalty.replace_card)
    card = _awaitable(Loyalty.card)
    member_by_card = _awaitable(Loyalty.member_by_card)
    cards_of = _awaitable(Loyalty.cards_of)
