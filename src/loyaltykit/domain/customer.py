"""Customers: who they are, how they may be contacted, and where they stand.

A :class:`Customer` is the member of the programme. Its :class:`Profile` holds the
personal data (客户信息: basic info, preferences, tags); closing an account keeps the
ledger, and :meth:`Customer.erase` removes personal data while the ledger, which
holds no personal data, stays consistent.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import attrs

from loyaltykit.errors import AccountNotActive, InvalidArgument
from loyaltykit.values import (
    MAX_TAGS,
    CustomerId,
    Metadata,
    aware,
    frozen_metadata,
    identifier,
    label,
    utc,
)

__all__ = ["Customer", "CustomerStatus", "Profile"]


class CustomerStatus(enum.Enum):
    """Where a membership stands.

    ``active`` members can do everything; ``suspended`` members keep earning but cannot
    redeem or transfer (a fraud hold); ``closed`` members can neither earn nor spend,
    and their ledger is kept.
    """

    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"


def _tags(value: Iterable[str]) -> frozenset[str]:
    if isinstance(value, str):
        raise InvalidArgument(f"tags: {value!r} is a string; pass a set of tags like {{'vip'}}")
    if not isinstance(value, Iterable):
        raise InvalidArgument(f"tags: {value!r} is not a set of tags like {{'vip'}}")
    try:
        tags = frozenset(value)
    except TypeError:  # an unhashable member
        raise InvalidArgument(f"tags: {value!r} holds something that is not a tag") from None
    if len(tags) > MAX_TAGS:
        raise InvalidArgument(f"tags: {len(tags)} tags, at most {MAX_TAGS} are allowed")
    for tag in tags:
        if not isinstance(tag, str) or not tag.strip():
            raise InvalidArgument(f"tags: {tag!r} is not a non-empty string")
        label("tag", tag, max_len=_TAG_LENGTH)
    return tags


_TAG_LENGTH = 64


def _optional_text(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not isinstance(value, str):
        raise InvalidArgument(f"profile.{attribute.name}: {value!r} is not a string")
    if value is not None:
        label(f"profile.{attribute.name}", value)


def _birthday(_instance: Any, _attribute: Any, value: Any) -> None:
    if value is not None and (not isinstance(value, date) or isinstance(value, datetime)):
        raise InvalidArgument(f"profile.birthday: {value!r} is not a datetime.date")


@attrs.frozen(kw_only=True)
class Profile:
    """Personal data and preferences of a customer (客户画像).

    The personal fields (name, gender, birthday, e-mail, phone) are left out of ``repr``,
    so a log line or a traceback that shows a profile never shows them.

    >>> Profile(name="Li Wei", tags={"family", "likes-fashion"}).tags == {"family", "likes-fashion"}
    True
    """

    name: str | None = attrs.field(default=None, validator=_optional_text, repr=False)
    gender: str | None = attrs.field(default=None, validator=_optional_text, repr=False)
    birthday: date | None = attrs.field(default=None, validator=_birthday, repr=False)
    email: str | None = attrs.field(default=None, validator=_optional_text, repr=False)
    phone: str | None = attrs.field(default=None, validator=_optional_text, repr=False)
    preferred_channel: str | None = attrs.field(default=None, validator=_optional_text)
    tags: frozenset[str] = attrs.field(default=frozenset(), converter=_tags)
    attributes: Metadata = attrs.field(default=(), converter=frozen_metadata)

    def attribute(self, key: str, default: Any = None) -> Any:
        """The free attribute ``key``, or ``default``."""
        return dict(self.attributes).get(key, default)


def _customer_id(_instance: Any, _attribute: Any, value: Any) -> None:
    identifier("customer id", value)


def _aware(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        aware(attribute.name, value)


@attrs.frozen(kw_only=True)
class Customer:
    """A member of the loyalty programme.

    Change one with the methods below; each returns a new ``Customer`` and refuses
    transitions the status does not allow.
    """

    id: CustomerId = attrs.field(validator=_customer_id)
    enrolled_at: datetime = attrs.field(converter=utc, validator=_aware)
    status: CustomerStatus = CustomerStatus.ACTIVE
    profile: Profile = attrs.field(factory=Profile)
    referred_by: CustomerId | None = attrs.field(default=None)
    erased_at: datetime | None = attrs.field(default=None, converter=utc, validator=_aware)

    @referred_by.validator
    def _check_referrer(self, _attribute: Any, value: Any) -> None:
        if value is None:
            return
        identifier("referred_by", value)
        if value == self.id:
            raise InvalidArgument(f"referred_by: customer {value!r} cannot refer themselves")

    @property
    def is_erased(self) -> bool:
        """True once personal data has been removed."""
        return self.erased_at is not None

    def require(self, command: str, *, allowed: frozenset[CustomerStatus]) -> None:
        """Raise :class:`AccountNotActive` unless the status is in ``allowed``."""
        if self.status not in allowed:
            raise AccountNotActive(self.id, self.status.value, command)

    def with_profile(self, profile: Profile) -> Customer:
        """The customer with a new profile; refused once closed or erased."""
        self.require("update_profile", allowed=OPEN_STATUSES)
        if self.is_erased:
            raise AccountNotActive(self.id, "erased", "update_profile")
        return attrs.evolve(self, profile=profile)

    def suspended(self) -> Customer:
        """The customer on hold: earning continues, redeeming and transfers stop."""
        self.require("suspend", allowed=OPEN_STATUSES)
        return attrs.evolve(self, status=CustomerStatus.SUSPENDED)

    def reactivated(self) -> Customer:
        """The customer active again after a suspension."""
        self.require("reactivate", allowed=OPEN_STATUSES)
        return attrs.evolve(self, status=CustomerStatus.ACTIVE)

    def closed(self) -> Customer:
        """The customer with the membership closed; the ledger is kept."""
        self.require("close", allowed=OPEN_STATUSES)
        return attrs.evolve(self, status=CustomerStatus.CLOSED)

    def erased(self, at: datetime) -> Customer:
        """The customer with every personal datum removed (right to erasure).

        The id, the status, the enrolment time and the referral link stay: they are not
        personal data and the ledger and referral history need them.
        """
        aware("at", at)
        return attrs.evolve(self, profile=Profile(), erased_at=self.erased_at or at)


OPEN_STATUSES = frozenset({CustomerStatus.ACTIVE, CustomerStatus.SUSPENDED})
EARNING_STATUSES = OPEN_STATUSES
SPENDING_STATUSES = frozenset({CustomerStatus.ACTIVE})
