"""One exception hierarchy for everything loyaltykit refuses.

Every error is a :class:`LoyaltyError`; the branches say what kind of problem it is
(bad input, something missing, a conflict, a rule that forbids the command, a storage
failure). Every message names the offending value, so a log line is enough to act on.
A command that raises has changed nothing.
"""

from __future__ import annotations

import reprlib
from datetime import datetime
from typing import Any, ClassVar

__all__ = [
    "AccountNotActive",
    "ApprovalRefused",
    "ApprovalRequired",
    "CareSampleDrawn",
    "ComplaintAlreadyExists",
    "ComplaintFull",
    "ConcurrencyConflict",
    "ContentRuleBroken",
    "CurrencyMismatch",
    "CustomerAlreadyExists",
    "DiscountRefused",
    "EventRefused",
    "GoodwillBudgetExceeded",
    "HouseholdRefused",
    "IdempotencyConflict",
    "IllegalTransition",
    "InsufficientPoints",
    "InvalidAmount",
    "InvalidArgument",
    "InvalidCurrency",
    "InvalidIdentifier",
    "InvalidText",
    "InvitationClosed",
    "LimitReached",
    "LoyaltyError",
    "NaiveDatetime",
    "NoExchangeRate",
    "NoProgress",
    "NotAuthorized",
    "NotEligible",
    "NotFound",
    "NotReversible",
    "OffsetRefused",
    "OutOfOrder",
    "OutOfStock",
    "OverReversal",
    "ProgramError",
    "ReadOnlyViolation",
    "RedemptionClosed",
    "ReferralRefused",
    "RewardUnavailable",
    "RuleViolation",
    "SchemaNotReady",
    "StorageDataError",
    "StorageError",
    "StorageIntegrityError",
    "StorageUnavailable",
    "UnknownApproval",
    "UnknownCampaign",
    "UnknownComplaint",
    "UnknownCustomer",
    "UnknownEntry",
    "UnknownPointType",
    "UnknownRedemption",
    "UnknownReward",
    "UnknownStorage",
    "VelocityExceeded",
    "VoucherNotValid",
]


class LoyaltyError(Exception):
    """The root of every error loyaltykit raises on purpose.

    Every class carries a stable machine ``code`` (``"insufficient_points"``) that a
    web layer or a client can switch on, and ``http_status``, the status a service
    answering HTTP should use for it; docs/reference/errors.md lists them all.
    """

    code: ClassVar[str] = "loyalty_error"
    http_status: ClassVar[int] = 500

    def problem(self) -> dict[str, Any]:
        """The error as an RFC 9457 problem document: ``type`` is the ``code``,
        ``status`` the suggested HTTP status, ``detail`` the message, and the error's
        own attributes (``customer_id``, ``requested``...) as further members.

        >>> InsufficientPoints("c-1", "points", 500, 120).problem()["available"]
        120
        """
        document: dict[str, Any] = {
            "type": self.code,
            "title": type(self).__name__,
            "status": self.http_status,
            "detail": str(self),
        }
        for name, value in vars(self).items():
            # the attributes are named values; anything that is not JSON is shown as text
            if not name.startswith("_") and name not in document:
                plain = value is None or isinstance(value, str | int | float | bool)
                document[name] = value if plain else repr(value)
        return document


_SHORT = reprlib.Repr()
_SHORT.maxstring = 60
_SHORT.maxother = 60


def shown(value: Any) -> str:
    """``repr(value)`` for a message, shortened when long: a hostile value (a megabyte of
    text, a 5000-digit int, a list nested 10,000 deep) must not make the error itself fail
    or fill a log."""
    try:
        text = repr(value)
    except (ValueError, RecursionError):  # ints past sys.get_int_max_str_digits, deep nesting
        text = ""
    if text and len(text) <= 200:
        return text
    try:
        short = _SHORT.repr(value)
    except (ValueError, RecursionError):
        short = f"<{type(value).__name__}>"
    if isinstance(value, str | bytes | list | tuple | dict | set | frozenset):
        short += f" ({len(value)} long)"
    return short


