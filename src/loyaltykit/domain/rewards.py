"""The reward catalogue: what members can spend their points on (回馈方式).

A :class:`Reward` says what a member gets (a gift, a coupon, a discount, a cash offset,
a privilege such as a lounge visit or an upgrade, an event ticket, a partner's reward),
what it costs in points (per tier if need be, optionally points plus money), how many
there are, how often one member or everyone together may take it per period, when it
can be redeemed, who may redeem it, and what it costs the company.

A :class:`RewardCatalog` holds the rewards with effective dates: a reward is added,
repriced or withdrawn from an instant, and :meth:`RewardCatalog.get` answers with the
version in force at the instant asked about. Everything here is pure and validated.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

import attrs
from dateutil.relativedelta import relativedelta

from loyaltykit.domain.basket import MoneyOff
from loyaltykit.domain.periods import PERIODS, period_key
from loyaltykit.errors import (
    CurrencyMismatch,
    InvalidAmount,
    InvalidArgument,
    OffsetRefused,
    RewardUnavailable,
    UnknownReward,
)
from loyaltykit.values import Money, Points, aware, identifier, sequence_of

__all__ = [
    "LIMIT_PERIODS",
    "CashOffset",
    "CatalogEntry",
    "Eligibility",
    "Offer",
    "Predicate",
    "Price",
    "RedemptionLimit",
    "Reward",
    "RewardCatalog",
    "RewardKind",
    "VoucherTerms",
    "period_key",
]

LIMIT_PERIODS = PERIODS
# Crockford-like: no 0/O, 1/I/L, so codes read aloud or typed from paper stay unambiguous
DEFAULT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


class RewardKind(enum.Enum):
    """What form a reward takes."""

    GIFT = "gift"  # a physical gift, delivered or picked up
    COUPON = "coupon"  # a coupon or voucher code
    DISCOUNT = "discount"  # money off a basket: its money_off, at checkout
    CASH_OFFSET = "cash_offset"  # points as payment (积分抵扣现金)
    PRIVILEGE = "privilege"  # a service: lounge visit, upgrade, priority purchase
    TICKET = "ticket"  # an event ticket
    PARTNER = "partner"  # supplied by a partner merchant (联盟商家)


@runtime_checkable
class Predicate(Protocol):
    """A compiled eligibility condition: the policy layer's condition language or a
    callable wrapped by :func:`loyaltykit.policy.rules.check` satisfies it."""

    @property
    def source(self) -> str: ...

    def evaluate(self, context: Mapping[str, Any]) -> bool: ...


def _predicate(value: object) -> Predicate | None:
    if value is None or isinstance(value, Predicate):
        return value
    raise InvalidArgument(
        f"eligibility condition: {value!r} is not compiled; pass "
        "loyaltykit.policy.rules.check(text or callable) or load the catalogue from a dict"
    )


def _positive(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidAmount(attribute.name, value, "a positive int")


def _non_negative(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidAmount(attribute.name, value, "an int of at least 0")


def _aware_or_none(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        aware(attribute.name, value)


def _codes(what: str, value: Iterable[str]) -> frozenset[str]:
    if isinstance(value, str):
        raise InvalidArgument(f"{what}: {value!r} is a string; pass a set like {{{value!r}}}")
    codes = frozenset(sequence_of(what, value, str))
    for code in codes:
        if not isinstance(code, str) or not code.strip():
            raise InvalidArgument(f"{what}: {code!r} is not a non-empty string")
    return codes


def _tiers(value: Iterable[str]) -> frozenset[str]:
    return _codes("tiers", value)


def _tags(value: Iterable[str]) -> frozenset[str]:
    return _codes("tags", value)


@attrs.frozen(kw_only=True)
class RedemptionLimit:
    """At most ``count`` units per ``period`` (day, week, month, year, lifetime), the
    periods counted in the program's time zone."""

    count: int = attrs.field(validator=_positive)
    period: str = attrs.field()

    @period.validator
    def _check_period(self, _attribute: Any, value: Any) -> None:
        if value not in LIMIT_PERIODS:
            raise InvalidArgument(f"limit period: {value!r} is not one of {list(LIMIT_PERIODS)}")


