"""One exception hierarchy for everything loyaltykit refuses.

Every error is a :class:`LoyaltyError`; the branches say what kind of problem it is
(bad input, something missing, a conflict, a rule that forbids the command, a storage
failure). Every message names the offending value, so a log line is enough to act on.
A command that raises has changed nothing.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AccountNotActive",
    "ComplaintAlreadyExists",
    "ConcurrencyConflict",
    "CurrencyMismatch",
    "CustomerAlreadyExists",
    "GoodwillBudgetExceeded",
    "IdempotencyConflict",
    "IllegalTransition",
    "InsufficientPoints",
    "InvalidAmount",
    "InvalidArgument",
    "InvalidCurrency",
    "InvalidIdentifier",
    "LimitReached",
    "LoyaltyError",
    "NaiveDatetime",
    "NotEligible",
    "NotFound",
    "NotReversible",
    "OffsetRefused",
    "OutOfStock",
    "OverReversal",
    "RedemptionClosed",
    "ReferralRefused",
    "RewardUnavailable",
    "RuleViolation",
    "SchemaNotReady",
    "StorageDataError",
    "StorageError",
    "StorageIntegrityError",
    "StorageUnavailable",
    "UnknownCampaign",
    "UnknownComplaint",
    "UnknownCustomer",
    "UnknownEntry",
    "UnknownPointType",
    "UnknownRedemption",
    "UnknownReward",
    "UnknownStorage",
    "VoucherNotValid",
]


class LoyaltyError(Exception):
    """The root of every error loyaltykit raises on purpose."""


# --- bad input -------------------------------------------------------------------------


class InvalidArgument(LoyaltyError, ValueError):
    """An argument is malformed or out of range; the message names it and its value."""


class InvalidAmount(InvalidArgument):
    """A points or money amount is not acceptable (zero, negative, a float, a bool...)."""

    def __init__(self, what: str, value: Any, expected: str) -> None:
        super().__init__(f"{what}: {value!r} is not valid, expected {expected}")
        self.what = what
        self.value = value


class NaiveDatetime(InvalidArgument):
    """A datetime without a time zone was passed where an instant is needed."""

    def __init__(self, what: str, value: Any) -> None:
        shown = value.isoformat() if hasattr(value, "isoformat") else repr(value)
        super().__init__(
            f"{what}: {shown} has no time zone; pass an aware datetime "
            "(for example datetime(2026, 5, 1, tzinfo=ZoneInfo('Asia/Shanghai')))"
        )
        self.what = what
        self.value = value


class InvalidCurrency(InvalidArgument):
    """A currency code is not a three-letter ISO 4217 code."""

    def __init__(self, value: Any) -> None:
        super().__init__(f"currency {value!r} is not an ISO 4217 code like 'CNY' or 'EUR'")
        self.value = value


class CurrencyMismatch(InvalidArgument):
    """Arithmetic or comparison between two different currencies."""

    def __init__(self, left: str, right: str) -> None:
        super().__init__(f"cannot combine {left} with {right}: currencies differ")
        self.left = left
        self.right = right


class InvalidIdentifier(InvalidArgument):
    """An identifier (customer id, idempotency key, point type code) is malformed."""

    def __init__(self, what: str, value: Any, expected: str) -> None:
        super().__init__(f"{what}: {value!r} is not valid, expected {expected}")
        self.what = what
        self.value = value


# --- something is missing ---------------------------------------------------------------


class NotFound(LoyaltyError, LookupError):
    """Something the command refers to does not exist."""


class UnknownCustomer(NotFound):
    """No customer has this id."""

    def __init__(self, customer_id: str) -> None:
        super().__init__(f"no customer with id {customer_id!r}")
        self.customer_id = customer_id


class UnknownPointType(NotFound):
    """The program declares no point type with this code."""

    def __init__(self, code: str, known: tuple[str, ...]) -> None:
        super().__init__(f"point type {code!r} is not declared; the program has {list(known)}")
        self.code = code


class UnknownEntry(NotFound):
    """No ledger entry matches: an entry id, or an earlier command's idempotency key."""

    def __init__(self, customer_id: str, reference: str) -> None:
        super().__init__(f"customer {customer_id!r} has no ledger entries for {reference!r}")
        self.customer_id = customer_id
        self.reference = reference