# --- bad input -------------------------------------------------------------------------


class InvalidArgument(LoyaltyError, ValueError):
    """An argument is malformed or out of range; the message names it and its value."""

    code: ClassVar[str] = "invalid_argument"
    http_status: ClassVar[int] = 422


class InvalidAmount(InvalidArgument):
    """A points or money amount is not acceptable (zero, negative, a float, a bool...)."""

    code: ClassVar[str] = "invalid_amount"
    http_status: ClassVar[int] = 422

    def __init__(self, what: str, value: Any, expected: str) -> None:
        super().__init__(f"{what}: {shown(value)} is not valid, expected {expected}")
        self.what = what
        self.value = value


class NaiveDatetime(InvalidArgument):
    """A datetime without a time zone was passed where an instant is needed."""

    code: ClassVar[str] = "naive_datetime"
    http_status: ClassVar[int] = 422

    def __init__(self, what: str, value: Any) -> None:
        text = value.isoformat() if hasattr(value, "isoformat") else shown(value)
        super().__init__(
            f"{what}: {text} has no time zone; pass an aware datetime "
            "(for example datetime(2026, 5, 1, tzinfo=ZoneInfo('Asia/Shanghai')))"
        )
        self.what = what
        self.value = value


class InvalidCurrency(InvalidArgument):
    """A currency code is not a three-letter ISO 4217 code."""

    code: ClassVar[str] = "invalid_currency"
    http_status: ClassVar[int] = 422

    def __init__(self, value: Any) -> None:
        super().__init__(f"currency {shown(value)} is not an ISO 4217 code like 'CNY' or 'EUR'")
        self.value = value


class CurrencyMismatch(InvalidArgument):
    """Arithmetic or comparison between two different currencies."""

    code: ClassVar[str] = "currency_mismatch"
    http_status: ClassVar[int] = 422

    def __init__(self, left: str, right: str) -> None:
        super().__init__(f"cannot combine {left} with {right}: currencies differ")
        self.left = left
        self.right = right


class NoExchangeRate(InvalidArgument):
    """A purchase in a currency the programme does not earn in, and no rate to convert it
    in force at its instant (or no rate table at all)."""

    code: ClassVar[str] = "no_exchange_rate"

    def __init__(self, currency: str, to: str, at: datetime) -> None:
        super().__init__(
            f"a purchase in {currency}: no rate of {currency} in {to} in force at "
            f"{at.isoformat()} (give Loyalty(..., rates=ExchangeRates(...)))"
        )
        self.currency = currency
        self.to = to
        self.at = at


class InvalidIdentifier(InvalidArgument):
    """An identifier (customer id, idempotency key, point type code) is malformed."""

    code: ClassVar[str] = "invalid_identifier"
    http_status: ClassVar[int] = 422

    def __init__(self, what: str, value: Any, expected: str) -> None:
        super().__init__(f"{what}: {shown(value)} is not valid, expected {expected}")
        self.what = what
        self.value = value


# --- something is missing ---------------------------------------------------------------


class NotFound(LoyaltyError, LookupError):
    """Something the command refers to does not exist."""

    code: ClassVar[str] = "not_found"
    http_status: ClassVar[int] = 404


class UnknownCustomer(NotFound):
    """No customer has this id."""

    code: ClassVar[str] = "unknown_customer"
    http_status: ClassVar[int] = 404

    def __init__(self, customer_id: str) -> None:
        super().__init__(f"no customer with id {customer_id!r}")
        self.customer_id = customer_id


class UnknownPointType(NotFound):
    """The program declares no point type with this code."""

    code: ClassVar[str] = "unknown_point_type"
    http_status: ClassVar[int] = 422

    def __init__(self, code: str, known: tuple[str, ...]) -> None:
        super().__init__(f"point type {code!r} is not declared; the program has {list(known)}")
        # ``code`` is the machine code of the error class; the point type is ``point_type``
        self.point_type = code


