"""The Program: the rules of a loyalty programme, as data.

A :class:`Program` declares point types, earning rules, caps, the refund policy, the
rounding and the time zone. Build one in Python or load it from TOML, JSON or a dict
(:mod:`loyaltykit.formats.programs`). Programs change over time: :class:`ProgramVersions`
holds effective-dated versions, and each event is evaluated under the version in force
at its instant.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_UP
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
from dateutil.relativedelta import relativedelta

from loyaltykit.domain.approvals import Approvals
from loyaltykit.domain.care import CareConfig
from loyaltykit.domain.complaints import ComplaintPolicy
from loyaltykit.domain.ledger import RefundPolicy
from loyaltykit.domain.notices import NoticeRules
from loyaltykit.domain.partners import Partner
from loyaltykit.domain.points_sale import PointsSale
from loyaltykit.domain.rewards import RewardCatalog
from loyaltykit.domain.tiers import TierLadder
from loyaltykit.errors import InvalidArgument, UnknownPartner, UnknownPointType
from loyaltykit.policy.campaigns import Campaign, checked_campaigns
from loyaltykit.policy.promises import Promises
from loyaltykit.policy.rating import RatingExclusions
from loyaltykit.policy.rules import Cap, EarningRule
from loyaltykit.policy.velocity import Velocity
from loyaltykit.values import Money, aware, distinct_by_id, instance_of, label, sequence_of, utc

__all__ = [
    "PointType",
    "Program",
    "ProgramFormat",
    "ProgramVersion",
    "ProgramVersions",
    "RefundPolicy",
    "install_format",
]

ROUNDINGS = (ROUND_DOWN, ROUND_HALF_UP, ROUND_HALF_EVEN, ROUND_UP, ROUND_FLOOR, ROUND_CEILING)

_CODE = re.compile(r"[a-z][a-z0-9_-]{0,31}")


def _code(_instance: Any, _attribute: Any, value: Any) -> None:
    if not isinstance(value, str) or not _CODE.fullmatch(value):
        raise InvalidArgument(
            f"point type code {value!r} must be 1-32 lowercase letters, digits, _ or -, "
            "starting with a letter"
        )


def _of(what: str, kind: type[Any]) -> Any:
    return lambda _i, _a, value: instance_of(what, value, kind)


def _optional(what: str, kind: type[Any]) -> Any:
    return lambda _i, _a, value: value is None or instance_of(what, value, kind)


def _label(what: str) -> Any:
    return lambda _i, _a, value: label(what, value)


def _currency(_instance: Any, _attribute: Any, value: Any) -> None:
    Money.zero(value)  # an ISO 4217 code, or InvalidCurrency


@attrs.frozen(kw_only=True)
class PointType:
    """A kind of points the programme keeps an account for.

    ``redeemable`` points can be spent; tier-qualifying points usually are not.
    ``transferable`` points can be given to another member. ``expire_after`` is the
    default lifetime of an earned lot (a ``dateutil.relativedelta``), ``None`` for
    points that never expire unless the earning command says so.
    """

    code: str = attrs.field(validator=_code)
    name: str = attrs.field(default="", validator=_label("point type name"))
    redeemable: bool = attrs.field(default=True, validator=_of("redeemable", bool))
    transferable: bool = attrs.field(default=True, validator=_of("transferable", bool))
    expire_after: relativedelta | None = attrs.field(
        default=None, validator=_optional("expire_after", relativedelta)
    )


def _point_types(value: tuple[PointType, ...]) -> tuple[PointType, ...]:
    value = sequence_of("point_types", value, PointType)
    if not value:
        raise InvalidArgument("point_types: a program needs at least one point type")
    codes = [point_type.code for point_type in value]
    duplicates = sorted({code for code in codes if codes.count(code) > 1})
    if duplicates:
        raise InvalidArgument(f"point_types: codes {duplicates} are declared more than once")
    return value


# typed converters (not converter=tuple), so mypy sees Program(rules=...) take iterables
def _rules(value: Iterable[EarningRule]) -> tuple[EarningRule, ...]:
    return sequence_of("rules", value, EarningRule)


def _caps(value: Iterable[Cap]) -> tuple[Cap, ...]:
    return sequence_of("caps", value, Cap)


def _campaigns(value: Iterable[Campaign]) -> tuple[Campaign, ...]:
    return sequence_of("campaigns", value, Campaign)


def _partners(value: Iterable[Partner]) -> tuple[Partner, ...]:
    return distinct_by_id("partners", value, Partner)


def _clock_skew(_instance: Any, _attribute: Any, value: Any) -> None:
    if not isinstance(value, timedelta) or value < timedelta(0):
        raise InvalidArgument(f"clock_skew: {value!r} is not a timedelta of zero or more")


@attrs.frozen(kw_only=True)
class Program:
    """A loyalty programme's rules, and the :class:`Promises` it makes about them.

    >>> program = Program(name="retail")
    >>> [point_type.code for point_type in program.point_types]
    ['points', 'tier']
    """

    name: str = attrs.field(default="default", validator=_label("name"))
    version: str = attrs.field(default="1", validator=_label("version"))
    timezone: str = attrs.field(default="UTC")
    currency: str = attrs.field(default="CNY", validator=_currency)
    rounding: str = attrs.field(default=ROUND_DOWN)
    point_types: tuple[PointType, ...] = attrs.field(
        default=(
            PointType(code="points", name="Points"),
            PointType(code="tier", name="Tier credits", redeemable=False, transferable=False),
        ),
        converter=_point_types,
    )
    refund_policy: RefundPolicy = attrs.field(
        default=RefundPolicy.TAKE_AVAILABLE, validator=_of("refund_policy", RefundPolicy)
    )
    clock_skew: timedelta = attrs.field(default=timedelta(0), validator=_clock_skew)
    """How far before an account's latest entry a command may be dated and still be
    accepted (it then takes effect at that entry's instant); further back it is refused
    with ``OutOfOrder``. Zero by default: see ``docs/concepts/ledger.md``."""
    pending_for: relativedelta | None = attrs.field(
        default=None, validator=_optional("pending_for", relativedelta)
    )
    rules: tuple[EarningRule, ...] = attrs.field(default=(), converter=_rules)
    caps: tuple[Cap, ...] = attrs.field(default=(), converter=_caps)
    tiers: TierLadder | None = attrs.field(default=None, validator=_optional("tiers", TierLadder))
    qualifying_points: str = attrs.field(default="tier", validator=_code)
    campaigns: tuple[Campaign, ...] = attrs.field(default=(), converter=_campaigns)
    care: CareConfig | None = attrs.field(default=None, validator=_optional("care", CareConfig))
    complaints: ComplaintPolicy = attrs.field(
        factory=ComplaintPolicy, validator=_of("complaints", ComplaintPolicy)
    )
    catalog: RewardCatalog = attrs.field(
        factory=RewardCatalog, validator=_of("catalog", RewardCatalog)
    )
    promises: Promises = attrs.field(factory=Promises, validator=_of("promises", Promises))
    notices: NoticeRules = attrs.field(factory=NoticeRules, validator=_of("notices", NoticeRules))
    """The notices the programme gives members (milestones, tiers): see
    ``docs/concepts/notices.md``."""
    velocity: Velocity = attrs.field(factory=Velocity, validator=_of("velocity", Velocity))
    """Abuse limits: earns, transfers, redemptions per member per hour or day."""
    approvals: Approvals = attrs.field(factory=Approvals, validator=_of("approvals", Approvals))
    """Which manual adjustments need a second person's approval."""
    rating_exclusions: RatingExclusions = attrs.field(
        factory=RatingExclusions, validator=_of("rating_exclusions", RatingExclusions)
    )
    """Accounts that take no part in tier rating (staff cards, test lines)."""
    points_sale: PointsSale | None = None
    """Members may buy points at this price (``Loyalty.buy_points``); ``None``: they may not."""
    partners: tuple[Partner, ...] = attrs.field(default=(), converter=_partners)
    """The coalition's partner merchants and their agreements: see
    ``docs/concepts/coalition.md``."""
    _ordered: tuple[EarningRule, ...] = attrs.field(init=False, repr=False, eq=False, default=())

    @timezone.validator
    def _check_timezone(self, _attribute: Any, value: Any) -> None:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):  # OSError: a long name
            raise InvalidArgument(f"timezone: {value!r} is not an IANA time zone") from None

    @rounding.validator
    def _check_rounding(self, _attribute: Any, value: Any) -> None:
        if value not in ROUNDINGS:
            raise InvalidArgument(f"rounding: {value!r} is not one of {list(ROUNDINGS)}")

    def __attrs_post_init__(self) -> None:
        codes = {point_type.code for point_type in self.point_types}
        for kind, items in (
            ("rules", [(rule.id, rule.point_type) for rule in self.rules]),
            ("caps", [(cap.id, cap.point_type) for cap in self.caps]),
        ):
            ids = [item_id for item_id, _ in items]
            duplicates = sorted({i for i in ids if ids.count(i) > 1})
            if duplicates:
                raise InvalidArgument(f"{kind}: ids {duplicates} are used more than once")
            for index, (_, point_type) in enumerate(items):
                if point_type not in codes:
                    raise InvalidArgument(
                        f"{kind}[{index}].point_type: {point_type!r} is not declared "
                        f"(point types: {sorted(codes)})"
                    )
        unknown = self.promises.unknown_rules(rule.id for rule in self.rules)
        if unknown:
            raise InvalidArgument(f"promises.exclusive: rules {unknown} are not in the program")
        ladder = None if self.tiers is None else [tier.code for tier in self.tiers.tiers]
        checked_campaigns(self.campaigns, codes, ladder)
        self.catalog.check_references(point_types=codes, tiers=ladder)
        self._check_notices(codes, ladder)
        self._check_partners(codes)
        ordered = sorted(enumerate(self.rules), key=lambda pair: (pair[1].priority, pair[0]))
        object.__setattr__(self, "_ordered", tuple(rule for _, rule in ordered))

    def _check_notices(self, codes: set[str], ladder: list[str] | None) -> None:
        milestones = self.notices.milestones
        if milestones is not None and milestones.point_type not in (None, *codes):
            raise InvalidArgument(
                f"notices.milestones.point_type: {milestones.point_type!r} is not declared "
                f"(point types: {sorted(codes)})"
            )
        if self.notices.tier_reached and ladder is None:
            raise InvalidArgument("notices.tier_reached: the programme has no tiers")

    def _check_partners(self, codes: set[str]) -> None:
        partners = {partner.id: partner for partner in self.partners}
        declared = {campaign.id for campaign in self.campaigns}
        funders: dict[str, str] = {}
        for partner in self.partners:
            if partner.point_type not in codes:
                raise InvalidArgument(
                    f"partners[{partner.id}].point_type: {partner.point_type!r} is not declared "
                    f"(point types: {sorted(codes)})"
                )
            for campaign in partner.campaigns:
                if campaign not in declared:
                    raise InvalidArgument(
                        f"partners[{partner.id}].campaigns: {campaign!r} is not declared "
                        f"(campaigns: {sorted(declared)})"
                    )
                if campaign in funders:
                    raise InvalidArgument(
                        f"partners[{partner.id}].campaigns: {campaign!r} is funded by "
                        f"{funders[campaign]!r} already"
                    )
                funders[campaign] = partner.id
        if not partners:
            return  # a catalogue may name a supplier without a coalition agreement
        for entry in self.catalog.entries:
            reward = entry.reward
            if reward is None or reward.partner is None:
                continue
            supplier = partners.get(reward.partner)
            if supplier is None:
                raise InvalidArgument(
                    f"rewards[{reward.id}].partner: {reward.partner!r} is not declared "
                    f"(partners: {sorted(partners)})"
                )
            if reward.cost is None or reward.cost.currency != supplier.currency:
                raise InvalidArgument(
                    f"rewards[{reward.id}].cost: a partner's reward needs the cost the "
                    f"programme pays {supplier.id!r} per unit, in {supplier.currency}"
                )

    def partner(self, partner_id: str) -> Partner:
        """The declared partner with this id; raises ``UnknownPartner``."""
        for partner in self.partners:
            if partner.id == partner_id:
                return partner
        raise UnknownPartner(str(partner_id), tuple(p.id for p in self.partners))

    @property
    def zone(self) -> ZoneInfo:
        """The program's time zone (ZoneInfo caches instances, so this is cheap)."""
        return ZoneInfo(self.timezone)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Program:
        """Load a program from its dict form, reporting every problem at once."""
        return _installed().from_dict(data)

    @classmethod
    def from_toml(cls, path: str | Path) -> Program:
        """Load a program from a TOML file."""
        return _installed().from_toml(path)

    @classmethod
    def from_json(cls, text: str) -> Program:
        """Load a program from a JSON document."""
        return _installed().from_json(text)

    def to_dict(self) -> dict[str, Any]:
        """The dict form (TOML/JSON-ready) that :meth:`from_dict` reads back equal."""
        return _installed().to_dict(self)

    @property
    def main_point_type(self) -> str:
        """The point type a command reports when it touched no account: ``points`` when
        the programme declares it (the facade's default), else the first declared."""
        codes = [point_type.code for point_type in self.point_types]
        return "points" if "points" in codes else codes[0]

    def rules_for(self, event_type: str) -> tuple[EarningRule, ...]:
        """The rules reacting to ``event_type``, in evaluation order (priority, then
        declaration order)."""
        return tuple(rule for rule in self._ordered if rule.event == event_type)

    def point_type(self, code: str) -> PointType:
        """The declared point type ``code``; raises :class:`UnknownPointType`."""
        for point_type in self.point_types:
            if point_type.code == code:
                return point_type
        raise UnknownPointType(code, tuple(p.code for p in self.point_types))


