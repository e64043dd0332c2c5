"""Notices: what the programme tells a member, as data (the library sends nothing).

A :class:`NoticeRules` (the programme's ``notices``) declares which notices exist: balance
milestones (:class:`Milestones`, "you have reached 1,000 points"), a tier reached, and the
channel each one goes out on. The service records a :class:`Notice` (a template key and
its data) in the unit of work of the command that caused it; a relay hands pending
notices to the caller's sender, which renders the template and delivers it.

A milestone fires once per crossing: a member who reaches 1,000 gets its notice once,
however many purchases follow above it, and again only after falling below 1,000 and
reaching it anew. :func:`cross` is that rule, pure.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

import attrs

from loyaltykit.domain.care_messages import ContentRules
from loyaltykit.errors import InvalidArgument
from loyaltykit.values import CustomerId, identifier, mapping_of, sequence_of

__all__ = [
    "CARE_MESSAGE",
    "MILESTONE",
    "POINTS_EXPIRING",
    "TIER_AT_RISK",
    "TIER_REACHED",
    "DeliveryReport",
    "Milestones",
    "Notice",
    "NoticeRules",
    "NoticeSender",
    "NoticeStatus",
    "ReminderLine",
    "Reminders",
    "cross",
]

MILESTONE = "balance.milestone"
"""The template key of a balance milestone notice (data: ``threshold``, ``balance``,
``point_type``)."""
TIER_REACHED = "tier.reached"
"""The template key of a tier reached (data: ``tier``, ``from_tier``)."""
TIER_AT_RISK = "tier.at_risk"
"""The template key of a tier about to be lost (data: ``tier``, ``until``, ``to_keep``)."""
CARE_MESSAGE = "care.message"
"""The template key of a care message (data: ``action_id``, ``kind``, ``text``,
``store``, ``associate``, ``offers``)."""
POINTS_EXPIRING = "points.expiring"
"""The template key of points about to expire (data: ``points``, ``point_type``,
``until``)."""

_NOTIFY = ("highest", "each")


def _thresholds(value: Iterable[int]) -> tuple[int, ...]:
    found = sequence_of("milestones.thresholds", value, int)
    for threshold in found:
        if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold <= 0:
            raise InvalidArgument(
                f"milestones.thresholds: {threshold!r} is not a positive number of points"
            )
    if not found:
        raise InvalidArgument("milestones.thresholds: declare at least one threshold")
    if len(set(found)) != len(found):
        raise InvalidArgument(f"milestones.thresholds: {list(found)} repeats a threshold")
    return tuple(sorted(found))


def _notify(_instance: Any, _attribute: Any, value: Any) -> None:
    if value not in _NOTIFY:
        raise InvalidArgument(f"milestones.notify: {value!r} is not one of {list(_NOTIFY)}")


def _optional_code(what: str) -> Any:
    def check(_instance: Any, _attribute: Any, value: Any) -> None:
        if value is not None:
            identifier(what, value)

    return check


def _channel(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    identifier(f"notices.{attribute.name}", value)


@attrs.frozen(kw_only=True)
class Milestones:
    """Balance thresholds a member is told about when their available balance reaches one.

    ``notify`` says what one command that crosses several thresholds gives: ``"highest"``
    (the default) the highest one's notice only, ``"each"`` one notice per threshold.
    ``point_type`` is the account watched (the programme's main point type when
    ``None``).

    >>> Milestones(thresholds=[5000, 1000]).thresholds
    (1000, 5000)
    """

    thresholds: tuple[int, ...] = attrs.field(converter=_thresholds)
    notify: str = attrs.field(default="highest", validator=_notify)
    point_type: str | None = attrs.field(
        default=None, validator=_optional_code("milestones.point_type")
    )


def _channels(value: Mapping[str, str] | Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    pairs = (
        tuple(mapping_of("notices.channels", value, str).items())
        if isinstance(value, Mapping)
        else sequence_of("notices.channels", value, tuple)
    )
    if any(len(pair) != 2 for pair in pairs):
        raise InvalidArgument("notices.channels: pairs of (template, channel)")
    found = tuple(sorted((str(template), str(channel)) for template, channel in pairs))
    for template, channel in found:
        identifier("notices.channels template", template)
        identifier(f"notices.channels[{template!r}]", channel)
    return found


@attrs.frozen(kw_only=True)
class NoticeRules:
    """The notices a programme gives, and the channel each goes out on.

    ``channel`` is the default channel (``"push"``); ``channels`` maps a template key to
    another one (``{"points.expiring": "sms"}``). ``milestones`` are the balance
    milestones; ``tier_reached`` tells a member who reaches a higher tier; ``content``
    the rules care messages keep.

    >>> rules = NoticeRules(
    ...     milestones=Milestones(thresholds=[1000]), channels={"tier.reached": "sms"}
    ... )
    >>> rules.channel_of("tier.reached"), rules.channel_of("balance.milestone")
    ('sms', 'push')
    """

    channel: str = attrs.field(default="push", validator=_channel)
    channels: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_channels)
    milestones: Milestones | None = None
    tier_reached: bool = False
    content: ContentRules = attrs.field(factory=ContentRules)
    """The content rules care messages are checked against (``send_care_message``)."""

    @property
    def watching(self) -> bool:
        """Whether any notice follows commands (so the service looks after each one)."""
        return self.milestones is not None or self.tier_reached

    def channel_of(self, template: str) -> str:
        """The channel a notice of ``template`` goes out on."""
        return dict(self.channels).get(template, self.channel)


class NoticeStatus(enum.Enum):
    """Where a notice is: ``pending`` (waiting for the relay), ``delivered`` (the sender
    took it), ``withheld`` (not delivered, for the recorded reason: no consent)."""

    PENDING = "pending"
    DELIVERED = "delivered"
    WITHHELD = "withheld"


@attrs.frozen(kw_only=True)
class Notice:
    """One notice to one member: a ``template`` key and the ``data`` it is rendered with.

    ``id`` is unique per member. ``at`` is the instant of the command that caused it;
    ``settled_at`` when it was delivered or withheld, and ``reason`` why it was withheld.
    ``data`` is plain JSON-compatible data (points, tier codes, instants as text).
    """

    customer_id: CustomerId
    id: str
    template: str
    channel: str
    at: datetime
    data: Mapping[str, Any] = attrs.field(factory=dict)
    status: NoticeStatus = NoticeStatus.PENDING
    settled_at: datetime | None = None
    reason: str = ""

    def delivered(self, at: datetime) -> Notice:
        """The notice as delivered at ``at``."""
        return attrs.evolve(self, status=NoticeStatus.DELIVERED, settled_at=at)

    def withheld(self, at: datetime, reason: str) -> Notice:
        """The notice as not delivered at ``at``, for ``reason``."""
        return attrs.evolve(self, status=NoticeStatus.WITHHELD, settled_at=at, reason=reason)


class NoticeSender(Protocol):
    """What delivers notices: the service implements it (render ``notice.template`` with
    ``notice.data``, send it on ``notice.channel``); loyaltykit sends nothing itself.
    Raising leaves the notice pending for the next relay run (delivery is at least once:
    use ``notice.customer_id`` and ``notice.id`` to drop a duplicate)."""

    def send(self, notice: Notice) -> None:
        """Deliver one notice."""
        ...


@attrs.frozen(kw_only=True)
class DeliveryReport:
    """What one relay run did: notices ``delivered`` to the sender, and ``withheld``
    (not delivered, their reason recorded on each)."""

    delivered: int = 0
    withheld: int = 0


@attrs.frozen(kw_only=True)
class ReminderLine:
    """One line of a reminder run: a member, and what the line is about (``points`` of
    ``point_type`` that expire by ``until``; for a tier reminder ``tier`` and its end)."""

    customer_id: CustomerId
    until: datetime
    points: int = 0
    point_type: str = ""
    tier: str | None = None
    notice: str | None = None
    """The id of the member's notice (the same on a re-run with the same key)."""


