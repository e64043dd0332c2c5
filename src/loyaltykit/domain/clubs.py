"""Interest clubs (客户俱乐部): a car club, a device club, that members join.

A :class:`Club` segments members by interest as well as by points: its members are its
own audience (an event open to a club's members only, a list to invite from).
"""

from __future__ import annotations

from typing import Any

import attrs

from loyaltykit.errors import InvalidArgument
from loyaltykit.values import identifier

__all__ = ["Club"]


def _name(_instance: Any, _attribute: Any, value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument(f"club name: {value!r} must be a non-empty text")


@attrs.frozen(kw_only=True)
class Club:
    """An interest club members join (``id`` names it in stored records)."""

    id: str = attrs.field(validator=lambda _i, _a, v: identifier("club id", v))
    name: str = attrs.field(validator=_name)