class UnknownEntry(NotFound):
    """No ledger entry matches: an entry id, or an earlier command's idempotency key."""

    code: ClassVar[str] = "unknown_entry"
    http_status: ClassVar[int] = 404

    def __init__(self, customer_id: str, reference: str) -> None:
        super().__init__(f"customer {customer_id!r} has no ledger entries for {reference!r}")
        self.customer_id = customer_id
        self.reference = reference


class UnknownStorage(NotFound):
    """No storage backend is registered for a URL's scheme."""

    code: ClassVar[str] = "unknown_storage"
    http_status: ClassVar[int] = 500

    def __init__(self, url: str, scheme: str, known: tuple[str, ...]) -> None:
        super().__init__(
            f"no storage backend for scheme {scheme!r} in {url!r}; registered: {list(known)}"
        )
        self.url = url
        self.scheme = scheme


# --- conflicts ----------------------------------------------------------------------


class IdempotencyConflict(LoyaltyError):
    """An idempotency key was reused with different arguments."""

    code: ClassVar[str] = "idempotency_conflict"
    http_status: ClassVar[int] = 422

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

    code: ClassVar[str] = "customer_already_exists"
    http_status: ClassVar[int] = 409

    def __init__(self, customer_id: str, idempotency_key: str | None = None) -> None:
        hint = (
            ""
            if idempotency_key is None
            else f"; enrolling again needs the first enrolment's idempotency key, "
            f"not {idempotency_key!r}"
        )
        super().__init__(f"customer {customer_id!r} is already enrolled{hint}")
        self.customer_id = customer_id


# --- the rules forbid it --------------------------------------------------------------


class RuleViolation(LoyaltyError):
    """The command is well formed but the current state forbids it."""

    code: ClassVar[str] = "rule_violation"
    http_status: ClassVar[int] = 409


class InsufficientPoints(RuleViolation):
    """A debit asks for more points than are available."""

    code: ClassVar[str] = "insufficient_points"
    http_status: ClassVar[int] = 409

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

    code: ClassVar[str] = "account_not_active"
    http_status: ClassVar[int] = 409

    def __init__(self, customer_id: str, status: str, command: str) -> None:
        super().__init__(f"customer {customer_id!r} is {status}: {command} is not allowed")
        self.customer_id = customer_id
        self.status = status
        self.command = command


class NotReversible(RuleViolation):
    """The entries a reversal points at cannot be reversed (expiry, a reversal...)."""

    code: ClassVar[str] = "not_reversible"
    http_status: ClassVar[int] = 409


class OverReversal(RuleViolation):
    """A reversal would undo more than the original command did."""

    code: ClassVar[str] = "over_reversal"
    http_status: ClassVar[int] = 409


class IllegalTransition(RuleViolation):
    """A complaint cannot take this transition now (wrong state, role or guard)."""

    code: ClassVar[str] = "illegal_transition"
    http_status: ClassVar[int] = 409

    def __init__(self, complaint_id: str, state: str, transition: str, reason: str) -> None:
        super().__init__(
            f"complaint {complaint_id!r} is {state}: {transition} is not allowed ({reason})"
        )
        self.complaint_id = complaint_id
        self.state = state
        self.transition = transition


class GoodwillBudgetExceeded(RuleViolation):
    """Granting goodwill would pass the goodwill budget of the period."""

    code: ClassVar[str] = "goodwill_budget_exceeded"
    http_status: ClassVar[int] = 409

    def __init__(self, counter: str, requested: int, limit: int, spent: int) -> None:
        super().__init__(
            f"goodwill budget {counter!r}: {requested} points requested, "
            f"{limit - spent} of {limit} left"
        )
        self.counter = counter
        self.requested = requested


class UnknownComplaint(NotFound):
    """No complaint has this id."""

    code: ClassVar[str] = "unknown_complaint"
    http_status: ClassVar[int] = 404

    def __init__(self, complaint_id: str) -> None:
        super().__init__(f"no complaint with id {complaint_id!r}")
        self.complaint_id = complaint_id


