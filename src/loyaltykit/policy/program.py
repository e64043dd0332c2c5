"""The Program: the rules of a loyalty programme, as data.

This first version declares the point types and the ledger policies (refunds, the
default expiry of earned points). Tiers, earning rules, caps and campaigns join it
as the policy engine grows; a program built today stays valid then.
"""

from __future__ import annotations

import re
from typing import Any

import attrs
from dateutil.relativedelta import relativedelta

from loyaltykit.domain.ledger import RefundPolicy
from loyaltykit.errors import InvalidArgument, UnknownPointType

__all__ = ["PointType", "Program", "RefundPolicy"]

_CODE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


def _code(_instance: Any, _attribute: Any, value: Any) -> None:
    if not isinstance(value, str) or not _CODE.match(value):
        raise InvalidArgument(
            f"point type code {value!r} must be 1-32 lowercase letters, digits, _ or -, "
            "starting with a letter"
        )


@attrs.frozen(kw_only=True)
class PointType:
    """A kind of points the programme keeps an account for.

    ``redeemable`` points can be spent; tier-qualifying points usually are not.
    ``transferable`` points can be given to another member. ``expire_after`` is the
    default lifetime of an earned lot (a ``dateutil.relativedelta``), ``None`` for
    points that never expire unless the earning command says so.
    """

    code: str = attrs.field(validator=_code)
    name: str = ""
    redeemable: bool = True
    transferable: bool = True
    expire_after: relativedelta | None = None


def _point_types(value: tuple[PointType, ...]) -> tuple[PointType, ...]:
    value = tuple(value)
    if not value:
        raise InvalidArgument("point_types: a program needs at least one point type")
    codes = [point_type.code for point_type in value]
    duplicates = sorted({code for code in codes if codes.count(code) > 1})
    if duplicates:
        raise InvalidArgument(f"point_types: codes {duplicates} are declared more than once")
    return value


@attrs.frozen(kw_only=True)
class Program:
    """A loyalty programme's rules.

    >>> program = Program(name="retail")
    >>> [point_type.code for point_type in program.point_types]
    ['points', 'tier']
    """

    name: str = "default"
    point_types: tuple[PointType, ...] = attrs.field(
        default=(
            PointType(code="points", name="Points"),
            PointType(code="tier", name="Tier credits", redeemable=False, transferable=False),
        ),
        converter=_point_types,
    )
    refund_policy: RefundPolicy = RefundPolicy.TAKE_AVAILABLE

    def point_type(self, code: str) -> PointType:
        """The declared point type ``code``; raises :class:`UnknownPointType`."""
        for point_type in self.point_types:
            if point_type.code == code:
                return point_type
        raise UnknownPointType(code, tuple(p.code for p in self.point_types))
