"""loyaltykit: an embeddable customer loyalty engine.

Customers and their profiles, a points ledger with lots, expiry, pending points and
refunds, pluggable storage, and the :class:`Loyalty` facade other applications call.
Everything importable from here is the public API; everything else may change.
"""

from loyaltykit import errors
from loyaltykit.domain.customer import Customer, CustomerStatus, Profile
from loyaltykit.domain.ledger import Account, Entry, EntryKind, Lot, LotChange, RefundPolicy
from loyaltykit.outcomes import Balance, Receipt, SettlementReport, Statement, StatementLine
from loyaltykit.policy.program import PointType, Program
from loyaltykit.service import Loyalty
from loyaltykit.storage.base import Capabilities, Storage, UnitOfWork
from loyaltykit.storage.memory import MemoryStorage
from loyaltykit.storage.registry import open_storage
from loyaltykit.values import Money, Points, points_for

__all__ = [
    "Account",
    "Balance",
    "Capabilities",
    "Customer",
    "CustomerStatus",
    "Entry",
    "EntryKind",
    "Lot",
    "LotChange",
    "Loyalty",
    "MemoryStorage",
    "Money",
    "PointType",
    "Points",
    "Profile",
    "Program",
    "Receipt",
    "RefundPolicy",
    "SettlementReport",
    "Statement",
    "StatementLine",
    "Storage",
    "UnitOfWork",
    "errors",
    "open_storage",
    "points_for",
]

__version__ = "0.1.0"