class ComplaintAlreadyExists(LoyaltyError):
    """Filing a complaint id that is already filed (under another key)."""

    code: ClassVar[str] = "complaint_already_exists"
    http_status: ClassVar[int] = 409

    def __init__(self, complaint_id: str) -> None:
        super().__init__(f"complaint {complaint_id!r} is already filed")
        self.complaint_id = complaint_id


# --- rewards and redemptions (the reward catalogue) ------------------------------


class UnknownReward(NotFound):
    """The catalogue never held a reward with this id."""

    code: ClassVar[str] = "unknown_reward"
    http_status: ClassVar[int] = 404

    def __init__(self, reward_id: str) -> None:
        super().__init__(f"no reward with id {reward_id!r} in the catalogue")
        self.reward_id = reward_id


class UnknownRedemption(NotFound):
    """The customer has no redemption with this id."""

    code: ClassVar[str] = "unknown_redemption"
    http_status: ClassVar[int] = 404

    def __init__(self, customer_id: str, redemption_id: str) -> None:
        super().__init__(f"customer {customer_id!r} has no redemption {redemption_id!r}")
        self.customer_id = customer_id
        self.redemption_id = redemption_id


class RewardUnavailable(RuleViolation):
    """The reward cannot be redeemed now: not yet offered or open, ended, withdrawn."""

    code: ClassVar[str] = "reward_unavailable"
    http_status: ClassVar[int] = 409

    def __init__(self, reward_id: str, reason: str) -> None:
        super().__init__(f"reward {reward_id!r} {reason}")
        self.reward_id = reward_id
        self.reason = reason


class NotEligible(RuleViolation):
    """The member does not meet the reward's eligibility (tier, tags, condition)."""

    code: ClassVar[str] = "not_eligible"
    http_status: ClassVar[int] = 403

    def __init__(self, customer_id: str, reward_id: str, reason: str) -> None:
        super().__init__(f"customer {customer_id!r} may not redeem {reward_id!r}: {reason}")
        self.customer_id = customer_id
        self.reward_id = reward_id
        self.reason = reason


class LimitReached(RuleViolation):
    """A per-member or global limit of the reward for the period is used up."""

    code: ClassVar[str] = "limit_reached"
    http_status: ClassVar[int] = 409

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

    code: ClassVar[str] = "out_of_stock"
    http_status: ClassVar[int] = 409

    def __init__(self, reward_id: str, requested: int, left: int) -> None:
        super().__init__(f"reward {reward_id!r}: {requested} requested, {left} left in stock")
        self.reward_id = reward_id
        self.requested = requested
        self.left = left


class OffsetRefused(RuleViolation):
    """Points cannot pay this much of the bill (more than the bill or the allowed share)."""

    code: ClassVar[str] = "offset_refused"
    http_status: ClassVar[int] = 422


class DiscountRefused(RuleViolation):
    """A discount the member asked for at checkout takes nothing off the basket (its
    minimum spend is not met, no line is in its scope)."""

    code: ClassVar[str] = "discount_refused"
    http_status: ClassVar[int] = 422

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: takes nothing off this basket ({reason})")
        self.source = source
        self.reason = reason


class RedemptionClosed(RuleViolation):
    """The redemption's state forbids the command (fulfilling a cancelled one...)."""

    code: ClassVar[str] = "redemption_closed"
    http_status: ClassVar[int] = 409

    def __init__(self, redemption_id: str, state: str, command: str) -> None:
        super().__init__(f"redemption {redemption_id!r} is {state}: cannot {command}")
        self.redemption_id = redemption_id
        self.state = state


class VoucherNotValid(RuleViolation):
    """A voucher code cannot be used; ``status`` says why (unknown, expired, used...)."""

    code: ClassVar[str] = "voucher_not_valid"
    http_status: ClassVar[int] = 409

    def __init__(self, code: str, status: str) -> None:
        super().__init__(f"voucher {code!r} is not valid: {status}")
        # ``code`` is the machine code of the error class; the voucher's is ``voucher``
        self.voucher = code
        self.status = status


# --- storage -------------------------------------------------------------------------


class StorageError(LoyaltyError):
    """A backend failed; drivers' exceptions are translated into this branch."""

    code: ClassVar[str] = "storage_error"
    http_status: ClassVar[int] = 500


