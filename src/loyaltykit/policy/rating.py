"""Exclusions from tier rating: accounts that take no part in it (staff cards, public or
corporate test lines, in the telecom source), by a rule in the programme.

An excluded member is never upgraded (by an event, a metric, a referral or the relative
ranking) and takes no place in the relative ranking's top percent; the engine's trace
says why. They keep earning and spending like anyone else. A member excluded after they
were rated keeps the status they had until it ends.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from loyaltykit.domain.customer import Customer
from loyaltykit.errors import InvalidArgument, shown
from loyaltykit.values import frozen_texts, sequence_of

__all__ = ["RatingExclusions"]


def _prefixes(value: Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidArgument(f"rating exclusions: id_prefixes {shown(value)} is not a list")
    found = sequence_of("rating exclusions: id_prefixes", value, str)
    if any(not isinstance(p, str) or not p for p in found):
        raise InvalidArgument(f"rating exclusions: id_prefixes {list(found)} has an empty one")
    return found


def _tags(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        raise InvalidArgument(f"rating exclusions: tags {value!r} is a string, not a set")
    return frozen_texts(value)


@attrs.frozen(kw_only=True)
class RatingExclusions:
    """Members who take no part in tier rating: those with any of the profile ``tags``
    (``{"staff", "test-line"}``) or whose id starts with one of ``id_prefixes``
    (``("staff-", "test-")``: an id rule still holds after an erasure takes the tags).

    >>> from datetime import datetime, timezone
    >>> from loyaltykit import Customer, Profile
    >>> rule = RatingExclusions(tags={"staff"}, id_prefixes=["test-"])
    >>> at = datetime(2026, 5, 1, tzinfo=timezone.utc)
    >>> rule.excludes(Customer(id="test-7", enrolled_at=at))
    "id starts with 'test-'"
    >>> rule.excludes(Customer(id="c-1", enrolled_at=at, profile=Profile(tags={"vip"}))) is None
    True
    """

    tags: frozenset[str] = attrs.field(default=frozenset(), converter=_tags)
    id_prefixes: tuple[str, ...] = attrs.field(default=(), converter=_prefixes)

    def excludes(self, customer: Customer) -> str | None:
        """Why ``customer`` takes no part in tier rating, or ``None`` when they do."""
        tagged = sorted(self.tags & customer.profile.tags)
        if tagged:
            return f"tagged {tagged[0]!r}"
        prefix = next((p for p in self.id_prefixes if customer.id.startswith(p)), None)
        if prefix is not None:
            return f"id starts with {prefix!r}"
        return None