def _limits(value: Iterable[RedemptionLimit]) -> tuple[RedemptionLimit, ...]:
    limits = tuple(value)
    for limit in limits:
        if not isinstance(limit, RedemptionLimit):
            raise InvalidArgument(f"limits: {limit!r} is not a RedemptionLimit")
    periods = [limit.period for limit in limits]
    doubled = sorted({period for period in periods if periods.count(period) > 1})
    if doubled:
        raise InvalidArgument(f"limits: periods {doubled} have more than one limit")
    return limits


@attrs.frozen(kw_only=True)
class Price:
    """What one unit costs: ``points``, plus ``money`` paid at the till when the reward
    is sold for points plus money (e.g. 2,000 points + 99 CNY)."""

    points: Points = attrs.field(validator=_non_negative)
    money: Money | None = None

    def __attrs_post_init__(self) -> None:
        if self.money is not None and (not isinstance(self.money, Money) or self.money.amount <= 0):
            raise InvalidAmount("price money", self.money, "a positive Money amount or None")

    def times(self, quantity: int) -> Price:
        """The price of ``quantity`` units."""
        return Price(
            points=self.points * quantity,
            money=None if self.money is None else self.money * quantity,
        )


def _price(value: object) -> Price:
    if isinstance(value, Price):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Price(points=value)
    raise InvalidArgument(f"price: {value!r} is neither a Price nor an int number of points")


def _tier_prices(
    value: Mapping[str, object] | Iterable[tuple[str, object]],
) -> tuple[tuple[str, Price], ...]:
    pairs = value.items() if isinstance(value, Mapping) else tuple(value)  # or the frozen form
    return tuple(sorted(((str(code), _price(price)) for code, price in pairs), key=_first))


def _first(pair: tuple[str, Price]) -> str:
    return pair[0]


@attrs.frozen(kw_only=True)
class Eligibility:
    """Who may redeem: members of one of ``tiers`` (any tier when empty), with at least
    one of ``tags`` (no tag needed when empty), for whom ``condition`` holds.

    The condition sees the same variables as earning rules (``customer``, ``at``...)
    and an ``event`` of type ``"redeem"`` whose attributes are ``reward`` and
    ``quantity``. Evaluating it is the policy layer's job.
    """

    tiers: frozenset[str] = attrs.field(default=frozenset(), converter=_tiers)
    tags: frozenset[str] = attrs.field(default=frozenset(), converter=_tags)
    condition: Predicate | None = attrs.field(default=None, converter=_predicate)

    @property
    def is_open(self) -> bool:
        """True when every member may redeem."""
        return not self.tiers and not self.tags and self.condition is None


