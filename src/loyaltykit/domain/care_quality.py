"""Quality control of care calls: a month's sample of completed calls, checked one by one.

Quality control reviews a sample of the calls service managers made in a month (the
source: 质检 samples the month's calls and writes a summary). :func:`draw_sample` draws it
from the month's completed care actions with a seed (the same seed, the same sample);
:func:`check_call` records whether one sampled call passed; :class:`CareSample` sums it
up: how many were sampled, how many checked, how many passed, and the result
(``pending`` until every sampled call is checked, then ``passed`` or ``failed``).

>>> from datetime import timezone
>>> calls = [
...     CareAction(customer_id=f"m-{n}", kind="birthday", id="birthday:2026",
...                due_at=datetime(2026, 6, 1, tzinfo=timezone.utc),
...                done_at=datetime(2026, 6, 2, tzinfo=timezone.utc), outcome="reached")
...     for n in range(10)
... ]
>>> sample = draw_sample("2026-06", calls, size=3, seed="qc-june")
>>> sample.population, sample.sampled, sample.result
(10, 3, 'pending')
>>> sample == draw_sample("2026-06", list(reversed(calls)), size=3, seed="qc-june")
True
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, tzinfo
from typing import Any

import attrs

from loyaltykit.domain.care import CareAction
from loyaltykit.errors import InvalidArgument, NotFound
from loyaltykit.values import CustomerId

__all__ = [
    "CareSample",
    "SampledCall",
    "check_call",
    "draw_sample",
    "month_bounds",
    "sample_from_record",
    "sample_to_record",
]

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def month_bounds(month: str, zone: tzinfo) -> tuple[datetime, datetime]:
    """The first instant of ``month`` (``"2026-06"``) in ``zone`` and of the month after."""
    found = _MONTH.match(month) if isinstance(month, str) else None
    if found is None:
        raise InvalidArgument(f"month: {month!r} is not a YYYY-MM month")
    year, number = int(found[1]), int(found[2])
    start = datetime(year, number, 1, tzinfo=zone)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=zone)
    return start, end


@attrs.frozen(kw_only=True)
class SampledCall:
    """One call in the sample: whose, which action, who made it, and whether it passed
    the check (``None`` until checked)."""

    customer_id: CustomerId
    action_id: str
    team: str | None = None
    assignee: str | None = None
    passed: bool | None = None


@attrs.frozen(kw_only=True)
class CareSample:
    """A month's quality-control sample and its summary (see the module's text)."""

    month: str
    seed: str
    population: int
    calls: tuple[SampledCall, ...]

    @property
    def sampled(self) -> int:
        """How many calls were drawn."""
        return len(self.calls)

    @property
    def checked(self) -> int:
        """How many of them were checked."""
        return sum(call.passed is not None for call in self.calls)

    @property
    def passed(self) -> int:
        """How many checked calls passed."""
        return sum(call.passed is True for call in self.calls)

    @property
    def failed(self) -> int:
        """How many checked calls failed."""
        return sum(call.passed is False for call in self.calls)

    @property
    def result(self) -> str:
        """``pending`` while a sampled call is unchecked, then ``passed`` when none
        failed, else ``failed``."""
        if self.checked < self.sampled:
            return "pending"
        return "failed" if self.failed else "passed"


def draw_sample(month: str, completed: Iterable[CareAction], *, size: int, seed: str) -> CareSample:
    """Draw ``size`` of the ``completed`` calls (all of them when there are fewer) with
    ``seed``. The draw does not depend on the order the calls are given in."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise InvalidArgument(f"size: {size!r} must be an int of 1 or more")
    if not isinstance(seed, str) or not seed:
        raise InvalidArgument(f"seed: {seed!r} must be a non-empty string")
    population = sorted(completed, key=lambda call: (call.customer_id, call.id))
    drawn = random.Random(f"{month}:{seed}").sample(population, min(size, len(population)))
    calls = tuple(
        SampledCall(
            customer_id=call.customer_id, action_id=call.id, team=call.team, assignee=call.assignee
        )
        for call in sorted(drawn, key=lambda call: (call.customer_id, call.id))
    )
    return CareSample(month=month, seed=seed, population=len(population), calls=calls)


def check_call(
    sample: CareSample, customer_id: CustomerId, action_id: str, *, passed: bool
) -> CareSample:
    """The sample with one call's check recorded (a second check replaces the first)."""
    if not isinstance(passed, bool):
        raise InvalidArgument(f"passed: {passed!r} must be a bool")
    calls = list(sample.calls)
    for index, call in enumerate(calls):
        if (call.customer_id, call.action_id) == (customer_id, action_id):
            calls[index] = attrs.evolve(call, passed=passed)
            return attrs.evolve(sample, calls=tuple(calls))
    raise NotFound(
        f"care call {action_id!r} of {customer_id!r} is not in the {sample.month} sample"
    )


def sample_to_record(sample: CareSample) -> dict[str, Any]:
    """A sample as plain data."""
    return {
        "month": sample.month,
        "seed": sample.seed,
        "population": sample.population,
        "calls": [attrs.asdict(call) for call in sample.calls],
    }


def sample_from_record(record: Mapping[str, Any]) -> CareSample:
    """The sample :func:`sample_to_record` wrote."""
    return CareSample(
        month=record["month"],
        seed=record["seed"],
        population=record["population"],
        calls=tuple(SampledCall(**call) for call in record["calls"]),
    )
