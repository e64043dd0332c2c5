"""The :class:`Loyalty` facade: one method per business command.

Each mutating command runs in one unit of work: lock the customer, check the
idempotency key, bring the account up to date (settle lots that fell due), ask the
domain, save the posting, record the outcome under the key, commit. A command that
raises changes nothing; replaying a key returns the first outcome and changes nothing.

The facade is assembled from one module per area: ``customers``, ``points`` (the
ledger), ``events`` (the policy engine), ``tiers``, ``batch`` and ``queries``, all on
the shared ``pipeline``.
"""

from __future__ import annotations

from loyaltykit.service.batch import BatchWork
from loyaltykit.service.campaigns import CampaignWork
from loyaltykit.service.customers import CustomerCommands
from loyaltykit.service.events import EventCommands
from loyaltykit.service.feedback import FeedbackCommands
from loyaltykit.service.insights import Insights
from loyaltykit.service.outbox import Outbox
from loyaltykit.service.queries import Queries
from loyaltykit.service.referrals import ReferralWork

__all__ = ["Loyalty"]


class Loyalty(
    CustomerCommands,
    FeedbackCommands,
    EventCommands,
    BatchWork,
    Queries,
    Insights,
    Outbox,
    CampaignWork,
    ReferralWork,
):
    """The loyalty programme as a service other applications call.

    >>> from datetime import datetime, timezone
    >>> loyalty = Loyalty()  # the default program, in memory
    >>> at = datetime(2026, 5, 1, 12, tzinfo=timezone.utc)
    >>> _ = loyalty.enroll("c-1", at=at, idempotency_key="enroll-c-1")
    >>> loyalty.earn("c-1", 120, at=at, idempotency_key="order-1").balance.available
    120

    ``storage`` is a :class:`~loyaltykit.storage.base.Storage`, a URL such as
    ``"memory://"`` or ``"sqlite:///loyalty.db"``, or ``None`` for a new in-memory store.
    """