@attrs.frozen(kw_only=True)
class Reminders:
    """A reminder run's listing, in member order, and how many notices it recorded
    anew (a re-run with the same key records none)."""

    template: str
    at: datetime
    until: datetime
    lines: tuple[ReminderLine, ...] = ()
    recorded: int = 0


def cross(
    milestones: Milestones, reached: Iterable[int], balances: Sequence[int]
) -> tuple[tuple[int, ...], frozenset[int]]:
    """The thresholds one command's balances cross, and the thresholds reached after it.

    ``reached`` are the thresholds the member had reached and not fallen below since;
    ``balances`` are the available balance before the command and after each of its
    ledger entries, in order. A threshold is crossed when a balance reaches it while it
    is not reached; a balance below it makes it not reached again. Returns the
    thresholds to notify (by ``milestones.notify``: every crossing, or the highest
    threshold crossed) and the new reached set.

    >>> rules = Milestones(thresholds=[1000, 2000])
    >>> cross(rules, [], [900, 2100])
    ((2000,), frozenset({1000, 2000}))
    >>> cross(rules, [1000, 2000], [2100, 2500])
    ((), frozenset({1000, 2000}))
    >>> cross(rules, [1000], [1200, 700, 1100])
    ((1000,), frozenset({1000}))
    """
    state = {t for t in reached if t in milestones.thresholds}
    crossed: list[int] = []
    for balance in balances:
        state = {t for t in state if t <= balance}
        for threshold in milestones.thresholds:
            if threshold <= balance and threshold not in state:
                state.add(threshold)
                crossed.append(threshold)
    if milestones.notify == "highest" and crossed:
        crossed = [max(crossed)]
    return tuple(crossed), frozenset(state)
