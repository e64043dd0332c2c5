"""loyaltykit: an embeddable customer loyalty engine.

Customers and their profiles, a points ledger with lots, expiry, pending points and
refunds, pluggable storage, and the :class:`Loyalty` facade other applications call.
Everything importable from here is the public API; everything else may change.

Names are imported on first use (PEP 562): ``import loyaltykit`` loads no area of the
library, so a service that embeds it pays only for what it uses (and never for
SQLAlchemy unless it opens a SQL store). Type checkers and IDEs read the imports under
``TYPE_CHECKING``.
"""

from __future__ import annotations

from importlib import import_module

# Not ``typing.TYPE_CHECKING``: importing typing would cost more than the rest of this
# module. Type checkers treat any name ``TYPE_CHECKING`` as true.
TYPE_CHECKING = False

# A public name is listed three times, kept equal by tests/unit/test_public_api.py: imported
# here for type checkers, in _EXPORTS for the lazy import, and in __all__.
__version__: str  # read from the installed package's metadata on first use

if TYPE_CHECKING:
    from loyaltykit import errors
    from loyaltykit.analytics.churn import ChurnPolicy, ChurnWarning
    from loyaltykit.analytics.liability import PointsLiability
    from loyaltykit.analytics.segments import RfmScore, Segmentation, SegmentPolicy, ValueClass
    from loyaltykit.bootstrap import Loyalty
    from loyaltykit.domain.activity import CustomEvent, Item, Purchase
    from loyaltykit.domain.approvals import (
        AdjustmentRequest,
        Approvals,
        ApprovalState,
    )
    from loyaltykit.domain.basket import MoneyOff, Scope
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
    from loyaltykit.domain.cards import BlockReason, CardFormat, CardStatus, MemberCard
    from loyaltykit.domain.care import (
        CareAction,
        CareAssignment,
        CareConfig,
        CareRoute,
        CareTrigger,
        Holiday,
    )
    from loyaltykit.domain.care_messages import (
        CareMessage,
        ContentRules,
    )
    from loyaltykit.domain.care_quality import CareSample, SampledCall
    from loyaltykit.domain.clubs import Club
    from loyaltykit.domain.complaints import (
        Authorizer,
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
    from loyaltykit.domain.consent import (
        Consent,
        ConsentState,
    )
    from loyaltykit.domain.customer import Customer, CustomerStatus, Profile
    from loyaltykit.domain.draws import DrawEntry, DrawResult
    from loyaltykit.domain.events import DomainEvent
    from loyaltykit.domain.exchange import ExchangeRate
    from loyaltykit.domain.feedback import Question, Scores, Survey, SurveyResponse
    from loyaltykit.domain.households import (
        Household,
    )
    from loyaltykit.domain.inquiries import Inquiry, IntakeCounts
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
    from loyaltykit.domain.member_events import EventRoster, MemberEvent
    from loyaltykit.domain.notices import (
        DeliveryReport,
        Milestones,
        Notice,
        NoticeRules,
        NoticeSender,
        NoticeStatus,
        ReminderLine,
        Reminders,
    )
    from loyaltykit.domain.partners import (
        GoalEvaluation,
        GoalMetric,
        GoalProgress,
        Partner,
        PartnerGoal,
        PartnerSettlement,
    )
    from loyaltykit.domain.points_sale import PointsSale
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
    from loyaltykit.domain.satisfaction import Driver, QuestionScore
    from loyaltykit.domain.shards import Shard
    from loyaltykit.domain.stored_value import (
        Funding,
        StoredValueAccount,
        StoredValueBalance,
        StoredValueEntry,
        StoredValueEntryKind,
        StoredValueKind,
        StoredValueReceipt,
        StoredValueStatus,
    )
    from loyaltykit.domain.survey_invitations import SurveyInvitation, SurveyTrigger
    from loyaltykit.domain.tiers import (
        Override,
        Requirement,
        Tier,
        TierChange,
        TierLadder,
        TierStatus,
    )
    from loyaltykit.domain.windows import Window
    from loyaltykit.formats.exchange_rates import ExchangeRates
    from loyaltykit.formats.programs import Program
    from loyaltykit.outcomes import (
        Balance,
        DueReport,
        JobFailure,
        Receipt,
        SettlementReport,
        Statement,
        StatementLine,
        TierView,
    )
    from loyaltykit.policy.campaigns import Audience, Campaign
    from loyaltykit.policy.engine import CustomerState, Decision, PolicyEngine
    from loyaltykit.policy.funding import BudgetState
    from loyaltykit.policy.pricing import PricedBasket, PricedLine
    from loyaltykit.policy.program import PointType, ProgramVersion, ProgramVersions
    from loyaltykit.policy.rating import (
        RatingExclusions,
    )
    from loyaltykit.policy.velocity import (
        Flag,
        Velocity,
        VelocityRule,
    )
    from loyaltykit.service.checkout import Order
    from loyaltykit.service.stored_value import StoredValueExpiry
    from loyaltykit.storage.base import Capabilities, Storage, Tenancy, UnitOfWork, tenant_storage
    from loyaltykit.storage.memory import MemoryStorage
    from loyaltykit.storage.registry import open_storage
    from loyaltykit.values import DEFAULT_TENANT, Money, Points, points_for, tenant_key

# Every public name and the module it is imported from: one name per line, sorted.
_EXPORTS: dict[str, str] = {
    "Account": "loyaltykit.domain.ledger",
    "AdjustmentRequest": "loyaltykit.domain.approvals",
    "ApprovalState": "loyaltykit.domain.approvals",
    "Approvals": "loyaltykit.domain.approvals",
    "Audience": "loyaltykit.policy.campaigns",
    "Authorizer": "loyaltykit.domain.complaints",
    "Balance": "loyaltykit.outcomes",
    "BlockReason": "loyaltykit.domain.cards",
    "Bonus": "loyaltykit.domain.campaigns",
    "Budget": "loyaltykit.domain.campaigns",
    "BudgetState": "loyaltykit.policy.funding",
    "BusinessCalendar": "loyaltykit.domain.calendar",
    "Campaign": "loyaltykit.policy.campaigns",
    "Capabilities": "loyaltykit.storage.base",
    "CardFormat": "loyaltykit.domain.cards",
    "CardStatus": "loyaltykit.domain.cards",
    "CareAction": "loyaltykit.domain.care",
    "CareAssignment": "loyaltykit.domain.care",
    "CareConfig": "loyaltykit.domain.care",
    "CareMessage": "loyaltykit.domain.care_messages",
    "CareRoute": "loyaltykit.domain.care",
    "CareSample": "loyaltykit.domain.care_quality",
    "CareTrigger": "loyaltykit.domain.care",
    "CashOffset": "loyaltykit.domain.rewards",
    "ChurnPolicy": "loyaltykit.analytics.churn",
    "ChurnWarning": "loyaltykit.analytics.churn",
    "Club": "loyaltykit.domain.clubs",
    "Command": "loyaltykit.domain.ledger",
    "Complaint": "loyaltykit.domain.complaints",
    "ComplaintPolicy": "loyaltykit.domain.complaints",
    "ComplaintState": "loyaltykit.domain.complaints",
    "ComplaintTaxonomy": "loyaltykit.domain.complaints",
    "Consent": "loyaltykit.domain.consent",
    "ConsentState": "loyaltykit.domain.consent",
    "ContentRules": "loyaltykit.domain.care_messages",
    "CustomEvent": "loyaltykit.domain.activity",
    "Customer": "loyaltykit.domain.customer",
    "CustomerState": "loyaltykit.policy.engine",
    "CustomerStatus": "loyaltykit.domain.customer",
    "DEFAULT_TENANT": "loyaltykit.values",
    "Decision": "loyaltykit.policy.engine",
    "DeliveryReport": "loyaltykit.domain.notices",
    "DomainEvent": "loyaltykit.domain.events",
    "DrawEntries": "loyaltykit.domain.campaigns",
    "DrawEntry": "loyaltykit.domain.draws",
    "DrawResult": "loyaltykit.domain.draws",
    "Driver": "loyaltykit.domain.satisfaction",
    "DueReport": "loyaltykit.outcomes",
    "Eligibility": "loyaltykit.domain.rewards",
    "Entry": "loyaltykit.domain.ledger",
    "EntryKind": "loyaltykit.domain.ledger",
    "EventRoster": "loyaltykit.domain.member_events",
    "ExchangeRate": "loyaltykit.domain.exchange",
    "ExchangeRates": "loyaltykit.formats.exchange_rates",
    "Flag": "loyaltykit.policy.velocity",
    "Funding": "loyaltykit.domain.stored_value",
    "GoalEvaluation": "loyaltykit.domain.partners",
    "GoalMetric": "loyaltykit.domain.partners",
    "GoalProgress": "loyaltykit.domain.partners",
    "GoodwillBudget": "loyaltykit.domain.complaints",
    "Holiday": "loyaltykit.domain.care",
    "Household": "loyaltykit.domain.households",
    "Inquiry": "loyaltykit.domain.inquiries",
    "IntakeCounts": "loyaltykit.domain.inquiries",
    "Item": "loyaltykit.domain.activity",
    "JobFailure": "loyaltykit.outcomes",
    "Lot": "loyaltykit.domain.ledger",
    "LotChange": "loyaltykit.domain.ledger",
    "Loyalty": "loyaltykit.bootstrap",
    "MemberCard": "loyaltykit.domain.cards",
    "MemberEvent": "loyaltykit.domain.member_events",
    "MemberLimit": "loyaltykit.domain.campaigns",
    "MemoryStorage": "loyaltykit.storage.memory",
    "Milestones": "loyaltykit.domain.notices",
    "Money": "loyaltykit.values",
    "MoneyOff": "loyaltykit.domain.basket",
    "Multiply": "loyaltykit.domain.campaigns",
    "Notice": "loyaltykit.domain.notices",
    "NoticeRules": "loyaltykit.domain.notices",
    "NoticeSender": "loyaltykit.domain.notices",
    "NoticeStatus": "loyaltykit.domain.notices",
    "Offer": "loyaltykit.domain.rewards",
    "Order": "loyaltykit.service.checkout",
    "Override": "loyaltykit.domain.tiers",
    "Participation": "loyaltykit.domain.campaigns",
    "Partner": "loyaltykit.domain.partners",
    "PartnerGoal": "loyaltykit.domain.partners",
    "PartnerSettlement": "loyaltykit.domain.partners",
    "PointType": "loyaltykit.policy.program",
    "Points": "loyaltykit.values",
    "PointsLedger": "loyaltykit.domain.ledger",
    "PointsLiability": "loyaltykit.analytics.liability",
    "PointsSale": "loyaltykit.domain.points_sale",
    "PolicyEngine": "loyaltykit.policy.engine",
    "Posting": "loyaltykit.domain.ledger",
    "Price": "loyaltykit.domain.rewards",
    "PricedBasket": "loyaltykit.policy.pricing",
    "PricedLine": "loyaltykit.policy.pricing",
    "Priority": "loyaltykit.domain.complaints",
    "Profile": "loyaltykit.domain.customer",
    # from its loader, which installs itself as Program's format when imported
    "Program": "loyaltykit.formats.programs",
    "ProgramVersion": "loyaltykit.policy.program",
    "ProgramVersions": "loyaltykit.policy.program",
    "Purchase": "loyaltykit.domain.activity",
    "QcRule": "loyaltykit.domain.complaints",
    "Question": "loyaltykit.domain.feedback",
    "QuestionScore": "loyaltykit.domain.satisfaction",
    "RatingExclusions": "loyaltykit.policy.rating",
    "Receipt": "loyaltykit.outcomes",
    "Redemption": "loyaltykit.domain.redemptions",
    "RedemptionLimit": "loyaltykit.domain.rewards",
    "RedemptionState": "loyaltykit.domain.redemptions",
    "RedemptionSummary": "loyaltykit.domain.redemptions",
    "RefundPolicy": "loyaltykit.domain.ledger",
    "ReminderLine": "loyaltykit.domain.notices",
    "Reminders": "loyaltykit.domain.notices",
    "Requirement": "loyaltykit.domain.tiers",
    "Reward": "loyaltykit.domain.rewards",
    "RewardCatalog": "loyaltykit.domain.rewards",
    "RewardGrant": "loyaltykit.domain.campaigns",
    "RewardKind": "loyaltykit.domain.rewards",
    "RfmScore": "loyaltykit.analytics.segments",
    "Role": "loyaltykit.domain.complaints",
    "SampledCall": "loyaltykit.domain.care_quality",
    "Schedule": "loyaltykit.domain.campaigns",
    "Scope": "loyaltykit.domain.basket",
    "Scores": "loyaltykit.domain.feedback",
    "SegmentPolicy": "loyaltykit.analytics.segments",
    "Segmentation": "loyaltykit.analytics.segments",
    "SettlementReport": "loyaltykit.outcomes",
    "Severity": "loyaltykit.domain.complaints",
    "Shard": "loyaltykit.domain.shards",
    "SlaPolicy": "loyaltykit.domain.complaints",
    "SpendBonus": "loyaltykit.domain.campaigns",
    "Statement": "loyaltykit.outcomes",
    "StatementLine": "loyaltykit.outcomes",
    "Storage": "loyaltykit.storage.base",
    "StoredValueAccount": "loyaltykit.domain.stored_value",
    "StoredValueBalance": "loyaltykit.domain.stored_value",
    "StoredValueEntry": "loyaltykit.domain.stored_value",
    "StoredValueEntryKind": "loyaltykit.domain.stored_value",
    "StoredValueExpiry": "loyaltykit.service.stored_value",
    "StoredValueKind": "loyaltykit.domain.stored_value",
    "StoredValueReceipt": "loyaltykit.domain.stored_value",
    "StoredValueStatus": "loyaltykit.domain.stored_value",
    "Survey": "loyaltykit.domain.feedback",
    "SurveyInvitation": "loyaltykit.domain.survey_invitations",
    "SurveyResponse": "loyaltykit.domain.feedback",
    "SurveyTrigger": "loyaltykit.domain.survey_invitations",
    "Target": "loyaltykit.domain.complaints",
    "Tenancy": "loyaltykit.storage.base",
    "Tier": "loyaltykit.domain.tiers",
    "TierChange": "loyaltykit.domain.tiers",
    "TierCredits": "loyaltykit.domain.campaigns",
    "TierLadder": "loyaltykit.domain.tiers",
    "TierStatus": "loyaltykit.domain.tiers",
    "TierView": "loyaltykit.outcomes",
    "UnitOfWork": "loyaltykit.storage.base",
    "ValueClass": "loyaltykit.analytics.segments",
    "Velocity": "loyaltykit.policy.velocity",
    "VelocityRule": "loyaltykit.policy.velocity",
    "Voucher": "loyaltykit.domain.redemptions",
    "VoucherCheck": "loyaltykit.domain.redemptions",
    "VoucherStatus": "loyaltykit.domain.redemptions",
    "VoucherTerms": "loyaltykit.domain.rewards",
    "Window": "loyaltykit.domain.windows",
    "errors": "loyaltykit.errors",
    "open_storage": "loyaltykit.storage.registry",
    "points_for": "loyaltykit.values",
    "tenant_key": "loyaltykit.values",
    "tenant_storage": "loyaltykit.storage.base",
}

__all__ = [
    "DEFAULT_TENANT",
    "Account",
    "AdjustmentRequest",
    "ApprovalState",
    "Approvals",
    "Audience",
    "Authorizer",
    "Balance",
    "BlockReason",
    "Bonus",
    "Budget",
    "BudgetState",
    "BusinessCalendar",
    "Campaign",
    "Capabilities",
    "CardFormat",
    "CardStatus",
    "CareAction",
    "CareAssignment",
    "CareConfig",
    "CareMessage",
    "CareRoute",
    "CareSample",
    "CareTrigger",
    "CashOffset",
    "ChurnPolicy",
    "ChurnWarning",
    "Club",
    "Command",
    "Complaint",
    "ComplaintPolicy",
    "ComplaintState",
    "ComplaintTaxonomy",
    "Consent",
    "ConsentState",
    "ContentRules",
    "CustomEvent",
    "Customer",
    "CustomerState",
    "CustomerStatus",
    "Decision",
    "DeliveryReport",
    "DomainEvent",
    "DrawEntries",
    "DrawEntry",
    "DrawResult",
    "Driver",
    "DueReport",
    "Eligibility",
    "Entry",
    "EntryKind",
    "EventRoster",
    "ExchangeRate",
    "ExchangeRates",
    "Flag",
    "Funding",
    "GoalEvaluation",
    "GoalMetric",
    "GoalProgress",
    "GoodwillBudget",
    "Holiday",
    "Household",
    "Inquiry",
    "IntakeCounts",
    "Item",
    "JobFailure",
    "Lot",
    "LotChange",
    "Loyalty",
    "MemberCard",
    "MemberEvent",
    "MemberLimit",
    "MemoryStorage",
    "Milestones",
    "Money",
    "MoneyOff",
    "Multiply",
    "Notice",
    "NoticeRules",
    "NoticeSender",
    "NoticeStatus",
    "Offer",
    "Order",
    "Override",
    "Participation",
    "Partner",
    "PartnerGoal",
    "PartnerSettlement",
    "PointType",
    "Points",
    "PointsLedger",
    "PointsLiability",
    "PointsSale",
    "PolicyEngine",
    "Posting",
    "Price",
    "PricedBasket",
    "PricedLine",
    "Priority",
    "Profile",
    "Program",
    "ProgramVersion",
    "ProgramVersions",
    "Purchase",
    "QcRule",
    "Question",
    "QuestionScore",
    "RatingExclusions",
    "Receipt",
    "Redemption",
    "RedemptionLimit",
    "RedemptionState",
    "RedemptionSummary",
    "RefundPolicy",
    "ReminderLine",
    "Reminders",
    "Requirement",
    "Reward",
    "RewardCatalog",
    "RewardGrant",
    "RewardKind",
    "RfmScore",
    "Role",
    "SampledCall",
    "Schedule",
    "Scope",
    "Scores",
    "SegmentPolicy",
    "Segmentation",
    "SettlementReport",
    "Severity",
    "Shard",
    "SlaPolicy",
    "SpendBonus",
    "Statement",
    "StatementLine",
    "Storage",
    "StoredValueAccount",
    "StoredValueBalance",
    "StoredValueEntry",
    "StoredValueEntryKind",
    "StoredValueExpiry",
    "StoredValueKind",
    "StoredValueReceipt",
    "StoredValueStatus",
    "Survey",
    "SurveyInvitation",
    "SurveyResponse",
    "SurveyTrigger",
    "Target",
    "Tenancy",
    "Tier",
    "TierChange",
    "TierCredits",
    "TierLadder",
    "TierStatus",
    "TierView",
    "UnitOfWork",
    "ValueClass",
    "Velocity",
    "VelocityRule",
    "Voucher",
    "VoucherCheck",
    "VoucherStatus",
    "VoucherTerms",
    "Window",
    "errors",
    "open_storage",
    "points_for",
    "tenant_key",
    "tenant_storage",
]


# Hidden from type checkers: a visible module __getattr__ would make them accept any name
# (``loyaltykit.Typo``) instead of only the ones imported above.
if not TYPE_CHECKING:

    def __getattr__(name: str) -> object:
        """Import a public name on first use and keep it, so later lookups are plain."""
        if name == "__version__":  # from the installed package's metadata, when asked
            globals()[name] = _installed_version()
            return globals()[name]
        try:
            module_name = _EXPORTS[name]
        except KeyError:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
        module = import_module(module_name)
        # a submodule (``errors``) is exported as itself, every other name from its module
        value = module if module_name == f"{__name__}.{name}" else getattr(module, name)
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        """The public names too, before they are first used."""
        return sorted(set(globals()) | set(_EXPORTS))


def _installed_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("loyaltykit")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"
