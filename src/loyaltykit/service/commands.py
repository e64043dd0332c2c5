"""Every mutating command as a frozen value.

A command value holds everything the caller sent, checked once as it is built (a bad
argument is a typed :mod:`loyaltykit.errors` exception naming the field, before any
storage is touched). Its idempotency fingerprint is computed from the whole value, so a
key reused with any different argument is an
:class:`~loyaltykit.errors.IdempotencyConflict`; only ``at`` stays out of it, because a
retry of the same request is sent later than the first attempt.

The facade's methods build them and hand them to the kernel.

>>> from datetime import datetime, timezone
>>> command = EarnPoints(
...     customer_id="c-1", points=10, at=datetime(2026, 5, 1, tzinfo=timezone.utc),
...     idempotency_key="order-1",
... )
>>> command.name, command.owner, command.locks()
('earn', 'c-1', ('c-1',))
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from operator import attrgetter
from typing import Any, ClassVar, TypeVar

import attrs

from loyaltykit.domain.activity import CustomEvent, Purchase
from loyaltykit.domain.cards import BlockReason, card_number
from loyaltykit.domain.care import CALL_OUTCOMES
from loyaltykit.domain.care_quality import month_bounds
from loyaltykit.domain.clubs import Club
from loyaltykit.domain.complaints import ANONYMOUS, Priority, Role, Severity
from loyaltykit.domain.consent import ConsentState
from loyaltykit.domain.customer import Profile
from loyaltykit.domain.draws import DrawEntry
from loyaltykit.domain.feedback import Survey
from loyaltykit.domain.ledger import Command
from loyaltykit.domain.ledger import context as ledger_context
from loyaltykit.domain.member_events import MemberEvent
from loyaltykit.domain.partners import checked_partner_id
from loyaltykit.domain.redemptions import voucher_code
from loyaltykit.domain.stored_value import Funding, StoredValueKind, stored_value_code
from loyaltykit.domain.survey_invitations import SurveyTrigger
from loyaltykit.errors import InvalidAmount, InvalidArgument
from loyaltykit.formats.canonical import canonical_text
from loyaltykit.values import (
    MONEY_ROUNDINGS,
    CustomerId,
    Metadata,
    Money,
    Points,
    aware,
    bounded_decimal,
    derived_identifier,
    frozen_metadata,
    identifier,
    identifiers,
    label,
    points_amount,
    portion,
    sequence_of,
)

__all__ = [
    "FINGERPRINT_SCHEME",
    "STORED_VALUE",
    "AdjustPoints",
    "AnswerInquiry",
    "AnswerSurveyInvitation",
    "AwardPartnerPoints",
    "BlockCard",
    "BookEvent",
    "BuyPoints",
    "CancelBooking",
    "CancelRedemption",
    "ChangeConsent",
    "CheckCareCall",
    "CheckInToEvent",
    "Checkout",
    "CloseAccount",
    "CommandValue",
    "ComplaintStep",
    "CompleteCare",
    "CreateClub",
    "CreateHousehold",
    "CreateMemberEvent",
    "DecideAdjustment",
    "Draw",
    "EarnPoints",
    "Enroll",
    "Erase",
    "FileComplaint",
    "FulfilRedemption",
    "GrantReward",
    "GrantTier",
    "InviteToSurveys",
    "IssueCard",
    "IssueStoredValue",
    "JoinClub",
    "JoinHousehold",
    "LeaveClub",
    "LeaveHousehold",
    "LinkReferrer",
    "PayWithPoints",
    "PayWithStoredValue",
    "PoolPoints",
    "PublishSurvey",
    "Reactivate",
    "RecordCareCall",
    "RecordEvent",
    "RecordPurchase",
    "Redeem",
    "RedeemHouseholdPoints",
    "RedeemPoints",
    "Refund",
    "RefundBoughtPoints",
    "RefundOrder",
    "RefundToStoredValue",
    "ReplaceCard",
    "RequestAdjustment",
    "ReversePoints",
    "SampleCareCalls",
    "SendCareMessage",
    "SetMetric",
    "SetSurveyTrigger",
    "SubmitSurveyResponse",
    "Suspend",
    "TakeInquiry",
    "TopUpStoredValue",
    "TransferPoints",
    "UpdateProfile",
    "UseVoucher",
    "differing_fields",
    "fingerprint",
    "stored_value_owner",
]

E = TypeVar("E", bound=Enum)

FINGERPRINT_SCHEME = "2"
"""Stored in front of every fingerprint (``"2:..."``). Records written before it (a bare
SHA-256 of some of the arguments) cannot be recomputed: they are matched by command name."""

_UNFINGERPRINTED = "loyaltykit.unfingerprinted"
_NO_SKEW = timedelta(0)
_DIGESTS = 14  # per-field digests that fit the 64-character column beside the hash


# --- converters: each names the field it checks ---------------------------------------


def _at(value: object) -> datetime:
    return aware("at", value)


def _key(value: object) -> str:
    return identifier("idempotency_key", value)


def _customer(value: object) -> CustomerId:
    return identifier("customer id", value)


def _optional_customer(value: object) -> CustomerId | None:
    return None if value is None else identifier("customer id", value)


def _text(what: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidArgument(f"{what}: {value!r} is not a string")
    return value


def _id(what: str) -> Any:  # an attrs validator
    def checked(_instance: object, _attribute: object, value: object) -> None:
        identifier(what, value)

    return checked


def _optional_id(what: str) -> Any:  # an attrs validator
    def checked(_instance: object, _attribute: object, value: object) -> None:
        if value is not None:
            identifier(what, value)

    return checked


def _how(_instance: object, _attribute: object, value: object) -> None:
    label("how", value)


def _reason(value: object) -> str:
    return _text("reason", value)


def _note(value: object) -> str:
    return _text("note", value)


def _actor(value: object) -> str | None:
    return None if value is None else _text("actor", value)


LIBRARY_METADATA = frozenset(
    {
        # what loyaltykit itself writes on ledger entries, and reads back to account for
        # them (a refund's purchase amount, a partner's price, a goodwill grant...): a
        # caller's metadata may not carry these names, or it could pass for the library's
        "approved_by",
        "care",
        "complaint",
        "currency",
        "event",
        "from",
        "goodwill",
        "household",
        "offset_reward",
        "partner",
        "point_price",
        "purchase_amount",
        "request",
        "revenue",
        "reward",
        "rules",
        "to",
        "transfer",
    }
)


def _metadata(value: object) -> Metadata:
    if value is not None and not isinstance(value, tuple | Mapping):
        raise InvalidArgument(f"metadata: {value!r} is not a mapping of names to values")
    metadata = frozen_metadata(value)
    if metadata and not LIBRARY_METADATA.isdisjoint(key for key, _ in metadata):
        taken = sorted(key for key, _ in metadata if key in LIBRARY_METADATA)
        raise InvalidArgument(
            f"metadata: {', '.join(map(repr, taken))} is written by loyaltykit itself "
            f"(names it reserves: {', '.join(sorted(LIBRARY_METADATA))})"
        )
    return metadata


def _optional_instant_named(what: str, value: object) -> datetime | None:
    return None if value is None else aware(what, value)


def _expires_at(value: object) -> datetime | None:
    return _optional_instant_named("expires_at", value)


def _available_from(value: object) -> datetime | None:
    return _optional_instant_named("available_from", value)


def _points(value: object) -> Points:
    return points_amount("points", value)


def _adjustment(value: object) -> Points:
    if isinstance(value, bool) or not isinstance(value, int) or value == 0:
        raise InvalidAmount("points", value, "a non-zero int (negative to take points)")
    return value


def _portion(value: object) -> Fraction | None:
    return None if value is None else portion(value)


def _voucher(value: object) -> str:
    # a code typed in lower case, with dashes or spaces, is the same code: the same request
    if not isinstance(value, str):
        raise InvalidArgument(f"voucher code: {value!r} is not text")
    return voucher_code(value)


def _point_type(value: object) -> str:
    return _text("point_type", value)


def _profile(value: object) -> Profile:
    if value is None:
        return Profile()
    if not isinstance(value, Profile):
        raise InvalidArgument(f"profile: {value!r} is not a loyaltykit Profile")
    return value


def _required_profile(value: object) -> Profile:
    if not isinstance(value, Profile):
        raise InvalidArgument(f"profile: {value!r} is not a loyaltykit Profile")
    return value


def _purchase(value: object) -> Purchase:
    if not isinstance(value, Purchase):
        raise InvalidArgument(f"purchase: {value!r} is not a loyaltykit Purchase")
    return value


def _event(value: object) -> CustomEvent:
    if not isinstance(value, CustomEvent):
        raise InvalidArgument(f"event: {value!r} is not a loyaltykit CustomEvent")
    return value


def _survey(value: object) -> Survey:
    if not isinstance(value, Survey):
        raise InvalidArgument(f"survey: {value!r} is not a loyaltykit Survey")
    return value


def _entries(value: object) -> tuple[DrawEntry, ...] | None:
    if value is None:
        return None
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise InvalidArgument(f"entries: {value!r} is not a collection of DrawEntry")
    return tuple(value)


def _names(value: object) -> tuple[str, ...]:
    return identifiers("rewards", value)


def _answers(value: object) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise InvalidArgument(f"answers: {value!r} is not a mapping of question ids to answers")
    return dict(value)


# --- the values ------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class CommandValue:
    """What every command carries: when it was sent and its idempotency key.

    ``kind`` is the command's stored name; :attr:`owner` is the customer (or shared
    space) whose idempotency keys the command's key belongs to; :meth:`locks` are the
    customers the kernel locks before running it (a handler may find more inside the
    transaction, and the kernel then starts again with the whole sorted set).
    """

    kind: ClassVar[str]

    # a retry is sent later than the first attempt: the instant stays out of the key
    at: datetime = attrs.field(converter=_at, metadata={_UNFINGERPRINTED: True})
    idempotency_key: str = attrs.field(converter=_key)

    @property
    def name(self) -> str:
        """The command's name, as stored with its outcome and in the outbox."""
        return self.kind

    @property
    def owner(self) -> str:
        """Whose idempotency space the key lives in."""
        return str(getattr(self, "customer_id"))  # noqa: B009 - every subclass has one or overrides

    def locks(self) -> tuple[CustomerId, ...]:
        """Customers to lock before the command runs, in no particular order."""
        return (self.owner,)

    def context(self, clock_skew: timedelta = _NO_SKEW, **metadata: str) -> Command:
        """What every ledger entry the command writes carries (its audit trail), and how
        far before an account's latest entry it may be dated (the programme's
        ``clock_skew``)."""
        kept: Metadata = getattr(self, "metadata", ())
        return ledger_context(
            self.at,
            self.idempotency_key,
            reason=getattr(self, "reason", ""),
            actor=getattr(self, "actor", None),
            metadata=frozen_metadata({**dict(kept), **metadata}) if metadata else kept,
            clock_skew=clock_skew,
        )