class StorageUnavailable(StorageError):
    """The backend cannot be reached or an optional dependency is missing."""

    code: ClassVar[str] = "storage_unavailable"
    http_status: ClassVar[int] = 503


class ConcurrencyConflict(StorageError):
    """Another writer won a race (a serialization failure, a deadlock, a lock timeout, or
    the same new row inserted first); the command was rolled back and may be retried."""

    code: ClassVar[str] = "concurrency_conflict"
    http_status: ClassVar[int] = 409


class ReadOnlyViolation(StorageError):
    """A unit of work opened for reading only was asked to write, or to lock for a
    write (a ``for_update`` read, a savepoint): ``operation`` names what was asked.
    Queries run in such units, so that a read never takes a write lock; the write is a
    bug in the caller, and nothing was changed."""

    code: ClassVar[str] = "read_only_violation"
    http_status: ClassVar[int] = 500

    def __init__(self, operation: str) -> None:
        super().__init__(
            f"{operation}: this unit of work is read-only (a query's); "
            "writes and locks belong in a command's unit of work"
        )
        self.operation = operation


class StorageIntegrityError(StorageError):
    """The database refused a row as inconsistent (a missing value, a broken reference):
    a bug in the caller or a backend, never a race, so it is not retried (PEP 249's
    ``IntegrityError``)."""

    code: ClassVar[str] = "storage_integrity_error"
    http_status: ClassVar[int] = 500


class StorageDataError(StorageError):
    """The database refused a value it cannot hold (too long, out of range: PEP 249's
    ``DataError``)."""

    code: ClassVar[str] = "storage_data_error"
    http_status: ClassVar[int] = 500


class UnknownCampaign(NotFound):
    """The program declares no campaign with this id."""

    code: ClassVar[str] = "unknown_campaign"
    http_status: ClassVar[int] = 404

    def __init__(self, campaign_id: str, known: tuple[str, ...]) -> None:
        super().__init__(f"no campaign {campaign_id!r}; the program has {list(known)}")
        self.campaign_id = campaign_id


class ReferralRefused(RuleViolation):
    """A referral link that may not be made: ``reason`` is ``self`` (the same person),
    ``cycle`` (the referrer was referred, directly or not, by the new member),
    ``already_referred`` or ``too_late`` (a link made after the first purchase)."""

    code: ClassVar[str] = "referral_refused"
    http_status: ClassVar[int] = 409

    def __init__(self, customer_id: str, referrer: str, reason: str, detail: str) -> None:
        super().__init__(f"customer {customer_id!r} cannot be referred by {referrer!r}: {detail}")
        self.customer_id = customer_id
        self.referrer = referrer
        self.reason = reason


class NotAuthorized(LoyaltyError, PermissionError):
    """The embedding service's authorizer refused the step: ``actor`` may not take
    ``action`` in ``role`` (see ``Loyalty(authorize=...)``). Nothing was changed."""

    code = "not_authorized"
    http_status = 403

    def __init__(self, actor: str, role: str, action: str) -> None:
        super().__init__(f"actor {actor!r} may not {action} in the role {role!r}")
        self.actor = actor
        self.role = role
        self.action = action


class NoProgress(StorageError):
    """A batch loop was handed the same work again without it getting done: the backend
    breaks its contract (an account reported due whose settlement does nothing, a bulk
    chunk that does not move on). Raised instead of looping forever; ``loop`` names the
    loop and ``key`` the work it was handed again."""

    code = "no_progress"
    http_status = 500

    def __init__(self, loop: str, key: object) -> None:
        super().__init__(
            f"{loop} made no progress: the backend handed it {key!r} again, and doing it "
            "changed nothing; the storage backend breaks its contract (see "
            "loyaltykit.storage.base)"
        )
        self.loop = loop
        self.key = key


class InvalidText(InvalidArgument):
    """A text field is too long, not a string, or holds characters no backend can store
    alike (NUL, control characters, lone surrogates); a long value is shortened in the
    message."""

    code = "invalid_text"
    http_status = 422

    def __init__(self, what: str, value: Any, expected: str) -> None:
        super().__init__(f"{what}: {shown(value)} is not valid, expected {expected}")
        self.what = what
        self.value = value