@attrs.frozen(kw_only=True)
class ProgramFormat:
    """How programs are read from and written to documents: the seam through which
    :meth:`Program.from_dict` and the other named constructors reach the loader.

    The loader lives above the policy layer (:mod:`loyaltykit.formats.programs`, which
    builds programs and so must import this module); it installs itself here when it is
    imported, and ``loyaltykit.Program`` is exported from it, so the public name always
    has it installed.
    """

    from_dict: Callable[[Mapping[str, Any]], Program]
    from_toml: Callable[[str | Path], Program]
    from_json: Callable[[str], Program]
    to_dict: Callable[[Program], dict[str, Any]]


_FORMATS: list[ProgramFormat] = []


def install_format(program_format: ProgramFormat) -> None:
    """Make ``program_format`` the one :class:`Program`'s named constructors use."""
    _FORMATS[:] = [program_format]


def _installed() -> ProgramFormat:
    if not _FORMATS:
        raise RuntimeError(
            "no programme format is installed: use loyaltykit.Program, or import "
            "loyaltykit.formats.programs, before loading a program"
        )
    return _FORMATS[0]


@attrs.frozen(kw_only=True)
class ProgramVersion:
    """A program and the instant from which it is in force."""

    valid_from: datetime = attrs.field(
        converter=utc, validator=lambda _i, _a, v: aware("valid_from", v)
    )
    program: Program = attrs.field(validator=_of("program", Program))


def _versions(value: Sequence[ProgramVersion]) -> tuple[ProgramVersion, ...]:
    found = sequence_of("versions", value, ProgramVersion)
    versions = tuple(sorted(found, key=lambda version: version.valid_from))
    if not versions:
        raise InvalidArgument("versions: at least one program version is needed")
    starts = [version.valid_from for version in versions]
    if len(set(starts)) != len(starts):
        raise InvalidArgument("versions: two versions start at the same instant")
    return versions


@attrs.frozen
class ProgramVersions:
    """Effective-dated versions of a program; :meth:`at` picks the one in force."""

    versions: tuple[ProgramVersion, ...] = attrs.field(converter=_versions)

    def at(self, at: datetime) -> Program:
        """The program in force at ``at`` (the first version before its start date)."""
        aware("at", at)
        chosen = self.versions[0].program
        for version in self.versions:
            if version.valid_from <= at:
                chosen = version.program
        return chosen

    @property
    def latest(self) -> Program:
        """The newest version."""
        return self.versions[-1].program