@attrs.frozen(kw_only=True)
class _CustomerCommand(CommandValue):
    customer_id: CustomerId = attrs.field(converter=_customer)


@attrs.frozen(kw_only=True)
class Enroll(_CustomerCommand):
    """Enrol a new member."""

    kind: ClassVar[str] = "enroll"
    profile: Profile = attrs.field(default=None, converter=_profile)
    referred_by: CustomerId | None = attrs.field(default=None, converter=_optional_customer)

    def locks(self) -> tuple[CustomerId, ...]:
        return ()  # the member does not exist yet: the insert itself decides a race


@attrs.frozen(kw_only=True)
class UpdateProfile(_CustomerCommand):
    """Replace a member's profile."""

    kind: ClassVar[str] = "update_profile"
    profile: Profile = attrs.field(converter=_required_profile)


@attrs.frozen(kw_only=True)
class Suspend(_CustomerCommand):
    """Put a member on hold."""

    kind: ClassVar[str] = "suspend"


@attrs.frozen(kw_only=True)
class Reactivate(_CustomerCommand):
    """Lift a suspension."""

    kind: ClassVar[str] = "reactivate"


@attrs.frozen(kw_only=True)
class CloseAccount(_CustomerCommand):
    """Close a membership."""

    kind: ClassVar[str] = "close"