@attrs.frozen(kw_only=True)
class VoucherTerms:
    """How a coupon reward's codes are made and how long they last.

    Codes are ``length`` characters drawn from ``alphabet`` by a source of randomness
    the service injects (``secrets`` in production); ``uses`` is how many times one
    code may be used; a code is valid from its issue for ``valid_for`` (a
    ``relativedelta``), or until ``valid_until``, whichever ends first; ``value`` is
    what the voucher is worth at the till, when it has a face value; ``money_off``
    (a :class:`~loyaltykit.domain.basket.MoneyOff`: an amount or a percent, a scope of
    lines, a minimum spend, a maximum) is what it takes off a basket at
    :meth:`~loyaltykit.Loyalty.checkout` (a voucher with a ``value`` and no ``money_off``
    takes its value off the whole basket). Codes are issued
    and looked up in upper case without separators
    (:func:`~loyaltykit.domain.redemptions.voucher_code`), so ``abcd-efgh`` finds
    ``ABCDEFGH``; the alphabet's symbols must stay distinct once case is ignored.
    """

    alphabet: str = attrs.field(default=DEFAULT_ALPHABET)
    length: int = attrs.field(default=12)
    uses: int = attrs.field(default=1, validator=_positive)
    valid_for: relativedelta | None = attrs.field(default=None)
    valid_until: datetime | None = attrs.field(default=None, validator=_aware_or_none)
    value: Money | None = None
    money_off: MoneyOff | None = attrs.field(default=None)

    @money_off.validator
    def _check_money_off(self, _attribute: Any, value: Any) -> None:
        if value is not None and not isinstance(value, MoneyOff):
            raise InvalidArgument(f"voucher money_off: {value!r} is not a MoneyOff")

    def discount(self) -> MoneyOff | None:
        """What a voucher of these terms takes off a basket, if anything."""
        if self.money_off is not None:
            return self.money_off
        return None if self.value is None else MoneyOff(amount=self.value)

    @alphabet.validator
    def _check_alphabet(self, _attribute: Any, value: Any) -> None:
        # codes are compared in upper case (see redemptions.voucher_code): "a" and "A"
        # are one symbol, so the alphabet must be distinct once case is ignored
        folded = value.upper() if isinstance(value, str) else ""
        if len(set(folded)) < 16 or len(set(folded)) != len(folded):
            raise InvalidArgument(
                f"voucher alphabet: {value!r} must be at least 16 distinct characters "
                "(upper and lower case count as one)"
            )
        if not all(ch.isascii() and ch.isalnum() for ch in value):
            raise InvalidArgument(f"voucher alphabet: {value!r} must be ASCII letters and digits")

    @length.validator
    def _check_length(self, _attribute: Any, value: Any) -> None:
        # 16 symbols ** 8 = 2**32: below that a code can be guessed by brute force
        if isinstance(value, bool) or not isinstance(value, int) or not 8 <= value <= 64:
            raise InvalidAmount("voucher length", value, "an int from 8 to 64")

    @valid_for.validator
    def _check_valid_for(self, _attribute: Any, value: Any) -> None:
        if value is not None and not isinstance(value, relativedelta):
            raise InvalidArgument(f"voucher valid_for: {value!r} is not a relativedelta")

    def code(self, choose: Callable[[Sequence[str]], str]) -> str:
        """A new code: ``length`` characters picked by ``choose`` (e.g. ``secrets.choice``)."""
        return "".join(choose(self.alphabet) for _ in range(self.length))

    def expiry(self, issued_at: datetime) -> datetime | None:
        """When a code issued at ``issued_at`` stops being valid (``None``: never)."""
        ends = [] if self.valid_until is None else [self.valid_until]
        if self.valid_for is not None:
            ends.append(issued_at + self.valid_for)
        return min(ends) if ends else None


def _share(value: object) -> Decimal:
    if isinstance(value, bool | float) or not isinstance(value, Decimal | int | str):
        raise InvalidAmount("max_share", value, "a Decimal or string in (0, 1], e.g. '0.5'")
    try:
        share = Decimal(str(value))
    except ArithmeticError:
        raise InvalidAmount("max_share", value, "a Decimal or string in (0, 1]") from None
    if not share.is_finite() or not 0 < share <= 1:
        raise InvalidAmount("max_share", value, "a share greater than 0 and at most 1")
    return share


