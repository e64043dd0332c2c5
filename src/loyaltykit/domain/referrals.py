"""Referral programmes (推荐奖励): which referral links are refused, and the leaderboard.

A member may not refer themselves: not under the same id, and not under a second
account with the same phone or e-mail. A link may not close a cycle (A refers B refers
A), which would let two accounts farm each other's rewards.

A refund of the referred purchase takes the referrer's reward back
(:func:`referral_claw_back`): in proportion while what is left of the purchase still
qualifies, whole once it no longer does.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import attrs

from loyaltykit.domain.customer import Customer
from loyaltykit.values import CustomerId, Money

__all__ = ["LeaderboardLine", "referral_claw_back", "referral_refusal"]


def _same(first: str | None, second: str | None) -> bool:
    return (
        bool(first) and bool(second) and str(first).strip().lower() == str(second).strip().lower()
    )


def referral_refusal(
    customer: Customer, referrer: Customer, upline: Sequence[CustomerId]
) -> tuple[str, str] | None:
    """Why ``referrer`` may not refer ``customer`` as ``(reason, detail)``, or ``None``.

    ``upline`` is the referrer's chain of referrers (who referred them, who referred
    that member, and so on). Reasons: ``self`` (the same id, phone or e-mail) and
    ``cycle`` (the customer is in the referrer's upline).
    """
    if referrer.id == customer.id:
        return "self", "a member cannot refer themselves"
    for field in ("phone", "email"):
        if _same(getattr(customer.profile, field), getattr(referrer.profile, field)):
            return "self", f"the referrer has the same {field}"
    if customer.id in upline:
        chain = " -> ".join([referrer.id, *upline[: upline.index(customer.id) + 1]])
        return "cycle", f"it would close a referral cycle (referred by: {chain})"
    return None


@attrs.frozen(kw_only=True)
class LeaderboardLine:
    """A referrer's qualified referrals in a period and the points they earned for them."""

    referrer: CustomerId
    referrals: int
    points: int


def referral_claw_back(
    *, purchase: Money, refunded: Fraction, clawed: Fraction, minimum: Money | None
) -> tuple[Fraction, bool]:
    """The share of the referrer's reward a refund takes back now, and whether the
    referral still qualifies.

    ``refunded`` is the share of the referred ``purchase`` refunded so far (this refund
    included), ``clawed`` the share of the reward already taken back. While what is left
    of the purchase still meets the rule's ``minimum`` (any amount when there is none)
    the reward follows the purchase in proportion; a purchase refunded in full, or below
    the minimum, no longer qualifies and the rest of the reward goes back whole.

    >>> referral_claw_back(
    ...     purchase=Money.of(100, "CNY"), refunded=Fraction(1, 4), clawed=Fraction(0),
    ...     minimum=None,
    ... )
    (Fraction(1, 4), True)
    """
    left = 1 - refunded
    qualifies = left > 0 and (minimum is None or left >= minimum.ratio(purchase))
    target = refunded if qualifies else Fraction(1)
    return max(Fraction(0), target - clawed), qualifies
