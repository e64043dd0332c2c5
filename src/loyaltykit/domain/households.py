"""Households: family members pool points into one balance that the head may redeem.

A :class:`Household` has a head (who created it and alone may redeem its points) and
members who contribute. Each member's contribution is tracked: what they ``pooled`` in
total and what is ``left`` of it; a redemption takes from every contribution in
proportion to what is left of it (largest remainders, so the parts are whole points and
add up). What happens to a member's points when they leave is the household's
``on_leave`` rule: ``"return"`` gives back what is left of their contribution,
``"keep"`` leaves it in the pool. The balance is always what was pooled minus what was
redeemed and returned: :attr:`Household.balance` is the sum of what is left.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from loyaltykit.errors import HouseholdRefused, InvalidArgument
from loyaltykit.values import CustomerId, identifier

__all__ = ["HOUSEHOLD_LEAVE_RULES", "Household", "shares"]

HOUSEHOLD_LEAVE_RULES = ("return", "keep")


def _on_leave(_instance: Any, _attribute: Any, value: Any) -> None:
    if value not in HOUSEHOLD_LEAVE_RULES:
        raise InvalidArgument(f"on_leave: {value!r} is not one of {list(HOUSEHOLD_LEAVE_RULES)}")


def _max_members(_instance: Any, _attribute: Any, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
        raise InvalidArgument(f"max_members: {value!r} is not an int from 1 to 100")


def shares(left: Mapping[str, int], points: int) -> dict[str, int]:
    """``points`` taken from contributions in proportion to what is ``left`` of each, in
    whole points (largest remainders; ties by member id). Every part is at most what is
    left and the parts add up to ``points`` (which must not exceed the total).

    >>> shares({"ann": 300, "bob": 100}, 100)
    {'ann': 75, 'bob': 25}
    >>> shares({"ann": 1, "bob": 1, "cy": 1}, 2)
    {'ann': 1, 'bob': 1, 'cy': 0}
    """
    total = sum(left.values())
    if points < 0 or points > total:
        raise ValueError(f"shares: {points} is not between 0 and {total}")
    if points == 0:
        return dict.fromkeys(left, 0)
    floor = {member: amount * points // total for member, amount in left.items()}
    remainder = points - sum(floor.values())
    order = sorted(left, key=lambda m: (-(left[m] * points % total), m))
    for member in order[:remainder]:
        floor[member] += 1
    return floor


@attrs.frozen(kw_only=True)
class Household:
    """A household and its pool (see the module's text). ``members`` maps each member
    (the head included) to when they joined; ``pooled`` and ``left`` map every member who
    ever contributed to what they pooled in total and what is left of it."""

    id: str = attrs.field(validator=lambda _i, _a, v: identifier("household_id", v))
    head: CustomerId
    created_at: datetime
    on_leave: str = attrs.field(default="return", validator=_on_leave)
    max_members: int = attrs.field(default=6, validator=_max_members)
    members: Mapping[CustomerId, datetime] = attrs.field(factory=dict)
    pooled: Mapping[CustomerId, int] = attrs.field(factory=dict)
    left: Mapping[CustomerId, int] = attrs.field(factory=dict)
    redeemed: int = 0
    returned: int = 0
    closed_at: datetime | None = None

    @property
    def balance(self) -> int:
        """The points in the pool."""
        return sum(self.left.values())

    def _refuse(self, reason: str) -> HouseholdRefused:
        return HouseholdRefused(self.id, reason)

    def _open(self) -> None:
        if self.closed_at is not None:
            raise self._refuse("it is closed")

    def joined(self, member: CustomerId, at: datetime) -> Household:
        """The household with one more member."""
        self._open()
        if member in self.members:
            raise self._refuse(f"{member!r} is a member already")
        if len(self.members) >= self.max_members:
            raise self._refuse(f"it is full ({self.max_members} members)")
        return attrs.evolve(self, members={**self.members, member: at})

    def contributed(self, member: CustomerId, points: int) -> Household:
        """The household after ``member`` pooled ``points``."""
        self._open()
        if member not in self.members:
            raise self._refuse(f"{member!r} is not a member")
        return attrs.evolve(
            self,
            pooled={**self.pooled, member: self.pooled.get(member, 0) + points},
            left={**self.left, member: self.left.get(member, 0) + points},
        )

    def spent(self, actor: CustomerId, points: int) -> tuple[Household, dict[str, int]]:
        """The household after its head redeemed ``points``, and what each contribution
        gave."""
        self._open()
        if actor != self.head:
            raise self._refuse(f"only the head ({self.head!r}) may redeem, not {actor!r}")
        if points > self.balance:
            raise self._refuse(f"{points} points asked, {self.balance} in the pool")
        taken = shares(self.left, points)
        left = {member: self.left[member] - taken[member] for member in self.left}
        return attrs.evolve(self, left=left, redeemed=self.redeemed + points), taken

    def without(self, member: CustomerId, at: datetime) -> tuple[Household, int]:
        """The household after ``member`` left, and the points given back to them (by
        ``on_leave``). The head leaves last, closing the household and taking back what
        is left of the whole pool."""
        self._open()
        if member not in self.members:
            raise self._refuse(f"{member!r} is not a member")
        members = {m: since for m, since in self.members.items() if m != member}
        if member == self.head:
            if members:
                raise self._refuse("the head leaves last (the others leave first)")
            back = self.balance
            left = dict.fromkeys(self.left, 0)
            closed: datetime | None = at
        else:
            back = self.left.get(member, 0) if self.on_leave == "return" else 0
            left = {**self.left, member: self.left.get(member, 0) - back}
            closed = None
        household = attrs.evolve(
            self, members=members, left=left, returned=self.returned + back, closed_at=closed
        )
        return household, back
