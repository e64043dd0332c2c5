"""Histories: what happens to one member over time, as a value a property can replay.

A :class:`History` is an enrolment (a profile, an instant, perhaps a referrer) and
ordered :class:`Step` s, each a purchase, a custom event or a refund of an earlier
purchase. :func:`replay` runs it through the :class:`~loyaltykit.Loyalty` facade with
stable idempotency keys; :meth:`History.table` prints it for a programme manager::

    when              what                      amount
    2026-05-03 09:00  enrol
    2026-05-03 09:00  purchase (coffee x2)      36.00 CNY
    2026-05-10 09:00  refund of step 1 (whole)  36.00 CNY
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

import attrs

from loyaltykit.bootstrap import Loyalty
from loyaltykit.domain.activity import CustomEvent, Purchase
from loyaltykit.domain.customer import Profile
from loyaltykit.outcomes import Receipt
from loyaltykit.values import Money, sequence_of

__all__ = ["MEMBER", "REFERRER", "History", "Outcome", "Refund", "Step", "replay"]

MEMBER = "member"
REFERRER = "referrer"


@attrs.frozen(kw_only=True)
class Refund:
    """A refund of the purchase at step ``purchase`` (1-based): ``amount`` of its money,
    or all of what is left when ``amount`` is ``None``."""

    purchase: int
    amount: Money | None = None


@attrs.frozen(kw_only=True)
class Step:
    """One thing that happens at ``at``."""

    at: datetime
    action: Purchase | CustomEvent | Refund

    @property
    def what(self) -> str:
        """The step in a few words."""
        action = self.action
        if isinstance(action, Purchase):
            items = ", ".join(
                f"{item.category or item.sku} x{item.quantity}" for item in action.items
            )
            where = f" @{action.channel}" if action.channel else ""
            return f"purchase ({items}){where}" if items else f"purchase{where}"
        if isinstance(action, CustomEvent):
            details = ", ".join(f"{name}={value!r}" for name, value in action.attributes)
            return f"{action.type} ({details})" if details else action.type
        whole = "whole" if action.amount is None else "part"
        return f"refund of step {action.purchase} ({whole})"

    def amount(self, history: History) -> str:
        """The money the step moves, as text (empty for custom events)."""
        action = self.action
        if isinstance(action, Purchase):
            return str(action.amount)
        if isinstance(action, Refund):
            if action.amount is not None:
                return str(action.amount)
            bought = history.steps[action.purchase - 1].action
            return f"rest of {bought.amount}" if isinstance(bought, Purchase) else ""
        return ""


def _steps(value: Iterable[Step]) -> tuple[Step, ...]:
    return sequence_of("steps", value, Step)


@attrs.frozen(kw_only=True)
class History:
    """A member's enrolment and what they did afterwards, in time order."""

    enrolled_at: datetime
    profile: Profile = attrs.field(factory=Profile)
    referred: bool = False
    steps: tuple[Step, ...] = attrs.field(default=(), converter=_steps)

    def then(self, *steps: Step) -> History:
        """This history followed by ``steps``."""
        return attrs.evolve(self, steps=self.steps + steps)

    @property
    def end(self) -> datetime:
        """The instant of the last step (the enrolment when there is none)."""
        return self.steps[-1].at if self.steps else self.enrolled_at

    def table(self, zone: object = None) -> str:
        """The history as a short table (when, what, amount), in ``zone`` if given."""
        rows = [("when", "what", "amount"), (_when(self.enrolled_at, zone), self._enrol(), "")]
        rows += [(_when(s.at, zone), f"{n}. {s.what}", s.amount(self)) for n, s in self._numbered()]
        widths = [max(len(row[column]) for row in rows) for column in range(3)]
        return "\n".join(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in rows
        )

    def _numbered(self) -> Iterator[tuple[int, Step]]:
        return enumerate(self.steps, start=1)

    def _enrol(self) -> str:
        parts = []
        if self.profile.tags:
            parts.append("tags " + ",".join(sorted(self.profile.tags)))
        if self.profile.attributes:
            parts.append(", ".join(f"{k}={v!r}" for k, v in self.profile.attributes))
        if self.referred:
            parts.append(f"referred by {REFERRER}")
        return "enrol" + (f" ({'; '.join(parts)})" if parts else "")


def _when(at: datetime, zone: object) -> str:
    from datetime import tzinfo

    moment = at.astimezone(zone) if isinstance(zone, tzinfo) else at
    return moment.strftime("%Y-%m-%d %H:%M")


@attrs.frozen(kw_only=True)
class Outcome:
    """What the facade answered to one step: the receipt, or the error it raised."""

    step: Step
    key: str
    receipt: Receipt | None = None
    error: Exception | None = None


def step_key(number: int) -> str:
    """The idempotency key of step ``number`` (1-based)."""
    return f"step-{number}"


def enrol(loyalty: Loyalty, history: History) -> None:
    """Enrol the history's member (and its referrer first, when it has one)."""
    if history.referred:
        loyalty.enroll(REFERRER, at=history.enrolled_at, idempotency_key="enrol-referrer")
    loyalty.enroll(
        MEMBER,
        at=history.enrolled_at,
        idempotency_key="enrol-member",
        profile=history.profile,
        referred_by=REFERRER if history.referred else None,
    )


def perform(loyalty: Loyalty, number: int, step: Step) -> Receipt:
    """Run step ``number`` of a history through the facade."""
    action, key = step.action, step_key(number)
    if isinstance(action, Purchase):
        return loyalty.record_purchase(MEMBER, action, at=step.at, idempotency_key=key)
    if isinstance(action, CustomEvent):
        return loyalty.record_event(MEMBER, action, at=step.at, idempotency_key=key)
    return loyalty.refund(
        MEMBER, step_key(action.purchase), at=step.at, idempotency_key=key, amount=action.amount
    )


def replay(loyalty: Loyalty, history: History) -> list[Outcome]:
    """Enrol and run every step; a step the facade refuses is kept with its error (a
    property decides whether that is wrong), later steps still run."""
    enrol(loyalty, history)
    outcomes = []
    for number, step in history._numbered():
        try:
            receipt = perform(loyalty, number, step)
        except Exception as error:  # the battery reports any refusal, typed or not
            outcomes.append(Outcome(step=step, key=step_key(number), error=error))
        else:
            outcomes.append(Outcome(step=step, key=step_key(number), receipt=receipt))
    return outcomes
