"""Who may redeem a reward: tiers, tags and a condition, evaluated like earning rules.

A reward's condition sees the variables an earning rule sees (``customer``, ``at``,
``counters``) with an ``event`` of type ``"redeem"`` whose attributes are ``reward``
(the reward id) and ``quantity``, so one condition language serves both.
"""

from __future__ import annotations

from datetime import datetime

from loyaltykit.domain.activity import CustomEvent
from loyaltykit.domain.rewards import Reward
from loyaltykit.policy.engine import CustomerState, condition_context
from loyaltykit.policy.program import Program

__all__ = ["REDEEM_EVENT", "ineligibility"]

REDEEM_EVENT = "redeem"


def ineligibility(
    program: Program, reward: Reward, state: CustomerState, quantity: int, at: datetime
) -> str | None:
    """Why the member in ``state`` may not redeem ``reward`` at ``at``; ``None`` if they may.

    The checks run in a fixed order (tier, tags, condition) and the first that fails
    is the reason given.
    """
    rules = reward.eligibility
    if rules.tiers and state.tier not in rules.tiers:
        return f"tier {state.tier!r} is not one of {sorted(rules.tiers)}"
    if rules.tags and not rules.tags & state.customer.profile.tags:
        return f"needs one of the tags {sorted(rules.tags)}"
    if rules.condition is not None:
        event = CustomEvent(
            type=REDEEM_EVENT, attributes={"reward": reward.id, "quantity": quantity}
        )
        if not rules.condition.evaluate(condition_context(program, state, event, at)):
            return f"condition {rules.condition.source!r} does not hold"
    return None
