"""loyaltykit: an embeddable customer loyalty engine.

Customers and their profiles, a points ledger with lots, expiry, pending points and
refunds, pluggable storage, and the :class:`Loyalty` facade other applications call.
Everything importable from here is the public API; everything else may change.
"""

from loyaltykit import errors
from loyaltykit.analytics.churn import ChurnPolicy, ChurnWarning
from loyaltykit.analytics.liability import PointsLiability
from loyaltykit.analytics.segments import RfmScore, Segmentation, SegmentPolicy, ValueClass
from loyaltykit.bootstrap import Loyalty
from loyaltykit.domain.activity import CustomEvent, Item, Purchase
from loyaltykit.domain.calendar import BusinessCalendar
from loyaltykit.domain.campaigns import (
    Bonus,
    Budget,
    DrawEntries,
    MemberLimit,
    Multiply,
    Participation,
    RewardGrant,
    Schedule,
    SpendBonus,
    TierCredits,
)
from loyaltykit.domain.care import CareAction, CareConfig, CareTrigger
from loyaltykit.domain.complaints import (
    Complaint,
    ComplaintPolicy,
    ComplaintState,
    ComplaintTaxonomy,
    GoodwillBudget,
    Priority,
    QcRule,
    Role,
    Severity,
    SlaPolicy,
    Target,
)
from loyaltykit.domain.customer import Customer, CustomerStatus, Profile
from loyaltykit.domain.draws import DrawEntry, DrawResult
from loyaltykit.domain.events import DomainEvent
from loyaltykit.domain.feedback import Question, Scores, Survey, SurveyResponse
from loyaltykit.domain.ledger import (
    Account,
    Command,
    Entry,
    EntryKind,
    Lot,
    LotChange,
    PointsLedger,
    Posting,
    RefundPolicy,
)
from loyaltykit.domain.redemptions import (
    Redemption,
    RedemptionState,
    RedemptionSummary,
    Voucher,
    VoucherCheck,
    VoucherStatus,
)
from loyaltykit.domain.rewards import (
    CashOffset,
    Eligibility,
    Offer,
    Price,
    RedemptionLimit,
    Reward,
    RewardCatalog,
    RewardKind,
    VoucherTerms,
)
from loyaltykit.domain.tiers import Override, Requirement, Tier, TierChange, TierLadder, TierStatus
from loyaltykit.domain.windows import Window
from loyaltykit.outcomes import (
    Balance,
    DueReport,
    Receipt,
    SettlementReport,
    Statement,
    StatementLine,
    TierView,
)
from loyaltykit.policy.campaigns import Audience, Campaign
from loyaltykit.policy.engine import CustomerState, Decision, PolicyEngine
from loyaltykit.policy.program import PointType, Program, ProgramVersion, ProgramVersions
from loyaltykit.storage.base import Capabilities, Storage, UnitOfWork
from loyaltykit.storage.memory import MemoryStorage
from loyaltykit.storage.registry import open_storage
from loyaltykit.values import Money, Points, points_for

__all__ = [
    "Account",
    "Audience",
    "Balance",
    "Bonus",
    "Budget",
    "BusinessCalendar",
    "Campaign",
    "Capabilities",
    "CareAction",
    "CareConfig",
    "CareTrigger",
    "CashOffset",
    "ChurnPolicy",
    "ChurnWarning",
    "Command",
    "Complaint",
    "ComplaintPolicy",
    "ComplaintState",
    "ComplaintTaxonomy",
    "CustomEvent",
    "Customer",
    "CustomerState",
    "CustomerStatus",
    "Decision",
    "DomainEvent",
    "DrawEntries",
    "DrawEntry",
    "DrawResult",
    "DueReport",
    "Eligibility",
    "Entry",
    "EntryKind",
    "GoodwillBudget",
    "Item",
    "Lot",
    "LotChange",
    "Loyalty",
    "MemberLimit",
    "MemoryStorage",
    "Money",
    "Multiply",
    "Offer",
    "Override",
    "Participation",
    "PointType",
    "Points",
    "PointsLedger",
    "PointsLiability",
    "PolicyEngine",
    "Posting",
    "Price",
    "Priority",
    "Profile",
    "Program",
    "ProgramVersion",
    "ProgramVersions",
    "Purchase",
    "QcRule",
    "Question",
    "Receipt",
    "Redemption",
    "RedemptionLimit",
    "RedemptionState",
    "RedemptionSummary",
    "RefundPolicy",
    "Requirement",
    "Reward",
    "RewardCatalog",
    "RewardGrant",
    "RewardKind",
    "RfmScore",
    "Role",
    "Schedule",
    "Scores",
    "SegmentPolicy",
    "Segmentation",
    "SettlementReport",
    "Severity",
    "SlaPolicy",
    "SpendBonus",
    "Statement",
    "StatementLine",
    "Storage",
    "Survey",
    "SurveyResponse",
    "Target",
    "Tier",
    "TierChange",
    "TierCredits",
    "TierLadder",
    "TierStatus",
    "TierView",
    "UnitOfWork",
    "ValueClass",
    "Voucher",
    "VoucherCheck",
    "VoucherStatus",
    "VoucherTerms",
    "Window",
    "errors",
    "open_storage",
    "points_for",
]


def _installed_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("loyaltykit")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"


__version__ = _installed_version()