@attrs.frozen(kw_only=True)
class Erase(_CustomerCommand):
    """Remove a member's personal data."""

    kind: ClassVar[str] = "erase"


@attrs.frozen(kw_only=True)
class LinkReferrer(_CustomerCommand):
    """Record who referred a member, after enrolment."""

    kind: ClassVar[str] = "link_referrer"
    referrer: CustomerId = attrs.field(converter=_customer)


@attrs.frozen(kw_only=True)
class _Audited(_CustomerCommand):
    reason: str = attrs.field(default="", converter=_reason)
    actor: str | None = attrs.field(default=None, converter=_actor)


@attrs.frozen(kw_only=True)
class EarnPoints(_Audited):
    """Grant points as a new lot."""

    kind: ClassVar[str] = "earn"
    points: Points = attrs.field(converter=_points)
    point_type: str = attrs.field(default="points", converter=_point_type)
    expires_at: datetime | None = attrs.field(default=None, converter=_expires_at)
    available_from: datetime | None = attrs.field(default=None, converter=_available_from)
    metadata: Metadata = attrs.field(default=(), converter=_metadata)


@attrs.frozen(kw_only=True)
class RedeemPoints(_Audited):
    """Spend points, soonest-expiring lots first."""

    kind: ClassVar[str] = "redeem_points"
    points: Points = attrs.field(converter=_points)
    point_type: str = attrs.field(default="points", converter=_point_type)
    metadata: Metadata = attrs.field(default=(), converter=_metadata)


@attrs.frozen(kw_only=True)
class AdjustPoints(_Audited):
    """A manual, audited correction."""

    kind: ClassVar[str] = "adjust"
    points: Points = attrs.field(converter=_adjustment)
    point_type: str = attrs.field(default="points", converter=_point_type)
    expires_at: datetime | None = attrs.field(default=None, converter=_expires_at)
    metadata: Metadata = attrs.field(default=(), converter=_metadata)

    def __attrs_post_init__(self) -> None:
        if not self.reason.strip() or not (self.actor or "").strip():
            raise InvalidArgument(
                f"adjust needs a reason and an actor (got reason={self.reason!r}, "
                f"actor={self.actor!r})"
            )


@attrs.frozen(kw_only=True)
class TransferPoints(CommandValue):
    """Move points between two members; the key belongs to the sender."""

    kind: ClassVar[str] = "transfer"
    from_customer: CustomerId = attrs.field(converter=_customer)
    to_customer: CustomerId = attrs.field(converter=_customer)
    points: Points = attrs.field(converter=_points)
    point_type: str = attrs.field(default="points", converter=_point_type)
    reason: str = attrs.field(default="", converter=_reason)
    actor: str | None = attrs.field(default=None, converter=_actor)

    @property
    def owner(self) -> str:
        return self.from_customer

    def locks(self) -> tuple[CustomerId, ...]:
        return (self.from_customer, self.to_customer)

    def __attrs_post_init__(self) -> None:
        if self.from_customer == self.to_customer:
            raise InvalidArgument(f"transfer: {self.from_customer!r} cannot transfer to themselves")


@attrs.frozen(kw_only=True)
class ReversePoints(_Audited):
    """Undo (a portion of) an earlier command."""

    kind: ClassVar[str] = "reverse"
    original_key: str = attrs.field(converter=_key)
    portion: Fraction | None = attrs.field(default=None, converter=_portion)


@attrs.frozen(kw_only=True)
class Refund(_Audited):
    """Refund a recorded purchase, whole or in part."""

    kind: ClassVar[str] = "refund"
    purchase_key: str = attrs.field(converter=_key)
    amount: Money | None = None


@attrs.frozen(kw_only=True)
class RecordPurchase(_CustomerCommand):
    """A purchase for the programme's rules to reward."""

    kind: ClassVar[str] = "record_purchase"
    purchase: Purchase = attrs.field(converter=_purchase)
    actor: str | None = attrs.field(default=None, converter=_actor)


@attrs.frozen(kw_only=True)
class RecordEvent(_CustomerCommand):
    """A custom event for the programme's rules to reward."""

    kind: ClassVar[str] = "record_event"
    event: CustomEvent = attrs.field(converter=_event)
    actor: str | None = attrs.field(default=None, converter=_actor)


@attrs.frozen(kw_only=True)
class GrantTier(_CustomerCommand):
    """A tier granted by a person until a date."""

    kind: ClassVar[str] = "grant_tier"
    tier: str = attrs.field(validator=lambda _i, _a, value: identifier("tier", value))
    until: datetime = attrs.field(validator=lambda _i, _a, value: aware("until", value))
    reason: str = attrs.field(converter=_reason)
    actor: str = attrs.field(converter=_reason)


@attrs.frozen(kw_only=True)
class SetMetric(_CustomerCommand):
    """Set a tier metric's value from outside (ARPU, asset size)."""

    kind: ClassVar[str] = "set_metric"
    metric: str = attrs.field(validator=lambda _i, _a, value: identifier("metric", value))
    # checked, not converted: the fingerprint keeps what the caller sent ("10", not 10)
    value: Decimal | int | str = attrs.field(
        validator=lambda _i, _a, value: bounded_decimal("metric value", value, max_places=12)
    )


@attrs.frozen(kw_only=True)
class Redeem(_Audited):
    """Redeem a catalogue reward for points."""

    kind: ClassVar[str] = "redeem"
    reward_id: str = attrs.field(validator=_id("reward_id"))
    quantity: int = 1
    metadata: Metadata = attrs.field(default=(), converter=_metadata)
    campaign: str | None = attrs.field(default=None, validator=_optional_id("campaign"))


@attrs.frozen(kw_only=True)
class GrantReward(_Audited):
    """Give a catalogue reward for free."""

    kind: ClassVar[str] = "grant_reward"
    reward_id: str = attrs.field(validator=_id("reward_id"))
    quantity: int = 1
    campaign: str | None = attrs.field(default=None, validator=_optional_id("campaign"))


@attrs.frozen(kw_only=True)
class PayWithPoints(_Audited):
    """Pay part of a bill with points (cash offset)."""

    kind: ClassVar[str] = "pay_with_points"
    reward_id: str = attrs.field(validator=_id("reward_id"))
    points: Points
    bill: Money