class UnknownStorage(NotFound):
    """No storage backend is registered for a URL's scheme."""

    def __init__(self, url: str, scheme: str, known: tuple[str, ...]) -> None:
        super().__init__(
            f"no storage backend for scheme {scheme!r} in {url!r}; registered: {list(known)}"
        )
        self.url = url
        self.scheme = scheme


# --- conflicts ----------------------------------------------------------------------


class IdempotencyConflict(LoyaltyError):
    """An idempotency key was reused with different arguments."""

    def __init__(
        self, key: str, command: str, first_command: str, *, differs: tuple[str, ...] = ()
    ) -> None:
        if first_command != command:
            what = f"was first used for {first_command}; this call is {command}"
        elif differs:
            what = f"was first used for {command} with another {', '.join(differs)}"
        else:
            what = f"was first used for {command} with other arguments"
        super().__init__(f"idempotency key {key!r} {what}. Use a new key for a new command")
        self.key = key
        self.command = command
        self.first_command = first_command
        self.differs = differs


class CustomerAlreadyExists(LoyaltyError):
    """Enrolling a customer id that is already enrolled (under another key)."""

    def __init__(self, customer_id: str) -> None:
        super().__init__(f"customer {customer_id!r} is already enrolled")
        self.customer_id = customer_id


# --- the rules forbid it --------------------------------------------------------------


class RuleViolation(LoyaltyError):
    """The command is well formed but the current state forbids it."""


class InsufficientPoints(RuleViolation):
    """A debit asks for more points than are available."""

    def __init__(self, customer_id: str, point_type: str, requested: int, available: int) -> None:
        super().__init__(
            f"customer {customer_id!r} has {available} {point_type} available, "
            f"{requested} were requested"
        )
        self.customer_id = customer_id
        self.point_type = point_type
        self.requested = requested
        self.available = available


class AccountNotActive(RuleViolation):
    """The customer's status (suspended, closed) forbids this command."""

    def __init__(self, customer_id: str, status: str, command: str) -> None:
        super().__init__(f"customer {customer_id!r} is {status}: {command} is not allowed")
        self.customer_id = customer_id
        self.status = status
        self.command = command


class NotReversible(RuleViolation):
    """The entries a reversal points at cannot be reversed (expiry, a reversal...)."""


class OverReversal(RuleViolation):
    """A reversal would undo more than the original command did."""


class IllegalTransition(RuleViolation):
    """A complaint cannot take this transition now (wrong state, role or guard)."""

    def __init__(self, complaint_id: str, state: str, transition: str, reason: str) -> None:
        super().__init__(
            f"complaint {complaint_id!r} is {state}: {transition} is not allowed ({reason})"
        )
        self.complaint_id = complaint_id
        self.state = state
        self.transition = transition


class GoodwillBudgetExceeded(RuleViolation):
    """Granting goodwill would pass the goodwill budget of the period."""

    def __init__(self, counter: str, requested: int, limit: int, spent: int) -> None:
        super().__init__(
            f"goodwill budget {counter!r}: {requested} points requested, "
            f"{limit - spent} of {limit} left"
        )
        self.counter = counter
        self.requested = requested


class UnknownComplaint(NotFound):
    """No complaint has this id."""

    def __init__(self, complaint_id: str) -> None:
        super().__init__(f"no complaint with id {complaint_id!r}")
        self.complaint_id = complaint_id


class ComplaintAlreadyExists(LoyaltyError):
    """Filing a complaint id that is already filed (under another key)."""

    def __init__(self, complaint_id: str) -> None:
        super().__init__(f"complaint {complaint_id!r} is already filed")
        self.complaint_id = complaint_id


# --- rewards and redemptions (the reward catalogue) ------------------------------


class UnknownReward(NotFound):
    """The catalogue never held a reward with this id."""

    def __init__(self, reward_id: str) -> None:
        super().__init__(f"no reward with id {reward_id!r} in the catalogue")
        self.reward_id = reward_id


class UnknownRedemption(NotFound):
    """The customer has no redemption with this id."""

    def __init__(self, customer_id: str, redemption_id: str) -> None:
        super().__init__(f"customer {customer_id!r} has no redemption {redemption_id!r}")
        self.customer_id = customer_id
        self.redemption_id = redemption_id