class OutOfOrder(RuleViolation):
    """A command is dated before something it must come after: the latest entry of the
    account it posts to (beyond the programme's clock-skew tolerance), or the customer's
    enrolment. ``at`` is the command's instant, ``latest`` the one it came before;
    ``subject`` says what happened at ``latest``."""

    code = "out_of_order"
    http_status = 409

    def __init__(self, subject: str, at: datetime, latest: datetime) -> None:
        super().__init__(
            f"a command dated {at.isoformat()} comes before {subject} at {latest.isoformat()}"
        )
        self.subject = subject
        self.at = at
        self.latest = latest


class SchemaNotReady(StorageError):
    """A database's schema is missing or older than this version of loyaltykit needs.

    Nothing was changed: migrating is an explicit step. ``command`` is the one to run.
    """

    code = "schema_not_ready"
    http_status = 503

    def __init__(self, url: str, current: str | None, required: str, command: str) -> None:
        state = "has no loyaltykit schema" if current is None else f"is at revision {current}"
        super().__init__(
            f"database {url} {state}; this loyaltykit needs revision {required}: run {command}"
        )
        self.url = url
        self.current = current
        self.required = required
        self.command = command


class ComplaintFull(RuleViolation):
    """A complaint's history is as long as one stored complaint may be: at most
    ``MAX_COMPLAINT_STEPS`` steps, and its stored document at most ``MAX_COMPLAINT_BYTES``
    bytes of UTF-8 (docs/reference/limits.md). The step is refused and nothing changes;
    ``limit`` says which bound was reached."""

    code = "complaint_full"
    http_status = 409

    def __init__(self, complaint_id: str, transition: str, limit: str) -> None:
        super().__init__(
            f"complaint {complaint_id!r}: {transition} is refused, the complaint is full "
            f"({limit}); close it and file a new one that refers to it"
        )
        self.complaint_id = complaint_id
        self.transition = transition
        self.limit = limit


class ProgramError(InvalidArgument):
    """A programme document could not be loaded; ``problems`` lists every problem found
    (each with its path), all at once."""

    code = "invalid_program"
    http_status = 422

    def __init__(self, name: str, problems: list[str]) -> None:
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(f"{count} in program {name!r}:\n  " + "\n  ".join(problems))
        self.problems = tuple(problems)


# --- stored value (gift cards, e-wallets) and member cards ------------------------------

__all__ += [  # the stored-value and member-card errors, kept in their own block
    "CardAlreadyIssued",
    "CardBlocked",
    "InsufficientStoredValue",
    "InvalidCode",
    "RefundExceedsPayment",
    "StoredValueExpired",
    "UnknownCard",
    "UnknownStoredValue",
]


class InvalidCode(InvalidArgument):
    """A gift card code or member card number that cannot be one: a wrong length, a
    character outside its alphabet, or a check character that does not match (a typo)."""

    code = "invalid_code"
    http_status = 422

    def __init__(self, what: str, value: Any, reason: str) -> None:
        super().__init__(f"{what}: {shown(value)} is not valid: {reason}")
        self.what = what
        self.value = value
        self.reason = reason


class UnknownStoredValue(NotFound):
    """No gift card or wallet has this code."""

    code = "unknown_stored_value"
    http_status = 404

    def __init__(self, stored_value: str) -> None:
        super().__init__(f"no gift card or wallet with code {stored_value!r}")
        self.stored_value = stored_value


class InsufficientStoredValue(RuleViolation):
    """A payment asks for more money than the card or wallet holds (it never goes
    negative). ``requested`` and ``balance`` are amounts as text (``"30.00 CNY"``)."""

    code = "insufficient_stored_value"
    http_status = 409

    def __init__(self, stored_value: str, requested: str, balance: str) -> None:
        super().__init__(
            f"stored value {stored_value!r} holds {balance}, a payment of {requested} was asked"
        )
        self.stored_value = stored_value
        self.requested = requested
        self.balance = balance