@attrs.frozen(kw_only=True)
class CancelRedemption(_Audited):
    """Cancel a reserved redemption."""

    kind: ClassVar[str] = "cancel_redemption"
    redemption_id: str = attrs.field(validator=_id("redemption_id"))


@attrs.frozen(kw_only=True)
class FulfilRedemption(_CustomerCommand):
    """Mark a redemption delivered or picked up."""

    kind: ClassVar[str] = "fulfil_redemption"
    redemption_id: str = attrs.field(validator=_id("redemption_id"))
    how: str = attrs.field(default="delivered", validator=_how)


@attrs.frozen(kw_only=True)
class UseVoucher(_CustomerCommand):
    """Use a voucher."""

    kind: ClassVar[str] = "use_voucher"
    code: str = attrs.field(converter=_voucher)


def _codes(value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidArgument(f"vouchers: {value!r} is not a list of voucher codes")
    codes = tuple(_voucher(code) for code in value)
    if len(set(codes)) != len(codes):
        raise InvalidArgument(f"vouchers: {list(codes)} names a voucher twice")
    return codes


def _cards(value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidArgument(f"stored_value: {value!r} is not a list of card codes")
    codes = tuple(sorted(stored_value_code(code) for code in value))  # paid in code order
    if len(set(codes)) != len(codes):
        raise InvalidArgument(f"stored_value: {list(codes)} names a card twice")
    return codes


def _paid_points(value: object) -> Points:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidAmount("points", value, "an int of zero or more")
    return value


def _optional_reward(value: object) -> str | None:
    return None if value is None else identifier("offset_reward", value)


def _rounding(value: object) -> str:
    if value not in MONEY_ROUNDINGS:
        raise InvalidAmount("rounding", value, f"one of {sorted(MONEY_ROUNDINGS)}")
    assert isinstance(value, str)
    return value


def _lines(value: object) -> tuple[int, ...] | None:
    if value is None:
        return None
    lines = sequence_of("lines", value, int)
    if (
        not lines
        or any(isinstance(n, bool) or not isinstance(n, int) or n < 0 for n in lines)
        or len(set(lines)) != len(lines)
    ):
        raise InvalidArgument(f"lines: {value!r} must be distinct line numbers from 0")
    return tuple(sorted(lines))


@attrs.frozen(kw_only=True)
class Checkout(_Audited):
    """Price a basket with the member's vouchers and points, and record the purchase."""

    kind: ClassVar[str] = "checkout"
    purchase: Purchase = attrs.field(converter=_purchase)
    vouchers: tuple[str, ...] = attrs.field(default=(), converter=_codes)
    rewards: tuple[str, ...] = attrs.field(default=(), converter=_names)
    points: Points = attrs.field(default=0, converter=_paid_points)
    stored_value: tuple[str, ...] = attrs.field(default=(), converter=_cards)
    offset_reward: str | None = attrs.field(default=None, converter=_optional_reward)
    rounding: str = attrs.field(default="ROUND_HALF_EVEN", converter=_rounding)

    def __attrs_post_init__(self) -> None:
        if self.points and self.offset_reward is None:
            raise InvalidArgument(
                "checkout: points pay through a cash-offset reward: name it as offset_reward"
            )


def _optional_price(value: object) -> Money | None:
    if value is not None and (not isinstance(value, Money) or value.amount <= 0):
        raise InvalidAmount("price", value, "a positive Money amount, or None")
    return value


@attrs.frozen(kw_only=True)
class BuyPoints(_Audited):
    """A member buys points at the programme's price."""

    kind: ClassVar[str] = "buy_points"
    points: Points = attrs.field(converter=_points)
    price: Money | None = attrs.field(default=None, converter=_optional_price)


@attrs.frozen(kw_only=True)
class AwardPartnerPoints(_Audited):
    """A coalition partner awards points it pays the programme for."""

    kind: ClassVar[str] = "award_partner_points"
    partner_id: str = attrs.field(converter=checked_partner_id)
    points: Points = attrs.field(converter=_points)
    expires_at: datetime | None = attrs.field(default=None, converter=_expires_at)
    metadata: Metadata = attrs.field(default=(), converter=_metadata)


@attrs.frozen(kw_only=True)
class RefundBoughtPoints(_Audited):
    """Give back the money of points bought, and take the points back."""

    kind: ClassVar[str] = "refund_bought_points"
    purchase_key: str = attrs.field(converter=_key)


@attrs.frozen(kw_only=True)
class RefundOrder(_Audited):
    """Refund a checkout, whole or some of its lines."""

    kind: ClassVar[str] = "refund_order"
    order_key: str = attrs.field(converter=_key)
    lines: tuple[int, ...] | None = attrs.field(default=None, converter=_lines)


@attrs.frozen(kw_only=True)
class CompleteCare(_CustomerCommand):
    """Record the outcome of a care action."""

    kind: ClassVar[str] = "complete_care"
    action_id: str = attrs.field(validator=_id("action_id"))
    note: str = attrs.field(default="", converter=_note)


# --- care calls and their quality control ------------------------------------------

CARE_QUALITY = "care-quality"
"""The shared key space of the quality-control commands (no member owns a sample)."""


def _care_action_id(value: object) -> str:
    return identifier("care action id", value)


def _outcome(value: object) -> str:
    if value not in CALL_OUTCOMES:
        raise InvalidArgument(f"outcome: {value!r} is not one of {list(CALL_OUTCOMES)}")
    return str(value)


def _offer(value: object) -> str | None:
    return None if value is None else identifier("offer", value)


def _passed(value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgument(f"passed: {value!r} must be a bool")
    return value


def _size(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10_000:
        raise InvalidArgument(f"size: {value!r} must be an int from 1 to 10000")
    return value


def _month(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidArgument(f"month: {value!r} is not a YYYY-MM month")
    month_bounds(value, UTC)  # checks the form
    return value


def _seed(value: object) -> str:
    return identifier("seed", value)


@attrs.frozen(kw_only=True)
class RecordCareCall(_CustomerCommand):
    """Record how a care call went: its outcome, the caller's note, and optionally the
    follow-up offer (二次营销, a reward id) it leads to."""

    kind: ClassVar[str] = "record_care_call"
    action_id: str = attrs.field(converter=_care_action_id)
    outcome: str = attrs.field(converter=_outcome)
    note: str = attrs.field(default="", converter=_note)
    offer: str | None = attrs.field(default=None, converter=_offer)


@attrs.frozen(kw_only=True)
class SampleCareCalls(CommandValue):
    """Draw a month's quality-control sample of completed care calls."""

    kind: ClassVar[str] = "sample_care_calls"
    month: str = attrs.field(converter=_month)
    size: int = attrs.field(converter=_size)
    seed: str = attrs.field(converter=_seed)

    @property
    def owner(self) -> str:
        return CARE_QUALITY

    def locks(self) -> tuple[CustomerId, ...]:
        return ()


@attrs.frozen(kw_only=True)
class CheckCareCall(_CustomerCommand):
    """Record quality control's verdict on one sampled call."""

    kind: ClassVar[str] = "check_care_call"
    month: str = attrs.field(converter=_month)
    action_id: str = attrs.field(converter=_care_action_id)
    passed: bool = attrs.field(converter=_passed)
    note: str = attrs.field(default="", converter=_note)

    @property
    def owner(self) -> str:
        return CARE_QUALITY

    def locks(self) -> tuple[CustomerId, ...]:
        return (self.customer_id,)  # the verdict's note goes on the member's care record


@attrs.frozen(kw_only=True)
class Draw(CommandValue):
    """A seeded draw among a campaign's entries."""

    kind: ClassVar[str] = "draw"
    campaign_id: str = attrs.field(validator=_id("campaign_id"))
    winners: int
    seed: str | None = None
    entries: tuple[DrawEntry, ...] | None = attrs.field(default=None, converter=_entries)
    exclude_previous_winners: bool = False

    @property
    def owner(self) -> str:
        return f"campaign:{self.campaign_id}"

    def locks(self) -> tuple[CustomerId, ...]:
        return ()


@attrs.frozen(kw_only=True)
class PublishSurvey(CommandValue):
    """Publish a survey."""

    kind: ClassVar[str] = "publish_survey"
    survey: Survey = attrs.field(converter=_survey)

    @property
    def owner(self) -> str:
        return "survey:catalog"

    def locks(self) -> tuple[CustomerId, ...]:
        return ()


@attrs.frozen(kw_only=True)
class SubmitSurveyResponse(_CustomerCommand):
    """A member's answers to a survey."""

    kind: ClassVar[str] = "submit_survey_response"
    survey_id: str = attrs.field(validator=_id("survey_id"))
    answers: Mapping[str, object] = attrs.field(converter=_answers)
    channel: str = ""
    complaint_id: str | None = attrs.field(default=None, validator=_optional_id("complaint_id"))
    purchase_key: str | None = attrs.field(default=None, validator=_optional_id("purchase_key"))
    campaign: str | None = attrs.field(default=None, validator=_optional_id("campaign"))


# --- clubs and member events -------------------------------------------------------

CLUBS = "clubs"
"""The key space of the club catalogue."""


def _club(value: object) -> Club:
    if not isinstance(value, Club):
        raise InvalidArgument(f"club: {value!r} is not a loyaltykit Club")
    return value


def _member_event(value: object) -> MemberEvent:
    if not isinstance(value, MemberEvent):
        raise InvalidArgument(f"event: {value!r} is not a loyaltykit MemberEvent")
    return value


def _club_id(value: object) -> str:
    return identifier("club id", value)


def _event_id(value: object) -> str:
    return identifier("event id", value)


@attrs.frozen(kw_only=True)
class CreateClub(CommandValue):
    """Open an interest club (again: rename it)."""

    kind: ClassVar[str] = "create_club"
    club: Club = attrs.field(converter=_club)

    @property
    def owner(self) -> str:
        return CLUBS

    def locks(self) -> tuple[CustomerId, ...]:
        return ()


@attrs.frozen(kw_only=True)
class JoinClub(_CustomerCommand):
    """A member joins a club."""

    kind: ClassVar[str] = "join_club"
    club_id: str = attrs.field(converter=_club_id)


@attrs.frozen(kw_only=True)
class LeaveClub(_CustomerCommand):
    """A member leaves a club."""

    kind: ClassVar[str] = "leave_club"
    club_id: str = attrs.field(converter=_club_id)


@attrs.frozen(kw_only=True)
class CreateMemberEvent(CommandValue):
    """Announce a member event (its capacity, who is invited, what checking in earns)."""

    kind: ClassVar[str] = "create_member_event"
    event: MemberEvent = attrs.field(converter=_member_event)

    @property
    def owner(self) -> str:
        return derived_identifier("event", self.event.id)

    def locks(self) -> tuple[CustomerId, ...]:
        return ()


@attrs.frozen(kw_only=True)
class BookEvent(_CustomerCommand):
    """Book a seat at a member event, or a place on its waiting list."""

    kind: ClassVar[str] = "book_event"
    event_id: str = attrs.field(converter=_event_id)


@attrs.frozen(kw_only=True)
class CancelBooking(_CustomerCommand):
    """Give up a seat (the first who waits gets it) or a place on the waiting list."""

    kind: ClassVar[str] = "cancel_booking"
    event_id: str = attrs.field(converter=_event_id)


@attrs.frozen(kw_only=True)
class CheckInToEvent(_CustomerCommand):
    """A booked member arrives: their participation counts, and check-in points post."""

    kind: ClassVar[str] = "check_in_to_event"
    event_id: str = attrs.field(converter=_event_id)


# --- feedback beyond complaints: survey invitations, inquiries and suggestions --------

INQUIRIES = "inquiries"
"""The key space of inquiries and suggestions from no known member."""


def _trigger(value: object) -> SurveyTrigger:
    if not isinstance(value, SurveyTrigger):
        raise InvalidArgument(f"trigger: {value!r} is not a loyaltykit SurveyTrigger")
    return value


def _trigger_event(value: object) -> str:
    return identifier("event", value)


def _occasion(value: object) -> str:
    return identifier("reference", value)


def _invitation_id(value: object) -> str:
    return identifier("invitation id", value)


def _inquiry_id(value: object) -> str:
    return identifier("inquiry id", value)


def _intake_channel(value: object) -> str:
    return identifier("channel", value)


def _topic(value: object) -> str:
    return identifier("topic", value)


def _answer_text(value: object) -> str:
    text = _text("answer", value)
    if not text.strip() or len(text) > 5000:
        raise InvalidArgument("answer: a non-empty text of at most 5000 characters is needed")
    return text


@attrs.frozen(kw_only=True)
class SetSurveyTrigger(CommandValue):
    """Say which events invite members to a survey, and for how long."""

    kind: ClassVar[str] = "set_survey_trigger"
    trigger: SurveyTrigger = attrs.field(converter=_trigger)

    @property
    def owner(self) -> str:
        return "survey:catalog"

    def locks(self) -> tuple[CustomerId, ...]:
        return ()


@attrs.frozen(kw_only=True)
class InviteToSurveys(_CustomerCommand):
    """Invite a member to the surveys an event (``stay``, ``complaint_closed``) asks for."""

    kind: ClassVar[str] = "invite_to_surveys"
    event: str = attrs.field(converter=_trigger_event)
    reference: str = attrs.field(converter=_occasion)


@attrs.frozen(kw_only=True)
class AnswerSurveyInvitation(_CustomerCommand):
    """Answer a survey invitation within its window."""

    kind: ClassVar[str] = "answer_survey_invitation"
    invitation_id: str = attrs.field(converter=_invitation_id)
    answers: Mapping[str, object] = attrs.field(converter=_answers)
    channel: str = ""


@attrs.frozen(kw_only=True)
class TakeInquiry(CommandValue):
    """Register an inquiry or a suggestion (apart from complaints)."""

    kind: ClassVar[str] = "take_inquiry"
    inquiry_id: str = attrs.field(converter=_inquiry_id)
    inquiry_kind: str
    channel: str = attrs.field(converter=_intake_channel)
    topic: str = attrs.field(converter=_topic)
    content: str
    customer_id: CustomerId | None = attrs.field(default=None, converter=_optional_customer)

    @property
    def owner(self) -> str:
        return self.customer_id if self.customer_id is not None else INQUIRIES

    def locks(self) -> tuple[CustomerId, ...]:
        return () if self.customer_id is None else (self.customer_id,)


@attrs.frozen(kw_only=True)
class AnswerInquiry(CommandValue):
    """Answer an inquiry or a suggestion."""

    kind: ClassVar[str] = "answer_inquiry"
    inquiry_id: str = attrs.field(converter=_inquiry_id)
    answer: str = attrs.field(converter=_answer_text)

    @property
    def owner(self) -> str:
        raise AttributeError("an inquiry's owner is found in the transaction")

    def locks(self) -> tuple[CustomerId, ...]:
        return ()


@attrs.frozen(kw_only=True)
class FileComplaint(CommandValue):
    """Register a complaint."""

    kind: ClassVar[str] = "file_complaint"
    complaint_id: str = attrs.field(validator=_id("complaint_id"))
    channel: str
    category: str
    content: str
    actor: str
    role: Role | str = Role.CUSTOMER_SERVICE
    customer_id: CustomerId | None = attrs.field(default=None, converter=_optional_customer)
    contact: str | None = None
    subcategory: str = ""
    remedy_requested: str = ""
    priority: Priority | str = Priority.NORMAL

    @property
    def owner(self) -> str:
        return self.customer_id if self.customer_id is not None else ANONYMOUS

    def locks(self) -> tuple[CustomerId, ...]:
        return () if self.customer_id is None else (self.customer_id,)


@attrs.frozen(kw_only=True)
class ComplaintStep(CommandValue):
    """One step of a complaint's lifecycle (``transition`` names it)."""

    kind: ClassVar[str] = "complaint"
    complaint_id: str = attrs.field(validator=_id("complaint_id"))
    transition: str
    actor: str
    role: Role | str
    note: str = attrs.field(default="", converter=_note)
    severity: Severity | str | None = None
    priority: Priority | str | None = None
    category: str | None = None
    subcategory: str | None = None
    resolution: str | None = None
    goodwill_points: int = 0
    rewards: tuple[str, ...] = attrs.field(default=(), converter=_names)
    satisfaction: int | None = None

    @property
    def name(self) -> str:
        return f"complaint.{self.transition}"

    @property
    def owner(self) -> str:
        raise AttributeError("a complaint step's owner is the case's, found in the transaction")

    def locks(self) -> tuple[CustomerId, ...]:
        return ()


# --- member life (issue 17): consent, care messages ---------------------------------------


def _consent_state(value: object) -> ConsentState:
    if not isinstance(value, ConsentState):
        raise InvalidArgument(f"state: {value!r} is not a loyaltykit ConsentState")
    return value


def _channel(value: object) -> str:
    return identifier("channel", value)


def _optional_channel(value: object) -> str | None:
    return None if value is None else identifier("channel", value)


def _offers(value: object) -> tuple[str, ...]:
    return identifiers("offers", value)


def _action_id(value: object) -> str:
    return identifier("action_id", value)


def _body(value: object) -> str:
    return _text("body", value)


def _source(value: object) -> str:
    return _text("source", value)


def _store(value: object) -> str:
    return _text("store", value)


def _associate(value: object) -> str:
    return _text("associate", value)


@attrs.frozen(kw_only=True)
class ChangeConsent(_CustomerCommand):
    """Opt a member in to, or out of, a channel (or record their unsubscribing)."""

    kind: ClassVar[str] = "consent"
    channel: str = attrs.field(converter=_channel)
    state: ConsentState = attrs.field(converter=_consent_state)
    source: str = attrs.field(default="", converter=_source)


@attrs.frozen(kw_only=True)
class SendCareMessage(_CustomerCommand):
    """A care message an associate wrote for a care action, to go out as a notice."""

    kind: ClassVar[str] = "send_care_message"
    action_id: str = attrs.field(converter=_action_id)
    body: str = attrs.field(converter=_body)
    store: str = attrs.field(default="", converter=_store)
    associate: str = attrs.field(default="", converter=_associate)
    offers: tuple[str, ...] = attrs.field(default=(), converter=_offers)
    channel: str | None = attrs.field(default=None, converter=_optional_channel)


def _request_id(value: object) -> str:
    return identifier("request_id", value)


def _required_actor(value: object) -> str:
    found = _text("actor", value)
    if not found.strip():
        raise InvalidArgument("actor: an approval needs the name of who acts")
    return found


@attrs.frozen(kw_only=True)
class RequestAdjustment(_Audited):
    """Ask for a manual adjustment that a second person must approve."""

    kind: ClassVar[str] = "request_adjustment"
    request_id: str = attrs.field(converter=_request_id)
    points: Points = attrs.field(converter=_adjustment)
    point_type: str = attrs.field(default="points", converter=_point_type)

    def __attrs_post_init__(self) -> None:
        if not self.reason.strip() or not (self.actor or "").strip():
            raise InvalidArgument(
                f"request_adjustment needs a reason and an actor (got reason={self.reason!r}, "
                f"actor={self.actor!r})"
            )


@attrs.frozen(kw_only=True)
class DecideAdjustment(_CustomerCommand):
    """Approve (and post) or reject a requested adjustment."""

    kind: ClassVar[str] = "decide_adjustment"
    request_id: str = attrs.field(converter=_request_id)
    approve: bool
    actor: str = attrs.field(converter=_required_actor)
    note: str = attrs.field(default="", converter=_note)

    @property
    def name(self) -> str:
        return "approve_adjustment" if self.approve else "reject_adjustment"


def _household_id(value: object) -> str:
    return identifier("household_id", value)


@attrs.frozen(kw_only=True)
class CreateHousehold(_CustomerCommand):
    """Create a household with the member as its head."""

    kind: ClassVar[str] = "create_household"
    household_id: str = attrs.field(converter=_household_id)
    on_leave: str = "return"
    max_members: int = 6


@attrs.frozen(kw_only=True)
class JoinHousehold(_CustomerCommand):
    """A member joins a household."""

    kind: ClassVar[str] = "join_household"
    household_id: str = attrs.field(converter=_household_id)


@attrs.frozen(kw_only=True)
class LeaveHousehold(_CustomerCommand):
    """A member leaves their household."""

    kind: ClassVar[str] = "leave_household"
    household_id: str = attrs.field(converter=_household_id)


@attrs.frozen(kw_only=True)
class PoolPoints(_CustomerCommand):
    """A member moves points from their account into the household's pool."""

    kind: ClassVar[str] = "pool_points"
    household_id: str = attrs.field(converter=_household_id)
    points: Points = attrs.field(converter=_points)


@attrs.frozen(kw_only=True)
class RedeemHouseholdPoints(_CustomerCommand):
    """The head redeems points from the household's pool."""

    kind: ClassVar[str] = "redeem_household_points"
    household_id: str = attrs.field(converter=_household_id)
    points: Points = attrs.field(converter=_points)
    reason: str = attrs.field(default="", converter=_reason)


# --- stored value (gift cards, e-wallets) and member cards -----------------------------

STORED_VALUE = "stored-value"
"""The key space of gift cards issued to no member."""


def stored_value_owner(code: str) -> str:
    """The key space (and outbox partition) of one card's top-ups, payments, refunds."""
    return f"{STORED_VALUE}:{code}"


def _code(value: object) -> str:
    # a code typed in lower case, with dashes, O for 0: the same code, the same request
    return stored_value_code(value)


def _money(value: object) -> Money:
    if not isinstance(value, Money):
        raise InvalidAmount("amount", value, "Money (Money.of('50.00', 'CNY'))")
    return value


def _one_of(kind: type[E], what: str, value: object) -> E:
    try:
        return kind(value)
    except ValueError:
        raise InvalidArgument(
            f"{what}: {value!r} is not one of {[k.value for k in kind]}"
        ) from None


def _funding(value: object) -> Funding:
    return _one_of(Funding, "funding", value)


def _stored_value_kind(value: object) -> StoredValueKind:
    return _one_of(StoredValueKind, "kind", value)


def _reference(value: object) -> str | None:
    return None if value is None else identifier("reference", value)


def _partial(value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgument(f"partial: {value!r} is not True or False")
    return value


def _number(value: object) -> str:
    return card_number(value)


def _block_reason(value: object) -> BlockReason:
    return _one_of(BlockReason, "reason", value)


@attrs.frozen(kw_only=True)
class IssueStoredValue(CommandValue):
    """Issue a gift card or open a wallet; the key belongs to the holder, or to the
    shared stored-value space for a card issued to no member."""

    kind: ClassVar[str] = "issue_stored_value"
    card_kind: StoredValueKind = attrs.field(converter=_stored_value_kind)
    amount: Money = attrs.field(converter=_money)
    funding: Funding = attrs.field(default=Funding.SOLD, converter=_funding)
    holder: CustomerId | None = attrs.field(default=None, converter=_optional_customer)
    expires_at: datetime | None = attrs.field(default=None, converter=_expires_at)

    @property
    def owner(self) -> str:
        return self.holder if self.holder is not None else STORED_VALUE

    def locks(self) -> tuple[CustomerId, ...]:
        return () if self.holder is None else (self.holder,)

    def __attrs_post_init__(self) -> None:
        if self.card_kind is StoredValueKind.WALLET and self.holder is None:
            raise InvalidArgument("a wallet belongs to a member: give its holder")


@attrs.frozen(kw_only=True)
class _CardCommand(CommandValue):
    code: str = attrs.field(converter=_code)
    amount: Money = attrs.field(converter=_money)

    @property
    def owner(self) -> str:
        return stored_value_owner(self.code)

    def locks(self) -> tuple[CustomerId, ...]:
        return ()  # the card's own lock serialises its commands


@attrs.frozen(kw_only=True)
class TopUpStoredValue(_CardCommand):
    """Put money on a gift card or wallet."""

    kind: ClassVar[str] = "top_up"
    funding: Funding = attrs.field(default=Funding.SOLD, converter=_funding)
    reference: str | None = attrs.field(default=None, converter=_reference)


@attrs.frozen(kw_only=True)
class PayWithStoredValue(_CardCommand):
    """Pay with a gift card or wallet."""

    kind: ClassVar[str] = "pay_with_stored_value"
    reference: str | None = attrs.field(default=None, converter=_reference)
    partial: bool = attrs.field(default=False, converter=_partial)


@attrs.frozen(kw_only=True)
class RefundToStoredValue(_CardCommand):
    """Give money back to a gift card or wallet (a payment's, when ``payment`` names it)."""

    kind: ClassVar[str] = "refund_to_stored_value"
    payment: str | None = attrs.field(default=None, converter=_reference)


@attrs.frozen(kw_only=True)
class IssueCard(_CustomerCommand):
    """Issue a member card."""

    kind: ClassVar[str] = "issue_card"


@attrs.frozen(kw_only=True)
class _NumberedCardCommand(CommandValue):
    number: str = attrs.field(converter=_number)
    reason: BlockReason = attrs.field(converter=_block_reason)

    @property
    def owner(self) -> str:
        raise AttributeError("a card's owner is its member's, found in the transaction")

    def locks(self) -> tuple[CustomerId, ...]:
        return ()


@attrs.frozen(kw_only=True)
class BlockCard(_NumberedCardCommand):
    """Block a member card (lost, stolen...)."""

    kind: ClassVar[str] = "block_card"


@attrs.frozen(kw_only=True)
class ReplaceCard(_NumberedCardCommand):
    """Block a member card and issue its member a new number."""

    kind: ClassVar[str] = "replace_card"


# --- fingerprints ------------------------------------------------------------------------


@attrs.frozen
class _Shape:
    """What the fingerprint of one command class is made from: its fingerprinted
    fields, a getter of their values as one tuple, and the text the hash starts with."""

    names: tuple[str, ...]
    values: Callable[[CommandValue], tuple[Any, ...]]
    head: str


_SHAPES: dict[type[CommandValue], _Shape] = {}
_PLAIN = frozenset({str, int, bool, type(None)})  # canonical as they are: their text is repr


def _shape(command: CommandValue) -> _Shape:
    kind = type(command)
    found = _SHAPES.get(kind)
    if found is None:
        names = tuple(
            field.name for field in attrs.fields(kind) if not field.metadata.get(_UNFINGERPRINTED)
        )
        assert names[0] == "idempotency_key", names  # _parts keeps no part of the key
        several = attrgetter(*names)
        values = several if len(names) > 1 else lambda command: (several(command),)
        # repr((name, names, texts)) is what is hashed: its start is the same every time
        found = _SHAPES[kind] = _Shape(names, values, f"({command.name!r}, {names!r}, [")
    return found


# What a field's canonical text adds to a fingerprint: the text quoted (as the hashed
# text holds it) and its digest. Worked out once for the values commands repeat (their
# customer, point type, amount, '', None): short texts by text, strings by value; the
# key and long texts (an instant), new on almost every command, are never kept. The
# caches start again when full.
_Part = tuple[str, str]
_BY_TEXT: dict[str, _Part] = {}
_BY_STRING: dict[str, _Part] = {}
_MOST_KEPT = 4096
_LONGEST_KEPT = 24


def _parts(command: CommandValue, shape: _Shape) -> tuple[list[str], list[str]]:
    """The quoted canonical text and the digest of every fingerprinted field."""
    key, *values = shape.values(command)
    first = _part(repr(key))
    quoted, digests = [first[0]], [first[1]]
    by_text, by_string, plain = _BY_TEXT.get, _BY_STRING.get, _PLAIN
    for value in values:
        kind = type(value)
        if kind is str:
            part = by_string(value) or _string_part(value)
        else:
            if kind in plain:
                text = repr(value)
            elif kind is datetime and value.tzinfo is UTC:  # every instant a command holds
                text = repr(value.isoformat())  # canonical_text's, without its dispatch
            else:
                text = canonical_text(value)
            part = by_text(text) or _text_part(text)
        quoted.append(part[0])
        digests.append(part[1])
    return quoted, digests


def _part(text: str, crc32: Callable[[bytes], int] = zlib.crc32) -> _Part:
    # a byte of a checksum: enough to name the field that differs, cheap on every command
    return repr(text), "%02x" % (crc32(text.encode()) & 0xFF)


def _text_part(text: str) -> _Part:
    found = _part(text)
    if len(text) <= _LONGEST_KEPT:
        if len(_BY_TEXT) >= _MOST_KEPT:
            _BY_TEXT.clear()
        _BY_TEXT[text] = found
    return found


def _string_part(value: str) -> _Part:
    found = _part(repr(value))
    if len(value) <= _LONGEST_KEPT:
        if len(_BY_STRING) >= _MOST_KEPT:
            _BY_STRING.clear()
        _BY_STRING[value] = found
    return found


def fingerprint(command: CommandValue) -> str:
    """``"2:"``, a hash of the command's name and every field but ``at``, then one short
    digest per field, so that a conflict can say which field differs.

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 5, 1, tzinfo=timezone.utc)
    >>> one = EarnPoints(customer_id="c-1", points=10, at=at, idempotency_key="k")
    >>> fingerprint(one) == fingerprint(attrs.evolve(one, at=at.replace(hour=9)))
    True
    >>> fingerprint(one) == fingerprint(attrs.evolve(one, reason="other"))
    False
    """
    shape = _shape(command)
    quoted, digests = _parts(command, shape)
    # the hash of repr((name, names, texts)), that text written out part by part
    hashed = f"{shape.head}{', '.join(quoted)}])"
    whole = hashlib.sha256(hashed.encode()).hexdigest()[:32]
    return f"{FINGERPRINT_SCHEME}:{whole}{''.join(digests[:_DIGESTS])}"


def differing_fields(command: CommandValue, stored: str) -> tuple[str, ...]:
    """The fields of ``command`` whose digest differs from a stored fingerprint's (empty
    when the stored one is of an older scheme, or no digest tells)."""
    if not stored.startswith(f"{FINGERPRINT_SCHEME}:"):
        return ()
    held = stored[len(FINGERPRINT_SCHEME) + 1 + 32 :]
    shape = _shape(command)
    _, digests = _parts(command, shape)
    return tuple(
        name
        for n, (name, digest) in enumerate(zip(shape.names[:_DIGESTS], digests, strict=False))
        if held[2 * n : 2 * n + 2] != digest
    )