@attrs.frozen(kw_only=True)
class CashOffset:
    """Points as payment (积分抵扣现金): each point is worth ``rate`` (ERPNext's
    conversion factor), points may pay at most ``max_share`` of a bill, in multiples of
    ``step`` points, at least ``minimum`` points at a time.

    >>> offset = CashOffset(rate=Money.of("0.01", "CNY"), max_share="0.5")
    >>> offset.quote(3000, Money.of("100", "CNY"))
    Money(amount=Decimal('30.00'), currency='CNY')
    >>> offset.max_points(Money.of("100", "CNY"))
    5000
    """

    rate: Money
    max_share: Decimal = attrs.field(default=Decimal(1), converter=_share)
    minimum: Points = attrs.field(default=1, validator=_positive)
    step: Points = attrs.field(default=1, validator=_positive)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.rate, Money) or self.rate.amount <= 0:
            raise InvalidAmount("offset rate", self.rate, "a positive Money value of one point")

    def _rate_in(self, bill: Money) -> Money:
        if bill.currency != self.rate.currency:
            raise CurrencyMismatch(self.rate.currency, bill.currency)
        return self.rate

    def ceiling(self, bill: Money) -> Money:
        """The most that points may pay of ``bill``: ``max_share`` of it."""
        return Money.of(bill.amount * self.max_share, bill.currency)

    def max_points(self, bill: Money) -> Points:
        """The most points that may be used on ``bill`` (a multiple of ``step``)."""
        units = int(self.ceiling(bill).amount // self._rate_in(bill).amount)
        return units - units % self.step

    def quote(self, points: Points, bill: Money) -> Money:
        """The exact money ``points`` pay off ``bill``; raises :class:`OffsetRefused`
        when the points exceed the bill or the share, or break the minimum or step."""
        if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
            raise InvalidAmount("points", points, "a positive int")
        if not isinstance(bill, Money) or bill.amount <= 0:
            raise InvalidAmount("bill", bill, "a positive Money amount")
        if points < self.minimum:
            raise OffsetRefused(f"{points} points are below the minimum of {self.minimum}")
        if points % self.step:
            raise OffsetRefused(f"{points} points are not a multiple of {self.step}")
        value = self._rate_in(bill) * points
        if value > bill:
            raise OffsetRefused(f"{points} points are worth {value}, more than the bill {bill}")
        ceiling = self.ceiling(bill)
        if value > ceiling:
            raise OffsetRefused(
                f"{points} points are worth {value}, more than {self.max_share.normalize():f} "
                f"of the bill ({ceiling})"
            )
        return value


def _kind(value: object) -> RewardKind:
    try:
        return RewardKind(value)
    except ValueError:
        raise InvalidArgument(
            f"reward kind: {value!r} is not one of {[k.value for k in RewardKind]}"
        ) from None


def _money_or_none(what: str) -> Callable[[Any, Any, Any], None]:
    def check(_instance: Any, _attribute: Any, value: Any) -> None:
        if value is not None and (not isinstance(value, Money) or value.amount < 0):
            raise InvalidAmount(what, value, "a Money amount of at least 0, or None")

    return check


@attrs.frozen(kw_only=True)
class Reward:
    """One item of the catalogue.

    >>> mug = Reward(id="mug", kind="gift", name="Mug", price=500, stock=100,
    ...              member_limits=(RedemptionLimit(count=1, period="month"),))
    >>> mug.price_for("gold").points, mug.stock
    (500, 100)

    ``price`` is the price of one unit, ``tier_prices`` overrides it for members of a
    tier. ``stock`` is how many units exist in total (``None``: unlimited).
    ``member_limits`` cap what one member takes per period, ``global_limits`` what all
    members take together. The reward can be redeemed from ``available_from`` (a flash
    redemption's start instant) until before ``available_until``. ``cost`` is what one
    unit costs the company (for liability and budget reports), ``partner`` the merchant
    who supplies it. ``voucher`` (coupons) says how codes are issued; ``offset`` (cash
    offsets) how points pay a bill; ``money_off`` (discounts) what the reward takes off a
    basket when the member uses it at :meth:`~loyaltykit.Loyalty.checkout`.
    ``claim_within`` (a ``relativedelta``) is how long a reserved redemption waits to be
    picked up or delivered before :meth:`~loyaltykit.Loyalty.release_unclaimed` cancels it.
    """

    id: str = attrs.field(validator=lambda _i, _a, v: identifier("reward id", v))
    kind: RewardKind = attrs.field(converter=_kind)
    name: str = ""
    description: str = ""
    price: Price = attrs.field(default=Price(points=0), converter=_price)
    tier_prices: tuple[tuple[str, Price], ...] = attrs.field(default=(), converter=_tier_prices)
    point_type: str = "points"
    stock: int | None = attrs.field(default=None)
    member_limits: tuple[RedemptionLimit, ...] = attrs.field(default=(), converter=_limits)
    global_limits: tuple[RedemptionLimit, ...] = attrs.field(default=(), converter=_limits)
    available_from: datetime | None = attrs.field(default=None, validator=_aware_or_none)
    available_until: datetime | None = attrs.field(default=None, validator=_aware_or_none)
    eligibility: Eligibility = attrs.field(factory=Eligibility)
    partner: str | None = None
    cost: Money | None = attrs.field(default=None, validator=_money_or_none("cost"))
    voucher: VoucherTerms | None = None
    offset: CashOffset | None = None
    claim_within: relativedelta | None = attrs.field(default=None)
    money_off: MoneyOff | None = attrs.field(default=None)

    @claim_within.validator
    def _check_claim_within(self, _attribute: Any, value: Any) -> None:
        if value is not None and not isinstance(value, relativedelta):
            raise InvalidArgument(f"claim_within: {value!r} is not a relativedelta")

    @stock.validator
    def _check_stock(self, _attribute: Any, value: Any) -> None:
        if value is not None:
            _non_negative(self, _attribute, value)

    def __attrs_post_init__(self) -> None:
        if (
            self.available_from is not None
            and self.available_until is not None
            and self.available_until <= self.available_from
        ):
            raise InvalidArgument(
                f"reward {self.id}: available_until {self.available_until.isoformat()} is not "
                f"after available_from {self.available_from.isoformat()}"
            )
        if self.partner is not None:
            identifier("partner", self.partner)
        if (self.kind is RewardKind.COUPON) != (self.voucher is not None):
            raise InvalidArgument(
                f"reward {self.id}: a coupon needs voucher terms and only a coupon has them "
                f"(kind {self.kind.value!r}, voucher {self.voucher!r})"
            )
        if (self.kind is RewardKind.CASH_OFFSET) != (self.offset is not None):
            raise InvalidArgument(
                f"reward {self.id}: a cash offset needs offset terms and only a cash offset "
                f"has them (kind {self.kind.value!r})"
            )
        if self.money_off is not None and (
            self.kind is not RewardKind.DISCOUNT or not isinstance(self.money_off, MoneyOff)
        ):
            raise InvalidArgument(
                f"reward {self.id}: only a discount takes money off a basket "
                f"(kind {self.kind.value!r}, money_off {self.money_off!r})"
            )
        codes = [code for code, _ in self.tier_prices]
        if len(set(codes)) != len(codes):
            raise InvalidArgument(f"reward {self.id}: tier_prices name a tier twice: {codes}")

    def price_for(self, tier: str | None) -> Price:
        """The price of one unit for a member of ``tier``."""
        return dict(self.tier_prices).get(tier or "", self.price)

    def unavailable(self, at: datetime) -> str | None:
        """Why the reward cannot be redeemed at ``at`` (``None`` when it can)."""
        if self.available_from is not None and at < self.available_from:
            return f"opens at {self.available_from.isoformat()}"
        if self.available_until is not None and at >= self.available_until:
            return f"ended at {self.available_until.isoformat()}"
        return None


@attrs.frozen(kw_only=True)
class Offer:
    """A reward as one member sees it at an instant: the price of one unit for their
    tier, the stock left (``None``: unlimited) and why they cannot redeem it now
    (``refusal``; ``None`` when they can)."""

    reward: Reward
    price: Price
    stock_left: int | None
    refusal: str | None = None

    @property
    def redeemable(self) -> bool:
        """True when the member could redeem one unit now."""
        return self.refusal is None


@attrs.frozen(kw_only=True)
class CatalogEntry:
    """A reward version in force from ``valid_from`` (``None``: from the start);
    ``reward=None`` withdraws the reward ``reward_id`` from that instant."""

    reward_id: str = attrs.field(validator=lambda _i, _a, v: identifier("reward id", v))
    valid_from: datetime | None = attrs.field(default=None, validator=_aware_or_none)
    reward: Reward | None = None

    def __attrs_post_init__(self) -> None:
        if self.reward is not None and self.reward.id != self.reward_id:
            raise InvalidArgument(
                f"catalog entry {self.reward_id!r} holds reward {self.reward.id!r}"
            )

    def _order(self) -> tuple[bool, datetime | None]:
        return (self.valid_from is not None, self.valid_from)


def _entries(value: Iterable[CatalogEntry]) -> tuple[CatalogEntry, ...]:
    entries = sequence_of("catalog entries", value, CatalogEntry)
    seen: set[tuple[str, datetime | None]] = set()
    for entry in entries:
        if not isinstance(entry, CatalogEntry):
            raise InvalidArgument(f"catalog: {entry!r} is not a CatalogEntry")
        key = (entry.reward_id, entry.valid_from)
        if key in seen:
            when = "the start" if entry.valid_from is None else entry.valid_from.isoformat()
            raise InvalidArgument(f"catalog: reward {entry.reward_id!r} changes twice at {when}")
        seen.add(key)
    return tuple(sorted(entries, key=lambda e: (e.reward_id, *e._order())))


@attrs.frozen
class RewardCatalog:
    """Rewards with effective-dated changes.

    >>> from datetime import datetime, timezone
    >>> june = datetime(2026, 6, 1, tzinfo=timezone.utc)
    >>> mug = Reward(id="mug", kind="gift", price=500)
    >>> catalog = RewardCatalog.of(mug).change(Reward(id="mug", kind="gift", price=400), at=june)
    >>> catalog.get("mug", june).price.points
    400
    >>> catalog.withdraw("mug", at=datetime(2026, 9, 1, tzinfo=timezone.utc)).offered(
    ...     datetime(2026, 10, 1, tzinfo=timezone.utc))
    ()
    """

    entries: tuple[CatalogEntry, ...] = attrs.field(default=(), converter=_entries)

    @classmethod
    def of(cls, *rewards: Reward) -> RewardCatalog:
        """A catalogue of ``rewards``, each in force from the start."""
        return cls(tuple(CatalogEntry(reward_id=r.id, reward=r) for r in rewards))

    @property
    def ids(self) -> tuple[str, ...]:
        """Every reward id the catalogue has ever held, sorted."""
        return tuple(sorted({entry.reward_id for entry in self.entries}))

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, reward: Reward, *, at: datetime | None = None) -> RewardCatalog:
        """The catalogue with ``reward`` added from ``at`` (from the start if ``None``)."""
        if reward.id in self.ids:
            raise InvalidArgument(f"catalog: reward {reward.id!r} exists; use change()")
        return self.change(reward, at=at)

    def change(self, reward: Reward, *, at: datetime | None = None) -> RewardCatalog:
        """The catalogue with a new version of ``reward`` (repriced, restocked...) from ``at``."""
        entry = CatalogEntry(reward_id=reward.id, valid_from=at, reward=reward)
        return RewardCatalog((*self.entries, entry))

    def withdraw(self, reward_id: str, *, at: datetime) -> RewardCatalog:
        """The catalogue without ``reward_id`` from ``at``."""
        if reward_id not in self.ids:
            raise UnknownReward(reward_id)
        return RewardCatalog((*self.entries, CatalogEntry(reward_id=reward_id, valid_from=at)))

    def history(self, reward_id: str) -> tuple[CatalogEntry, ...]:
        """The versions of ``reward_id``, oldest first."""
        return tuple(entry for entry in self.entries if entry.reward_id == reward_id)

    def _current(self, reward_id: str, at: datetime) -> CatalogEntry | None:
        chosen = None
        for entry in self.history(reward_id):
            if entry.valid_from is None or entry.valid_from <= at:
                chosen = entry
        return chosen

    def get(self, reward_id: str, at: datetime) -> Reward:
        """The version of ``reward_id`` in force at ``at``.

        Raises :class:`UnknownReward` for an id the catalogue never held, and
        :class:`RewardUnavailable` before it was added or after it was withdrawn.
        """
        aware("at", at)
        history = self.history(reward_id)
        if not history:
            raise UnknownReward(reward_id)
        entry = self._current(reward_id, at)
        if entry is None:
            first = history[0].valid_from
            assert first is not None
            raise RewardUnavailable(reward_id, f"is offered from {first.isoformat()}")
        if entry.reward is None:
            assert entry.valid_from is not None
            raise RewardUnavailable(reward_id, f"was withdrawn at {entry.valid_from.isoformat()}")
        return entry.reward

    def check_references(self, *, point_types: Iterable[str], tiers: Iterable[str] | None) -> None:
        """Raise :class:`InvalidArgument` when a reward names a point type or a tier the
        program does not declare (``tiers=None``: the program has no tiers)."""
        declared = set(point_types)
        ladder = set() if tiers is None else set(tiers)
        for entry in self.entries:
            reward = entry.reward
            if reward is None:
                continue
            if reward.point_type not in declared:
                raise InvalidArgument(
                    f"rewards[{reward.id}].point_type: {reward.point_type!r} is not declared "
                    f"(point types: {sorted(declared)})"
                )
            named = reward.eligibility.tiers | {code for code, _ in reward.tier_prices}
            unknown = sorted(named - ladder)
            if unknown:
                raise InvalidArgument(
                    f"rewards[{reward.id}]: tiers {unknown} are not in the program's tiers "
                    f"({sorted(ladder)})"
                )

    def offered(self, at: datetime) -> tuple[Reward, ...]:
        """The rewards in the catalogue at ``at`` (open for redemption or not yet), by id."""
        aware("at", at)
        found = (self._current(reward_id, at) for reward_id in self.ids)
        return tuple(entry.reward for entry in found if entry is not None and entry.reward)