class StoredValueExpired(RuleViolation):
    """A payment, top-up or refund on a gift card or wallet past its expiry."""

    code = "stored_value_expired"
    http_status = 409

    def __init__(self, stored_value: str, expires_at: datetime) -> None:
        super().__init__(f"stored value {stored_value!r} expired at {expires_at.isoformat()}")
        self.stored_value = stored_value
        self.expires_at = expires_at


class RefundExceedsPayment(RuleViolation):
    """A refund to stored value of more than is left unrefunded of the payment it names,
    or naming a payment the card never made. ``refundable`` is an amount as text."""

    code = "refund_exceeds_payment"
    http_status = 409

    def __init__(self, stored_value: str, payment: str, refundable: str) -> None:
        super().__init__(
            f"stored value {stored_value!r}: payment {payment!r} has {refundable} left to refund"
        )
        self.stored_value = stored_value
        self.payment = payment
        self.refundable = refundable


class UnknownCard(NotFound):
    """No member card has this number."""

    code = "unknown_card"
    http_status = 404

    def __init__(self, number: str) -> None:
        super().__init__(f"no member card with number {number!r}")
        self.number = number


class CardBlocked(RuleViolation):
    """A member card that was blocked (lost, stolen, replaced, its member erased) was
    presented, or asked to be blocked or replaced again."""

    code = "card_blocked"
    http_status = 409

    def __init__(self, number: str, reason: str) -> None:
        super().__init__(f"member card {number!r} is blocked ({reason})")
        self.number = number
        self.reason = reason


class CardAlreadyIssued(RuleViolation):
    """``issue_card`` for a member who already holds an active card (replace it, or
    block it first)."""

    code = "card_already_issued"
    http_status = 409

    def __init__(self, customer_id: str, number: str) -> None:
        super().__init__(f"customer {customer_id!r} already holds active card {number!r}")
        self.customer_id = customer_id
        self.number = number


class ContentRuleBroken(InvalidArgument):
    """A care message breaks the programme's content rules (a greeting carrying
    advertising, a greeting not signed with the store and the associate's name).
    ``problems`` lists every rule broken; nothing was recorded."""

    code = "content_rule_broken"
    http_status = 422

    def __init__(self, action_id: str, problems: tuple[str, ...]) -> None:
        super().__init__(f"care message for {action_id!r}: " + "; ".join(problems))
        self.action_id = action_id
        self.problems = problems


class VelocityExceeded(RuleViolation):
    """A member goes beyond one of the programme's velocity rules (too many earns,
    transfers or redemptions in the hour or the day). The command changed nothing; the
    member was flagged (and suspended, by a ``suspend`` rule) with this reason."""

    code = "velocity_exceeded"
    http_status = 429

    def __init__(self, customer_id: str, rule: str, reason: str, *, suspended: bool) -> None:
        then = "; the member is suspended" if suspended else ""
        super().__init__(f"customer {customer_id!r}: {reason}{then}")
        self.customer_id = customer_id
        self.rule = rule
        self.suspended = suspended


class ApprovalRequired(RuleViolation):
    """A manual adjustment above the programme's approval threshold was sent to
    ``adjust``: request it with ``request_adjustment`` for a second person to approve."""

    code = "approval_required"
    http_status = 409

    def __init__(self, customer_id: str, points: int, threshold: int) -> None:
        super().__init__(
            f"customer {customer_id!r}: an adjustment of {points} points is above "
            f"{threshold} and needs a second person's approval (request_adjustment)"
        )
        self.customer_id = customer_id
        self.points = points
        self.threshold = threshold


class ApprovalRefused(RuleViolation):
    """An approval or rejection that cannot be given: the approver is the requester, or
    the request was already decided."""

    code = "approval_refused"
    http_status = 409

    def __init__(self, request_id: str, reason: str) -> None:
        super().__init__(f"adjustment request {request_id!r}: {reason}")
        self.request_id = request_id
        self.reason = reason