class RewardUnavailable(RuleViolation):
    """The reward cannot be redeemed now: not yet offered or open, ended, withdrawn."""

    def __init__(self, reward_id: str, reason: str) -> None:
        super().__init__(f"reward {reward_id!r} {reason}")
        self.reward_id = reward_id
        self.reason = reason


class NotEligible(RuleViolation):
    """The member does not meet the reward's eligibility (tier, tags, condition)."""

    def __init__(self, customer_id: str, reward_id: str, reason: str) -> None:
        super().__init__(f"customer {customer_id!r} may not redeem {reward_id!r}: {reason}")
        self.customer_id = customer_id
        self.reward_id = reward_id
        self.reason = reason


class LimitReached(RuleViolation):
    """A per-member or global limit of the reward for the period is used up."""

    def __init__(
        self, reward_id: str, scope: str, count: int, period: str, taken: int, requested: int
    ) -> None:
        super().__init__(
            f"reward {reward_id!r}: the {scope} limit of {count} per {period} is reached "
            f"({taken} taken, {requested} requested)"
        )
        self.reward_id = reward_id
        self.scope = scope
        self.count = count
        self.period = period


class OutOfStock(RuleViolation):
    """Fewer units are left than were requested."""

    def __init__(self, reward_id: str, requested: int, left: int) -> None:
        super().__init__(f"reward {reward_id!r}: {requested} requested, {left} left in stock")
        self.reward_id = reward_id
        self.requested = requested
        self.left = left


class OffsetRefused(RuleViolation):
    """Points cannot pay this much of the bill (more than the bill or the allowed share)."""


class RedemptionClosed(RuleViolation):
    """The redemption's state forbids the command (fulfilling a cancelled one...)."""

    def __init__(self, redemption_id: str, state: str, command: str) -> None:
        super().__init__(f"redemption {redemption_id!r} is {state}: cannot {command}")
        self.redemption_id = redemption_id
        self.state = state


class VoucherNotValid(RuleViolation):
    """A voucher code cannot be used; ``status`` says why (unknown, expired, used...)."""

    def __init__(self, code: str, status: str) -> None:
        super().__init__(f"voucher {code!r} is not valid: {status}")
        self.code = code
        self.status = status


# --- storage -------------------------------------------------------------------------


class StorageError(LoyaltyError):
    """A backend failed; drivers' exceptions are translated into this branch."""


class StorageUnavailable(StorageError):
    """The backend cannot be reached or an optional dependency is missing."""


class ConcurrencyConflict(StorageError):
    """Another writer won a race (a serialization failure, a deadlock, a lock timeout, or
    the same new row inserted first); the command was rolled back and may be retried."""


class StorageIntegrityError(StorageError):
    """The database refused a row as inconsistent (a missing value, a broken reference):
    a bug in the caller or a backend, never a race, so it is not retried (PEP 249's
    ``IntegrityError``)."""


class StorageDataError(StorageError):
    """The database refused a value it cannot hold (too long, out of range: PEP 249's
    ``DataError``)."""


class UnknownCampaign(NotFound):
    """The program declares no campaign with this id."""

    def __init__(self, campaign_id: str, known: tuple[str, ...]) -> None:
        super().__init__(f"no campaign {campaign_id!r}; the program has {list(known)}")
        self.campaign_id = campaign_id


class ReferralRefused(RuleViolation):
    """A referral link that may not be made: ``reason`` is ``self`` (the same person),
    ``cycle`` (the referrer was referred, directly or not, by the new member),
    ``already_referred`` or ``too_late`` (a link made after the first purchase)."""

    def __init__(self, customer_id: str, referrer: str, reason: str, detail: str) -> None:
        super().__init__(f"customer {customer_id!r} cannot be referred by {referrer!r}: {detail}")
        self.customer_id = customer_id
        self.referrer = referrer
        self.reason = reason


class SchemaNotReady(StorageError):
    """A database's schema is missing or older than this version of loyaltykit needs.

    Nothing was changed: migrating is an explicit step. ``command`` is the one to run.
    """

    def __init__(self, url: str, current: str | None, required: str, command: str) -> None:
        state = "has no loyaltykit schema" if current is None else f"is at revision {current}"
        super().__init__(
            f"database {url} {state}; this loyaltykit needs revision {required}: run {command}"
        )
        self.url = url
        self.current = current
        self.required = required
        self.command = command