class UnknownApproval(NotFound):
    """No adjustment request with this id for this member."""

    code = "unknown_approval"
    http_status = 404

    def __init__(self, customer_id: str, request_id: str) -> None:
        super().__init__(f"customer {customer_id!r} has no adjustment request {request_id!r}")
        self.customer_id = customer_id
        self.request_id = request_id


class HouseholdRefused(RuleViolation):
    """A household command its rules forbid: a member joining a second household or a
    full one, someone but the head redeeming, more points than the pool holds, the head
    leaving while others remain, a closed household."""

    code = "household_refused"
    http_status = 409

    def __init__(self, household_id: str, reason: str) -> None:
        super().__init__(f"household {household_id!r}: {reason}")
        self.household_id = household_id
        self.reason = reason


class CareSampleDrawn(RuleViolation):
    """Quality control's sample of a month's care calls was drawn already (one a month)."""

    code: ClassVar[str] = "care_sample_drawn"
    http_status: ClassVar[int] = 409

    def __init__(self, month: str) -> None:
        super().__init__(f"the care-call sample of {month} is drawn already")
        self.month = month


class InvitationClosed(RuleViolation):
    """A survey invitation is answered already, or its response window has passed."""

    code: ClassVar[str] = "invitation_closed"
    http_status: ClassVar[int] = 409

    def __init__(self, invitation_id: str, state: str) -> None:
        super().__init__(f"survey invitation {invitation_id!r} is {state}")
        self.invitation_id = invitation_id
        self.state = state


class EventRefused(RuleViolation):
    """A member event step is not allowed: not invited (tier, club), already booked,
    no seat to check in with, or checked in already."""

    code: ClassVar[str] = "event_refused"
    http_status: ClassVar[int] = 409

    def __init__(self, customer_id: str, event_id: str, reason: str) -> None:
        super().__init__(f"customer {customer_id!r}, event {event_id!r}: {reason}")
        self.customer_id = customer_id
        self.event_id = event_id
        self.reason = reason


# --- coalition partners -------------------------------------------------------------------

__all__ += ["UnknownGoal", "UnknownPartner"]


class UnknownPartner(NotFound):
    """The programme declares no coalition partner with this id."""

    code: ClassVar[str] = "unknown_partner"
    http_status: ClassVar[int] = 404

    def __init__(self, partner_id: str, known: tuple[str, ...]) -> None:
        super().__init__(f"no partner {partner_id!r}; the program has {list(known)}")
        self.partner_id = partner_id


class UnknownGoal(NotFound):
    """The partner has no goal with this id."""

    code: ClassVar[str] = "unknown_goal"
    http_status: ClassVar[int] = 404

    def __init__(self, partner_id: str, goal_id: str, known: tuple[str, ...]) -> None:
        super().__init__(f"partner {partner_id!r} has no goal {goal_id!r}; it has {list(known)}")
        self.partner_id = partner_id
        self.goal_id = goal_id


# --- several programmes in one store ------------------------------------------------------

__all__ += ["InvalidTenant", "TenancyUnsupported"]


class InvalidTenant(InvalidIdentifier):
    """A programme (tenant) key that cannot be one: not a string, empty, too long, or a
    character outside lowercase letters, digits and ``- _ .``."""

    code: ClassVar[str] = "invalid_tenant"
    http_status: ClassVar[int] = 422

    def __init__(self, value: Any, reason: str) -> None:
        super().__init__("tenant", value, reason)
        self.reason = reason


class TenancyUnsupported(StorageError):
    """A programme other than the default was asked of a backend that keeps only one
    (it does not offer :class:`~loyaltykit.storage.base.Tenancy`)."""

    code: ClassVar[str] = "tenancy_unsupported"
    http_status: ClassVar[int] = 500

    def __init__(self, backend: str, tenant: str) -> None:
        super().__init__(
            f"the {backend} backend keeps one programme only (it has no for_tenant); "
            f"tenant {tenant!r} needs a backend that offers Tenancy (memory, SQLite, "
            "PostgreSQL, MariaDB)"
        )
        self.backend = backend
        self.tenant = tenant
